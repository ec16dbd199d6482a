"""One exam of a batch in a process of its own (see ``batch.examine_isolated``).

Reads the pickled task from stdin, writes the pickled outcome to stdout; anything else the
exam prints goes to stderr. The artifact's path is the only argument, there for ``ps``.
"""

from __future__ import annotations

import os
import pickle
import sys

from finalexam.lifetime import die_with_parent
from finalexam.store.batch import examine_and_store


def main() -> None:
    die_with_parent()  # a batch stopped (Ctrl-C, a Dask worker gone) stops its exams
    result = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the pickle alone goes to the parent; whatever else is printed, to stderr
    item, config, store_url, source = pickle.load(sys.stdin.buffer)
    pickle.dump(examine_and_store(item, config, store_url, source), result)
    result.close()


if __name__ == "__main__":
    main()
