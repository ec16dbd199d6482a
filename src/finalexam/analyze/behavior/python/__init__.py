"""The Python reader: facts of Python sources and compiled ``.pyc`` files.

- ``visitor.py``: the syntax-tree visitor and ``python_facts`` (one source -> ``Facts``)
- ``bounded.py``: ``python_facts`` within a time and memory bound (large sources in the
  supervised child process)
- ``vocabulary.py``: the call and name families the visitor recognises, read from
  ``rules/vocabulary/python/`` (data, like every rule family)
- ``syntax.py``: walking syntax trees
- ``decoding.py``: static decoding of literals (base64, hex, zlib, rot13, reversal, ...)
- ``commands.py``: command-line and path templates built by expressions
- ``promotion.py``: functions module-level code reaches run at import
- ``destinations.py``: where a connection goes (a literal, or what the caller supplies)
- ``compiled.py``: facts of a ``.pyc`` from its string constants
"""
