"""Behaviour: what a package's code does at install, import and run time.

- ``analyzer.py``: the plug-in (per file: rule hits -> risks; after the walk: install hooks)
- ``engine.py``: runs behaviour rules over one source text, with its facts when it has them
- ``rules.py``: loads ``rules/behavior/*.toml``
- ``facts.py``: the facts interface every language reader fills; ``languages.py``: which
  language a file is and which reader reads it
- ``python/``: the Python reader (syntax tree, static decoding, command templates,
  install-hook promotion, where connections go, ``.pyc`` constants)
- ``javascript/``: the JavaScript reader's place
- ``obfuscation.py``: heuristics that are not single patterns, one per rule file of
  ``rules/obfuscation/``
- ``vocabulary.py``: loads a language's name vocabularies, ``rules/vocabulary/<language>/``
"""

NAME = "behavior"  # the analyzer's name: what only/disable select, found_by of its findings
