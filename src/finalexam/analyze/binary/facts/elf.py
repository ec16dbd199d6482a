"""ELF: what it is, links to and exports, and how it is hardened (checksec-style facts)."""

from __future__ import annotations

from typing import Any

import lief

from finalexam.analyze.binary.facts import apihash, code, flow, resolve
from finalexam.analyze.binary.facts.common import (
    BinaryFacts,
    BrokenBinary,
    HeaderOnly,
    Section,
    enum_name,
    insecure_search_path,
    text,
)
from finalexam.formats import gopclntab

# glibc functions with a FORTIFY_SOURCE ``__<name>_chk`` variant (as exported by libc.so.6).
_FORTIFIABLE_NAMES = (
    "asprintf confstr dprintf explicit_bzero fdelt fgets fgets_unlocked fgetws "
    "fgetws_unlocked fprintf fread fread_unlocked fwprintf getcwd getdomainname getgroups "
    "gethostname getlogin_r gets getwd longjmp mbsnrtowcs mbsrtowcs mbstowcs memcpy memmove "
    "mempcpy memset obstack_printf obstack_vprintf poll ppoll pread64 pread printf ptsname_r "
    "read readlink readlinkat realpath recv recvfrom snprintf sprintf stpcpy stpncpy strcat "
    "strcpy strncat strncpy swprintf syslog ttyname_r vasprintf vdprintf vfprintf vfwprintf "
    "vprintf vsnprintf vsprintf vswprintf vsyslog vwprintf wcpcpy wcpncpy wcrtomb wcscat "
    "wcscpy wcsncat wcsncpy wcsnrtombs wcsrtombs wcstombs wctomb wmemcpy wmemmove wmempcpy "
    "wmemset wprintf "
)
FORTIFIABLE = frozenset(_FORTIFIABLE_NAMES.split())
CANARY_SYMBOLS = frozenset({"__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie"})

_DF_TEXTREL = 0x4
_DF_BIND_NOW = 0x8
_DF_1_NOW = 0x1
_DF_1_PIE = 0x08000000
_GO_BUILD_INFO = b"\xff Go buildinf:"
_ARCH_NAMES = {"i386": "i386", "x86_64": "x86_64", "aarch64": "aarch64", "arm": "arm"}


def examine(data: bytes) -> BinaryFacts:
    binary: Any = lief.ELF.parse(data)
    if binary is None:
        raise BrokenBinary("cannot parse ELF headers")
    header = binary.header
    _check_bounds(binary, header, len(data))
    tags = {enum_name(entry.tag): entry for entry in binary.dynamic_entries}
    flags = tags["flags"].value if "flags" in tags else 0
    flags_1 = tags["flags_1"].value if "flags_1" in tags else 0
    segment_types = {enum_name(s.type): s for s in binary.segments}
    section_names = {text(s.name) for s in binary.sections}
    kind = _kind(binary, enum_name(header.file_type), flags_1, section_names, tags)
    # Names from the static symbol table carry their version (``puts@GLIBC_2.2.5``).
    imports = {_unversioned(s.name) for s in binary.imported_symbols if s.name}
    # LIEF finds imports through relocations it knows; on other machines (SPARC, MIPS) the
    # undefined dynamic symbols still name them
    imports |= {_unversioned(s.name) for s in binary.dynamic_symbols if s.name and s.shndx == 0}
    # The same set as LIEF's exported_symbols, which costs quadratic time: 11.7 CPU s on the
    # 140,000 dynamic symbols of Debian's rclone (a Go program) against 0.2 s here.
    defined = {
        _unversioned(s.name)
        for symbols in (binary.dynamic_symbols, binary.symtab_symbols)
        for s in symbols
        if s.name and s.exported
    }
    static = {
        _unversioned(s.name)
        for s in binary.symtab_symbols
        if s.name and s.shndx != 0 and s.is_function
    }
    facts = BinaryFacts(
        format="elf",
        arch=_ARCH_NAMES.get(enum_name(header.machine_type), enum_name(header.machine_type)),
        type=kind,
        bits=64 if enum_name(header.identity_class) == "elf64" else 32,
        entrypoint=binary.entrypoint or None,
        interpreter=binary.interpreter if binary.has_interpreter else None,
        libraries=sorted(text(lib) for lib in binary.libraries),
        imports=imports,
        exports=defined,
        symbols=defined | static,
        sections=[
            Section(
                name=text(s.name),
                offset=s.offset,
                size=s.size,
                entropy=round(s.entropy, 3) if enum_name(s.type) != "nobits" else 0.0,
                executable=s.has(lief.ELF.Section.FLAGS.EXECINSTR),
                writable=s.has(lief.ELF.Section.FLAGS.WRITE),
            )
            for s in binary.sections
            if s.name
        ],
        rpath=_paths(binary, "rpath"),
        runpath=_paths(binary, "runpath"),
        debug_info=any(n.startswith((".debug_", ".zdebug_")) for n in section_names),
        build_id=_build_id(binary),
    )
    if "soname" in tags:
        facts.details["soname"] = text(tags["soname"].name)
    writable_executable = sum(
        1
        for s in binary.segments
        if enum_name(s.type) == "load"
        and s.has(lief.ELF.Segment.FLAGS.W)
        and s.has(lief.ELF.Segment.FLAGS.X)
    )
    if writable_executable:
        facts.details["writable_executable_segments"] = writable_executable
    constructors = _constructors(binary, facts.bits)
    if constructors:
        facts.details["constructors"] = constructors
    ifunc = {
        text(s.name)
        for s in list(binary.dynamic_symbols) + list(binary.symtab_symbols)
        if s.shndx != 0 and enum_name(s.type) == "gnu_ifunc"
    }
    if ifunc:
        facts.details["ifunc"] = len(ifunc)
    all_symbols = imports | defined | static
    nx = _stack_not_executable(binary, segment_types)
    facts.hardening = _hardening(kind, segment_types, nx, flags, tags, imports, all_symbols, facts)
    runnable = "interp" in segment_types and "phdr" in segment_types
    if kind == "executable" or (kind == "shared-library" and runnable):
        # ET_DYN executables are position independent; ET_EXEC ones load at a fixed address.
        # A library that can also run (libc.so.6) is a position-independent executable too.
        facts.hardening["pie"] = enum_name(header.file_type) == "dyn"
    end = max(
        [s.offset + s.size for s in binary.sections if enum_name(s.type) != "nobits"]
        + [s.file_offset + s.physical_size for s in binary.segments]
        + [header.section_header_offset + header.numberof_sections * header.section_header_size],
        default=0,
    )
    if 0 < end < len(data):
        facts.overlay = (end, len(data) - end)
    if kind == "executable" and not binary.has_interpreter and not facts.libraries:
        _syscalls(binary, data, facts)
    if resolve.supported(facts.arch) and kind in ("executable", "shared-library"):
        _resolved(binary, data, facts, all_symbols)
    if facts.arch in ("x86_64", "i386"):
        # a Linux program calls no Windows-only API: such hashes its own code compares are of
        # its own strings (VTK dispatches methods by the FNV-1a hash of their names, ReadFile
        # and WriteFile among them); Windows shellcode it carries sits in data and still counts
        own_code = [(s.offset, s.offset + s.size) for s in facts.sections if s.executable]
        for name, found in apihash.hashed_imports(data, facts.bits, own_code).items():
            facts.resolved.setdefault(name, found)
    return facts


def _resolved(binary: Any, data: bytes, facts: BinaryFacts, symbols: set[str]) -> None:
    """Names the code passes to dlsym/dlopen (and the C library's private variants), the
    constants it passes to socket/setsockopt, and functions that fetch and run (``flow``)."""
    wanted = resolve.READ_CALLS | flow.functions_read(symbols)
    if not symbols & wanted:
        return
    slots = {
        relocation.address: name
        for relocations in (binary.pltgot_relocations, binary.dynamic_relocations)
        for relocation in relocations
        if relocation.has_symbol and (name := _unversioned(relocation.symbol.name)) in wanted
    }
    got = binary.get_section(".got.plt") if facts.arch == "i386" else None
    program = resolve.Program(
        arch=facts.arch,
        abi="sysv",
        code=_code_regions(binary),
        mapped=[
            code.Region(s.offset, s.size, s.virtual_address)
            for s in binary.sections
            if s.virtual_address and enum_name(s.type) != "nobits"
        ]
        or [
            code.Region(s.file_offset, s.physical_size, s.virtual_address)
            for s in binary.segments
            if enum_name(s.type) == "load"
        ],
        stubs={},
        slots=slots,
        got=got.virtual_address if got is not None else None,
    )
    # a static program carries the resolvers themselves: calls go straight to them
    functions = [s for s in binary.symtab_symbols if s.is_function and s.shndx != 0 and s.value]
    program.stubs = {s.value: name for s in functions if (name := _unversioned(s.name)) in wanted}
    if wanted & flow.FUNCTIONS:  # the sweep starts at the function's start
        program.functions = sorted({s.value for s in functions})
    program.stubs.update(resolve.plt_stubs(data, program, _plt_regions(binary)))
    reading = resolve.read_calls(data, program)
    facts.resolved.update(reading.resolved)
    facts.constant_calls = reading.constant_calls
    facts.fetch_runs = flow.fetch_runs(data, program)
    if reading.resolver_calls:
        facts.details["resolver_calls"] = reading.resolver_calls


def _code_regions(binary: Any) -> list[code.Region]:
    return [
        code.Region(s.offset, s.size, s.virtual_address)
        for s in binary.sections
        if s.has(lief.ELF.Section.FLAGS.EXECINSTR) and enum_name(s.type) != "nobits"
    ] or [
        code.Region(s.file_offset, s.physical_size, s.virtual_address)
        for s in binary.segments
        if enum_name(s.type) == "load" and s.has(lief.ELF.Segment.FLAGS.X)
    ]


def _plt_regions(binary: Any) -> list[code.Region]:
    return [
        code.Region(s.offset, s.size, s.virtual_address)
        for s in binary.sections
        if text(s.name) in (".plt", ".plt.sec", ".plt.got") and enum_name(s.type) != "nobits"
    ]


def _syscalls(binary: Any, data: bytes, facts: BinaryFacts) -> None:
    """A statically linked executable carries its system calls in its own code: read them."""
    little = enum_name(binary.header.identity_data) == "lsb"
    if not code.supported(facts.arch, little):
        return
    regions = _code_regions(binary)
    wrappers: dict[int, tuple[str, ...]] = {
        s.value: code.WRAPPERS[text(s.name)]
        for s in binary.symtab_symbols
        if s.is_function and text(s.name) in code.WRAPPERS
    }
    child_setup = tuple(
        (s.value, s.value + s.size)
        for s in binary.symtab_symbols
        if s.is_function and text(s.name) in code.CHILD_SETUP
    )
    if not wrappers and _GO_BUILD_INFO in data:
        # a stripped Go program: its function table still says where the functions are
        ranges = gopclntab.function_ranges(data, frozenset(code.GO_WRAPPERS) | code.CHILD_SETUP)
        wrappers = {
            ranges[name][0]: code.WRAPPERS[name] for name in code.WRAPPERS if name in ranges
        }
        child_setup = tuple(ranges[name] for name in code.CHILD_SETUP if name in ranges)
    found = code.scan(data, facts.arch, regions, little, wrappers, child_setup)
    facts.syscalls = found.calls
    if found.sites:
        facts.details["syscall_sites"] = found.summary()


def _constructors(binary: Any, bits: int) -> int:
    """How many functions run when the binary loads: .preinit_array, .init_array, .ctors
    entries (minus the -1/0 sentinels of .ctors)."""
    width = 8 if bits == 64 else 4
    count = 0
    for section in binary.sections:
        name = text(section.name)
        if name in (".preinit_array", ".init_array"):
            count += section.size // width
        elif name == ".ctors":
            count += max(section.size // width - 2, 0)
    return count


def _check_bounds(binary: lief.ELF.Binary, header: Any, size: int) -> None:
    """LIEF parses what it can of a cut file; a truncated binary must be reported as such."""
    program_end = (
        header.program_header_offset + header.numberof_segments * header.program_header_size
    )
    if header.numberof_segments and program_end > size:
        # The kernel and ld.so read the program headers from the file before anything else,
        # and refuse it when they are not all there.
        raise HeaderOnly(
            f"not loadable: program headers end at {program_end}, file has {size} bytes"
        )
    table_end = header.section_header_offset + header.numberof_sections * header.section_header_size
    if header.numberof_sections and table_end > size:
        raise BrokenBinary(f"truncated: section headers end at {table_end}, file has {size} bytes")
    for segment in binary.segments:
        if segment.file_offset + segment.physical_size > size:
            raise BrokenBinary(
                f"truncated: a {enum_name(segment.type).upper()} segment ends at "
                f"{segment.file_offset + segment.physical_size}, file has {size} bytes"
            )


def _kind(
    binary: lief.ELF.Binary,
    file_type: str,
    flags_1: int,
    section_names: set[str],
    tags: dict[str, Any],
) -> str:
    if file_type == "rel":
        if ".modinfo" in section_names or ".gnu.linkonce.this_module" in section_names:
            return "kernel-module"
        return "object"
    if file_type == "exec":
        return "executable"
    if file_type == "core":
        return "core"
    if file_type == "dyn":
        if flags_1 & _DF_1_PIE or (binary.has_interpreter and "soname" not in tags):
            return "executable"
        return "shared-library"
    return file_type


def _unversioned(name: str | bytes) -> str:
    return text(name).split("@", 1)[0]


def _paths(binary: Any, tag: str) -> list[str]:
    paths: list[str] = []
    for entry in binary.dynamic_entries:
        if enum_name(entry.tag) == tag:
            paths.extend(text(p) for p in entry.paths)
    return paths


def _build_id(binary: lief.ELF.Binary) -> str | None:
    for note in binary.notes:
        if enum_name(note.type) == "gnu_build_id":
            return bytes(note.description).hex()
    return None


def _hardening(
    kind: str,
    segments: dict[str, Any],
    nx: bool,
    flags: int,
    tags: dict[str, Any],
    imports: set[str],
    symbols: set[str],
    facts: BinaryFacts,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    protected = sorted(n for n in imports if n.startswith("__") and n.endswith("_chk"))
    unprotected = sorted(n for n in imports if n in FORTIFIABLE)
    # As hardening-check: the protector's failure handler must be imported, not defined
    # (libc defines it; a static binary links it whether or not its code uses it).
    out["canary"] = bool(imports & CANARY_SYMBOLS) or (
        kind in ("object", "kernel-module") and "__stack_chk_fail_local" in imports
    )
    out["fortify"] = bool(protected)
    facts.details["fortify"] = {"protected": protected, "unprotected": unprotected}
    if kind in ("object", "kernel-module", "core"):
        return out
    out["nx"] = nx
    flags_1 = tags["flags_1"].value if "flags_1" in tags else 0
    bind_now = "bind_now" in tags or bool(flags & _DF_BIND_NOW) or bool(flags_1 & _DF_1_NOW)
    if "gnu_relro" not in segments:
        out["relro"] = "none"
    else:
        out["relro"] = "full" if bind_now else "partial"
    out["textrel"] = "textrel" in tags or bool(flags & _DF_TEXTREL)
    out["rpath"] = _rpath_verdict(facts.rpath + facts.runpath)
    return out


_PT_SUNWSTACK = 0x6FFFFFFB
# Systems that map every stack without execute permission, whatever the file says: OpenBSD
# (W^X since 3.3) and NetBSD (non-executable stacks by default on its 64-bit ports); the Go
# linker writes them no PT_GNU_STACK (esbuild's @esbuild/openbsd-x64, netbsd-x64)
_NX_SYSTEMS = frozenset({"netbsd", "openbsd"})
_NX_NOTES = frozenset({"NetBSD", "OpenBSD"})


def _stack_not_executable(binary: Any, segments: dict[str, Any]) -> bool:
    """Whether the program's stack is mapped without execute permission. Linux reads
    PT_GNU_STACK (without one it maps the stack executable, READ_IMPLIES_EXEC); Solaris reads
    PT_SUNWSTACK; OpenBSD and NetBSD never make a stack executable."""
    stack = segments.get("gnu_stack")
    if stack is not None:
        return not stack.has(lief.ELF.Segment.FLAGS.X)
    sun_stack = next((s for s in binary.segments if int(s.type) == _PT_SUNWSTACK), None)
    if sun_stack is not None:
        return not sun_stack.has(lief.ELF.Segment.FLAGS.X)
    if enum_name(binary.header.identity_os_abi) in _NX_SYSTEMS:
        return True
    return any(text(note.name).rstrip("\0") in _NX_NOTES for note in binary.notes)


def _rpath_verdict(paths: list[str]) -> str:
    """none / safe / insecure: relative or empty entries and world-writable places are insecure."""
    if not paths:
        return "none"
    return "insecure" if any(insecure_search_path(p) for p in paths) else "safe"
