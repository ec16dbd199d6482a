"""Release diffing: inventories, contents, behaviour deltas, rendering, policy."""
