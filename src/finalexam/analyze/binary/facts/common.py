"""The shape shared by every format: what a binary is, links to, exports and how it is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class NotABinary(Exception):
    """The bytes are not a binary of the expected format (e.g. a DOS stub, a text file)."""


class BrokenBinary(Exception):
    """A binary that cannot be parsed or is cut short: reported as an Issue."""


class HeaderOnly(BrokenBinary):
    """A header that promises what the file does not hold, so that no loader can run it (the
    first bytes of an ELF kept as a test fixture): there is no code to examine, and its
    bytes are still read as data by every other analyzer. A note, not a gap."""


@dataclass(frozen=True)
class Section:
    name: str
    offset: int
    size: int
    entropy: float
    executable: bool = False
    writable: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "size": self.size, "entropy": self.entropy}
        if self.executable:
            out["executable"] = True
        if self.writable:
            out["writable"] = True
        return out


@dataclass(frozen=True)
class SyscallSite:
    """A system call the code makes itself (found by disassembly, see ``facts.code``)."""

    name: str  # the call's name in its architecture's table; "" when the number is unknown
    number: int | None
    offset: int  # file offset of the instruction that enters the kernel (or calls the wrapper)
    disassembly: str  # the site and the instructions before it in its block

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "offset": self.offset,
            "disassembly": self.disassembly,
        }


@dataclass(frozen=True)
class ResolvedName:
    """A function or library the code resolves at run time: by name (a string constant passed
    to ``dlsym``, ``GetProcAddress``, ``LoadLibrary``..., see ``facts.resolve``) or by a hash of
    its name (``facts.apihash``)."""

    name: str
    via: str  # the resolver called (dlsym, GetProcAddress, ...) or the hash (ror13, crc32, ...)
    offset: int  # file offset of the call (or of the hash constant)
    disassembly: str  # the call and the instructions before it in its block
    library: bool = False  # a library's name (dlopen, LoadLibrary), not a function's
    string_offset: int | None = None  # file offset of the name string

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "via": self.via,
            "offset": self.offset,
            "disassembly": self.disassembly,
        }
        if self.library:
            out["library"] = True
        if self.string_offset is not None:
            out["string_offset"] = self.string_offset
        return out


@dataclass(frozen=True)
class ConstantCall:
    """A call to a function whose arguments say what it does (``socket``'s domain and type,
    ``setsockopt``'s level and option), with the constants the code passes (``None`` where
    an argument is not a constant), see ``facts.resolve``."""

    function: str
    arguments: tuple[int | None, ...]  # the arguments read, in the order of CONSTANT_CALLS
    offset: int  # file offset of the call
    disassembly: str  # the call and the instructions before it in its block

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "arguments": list(self.arguments),
            "offset": self.offset,
            "disassembly": self.disassembly,
        }


@dataclass(frozen=True)
class FetchRun:
    """A function that fetches content from a URL and then runs a command (``facts.flow``):
    ``flows`` when the fetched value itself reaches the command runner."""

    fetch: str  # the fetch called (dataWithContentsOfURL:, curl_easy_perform, ...)
    run: str  # the runner called (system, popen, launch, CreateProcess, ...)
    flows: bool
    offset: int  # file offset of the run call
    calls: tuple[str, ...]  # the function's calls up to the run, in address order
    disassembly: str  # the run call and the instructions before it
    start: int | None = None  # the function's address, when function starts are known

    @property
    def function(self) -> str:
        return f"{self.fetch} -> {self.run}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fetch": self.fetch,
            "run": self.run,
            "flows": self.flows,
            "offset": self.offset,
            "calls": list(self.calls),
            "disassembly": self.disassembly,
        }
        if self.start is not None:
            out["function"] = self.start
        return out


@dataclass
class BinaryFacts:
    format: str  # elf, pe, macho
    arch: str
    type: str  # executable, shared-library, object, kernel-module, dotnet-assembly, core
    bits: int = 0
    entrypoint: int | None = None
    interpreter: str | None = None
    libraries: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)  # imported function / symbol names
    exports: set[str] = field(default_factory=set)
    symbols: set[str] = field(default_factory=set)  # defined symbols (static symbol table too)
    sections: list[Section] = field(default_factory=list)
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    debug_info: bool = False
    build_id: str | None = None
    hardening: dict[str, Any] = field(default_factory=dict)
    signature: dict[str, Any] | None = None
    overlay: tuple[int, int] | None = None  # (offset, size)
    arches: list[str] = field(default_factory=list)  # every slice of a Mach-O fat binary
    details: dict[str, Any] = field(default_factory=dict)  # format-specific facts
    # system calls made by the code itself (static ELF): name -> its first site
    syscalls: dict[str, SyscallSite] = field(default_factory=dict)
    # functions and libraries the code resolves at run time: name -> its first call
    resolved: dict[str, ResolvedName] = field(default_factory=dict)
    # calls of socket/setsockopt and the like with the constants passed to them
    constant_calls: list[ConstantCall] = field(default_factory=list)
    # functions that fetch from a URL and run a command (direct flows first)
    fetch_runs: list[FetchRun] = field(default_factory=list)


def strip_wide_suffix(name: str) -> str:
    """``CreateProcessW`` and ``CreateProcessA`` are the same capability: drop the A/W."""
    if len(name) > 2 and name[-1] in "AW" and (name[-2].islower() or name[-2].isdigit()):
        return name[:-1]
    return name


def enum_name(value: object) -> str:
    """``ARCH.X86_64`` → ``x86_64``: LIEF enums printed without their class."""
    return str(value).rsplit(".", 1)[-1].lower()


def text(name: str | bytes) -> str:
    """LIEF hands back bytes for names that are not valid UTF-8: show them escaped."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "backslashreplace")
    return name


_WRITABLE_PREFIXES = ("/tmp", "/var/tmp", "/dev/shm", "/home/", "/builds/", "/build/")


def insecure_search_path(path: str) -> bool:
    """A library search path an attacker may control (relative, empty, or a scratch dir)."""
    if path == "" or path == ".":
        return True
    if path.startswith(("$ORIGIN", "${ORIGIN}")):
        return False
    if not path.startswith("/"):
        return True  # relative to the current directory at run time
    return path.rstrip("/").startswith(_WRITABLE_PREFIXES) or "/../" in path
