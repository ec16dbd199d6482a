"""Known vulnerabilities: from advisory sources to rated findings, one seam per step.

- ``sources/``: where OSV records come from (an export zip over HTTP(S), a zip, a directory
  of records and exports, a JSON record); one module per kind, one registry tuple.
- ``update.py`` writes what a source yields into ``store.py``, the indexed SQLite file that
  the exam reads (never the network).
- ``purl.py`` maps a component (its package URL, or its ecosystem and name) to the
  (ecosystem, name, version, release) a lookup needs; ``distro.py`` says which
  distribution release an advisory entry is about.
- ``match.py`` asks the store, evaluates each record's ranges (``ranges.py`` with the version
  schemes of ``versions/``) and merges aliases into one finding per vulnerability;
  ``dependencies.py`` does the same for declared dependencies with malicious advisories;
  ``reachability.py`` says whether a Go binary links the affected symbols.
- ``severity.py`` rates a vulnerability from every record of it: CVSS v2/v3/v4 vectors
  (scored by the ``cvss`` library in ``cvss.py``) and the sources' own ratings.
"""
