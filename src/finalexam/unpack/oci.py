"""Container images: ``docker save`` tarballs and OCI image layouts (as a tar).

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
from typing import IO, Any

from finalexam.errors import CorruptInput
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader
from finalexam.unpack.tar import _is_tar_header
from finalexam.unpack.tar import _member as tar_member

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


class OciImageUnpacker:
    name = "oci-image"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        if not _is_tar_header(head[:512]) or compression_of(head):
            return False
        return _looks_like_image(content)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw, tarfile.open(fileobj=raw, mode="r:") as image:
            index = {_norm(info.name): info for info in image.getmembers()}
            layers, config = _layers(image, index)
            metadata = {n for n in index if n in _METADATA}
            if config:
                metadata.add(config)
            for path in sorted(metadata):
                info = index[path]
                if info.isfile():
                    yield tar_member(image, info)
            yield from _apply_layers(image, index, layers)


def _looks_like_image(content: Content) -> bool:
    """An OCI layout, or a docker manifest.json listing layers (not any tar with a manifest)."""
    try:
        with content.open() as raw, tarfile.open(fileobj=raw, mode="r:") as archive:
            index = {_norm(info.name): info for info in archive.getmembers()}
            if "oci-layout" in index and "index.json" in index:
                return True
            if "manifest.json" not in index:
                return False
            manifest = _read_json(archive, index, "manifest.json")
    except (tarfile.TarError, OSError, EOFError, CorruptInput):
        return False
    return (
        isinstance(manifest, list)
        and bool(manifest)
        and isinstance(manifest[0], dict)
        and isinstance(manifest[0].get("Layers"), list)
    )


def _read_json(image: tarfile.TarFile, index: dict[str, tarfile.TarInfo], name: str) -> Any:
    info = index.get(_norm(name))
    if info is None or not info.isfile() or info.size > _MAX_INDEX_BYTES:
        raise CorruptInput(f"image metadata {name!r} missing or too large")
    handle = image.extractfile(info)
    if handle is None:
        raise CorruptInput(f"image metadata {name!r} unreadable")
    try:
        return json.loads(handle.read())
    except ValueError as error:
        raise CorruptInput(f"image metadata {name!r} is not JSON: {error}") from None


def _blob_path(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _layers(
    image: tarfile.TarFile, index: dict[str, tarfile.TarInfo]
) -> tuple[list[Layer], str | None]:
    """Layers of the first image in the tarball, bottom first, and its config blob path."""
    if "index.json" in index and "oci-layout" in index:
        document = _read_json(image, index, "index.json")
        for _ in range(8):  # follow nested indexes to the first image manifest
            manifests = document.get("manifests") or []
            if not manifests:
                raise CorruptInput("OCI index lists no manifests")
            descriptor = manifests[0]
            document = _read_json(image, index, _blob_path(descriptor["digest"]))
            if document.get("mediaType") in _INDEX_TYPES or "manifests" in document:
                continue
            config = document.get("config", {}).get("digest")
            layers = [
                Layer(_blob_path(layer["digest"]), layer["digest"])
                for layer in document.get("layers", [])
            ]
            return layers, _blob_path(config) if config else None
        raise CorruptInput("OCI index nests too deeply")
    manifest = _read_json(image, index, "manifest.json")
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


def _apply_layers(
    image: tarfile.TarFile, index: dict[str, tarfile.TarInfo], layers: list[Layer]
) -> Iterator[Member]:
    written: set[str] = set()  # paths provided by a higher layer
    written_files: set[str] = set()  # non-directories of higher layers hide what is below
    deleted: set[str] = set()  # whiteouts from higher layers
    opaque: set[str] = set()  # opaque directories from higher layers
    for layer in reversed(layers):
        info = index.get(layer.member)
        if info is None:
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
        for member, path in _layer_members(image, info, layer):
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


def _layer_members(
    image: tarfile.TarFile, info: tarfile.TarInfo, layer: Layer
) -> Iterator[tuple[Member, str]]:
    handle = image.extractfile(info)
    if handle is None:
        raise CorruptInput(f"layer {layer.digest} unreadable")
    head = handle.read(8)
    handle.seek(0)
    magic = compression_of(head)
    stream: IO[bytes] = decompressing_reader(magic, handle) if magic else handle
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for entry in archive:
            yield tar_member(archive, entry), _norm(entry.name)
