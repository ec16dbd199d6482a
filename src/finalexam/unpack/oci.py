"""Container images: ``docker save`` tarballs and OCI image layouts (tarball or directory).

The image's filesystem is what ships, so layers are applied in order with whiteouts honoured
and only the resulting files are examined, each recording its layer of origin. Layers are read
top-down in one pass each: a path is visible when no higher layer wrote, deleted or made opaque
it (or one of its parent directories).
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from finalexam.errors import CorruptInput
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader
from finalexam.unpack.tar import is_tar_header, tar_member

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_MAX_INDEX_BYTES = 16 * 1024 * 1024
_METADATA = ("manifest.json", "index.json", "oci-layout", "repositories")
_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


@dataclass(frozen=True)
class Layer:
    member: str  # path of the layer blob inside the image tar
    digest: str


def _norm(path: str) -> str:
    clean = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    return "" if clean == "." else clean


def _ancestors(path: str) -> Iterator[str]:
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


class _Store(Protocol):
    """Where an image's blobs live: inside a tarball, or in an OCI layout directory."""

    def has(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def open(self, name: str) -> IO[bytes]: ...

    def member(self, name: str) -> Member: ...


class _TarStore:
    def __init__(self, image: tarfile.TarFile) -> None:
        self.image = image
        self.index = {_norm(info.name): info for info in image.getmembers()}

    def has(self, name: str) -> bool:
        info = self.index.get(name)
        return info is not None and info.isfile()

    def size(self, name: str) -> int:
        return self.index[name].size

    def open(self, name: str) -> IO[bytes]:
        handle = self.image.extractfile(self.index[name])
        if handle is None:
            raise CorruptInput(f"image member {name!r} unreadable")
        return handle

    def member(self, name: str) -> Member:
        return tar_member(self.image, self.index[name])


class _DirStore:
    """An OCI layout directory; nothing outside it is ever opened (links are not followed)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path | None:
        path = self.root / name
        if path.is_symlink() or not path.is_file() or ".." in Path(name).parts:
            return None
        return path

    def has(self, name: str) -> bool:
        return self._path(name) is not None

    def size(self, name: str) -> int:
        path = self._path(name)
        return path.stat().st_size if path else 0

    def open(self, name: str) -> IO[bytes]:
        path = self._path(name)
        if path is None:
            raise CorruptInput(f"image member {name!r} missing")
        return path.open("rb")

    def member(self, name: str) -> Member:
        return Member(
            name=name, kind=MemberKind.FILE, size=self.size(name), opener=lambda: self.open(name)
        )


def is_layout_directory(path: Path) -> bool:
    return (path / "oci-layout").is_file() and (path / "index.json").is_file()


class OciImageUnpacker:
    name = "oci-image"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        if not is_tar_header(head[:512]) or compression_of(head):
            return False
        return _looks_like_image(content)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw, tarfile.open(fileobj=raw, mode="r:") as image:
            yield from _image_members(_TarStore(image))

    def directory_members(self, root: Path) -> Iterator[Member]:
        """The filesystem of an OCI image layout directory."""
        yield from _image_members(_DirStore(root))


def _image_members(store: _Store) -> Iterator[Member]:
    layers, config = _layers(store)
    metadata = [n for n in _METADATA if store.has(n)]
    if config and store.has(config):
        metadata.append(config)
    for path in sorted(metadata):
        yield store.member(path)
    yield from _apply_layers(store, layers)


def _looks_like_image(content: Content) -> bool:
    """An OCI layout, or a docker manifest.json listing layers (not any tar with a manifest)."""
    try:
        with content.open() as raw, tarfile.open(fileobj=raw, mode="r:") as archive:
            store = _TarStore(archive)
            if store.has("oci-layout") and store.has("index.json"):
                return True
            if not store.has("manifest.json"):
                return False
            manifest = _read_json(store, "manifest.json")
    except (tarfile.TarError, OSError, EOFError, CorruptInput):
        return False
    return (
        isinstance(manifest, list)
        and bool(manifest)
        and isinstance(manifest[0], dict)
        and isinstance(manifest[0].get("Layers"), list)
    )


def _read_json(store: _Store, name: str) -> Any:
    name = _norm(name)
    if not store.has(name) or store.size(name) > _MAX_INDEX_BYTES:
        raise CorruptInput(f"image metadata {name!r} missing or too large")
    with store.open(name) as handle:
        try:
            return json.loads(handle.read())
        except ValueError as error:
            raise CorruptInput(f"image metadata {name!r} is not JSON: {error}") from None


def _blob_path(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _layers(store: _Store) -> tuple[list[Layer], str | None]:
    """Layers of the first image in the tarball, bottom first, and its config blob path."""
    if store.has("index.json") and store.has("oci-layout"):
        document = _read_json(store, "index.json")
        for _ in range(8):  # follow nested indexes to the first image manifest
            manifests = document.get("manifests") or []
            if not manifests:
                raise CorruptInput("OCI index lists no manifests")
            descriptor = manifests[0]
            document = _read_json(store, _blob_path(descriptor["digest"]))
            if document.get("mediaType") in _INDEX_TYPES or "manifests" in document:
                continue
            config = document.get("config", {}).get("digest")
            layers = [
                Layer(_blob_path(layer["digest"]), layer["digest"])
                for layer in document.get("layers", [])
            ]
            return layers, _blob_path(config) if config else None
        raise CorruptInput("OCI index nests too deeply")
    manifest = _read_json(store, "manifest.json")
    if not isinstance(manifest, list) or not manifest:
        raise CorruptInput("docker manifest.json is empty")
    entries = manifest[0].get("Layers") or []
    layers = []
    for path in entries:
        digest = path
        if path.startswith("blobs/"):
            digest = path.split("/", 1)[1].replace("/", ":", 1)
        layers.append(Layer(_norm(path), digest))
    config = manifest[0].get("Config")
    return layers, _norm(config) if isinstance(config, str) else None


def _apply_layers(store: _Store, layers: list[Layer]) -> Iterator[Member]:
    written: set[str] = set()  # paths provided by a higher layer
    written_files: set[str] = set()  # non-directories of higher layers hide what is below
    deleted: set[str] = set()  # whiteouts from higher layers
    opaque: set[str] = set()  # opaque directories from higher layers
    for layer in reversed(layers):
        if not store.has(layer.member):
            yield Member(
                name=layer.member,
                kind=MemberKind.OTHER,
                problem=f"layer {layer.digest} missing from image",
            )
            continue
        new_deleted: set[str] = set()
        new_opaque: set[str] = set()
        layer_written: set[str] = set()
        layer_files: set[str] = set()
        for member, path in _layer_members(store, layer):
            base = posixpath.basename(path)
            parent = posixpath.dirname(path)
            if base == _OPAQUE:
                new_opaque.add(parent)
                continue
            if base.startswith(_WHITEOUT):
                new_deleted.add(posixpath.join(parent, base[len(_WHITEOUT) :]))
                continue
            hidden = (
                path in written
                or path in deleted
                or any(a in deleted or a in opaque or a in written_files for a in _ancestors(path))
            )
            layer_written.add(path)
            if member.kind is not MemberKind.DIR:
                layer_files.add(path)
            if hidden or member.kind is MemberKind.DIR:
                continue
            member.name = path
            member.layer = layer.digest
            yield member
        written |= layer_written
        written_files |= layer_files
        deleted |= new_deleted
        opaque |= new_opaque


def _layer_members(store: _Store, layer: Layer) -> Iterator[tuple[Member, str]]:
    with store.open(layer.member) as handle:
        head = handle.read(8)
        handle.seek(0)
        magic = compression_of(head)
        stream: IO[bytes] = decompressing_reader(magic, handle) if magic else handle
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for entry in archive:
                yield tar_member(archive, entry), _norm(entry.name)
