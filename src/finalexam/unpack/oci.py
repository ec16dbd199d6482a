"""Container images: ``docker save`` tarballs and OCI image layouts (tarball or directory).

The image's filesystem is what ships, so layers are applied in order with whiteouts honoured
and only the resulting files are examined, each recording its layer of origin. Layers are read
top-down in one pass each: a path is visible when no higher layer wrote, deleted or made opaque
it (or one of its parent directories). A hard link keeps its target's data alive even when a
higher layer deletes or replaces the target's path: such data is examined at the link's path.

Metadata is untrusted: digests must have the OCI form (no path can be smuggled in), JSON is
bounded in size and depth, and nothing outside the image (a symlinked blob directory of a
layout directory) is ever opened.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, cast

from finalexam.config import Limits
from finalexam.errors import CorruptInput
from finalexam.formats import jsonsafe
from finalexam.formats.streams import ReadStream
from finalexam.formats.tar import TarEntry, TarReader, is_tar_header
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader
from finalexam.unpack.tar import tar_members

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_MAX_INDEX_BYTES = 16 * 1024 * 1024
_MAX_NESTED_INDEXES = 8
_METADATA = ("manifest.json", "index.json", "oci-layout", "repositories")
_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
# The OCI descriptor grammar: algorithm ":" encoded, neither of which can hold a path.
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


@dataclass(frozen=True)
class Layer:
    member: str  # path of the layer blob inside the image
    digest: str


def _norm(path: str) -> str:
    clean = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    return "" if clean == "." else clean


def _escapes(path: str) -> bool:
    """Whether a path in image metadata climbs out of the image (docker load refuses it)."""
    clean = posixpath.normpath(path.replace("\\", "/").lstrip("/"))
    return clean == ".." or clean.startswith("../")


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


class _Window(ReadStream):
    """``size`` bytes of a shared seekable handle from ``offset`` (seeks before every read)."""

    def __init__(self, handle: IO[bytes], offset: int, size: int) -> None:
        super().__init__()
        self.handle = handle
        self.offset = offset
        self.end = offset + size
        self.position = offset

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: self.offset, 1: self.position, 2: self.end}[whence]
        self.position = min(max(base + offset, self.offset), self.end)
        return self.position - self.offset

    def read(self, size: int | None = -1) -> bytes:
        left = self.end - self.position
        wanted = left if size is None or size < 0 else min(size, left)
        if wanted <= 0:
            return b""
        self.handle.seek(self.position)
        data = self.handle.read(wanted)
        self.position += len(data)
        return data


class _TarStore:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.index: dict[str, TarEntry] = {}
        for entry in TarReader(handle, seekable=True):
            if not entry.notice and entry.is_file and entry.sparse is None:
                self.index[_norm(entry.name)] = entry
            elif not entry.notice:
                self.index.pop(_norm(entry.name), None)

    def has(self, name: str) -> bool:
        return name in self.index

    def size(self, name: str) -> int:
        return self.index[name].stored

    def open(self, name: str) -> IO[bytes]:
        entry = self.index[name]
        return cast(IO[bytes], _Window(self.handle, entry.offset, entry.stored))

    def member(self, name: str) -> Member:
        return Member(
            name=name,
            kind=MemberKind.FILE,
            size=self.size(name),
            mode=self.index[name].mode,
            opener=lambda: self.open(name),
        )


class _DirStore:
    """An OCI layout directory; nothing outside it is ever opened (no link is followed)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path | None:
        """The regular file ``name`` under the root, reached without crossing a symlink."""
        parts = name.split("/")
        if not name or any(part in ("", ".", "..") for part in parts):
            return None
        path = self.root
        for index, part in enumerate(parts):
            path = path / part
            try:
                info = os.lstat(path)
            except OSError:
                return None
            last = index == len(parts) - 1
            if (last and not stat.S_ISREG(info.st_mode)) or (
                not last and not stat.S_ISDIR(info.st_mode)
            ):
                return None
        return path

    def has(self, name: str) -> bool:
        return self._path(name) is not None

    def size(self, name: str) -> int:
        path = self._path(name)
        return os.lstat(path).st_size if path else 0

    def open(self, name: str) -> IO[bytes]:
        path = self._path(name)
        if path is None:
            raise CorruptInput(f"image member {name!r} missing")
        return open(path, "rb", opener=_no_follow)

    def member(self, name: str) -> Member:
        return Member(
            name=name, kind=MemberKind.FILE, size=self.size(name), opener=lambda: self.open(name)
        )


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def is_layout_directory(path: Path) -> bool:
    store = _DirStore(path)
    return store.has("oci-layout") and store.has("index.json")


class OciImageUnpacker:
    name = "oci-image"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("container images: docker save and OCI layout tarballs",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        if not is_tar_header(head[:512]) or compression_of(head):
            return False
        return _looks_like_image(content)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw:
            yield from _image_members(_TarStore(raw), ctx.limits)

    def directory_members(self, root: Path, limits: Limits) -> Iterator[Member]:
        """The filesystem of an OCI image layout directory."""
        yield from _image_members(_DirStore(root), limits)


def _notice(message: str, kind: IssueKind = IssueKind.CORRUPT) -> Member:
    return Member(name="", kind=MemberKind.NOTICE, problem=message, problem_kind=kind)


def _image_members(store: _Store, limits: Limits) -> Iterator[Member]:
    layers, config, notices = _layers(store)
    yield from notices
    metadata = [n for n in _METADATA if store.has(n)]
    if config and store.has(config):
        metadata.append(config)
    for path in sorted(metadata):
        yield store.member(path)
    yield from _apply_layers(store, layers, limits)


def _looks_like_image(content: Content) -> bool:
    """An OCI layout, or a docker manifest.json listing layers (not any tar with a manifest)."""
    try:
        with content.open() as raw:
            store = _TarStore(raw)
            if store.has("oci-layout") and store.has("index.json"):
                return True
            if not store.has("manifest.json"):
                return False
            manifest = _read_json(store, "manifest.json")
    except (OSError, CorruptInput):
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
            return jsonsafe.loads(handle.read())
        except ValueError as error:
            raise CorruptInput(f"image metadata {name!r} is not JSON: {error}") from None


def _blob_path(digest: object) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise CorruptInput(f"not an OCI digest: {str(digest)[:80]!r}")
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def _descriptors(document: Any, key: str) -> list[dict[str, Any]]:
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise CorruptInput(f"image metadata: {key!r} is not a list of descriptors")
    return items


def _layers(store: _Store) -> tuple[list[Layer], str | None, list[Member]]:
    """Layers of the first image, bottom first, its config blob path, and notices."""
    notices: list[Member] = []
    if store.has("index.json") and store.has("oci-layout"):
        document = _read_json(store, "index.json")
        for _ in range(_MAX_NESTED_INDEXES):  # follow nested indexes to the first manifest
            manifests = _descriptors(document, "manifests")
            if not manifests:
                raise CorruptInput("OCI index lists no manifests")
            if len(manifests) > 1:
                notices.append(
                    _notice(
                        f"image index lists {len(manifests)} manifests: only the first "
                        f"({str(manifests[0].get('digest'))[:80]}) is examined",
                        IssueKind.UNSUPPORTED,
                    )
                )
            document = _read_json(store, _blob_path(manifests[0].get("digest")))
            if not isinstance(document, dict):
                raise CorruptInput("OCI manifest is not a JSON object")
            if document.get("mediaType") in _INDEX_TYPES or "manifests" in document:
                continue
            config = document.get("config")
            config_digest = config.get("digest") if isinstance(config, dict) else None
            layers = []
            for layer in _descriptors(document, "layers"):
                try:
                    layers.append(Layer(_blob_path(layer.get("digest")), layer["digest"]))
                except CorruptInput as error:
                    notices.append(_notice(f"layer not examined: {error}"))
            config_path = _blob_path(config_digest) if config_digest else None
            return layers, config_path, notices
        raise CorruptInput("OCI index nests too deeply")
    manifest = _read_json(store, "manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise CorruptInput("docker manifest.json lists no image")
    if len(manifest) > 1:
        notices.append(
            _notice(
                f"manifest.json lists {len(manifest)} images: only the first is examined",
                IssueKind.UNSUPPORTED,
            )
        )
    entries = manifest[0].get("Layers")
    if not isinstance(entries, list):
        raise CorruptInput("docker manifest.json: 'Layers' is not a list")
    layers = []
    for path in entries:
        if not isinstance(path, str) or _escapes(path):
            notices.append(_notice(f"layer path {str(path)[:80]!r} points outside the image"))
            continue
        digest = path
        if path.startswith("blobs/"):
            digest = path.split("/", 1)[1].replace("/", ":", 1)
        layers.append(Layer(_norm(path), digest))
    config = manifest[0].get("Config")
    return layers, _norm(config) if isinstance(config, str) else None, notices


@dataclass
class _LayerState:
    """What the layers above the current one did to the filesystem."""

    written: set[str]  # paths provided by a higher layer
    written_files: set[str]  # non-directories of higher layers hide what is below
    deleted: set[str]  # whiteouts from higher layers
    opaque: set[str]  # opaque directories from higher layers

    def hides(self, path: str) -> bool:
        return (
            path in self.written
            or path in self.deleted
            or any(
                a in self.deleted or a in self.opaque or a in self.written_files
                for a in _ancestors(path)
            )
        )


def _apply_layers(store: _Store, layers: list[Layer], limits: Limits) -> Iterator[Member]:
    state = _LayerState(set(), set(), set(), set())
    # Hard links whose target lies in a lower layer: target path -> link paths.
    waiting: dict[str, list[str]] = {}
    for layer in reversed(layers):
        if not store.has(layer.member):
            yield _notice(f"layer {layer.digest} missing from image: not examined")
            continue
        new_deleted: set[str] = set()
        new_opaque: set[str] = set()
        layer_written: set[str] = set()
        layer_files: set[str] = set()
        hidden_here: set[str] = set()  # files of this layer hidden by a higher one
        visible_here: set[str] = set()
        linked_hidden: dict[str, list[str]] = {}  # hidden target -> visible links to it
        waiting_below: dict[str, list[str]] = {}
        for member, path in _layer_members(store, layer, limits):
            base = posixpath.basename(path)
            parent = posixpath.dirname(path)
            if member.kind is MemberKind.NOTICE:
                yield member
                continue
            if base == _OPAQUE:
                new_opaque.add(parent)
                continue
            if base.startswith(_WHITEOUT):
                new_deleted.add(posixpath.join(parent, base[len(_WHITEOUT) :]))
                continue
            hidden = state.hides(path)
            layer_written.add(path)
            if member.kind is not MemberKind.DIR:
                layer_files.add(path)
            if member.kind is MemberKind.FILE:
                links = waiting.pop(path, [])
                if hidden and links:  # a link above keeps this data alive
                    yield _layered(member, links[0], layer)
                    for link in links[1:]:
                        yield _hardlink(link, links[0], layer)
                    continue
                for link in links:
                    yield _hardlink(link, path, layer)
                (hidden_here if hidden else visible_here).add(path)
            if hidden or member.kind is MemberKind.DIR:
                continue
            if member.kind is MemberKind.HARDLINK:
                target = _norm(member.link_target or "")
                if target in hidden_here:
                    linked_hidden.setdefault(target, []).append(path)
                    continue
                if target not in visible_here:
                    waiting_below.setdefault(target, []).append(path)
                    continue
            yield _layered(member, path, layer)
        if linked_hidden:  # a second pass fetches the data the links keep alive
            for member, path in _layer_members(store, layer, limits):
                links = linked_hidden.pop(path, [])
                if links and member.kind is MemberKind.FILE:
                    yield _layered(member, links[0], layer)
                    for link in links[1:]:
                        yield _hardlink(link, links[0], layer)
        for target, links in waiting_below.items():
            waiting.setdefault(target, []).extend(links)
        state.written |= layer_written
        state.written_files |= layer_files
        state.deleted |= new_deleted
        state.opaque |= new_opaque
    for target, links in sorted(waiting.items()):
        for link in links:
            yield _hardlink(link, target, None)


def _layered(member: Member, path: str, layer: Layer) -> Member:
    member.name = path
    member.layer = layer.digest
    return member


def _hardlink(path: str, target: str, layer: Layer | None) -> Member:
    return Member(
        name=path,
        kind=MemberKind.HARDLINK,
        link_target=target,
        layer=layer.digest if layer else None,
    )


def _layer_members(store: _Store, layer: Layer, limits: Limits) -> Iterator[tuple[Member, str]]:
    with store.open(layer.member) as handle:
        head = handle.read(16)
        handle.seek(0)
        magic = compression_of(head)
        stream = (
            decompressing_reader(magic, handle, limits, f"layer {layer.digest}")
            if magic
            else handle
        )
        for member in tar_members(stream):
            yield member, _norm(member.name)
