"""Rust binaries: ``cargo auditable`` dependency data, else crate paths left by panics.

``cargo auditable`` embeds the resolved dependency tree as zlib-compressed JSON in a
``.dep-v0`` section (ELF, PE; ``__DATA,.dep-v0`` in Mach-O; a custom section in
WebAssembly). Without it, a release binary still carries the source paths of crates that
can panic
(``.cargo/registry/src/index.crates.io-<hash>/<name>-<version>/src/...``, or Debian's
``/usr/share/cargo/registry/<name>-<version>/``): a lower-confidence but real list of the
crates compiled in.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any

from packageurl import PackageURL

from finalexam.formats import jsonsafe
from finalexam.formats.binformat import parse, uleb128
from finalexam.model import Blob, Component, Confidence, Dependency, FileEntry, FileType

_SECTIONS = (".dep-v0", "__DATA,.dep-v0", "__DATA_CONST,.dep-v0")
_MAX_JSON = 16 * 1024 * 1024
# cargo's registry cache (``src/<index>-<hash>/``), or Debian's /usr/share/cargo/registry.
_PANIC_PATH = re.compile(
    rb"(?:registry[/\\]src[/\\][A-Za-z0-9_.-]{1,80}-[0-9a-f]{16}|share/cargo/registry)[/\\]"
    rb"(?P<name>[A-Za-z0-9_][A-Za-z0-9_-]{0,63}?)-"
    rb"(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)[/\\]"
)


def cargo_purl(name: str, version: str | None) -> str:
    return PackageURL(type="cargo", name=name, version=version or None).to_string()


def wasm_custom_section(data: Blob, wanted: bytes) -> bytes | None:
    """The payload of a WebAssembly custom section (id 0) with the given name."""
    offset = 8  # magic and version
    while offset < len(data):
        section_id = data[offset]
        header = uleb128(data, offset + 1, max_bits=35)
        if header is None:
            return None
        size, start = header
        end = start + size
        if end > len(data):
            return None
        if section_id == 0:
            named = uleb128(data, start, max_bits=35)
            if named is not None and bytes(data[named[1] : named[1] + named[0]]) == wanted:
                return bytes(data[named[1] + named[0] : end])
        offset = end
    return None


def _auditable_bytes(data: Blob) -> bytes | None:
    if bytes(data[:4]) == b"\x00asm":
        return wasm_custom_section(data, b".dep-v0")
    binary = parse(data)
    section = binary.section(*_SECTIONS) if binary is not None else None
    if binary is None or section is None or not section.size:
        return None
    return binary.read(data, section)


def read_auditable(data: Blob) -> list[dict[str, Any]] | None:
    """The ``packages`` list of cargo-auditable data, or None when there is none."""
    raw = _auditable_bytes(data)
    if raw is None:
        return None
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(raw, _MAX_JSON)
        document = jsonsafe.loads(text)
    except (zlib.error, ValueError):
        return None
    packages = document.get("packages") if isinstance(document, dict) else None
    if not isinstance(packages, list):
        return None
    return [p for p in packages if isinstance(p, dict)]


def panic_path_crates(data: Blob) -> dict[tuple[str, str], int]:
    """(crate, version) -> offset of the first panic path naming it."""
    found: dict[tuple[str, str], int] = {}
    if data.find(b"registry") < 0:  # memchr-fast gate: most binaries are not Rust
        return found
    for match in _PANIC_PATH.finditer(data):
        key = (match.group("name").decode(), match.group("version").decode())
        found.setdefault(key, match.start())
    return found


class RustCataloger:
    name = "rust"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("elf", "pe", "macho", "wasm")  # cargo-auditable data

    def accepts(self, entry: FileEntry) -> bool:
        return entry.file_type in (FileType.ELF, FileType.PE, FileType.MACHO, FileType.WASM)

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        data = entry.data
        packages = read_auditable(data)
        if packages is not None:
            return self._from_auditable(packages, entry)
        return self._from_panic_paths(data, entry)

    def finish(self) -> Iterable[Component]:
        return ()

    def _from_auditable(self, packages: list[dict[str, Any]], entry: FileEntry) -> list[Component]:
        purls: list[str | None] = []
        for package in packages:
            name, version = package.get("name"), package.get("version")
            valid = isinstance(name, str) and name and isinstance(version, str)
            purls.append(cargo_purl(str(name), str(version)) if valid else None)
        components = []
        for package, purl in zip(packages, purls, strict=True):
            if purl is None or package.get("kind") == "build":
                continue  # build scripts and proc-macros run at build time, not in the binary
            source = str(package.get("source", "crates.io"))
            edges = []
            for index in package.get("dependencies", []):
                if isinstance(index, int) and 0 <= index < len(purls):
                    target = purls[index]
                    kind = packages[index].get("kind")
                    if target is not None and kind != "build":
                        edges.append(Dependency(target))
            evidence = [f"cargo auditable .dep-v0 in {entry.location}: source {source}"]
            if package.get("root"):
                evidence.append("root package")
            components.append(
                Component(
                    name=str(package["name"]),
                    version=str(package["version"]),
                    ecosystem="crates.io" if source == "crates.io" else "generic",
                    purl=purl,
                    locations=(entry.location,),
                    found_by=(self.name,),
                    evidence=tuple(evidence),
                    dependencies=tuple(sorted(set(edges), key=lambda d: d.target)),
                )
            )
        return components

    def _from_panic_paths(self, data: Blob, entry: FileEntry) -> list[Component]:
        return [
            Component(
                name=name,
                version=version,
                ecosystem="crates.io",
                purl=cargo_purl(name, version),
                locations=(entry.location,),
                found_by=(self.name,),
                confidence=Confidence.LOW,
                evidence=(f"crate source path at offset {offset} of {entry.location}",),
            )
            for (name, version), offset in sorted(panic_path_crates(data).items())
        ]


def make() -> RustCataloger:
    return RustCataloger()
