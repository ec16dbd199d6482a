"""Matching infrastructure the analyzers share (no plug-in lives here).

- ``hscache.py``: compiled Hyperscan databases cached between runs
- ``prefilter.py``: one Hyperscan pass tells which of many regular expressions can match
- ``yara.py``: YARA rule files gathered (bundled and the user's) and compiled with YARA-X
- ``yara_store.py``: imported public YARA rule sets (``finalexam rules update``)
"""
