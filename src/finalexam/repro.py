"""Reproducibility check: are two builds of one release the same, and if not, why not?

Byte-identical builds are reproducible. Otherwise both are opened (gzip/bzip2/xz/zstd layers
and every container the exam opens, nested; never extracted) and every difference is put in a
category: archive member order, timestamps, permissions, owners, compression, embedded build
paths, embedded build dates, signatures — or real content, shown as differing lines or byte
ranges. Builds whose differences are all explained are "reproducible after normalisation".
"""

from __future__ import annotations

import bz2
import difflib
import gzip
import hashlib
import lzma
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NoReturn

from finalexam.config import Limits
from finalexam.errors import CorruptInput, FinalexamError, InputError, LimitExceeded
from finalexam.model import ARCHIVE_SEPARATOR
from finalexam.unpack import UNPACKERS
from finalexam.unpack.base import Content, MemberKind, UnpackContext, Unpacker, stream_problem
from finalexam.unpack.base import Member as UnpackedMember
from finalexam.unpack.zip import archive_comment

REPRODUCIBLE = "reproducible"
AFTER_NORMALISATION = "reproducible-after-normalisation"
NOT_REPRODUCIBLE = "not-reproducible"

MEMBER_ORDER = "member-order"
TIMESTAMPS = "timestamps"
PERMISSIONS = "permissions"
OWNERS = "owners"
COMPRESSION = "compression"
BUILD_PATHS = "build-paths"
BUILD_DATES = "build-dates"
SIGNATURES = "signatures"
ARCHIVE_METADATA = "archive-metadata"
DIGESTS = "digests"  # RECORD / MANIFEST.MF lines that differ because listed files do
CONTENT = "content"
CATEGORIES = (
    MEMBER_ORDER,
    TIMESTAMPS,
    PERMISSIONS,
    OWNERS,
    COMPRESSION,
    BUILD_PATHS,
    BUILD_DATES,
    SIGNATURES,
    ARCHIVE_METADATA,
    DIGESTS,
    CONTENT,
)


@dataclass(frozen=True)
class Difference:
    location: str
    category: str
    detail: str
    lines: tuple[str, ...] = ()  # unified diff lines, or byte ranges for binary content


@dataclass(frozen=True)
class ReproResult:
    a: str
    b: str
    verdict: str
    differences: tuple[Difference, ...] = ()
    sha256_a: str = ""
    sha256_b: str = ""

    @property
    def normalisations(self) -> tuple[str, ...]:
        return tuple(sorted({d.category for d in self.differences if d.category != CONTENT}))

    @property
    def differing_files(self) -> tuple[str, ...]:
        return tuple(sorted({d.location for d in self.differences if d.category == CONTENT}))

    @property
    def reproducible(self) -> bool:
        return self.verdict != NOT_REPRODUCIBLE


@dataclass
class Member:
    name: str
    data: bytes
    mtime: float | tuple[int, ...] | None = None
    mode: int | None = None
    owner: tuple[object, ...] | None = None
    compression: tuple[object, ...] | None = None
    extra: bytes = b""
    kind: str = "file"  # file, dir, symlink, hardlink
    link: str = ""


@dataclass
class Container:
    format: str  # zip, tar, ar, rpm, cpio, 7z
    members: list[Member] = field(default_factory=list)
    comment: bytes = b""
    # rpm: the raw value of each tag of the signature and main headers, by (header, tag)
    header_tags: dict[tuple[str, int], bytes] = field(default_factory=dict)


@dataclass
class _Budget:
    limits: Limits
    total: int = 0

    def take(self, size: int, where: str) -> None:
        self.total += size
        if size > self.limits.max_member_size or self.total > self.limits.max_total_bytes:
            raise InputError("too large to compare within the configured limits", path=where)


# -- reading -------------------------------------------------------------------------------

_SIGNATURE_NAME = re.compile(
    r"(?:^|/)META-INF/[^/]+\.(?:SF|RSA|DSA|EC)$|\.(?:sig|asc|p7s|jws)$|(?:^|/)RECORD\.(?:jws|p7s)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Layer:
    """A compression layer around the real content (e.g. the gzip of a .tar.gz)."""

    format: str
    header: dict[str, object]
    inner: bytes


def _gzip_header(data: bytes) -> dict[str, object]:
    header: dict[str, object] = {
        "mtime": int.from_bytes(data[4:8], "little"),
        "xfl": data[8],
        "os": data[9],
    }
    flags = data[3]
    if flags & 0x08:  # FNAME follows the fixed header (after FEXTRA when present)
        start = 10
        if flags & 0x04:
            start += 2 + int.from_bytes(data[10:12], "little")
        end = data.find(b"\x00", start)
        header["name"] = data[start:end].decode("latin-1")
    return header


def peel(data: bytes, where: str, budget: _Budget) -> Layer | None:
    try:
        if data[:2] == b"\x1f\x8b":
            inner = gzip.decompress(data)
            fmt, header = "gzip", _gzip_header(data)
        elif data[:3] == b"BZh":
            inner, fmt, header = bz2.decompress(data), "bzip2", {}
        elif data[:6] == b"\xfd7zXZ\x00":
            inner, fmt, header = lzma.decompress(data), "xz", {}
        elif data[:4] == b"(\xb5/\xfd":
            import zstandard

            inner = zstandard.ZstdDecompressor().decompressobj().decompress(data)
            fmt, header = "zstd", {}
        else:
            return None
    except (OSError, EOFError, lzma.LZMAError, ValueError) as error:
        raise InputError(f"corrupt compressed data ({error})", path=where) from None
    budget.take(len(inner), where)
    return Layer(fmt, header, inner)


def open_container(
    data: bytes, where: str, budget: _Budget, scratch_dir: str | None = None
) -> Container | None:
    """Every container the exam opens (zip, tar, ar and so .deb, rpm, cpio, 7z), through its
    unpacker, with the archive metadata zip and tar record (times, owners, compression)."""
    content = Content(data)
    head = data[:4096]
    unpacker = next((u for u in UNPACKERS if _compared_as(u, head, where, content)), None)
    if unpacker is None:
        return None
    container = Container(unpacker.name)
    if unpacker.name == "rpm":
        container.header_tags = _rpm_header_tags(data, where)
    if unpacker.name == "zip":
        container.comment = archive_comment(content)
    context = UnpackContext(budget.limits, scratch_dir or tempfile.gettempdir())
    try:
        for member in unpacker.members(content, where, context):
            if member.problem and member.problem_kind.gap:
                _corrupt(unpacker.name, member.name, member.problem, where)
            if member.kind is not MemberKind.NOTICE:
                container.members.append(_unpacked_member(member, unpacker.name, where, budget))
    except InputError:
        raise
    except (FinalexamError, CorruptInput, LimitExceeded) as error:
        raise InputError(f"cannot compare {unpacker.name} ({error})", path=where) from None
    except (OSError, EOFError, ValueError) as error:
        raise InputError(f"corrupt {unpacker.name} ({error})", path=where) from None
    return container


# Compression layers are peeled and compared by the caller, so a tar is compared once it is
# bare (by its ustar magic); an image is compared as the tar it is.
_PEELED = frozenset({"oci-image", "compressed"})


def _compared_as(unpacker: Unpacker, head: bytes, where: str, content: Content) -> bool:
    if unpacker.name == "tar":  # a damaged first header is then reported, not read as bytes
        return head[257:262] == b"ustar"
    return unpacker.name not in _PEELED and unpacker.sniff(head, where.rsplit("/", 1)[-1], content)


_RPM_LEAD = 96
# Main-header tags that are build noise, and tags that only follow from the payload (which is
# compared file by file); any other tag that differs (scripts, dependencies, names, flags) is
# a content difference. The signature header holds only digests and signatures of the rest.
_RPM_NOISE = {
    1006: (TIMESTAMPS, "build time"),
    1034: (TIMESTAMPS, "file mtimes"),
    1007: (BUILD_PATHS, "build host"),
    1094: (BUILD_PATHS, "build cookie (host and time)"),
    1132: (BUILD_PATHS, "platform"),
}
_RPM_CONSEQUENCES = {1009, 1028, 1035, 1046, 5011, 5092, 5093, 5097}  # sizes and digests


def _rpm_header(data: bytes, offset: int, where: str) -> tuple[dict[int, bytes], int]:
    """One header's tags (raw bytes: a value runs to the next value's offset) and its end."""
    if data[offset : offset + 3] != b"\x8e\xad\xe8" or len(data) < offset + 16:
        raise InputError("corrupt rpm (header magic not found)", path=where)
    count, size = (
        int.from_bytes(data[offset + 8 : offset + 12]),
        int.from_bytes(data[offset + 12 : offset + 16]),
    )
    index = offset + 16
    store = index + 16 * count
    if store + size > len(data):
        raise InputError("corrupt rpm (header truncated)", path=where)
    entries = sorted(
        (int.from_bytes(data[e + 8 : e + 12], signed=True), int.from_bytes(data[e : e + 4]))
        for e in range(index, store, 16)
    )
    tags: dict[int, bytes] = {}
    for number, (start, tag) in enumerate(entries):
        end = entries[number + 1][0] if number + 1 < len(entries) else size
        tags[tag] = data[store + max(start, 0) : store + max(start, end, 0)]
    return tags, store + size


def _rpm_header_tags(data: bytes, where: str) -> dict[tuple[str, int], bytes]:
    signature, end = _rpm_header(data, _RPM_LEAD, where)
    main, _ = _rpm_header(data, end + (8 - end % 8) % 8, where)
    return {
        **{("signature", tag): value for tag, value in signature.items()},
        **{("main", tag): value for tag, value in main.items()},
    }


def _corrupt(fmt: str, name: str, problem: str, where: str) -> NoReturn:
    raise InputError(
        f"corrupt {fmt} ({name}: {problem})" if name else f"corrupt {fmt} ({problem})", path=where
    )


def _read_all(stream: IO[bytes], limit: int) -> bytes:
    """A member's bytes, up to one past ``limit`` (streams may return less than asked)."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit and (chunk := stream.read(limit + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _unpacked_member(member: UnpackedMember, fmt: str, where: str, budget: _Budget) -> Member:
    data = b""
    if member.kind is MemberKind.FILE and member.opener is not None:
        with member.opener() as stream:
            data = _read_all(stream, budget.limits.max_member_size)
            problem = stream_problem(stream)
        if problem is not None:
            _corrupt(fmt, member.name, problem[0], where)
        budget.take(len(data), where)
    name = member.name
    if fmt == "tar" and member.kind is MemberKind.DIR:
        name = name.rstrip("/") or name  # tar directories are named without it, as tarfile does
    return Member(
        name=name,
        data=data,
        mtime=member.mtime,
        mode=member.mode,
        owner=member.owner,
        compression=member.compression,
        extra=member.extra,
        kind=member.kind.value,
        # a zip "symlink" is compared as the file its consumers install from it
        link=(member.link_target or "") if member.kind is not MemberKind.FILE else "",
    )


# -- normalisation -------------------------------------------------------------------------

_BUILD_PATH = re.compile(
    rb"(?:/(?:home|Users|tmp|build|builds|root|workspace|runner|__w|var/tmp|var/folders|"
    rb"private/var|private/tmp|opt/build|usr/src|srv|mnt|github/workspace|nix/store)"
    rb"(?:/[\w.+@%~-]+)+)"
    rb"|(?:[A-Za-z]:\\(?:Users|build|builds|a|agent|src|tmp|temp|Windows\\Temp)(?:\\[\w.+@%~-]+)+)"
)
_MONTH = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DATES = re.compile(
    rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?"
    rb"|" + _DAY + rb",? +\d{1,2} +" + _MONTH + rb" +\d{4} +\d{2}:\d{2}:\d{2}(?: [+-]\d{4}| \w+)?"
    rb"|" + _DAY + rb" +" + _MONTH + rb" +\d{1,2} +\d{2}:\d{2}:\d{2}(?: \w+)? +\d{4}"
    rb"|" + _MONTH + rb" +\d{1,2} +\d{4}(?: +\d{2}:\d{2}:\d{2})?"
    rb"|\b\d{4}-\d{2}-\d{2}\b"
)
_RECORD_HASH = re.compile(rb"sha256=[A-Za-z0-9_-]{43},\d*")
_MANIFEST_DIGEST = re.compile(rb"(?m)^(?:SHA-?\d+-Digest|SHA1-Digest|MD5-Digest): *\S+\r?$")


def _pyc_normalised(data: bytes) -> bytes:
    # Header: magic, flags, then source mtime and size (or a hash) — the build's clock.
    return data[:8] + b"\x00" * 8 + data[16:] if len(data) >= 16 else data


NORMALISERS: tuple[tuple[str, Callable[[bytes, str], bytes]], ...] = (
    (TIMESTAMPS, lambda d, n: _pyc_normalised(d) if n.endswith(".pyc") else d),
    (BUILD_PATHS, lambda d, n: _BUILD_PATH.sub(b"<BUILD-PATH>", d)),
    (BUILD_DATES, lambda d, n: _DATES.sub(b"<DATE>", d)),
)


_MARGIN = 512  # longer than any path or date the normalisers rewrite


def _window(a: bytes, b: bytes) -> tuple[bytes, bytes]:
    """The differing middle of two contents, widened by a margin: what normalising must fix."""
    limit = min(len(a), len(b))
    prefix = 0
    step = 1 << 16
    while prefix < limit and a[prefix : prefix + step] == b[prefix : prefix + step]:
        prefix += step
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    prefix = min(prefix, limit)
    suffix = 0
    while suffix < limit - prefix and a[len(a) - suffix - 1] == b[len(b) - suffix - 1]:
        suffix += 1
        if (
            suffix % 4096 == 0
            and a[len(a) - suffix - step : len(a) - suffix]
            == b[len(b) - suffix - step : len(b) - suffix]
        ):
            suffix = min(suffix + step, limit - prefix)
    start = max(0, prefix - _MARGIN)
    end = max(0, suffix - _MARGIN)
    return a[start : len(a) - end], b[start : len(b) - end]


def explain(a: bytes, b: bytes, name: str) -> list[str] | None:
    """The fewest categories whose normalisation makes two contents equal, or None."""
    if not name.endswith(".pyc"):  # .pyc headers are normalised by position: keep it whole
        a, b = _window(a, b)
    count = len(NORMALISERS)
    # Each combination builds on a smaller one, so every normaliser runs once per combination.
    done: dict[int, tuple[bytes, bytes]] = {0: (a, b)}
    for mask in range(1, 1 << count):
        top = mask.bit_length() - 1
        na, nb = done[mask & ~(1 << top)]
        normalise = NORMALISERS[top][1]
        done[mask] = (normalise(na, name), normalise(nb, name))
    for size in range(1, count + 1):
        for mask in range(1, 1 << count):
            if bin(mask).count("1") == size and done[mask][0] == done[mask][1]:
                return [c for i, (c, _) in enumerate(NORMALISERS) if mask & (1 << i)]
    return None


# -- comparison ----------------------------------------------------------------------------


def _loc(parent: str, name: str) -> str:
    return f"{parent}{ARCHIVE_SEPARATOR}{name}" if parent else name


def _content_evidence(a: bytes, b: bytes) -> tuple[str, ...]:
    if b"\x00" not in a[:8192] and b"\x00" not in b[:8192]:
        try:
            ta, tb = a.decode("utf-8"), b.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            lines = list(
                difflib.unified_diff(ta.splitlines(), tb.splitlines(), "a", "b", lineterm="", n=1)
            )
            return tuple(line[:200] for line in lines[2:42])
    ranges: list[str] = []
    matcher = (
        difflib.SequenceMatcher(None, a[: 1 << 20], b[: 1 << 20], autojunk=False)
        if max(len(a), len(b)) <= 1 << 20
        else None
    )
    if matcher is not None:
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                ranges.append(f"{tag} a[{i1:#x}:{i2:#x}] b[{j1:#x}:{j2:#x}]")
            if len(ranges) >= 20:
                break
    else:
        start = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        ranges.append(f"first difference at {start:#x} (sizes {len(a)} and {len(b)})")
    return tuple(ranges)


class _Comparer:
    def __init__(self, limits: Limits, scratch_dir: str | None = None) -> None:
        self.limits = limits
        self.scratch_dir = scratch_dir
        self.budget = _Budget(limits)
        self.out: list[Difference] = []
        # Files whose content differs only by normalisation: their digests in RECORD or
        # MANIFEST.MF differ as a consequence, not as a finding of their own.
        self.explained: set[str] = set()

    def add(self, location: str, category: str, detail: str, lines: tuple[str, ...] = ()) -> None:
        self.out.append(Difference(location, category, detail, lines))

    def blob(self, a: bytes, b: bytes, location: str, name: str, depth: int) -> None:
        if a == b:
            return
        if depth <= self.limits.max_depth:
            la, lb = peel(a, location, self.budget), peel(b, location, self.budget)
            if la and lb and la.format == lb.format:
                self._layer(la, lb, location)
                self.blob(la.inner, lb.inner, location, name, depth + 1)
                return
            ca, cb = (
                open_container(a, location, self.budget, self.scratch_dir),
                open_container(b, location, self.budget, self.scratch_dir),
            )
            if ca and cb and ca.format == cb.format:
                before = len(self.out)
                self.container(ca, cb, location, depth)
                if len(self.out) == before:  # same members: the container's own bytes differ
                    detail = f"{ca.format} headers differ (member dates, owners or padding)"
                    self.add(location, ARCHIVE_METADATA, detail)
                return
        if _SIGNATURE_NAME.search(name):
            self.add(
                location,
                SIGNATURES,
                "signature differs (signing is not reproducible "
                "unless the same key and timestamp are used)",
            )
            return
        categories = explain(a, b, name)
        if categories:
            for category in categories:
                self.add(location, category, f"content equal after normalising {category}")
            return
        self.add(
            location,
            CONTENT,
            f"content differs ({len(a)} vs {len(b)} bytes)",
            _content_evidence(a, b),
        )

    def _layer(self, a: Layer, b: Layer, location: str) -> None:
        before = len(self.out)
        for key in sorted(set(a.header) | set(b.header)):
            va, vb = a.header.get(key), b.header.get(key)
            if va == vb:
                continue
            category = {
                "mtime": TIMESTAMPS,
                "name": BUILD_PATHS,
                "xfl": COMPRESSION,
                "os": ARCHIVE_METADATA,
            }.get(key, ARCHIVE_METADATA)
            self.add(location, category, f"{a.format} header {key}: {va} → {vb}")
        if len(self.out) == before and a.inner == b.inner:
            self.add(location, COMPRESSION, f"{a.format} stream compressed differently")

    def container(self, a: Container, b: Container, location: str, depth: int) -> None:
        names_a = [m.name for m in a.members]
        names_b = [m.name for m in b.members]
        by_a = {m.name: m for m in a.members}
        by_b = {m.name: m for m in b.members}
        common = [n for n in names_a if n in by_b]
        if common != [n for n in names_b if n in by_a]:
            self.add(
                location,
                MEMBER_ORDER,
                f"{a.format} members in a different order",
                (f"a: {', '.join(names_a[:8])}", f"b: {', '.join(names_b[:8])}"),
            )
        for name in sorted(set(by_a) - set(by_b)):
            self.add(_loc(location, name), CONTENT, "only in the first build")
        for name in sorted(set(by_b) - set(by_a)):
            self.add(_loc(location, name), CONTENT, "only in the second build")
        if a.comment != b.comment:
            self.add(location, ARCHIVE_METADATA, "archive comment differs")
        self._header_tags(a, b, location)
        digest_files: list[str] = []
        for name in sorted(set(by_a) & set(by_b)):
            ma, mb = by_a[name], by_b[name]
            where = _loc(location, name)
            self._metadata(ma, mb, where, a.format)
            if ma.kind != mb.kind or ma.link != mb.link:
                self.add(where, CONTENT, f"{ma.kind} {ma.link!r} vs {mb.kind} {mb.link!r}")
                continue
            if ma.data == mb.data:
                continue
            if name.endswith(("dist-info/RECORD", "META-INF/MANIFEST.MF")) or name.endswith(".SF"):
                digest_files.append(name)
                continue
            before = len(self.out)
            self.blob(ma.data, mb.data, where, name, depth + 1)
            if all(d.category != CONTENT for d in self.out[before:]):
                self.explained.add(name)
        for name in digest_files:
            self._digests(by_a[name].data, by_b[name].data, _loc(location, name), name, depth)

    def _header_tags(self, a: Container, b: Container, location: str) -> None:
        """An rpm's headers: noise and consequences of the payload are named as such."""
        for key in sorted(set(a.header_tags) | set(b.header_tags)):
            if a.header_tags.get(key) == b.header_tags.get(key):
                continue
            header, tag = key
            if header == "signature":
                self.add(location, SIGNATURES, f"rpm signature header tag {tag} differs")
            elif tag in _RPM_NOISE:
                category, what = _RPM_NOISE[tag]
                self.add(location, category, f"rpm header {what} (tag {tag}) differs")
            elif tag in _RPM_CONSEQUENCES:
                self.add(location, DIGESTS, f"rpm header sizes or digests (tag {tag}) differ")
            else:
                self.add(location, CONTENT, f"rpm header tag {tag} differs")

    def _digests(self, a: bytes, b: bytes, where: str, name: str, depth: int) -> None:
        """RECORD / MANIFEST.MF differ where listed files differ; only that is explained."""
        pattern = _RECORD_HASH if name.endswith("RECORD") else _MANIFEST_DIGEST
        if name.endswith(".SF"):
            self.add(where, SIGNATURES, "signature manifest differs")
            return
        if pattern.sub(b"<DIGEST>", a) == pattern.sub(b"<DIGEST>", b):
            self.add(where, DIGESTS, "only the digests of normalised files differ")
            return
        self.blob(a, b, where, name + ".txt", depth + 1)

    def _metadata(self, a: Member, b: Member, where: str, fmt: str) -> None:
        if a.mtime != b.mtime:
            self.add(where, TIMESTAMPS, f"mtime {a.mtime} → {b.mtime}")
        if a.extra != b.extra:
            self.add(
                where,
                TIMESTAMPS if fmt == "zip" else ARCHIVE_METADATA,
                "zip extra field differs (extended timestamps)",
            )
        if a.mode != b.mode and a.mode is not None and b.mode is not None:
            self.add(where, PERMISSIONS, f"mode {a.mode:o} → {b.mode:o}")
        if a.owner != b.owner:
            self.add(where, OWNERS, f"owner {a.owner} → {b.owner}")
        if a.compression != b.compression and a.data == b.data:
            self.add(where, COMPRESSION, f"compression {a.compression} → {b.compression}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compare_builds(a: str | Path, b: str | Path, limits: Limits | None = None) -> ReproResult:
    """Compare two builds of one release. Never prints; raises InputError for unreadable input."""
    limits = limits or Limits()
    blobs = []
    for path in (Path(a), Path(b)):
        if not path.is_file():
            raise InputError("no such file", path=str(path))
        if path.stat().st_size > limits.max_total_bytes:
            raise InputError("too large to compare within the configured limits", path=str(path))
        try:
            blobs.append(path.read_bytes())
        except OSError as error:
            raise InputError(f"cannot read: {error.strerror}", path=str(path)) from None
    data_a, data_b = blobs
    sha_a, sha_b = _sha256(data_a), _sha256(data_b)
    if sha_a == sha_b:
        return ReproResult(str(a), str(b), REPRODUCIBLE, (), sha_a, sha_b)
    with tempfile.TemporaryDirectory(prefix="finalexam-repro-") as scratch:
        comparer = _Comparer(limits, scratch)
        comparer.blob(data_a, data_b, Path(b).name, Path(b).name, 0)
    differences = tuple(
        sorted(
            set(comparer.out),
            key=lambda d: (d.category == CONTENT, d.location, d.category, d.detail),
        )
    )
    verdict = (
        NOT_REPRODUCIBLE if any(d.category == CONTENT for d in differences) else AFTER_NORMALISATION
    )
    return ReproResult(str(a), str(b), verdict, differences, sha_a, sha_b)
