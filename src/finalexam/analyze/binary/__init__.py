"""Compiled code (ELF, PE, Mach-O): what each binary is, how it is hardened, whether it is
signed, whether it hides something, and what it is able to do.

- ``analyzer.py``: the plug-in (the report's ``binaries`` entries and ``binary.*`` findings)
- ``facts/``: LIEF-based facts per format (run in the supervised child process)
- ``capabilities.py``: capability rules (``rules/capabilities/``) matched against the facts
- ``signing.py``: Authenticode and code-signature checks; ``packers.py``: packers, overlays,
  embedded executables

One parsing stack for deep facts (LIEF, in a child process); the catalogers' few in-process
header reads go through ``finalexam.formats.binformat`` (see docs/binaries.md).
"""
