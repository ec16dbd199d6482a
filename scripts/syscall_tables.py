"""Regenerate src/finalexam/analyze/binary/syscalls.json, the Linux syscall numbers per
architecture, from the kernel's UAPI headers as Debian ships them (linux-libc-dev and the
linux-libc-dev-<arch>-cross packages, ``apt-get download``-able, arch: all):

    python scripts/syscall_tables.py \\
        x86_64=/usr/include/x86_64-linux-gnu/asm/unistd_64.h \\
        i386=/usr/include/x86_64-linux-gnu/asm/unistd_32.h \\
        aarch64=/usr/aarch64-linux-gnu/include/asm/unistd.h \\
        arm=DIR/usr/arm-linux-gnueabihf/include/asm/unistd.h \\
        mips=DIR/usr/mipsel-linux-gnu/include/asm/unistd.h

Each header is run through the C preprocessor (``cpp -dM``) with the defines of its
architecture, so the numbers are the kernel's own (the generic table of aarch64 included)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/finalexam/analyze/binary/syscalls.json"
# What the compiler of each architecture defines, so that the headers pick its ABI.
DEFINES = {
    "x86_64": ["-D__x86_64__"],
    "i386": ["-D__i386__"],
    "aarch64": ["-D__aarch64__", "-D__BITS_PER_LONG=64"],
    "arm": ["-D__arm__", "-D__ARM_EABI__"],
    "mips": ["-D__mips__", "-D_MIPS_SIM=1", "-D_MIPS_SIM_ABI32=1"],
}
_DEFINE = re.compile(r"#define (__NR_\w+|__NR3264_\w+|__NR_Linux|__NR_SYSCALL_BASE) (.+)")
_NOT_CALLS = {"syscalls", "Linux", "Linux_syscalls", "SYSCALL_BASE", "OABI_SYSCALL_BASE"}


def table(arch: str, header: Path) -> dict[int, str]:
    include = header.parent.parent
    source = f'#include "{header}"\n'
    command = ["cpp", "-dM", "-nostdinc", "-I", str(include), *DEFINES[arch], "-"]
    output = subprocess.run(command, input=source, text=True, capture_output=True, check=True)
    macros = {m[1]: m[2].strip() for m in map(_DEFINE.match, output.stdout.splitlines()) if m}

    def value(expression: str, depth: int = 0) -> int | None:
        resolved = re.sub(
            r"__NR\w+", lambda m: str(value(macros.get(m[0], "None"), depth + 1)), expression
        )
        if depth > 8 or not re.fullmatch(r"[\d\s+()xXa-fA-F]+", resolved):
            return None
        return int(eval(resolved, {"__builtins__": {}}))  # digits, + and parentheses only

    numbers: dict[int, str] = {}
    for name, expression in macros.items():
        if not name.startswith("__NR_") or name[5:] in _NOT_CALLS:
            continue
        number = value(expression)
        if number is not None:
            numbers.setdefault(number, name[5:])
    return dict(sorted(numbers.items()))


def main(arguments: list[str]) -> None:
    tables = {}
    for argument in arguments:
        arch, _, path = argument.partition("=")
        tables[arch] = {str(n): name for n, name in table(arch, Path(path)).items()}
        print(arch, len(tables[arch]))
    OUT.write_text(json.dumps(tables, indent=0, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
