"""The JavaScript reader's package: facts of JavaScript and TypeScript sources.

It fills the interface in ``finalexam.analyze.behavior.facts`` (``Facts`` of ``Fact``: calls
by their resolved dotted name, string literals, each with its line and context) from a syntax
tree, as ``python/`` does for Python, and registers itself as one entry of
``finalexam.analyze.behavior.languages.READERS``. Until then the engine reads JavaScript as
text: raw and string patterns over the whole file, every line in the ``runtime`` context
(``install`` for the files an npm install script runs).
"""
