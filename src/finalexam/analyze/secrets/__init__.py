"""Secrets: leaked credentials in every shipped file, text of any encoding or binary.

- ``analyzer.py``: the plug-in (per file: hits -> redacted findings; AWS key pairs)
- ``rules.py``: loads ``rules/secrets/*.toml``; ``validate.py``: checksums, placeholders,
  well-known example keys
- ``engine.py``: every rule in one multi-pattern database, run over documents in chunks
- ``extract.py``: which document to scan (decoded text, strings of binaries, ``.pyc`` and
  class-file constants)
- ``scan.py``: from a file's bytes to assessed hits (false-positive discipline, context)
- ``features.py`` and ``filter.py``: the generic-secret filter (features, trained score)

Layers import downwards only: analyzer -> scan -> engine/extract/filter -> features ->
rules/validate.
"""

NAME = "secrets"  # the analyzer's name: what only/disable select, found_by of its findings
