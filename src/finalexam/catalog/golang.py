"""Go binaries: the build info the Go linker embeds (module graph and toolchain version).

The blob starts with ``\\xff Go buildinf:`` followed by the pointer size and a flags byte.
Go >= 1.18 stores the version and module strings inline (varint length + bytes); older
toolchains store two pointers to Go string headers, resolved here through the section table.
Nothing is executed; the layout follows ``debug/buildinfo`` in the Go standard library.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from packageurl import PackageURL

from finalexam.formats.binformat import Binary, parse, uleb128
from finalexam.model import Blob, Component, Confidence, Dependency, FileEntry, FileType

MAGIC = b"\xff Go buildinf:"
_ALIGN = 16
_HEADER = 32
_MAX_STRING = 1 << 22  # a module list longer than 4 MiB is not a real one
_BUILD_KEYS = ("-compiler", "CGO_ENABLED", "GOARCH", "GOOS", "vcs.revision", "vcs.time")


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    sum: str = ""
    replaced_by: Module | None = None


@dataclass
class BuildInfo:
    go_version: str
    path: str = ""
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)


def _inline_strings(blob: bytes) -> tuple[str, str] | None:
    strings: list[str] = []
    offset = _HEADER
    for _ in range(2):
        decoded = uleb128(blob, offset)
        if decoded is None:
            return None
        length, offset = decoded
        if length > _MAX_STRING or offset + length > len(blob):
            return None
        strings.append(blob[offset : offset + length].decode("utf-8", "replace"))
        offset += length
    return strings[0], strings[1]


def _pointer_strings(data: Blob, binary: Binary, at: int) -> tuple[str, str] | None:
    size = data[at + 14]
    if size not in (4, 8):
        return None
    big = data[at + 15] != 0
    fmt = (">" if big else "<") + ("Q" if size == 8 else "I")

    def pointer(offset: int) -> int | None:
        if offset < 0 or offset + size > len(data):
            return None
        return int(struct.unpack_from(fmt, data, offset)[0])

    def string_at(address: int | None) -> str | None:
        header = binary.address_to_offset(address) if address is not None else None
        if header is None:
            return None
        target, length = pointer(header), pointer(header + size)
        if target is None or length is None or length > _MAX_STRING:
            return None
        start = binary.address_to_offset(target) if length else 0
        if start is None or start + length > len(data):
            return None
        return bytes(data[start : start + length]).decode("utf-8", "replace")

    version = string_at(pointer(at + 16))
    modinfo = string_at(pointer(at + 16 + size))
    if version is None or modinfo is None:
        return None
    return version, modinfo


def _candidates(data: Blob, binary: Binary | None) -> Iterator[int]:
    """Offsets of the magic: in the linker's section first, then anywhere 16-aligned in it."""
    seen: set[int] = set()
    if binary is not None:
        section = binary.section(
            ".go.buildinfo", "__DATA,__go_buildinfo", "__DATA_CONST,__go_buildinfo", ".data"
        )
        if section is not None and section.size:
            end = section.offset + section.size
            at = data.find(MAGIC, section.offset, end)
            while at >= 0:
                if (at - section.offset) % _ALIGN == 0:
                    seen.add(at)
                    yield at
                at = data.find(MAGIC, at + 1, end)
    at = data.find(MAGIC)
    while at >= 0:
        if at not in seen:
            yield at
        at = data.find(MAGIC, at + 1)


def read_build_info(data: Blob) -> BuildInfo | None:
    """The Go build info of a binary, or None when it has none."""
    binary = parse(data)
    for at in _candidates(data, binary):
        if at + _HEADER > len(data):
            continue
        flags = data[at + 15]
        if flags & 2:
            blob = bytes(data[at : at + _HEADER + 2 * (_MAX_STRING + 10)])
            strings = _inline_strings(blob)
        elif binary is not None:
            strings = _pointer_strings(data, binary, at)
        else:
            strings = None
        if strings is None or not strings[0].startswith(("go", "devel")):
            continue
        version, modinfo = strings
        # Module info is framed by 16-byte sentinels around the text.
        modinfo = modinfo[16:-16] if len(modinfo) >= 33 and modinfo[-17] == "\n" else ""
        return parse_modinfo(version, modinfo)
    return None


def parse_modinfo(go_version: str, text: str) -> BuildInfo:
    info = BuildInfo(go_version=go_version)
    last: Module | None = None
    for line in text.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            info.path = rest
        elif kind in ("mod", "dep") and fields and fields[0]:
            module = Module(
                fields[0],
                fields[1] if len(fields) > 1 else "",
                fields[2] if len(fields) > 2 else "",
            )
            if kind == "mod":
                info.main = module
            else:
                info.deps.append(module)
            last = module
        elif kind == "=>" and last is not None and fields and fields[0]:
            replacement = Module(
                fields[0],
                fields[1] if len(fields) > 1 else "",
                fields[2] if len(fields) > 2 else "",
            )
            replaced = Module(last.path, last.version, last.sum, replacement)
            if info.main is last:
                info.main = replaced
            else:
                info.deps[-1] = replaced
            last = None
        elif kind == "build":
            key, _, value = rest.partition("=")
            info.settings.append((key, value))
    return info


def stdlib_version(go_version: str) -> str | None:
    """``go1.21.4 X:boringcrypto`` -> ``1.21.4``; ``go1.20`` -> ``1.20.0`` (OSV's form)."""
    word = go_version.split()[0] if go_version.split() else ""
    if not word.startswith("go") or not word[2:3].isdigit():
        return None
    version = word[2:]
    for marker in ("rc", "beta"):
        if marker in version:
            return version.replace(marker, f"-{marker}", 1)
    if version.count(".") == 1:
        version += ".0"
    return version


def go_purl(path: str, version: str | None) -> str:
    namespace, _, name = path.rpartition("/")
    return PackageURL(
        type="golang", namespace=namespace or None, name=name, version=version or None
    ).to_string()


class GoCataloger:
    name = "golang"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("elf", "pe", "macho")  # Go build information

    def accepts(self, entry: FileEntry) -> bool:
        return entry.file_type in (FileType.ELF, FileType.PE, FileType.MACHO)

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        info = read_build_info(entry.data)
        if info is None:
            return []
        return list(self.components(info, entry))

    def finish(self) -> Iterable[Component]:
        return ()

    def components(self, info: BuildInfo, entry: FileEntry) -> Iterator[Component]:
        evidence_base = f"go build info in {entry.location}"
        deps: list[Component] = []
        for module in info.deps:
            deps.append(_module_component(module, entry, evidence_base))
        std = stdlib_version(info.go_version)
        if std is not None:
            yield Component(
                name="stdlib",
                version=std,
                ecosystem="Go",
                purl=go_purl("stdlib", std),
                locations=(entry.location,),
                found_by=(self.name,),
                evidence=(f"{evidence_base}: toolchain {info.go_version}",),
            )
        main = info.main
        if main is None and info.path and info.path != "command-line-arguments":
            # GOPATH-mode builds (as Debian's) record the package path but no module graph.
            yield Component(
                name=info.path,
                version=None,
                ecosystem="Go",
                purl=go_purl(info.path, None),
                locations=(entry.location,),
                found_by=(self.name,),
                confidence=Confidence.LOW,
                evidence=(f"{evidence_base}: package {info.path}, built without module info",),
                dependencies=(Dependency(go_purl("stdlib", std)),) if std else (),
            )
        if main is not None:
            version = main.version if main.version not in ("", "(devel)") else None
            settings = dict(info.settings)
            extra = tuple(f"build {key}={settings[key]}" for key in _BUILD_KEYS if key in settings)
            targets = [d.purl for d in deps if d.purl]
            if std is not None:
                targets.append(go_purl("stdlib", std))
            yield Component(
                name=main.path,
                version=version,
                ecosystem="Go",
                purl=go_purl(main.path, version),
                locations=(entry.location,),
                found_by=(self.name,),
                evidence=(f"{evidence_base}: main module, package {info.path}", *extra),
                dependencies=tuple(Dependency(target) for target in sorted(set(targets))),
                description=f"Go program {info.path}" if info.path else None,
            )
        yield from deps


def _module_component(module: Module, entry: FileEntry, evidence_base: str) -> Component:
    evidence = [f"{evidence_base}: dep {module.path} {module.version}".rstrip()]
    if module.sum:
        evidence.append(f"go.sum {module.path} {module.sum}")
    path, version, confidence = module.path, module.version, Confidence.HIGH
    replacement = module.replaced_by
    if replacement is not None:
        if replacement.version not in ("", "(devel)"):  # another module version is built in
            path, version = replacement.path, replacement.version
            evidence.append(f"replaces {module.path} {module.version}".rstrip())
            if replacement.sum:
                evidence.append(f"go.sum {replacement.path} {replacement.sum}")
        else:  # replaced by a local directory: the upstream version is not what was built
            version, confidence = "", Confidence.LOW
            evidence.append(f"replaced by local directory {replacement.path}")
    return Component(
        name=path,
        version=version or None,
        ecosystem="Go",
        purl=go_purl(path, version or None),
        locations=(entry.location,),
        found_by=("golang",),
        confidence=confidence,
        evidence=tuple(evidence),
    )


def make() -> GoCataloger:
    return GoCataloger()
