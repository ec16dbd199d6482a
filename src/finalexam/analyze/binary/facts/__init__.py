"""Facts about compiled binaries (ELF, PE, Mach-O), parsed with LIEF: one module per format.

``parse.examine`` dispatches by magic bytes to ``elf``, ``pe`` or ``macho`` and returns plain
``common.BinaryFacts``. LIEF is native code: the analyzer calls ``examine`` in the supervised
child process (``finalexam.budget``), never in the exam's own process.
"""
