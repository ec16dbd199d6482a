"""The JavaScript reader: facts of JavaScript and TypeScript sources from a tree-sitter tree.

- ``parse.py``: tree-sitter grammars (JavaScript with JSX, TypeScript, TSX), chunked parsing
  the time budget can stop
- ``visitor.py``: the facts (calls by resolved name, folded strings, where evaluated, spawned,
  sent or written data comes from and goes to, locale gates, endless loops)
- ``strings.py``: string escapes and static decoding (base64, hex, char codes, obfuscator
  string tables); ``vocabulary.py``: Node.js names by what they do
- ``sources.py``: JavaScript inside other files (HTML ``<script>``, ``node -e`` in
  package.json scripts)
- ``bounded.py``: the facts within a share of the per-file time budget
"""
