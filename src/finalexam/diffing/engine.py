"""Two Reports in, one ReleaseDiff out: every comparison, ranked by risk."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from finalexam.diffing import behavior
from finalexam.diffing.content import ContentStore, is_code, texts_by_path
from finalexam.diffing.files import compare_inventories, file_changes
from finalexam.diffing.inventory import BINARY_TYPES, COMPILED_TYPES, Inventory, build_inventory
from finalexam.diffing.manifests import Manifest, normalize_name, top_manifests
from finalexam.diffing.model import Change, ReleaseDiff
from finalexam.diffing.versions import bump
from finalexam.model import FileType, Issue, Location, Report, Severity
from finalexam.redact import safe_text, safe_value
from finalexam.version import __version__
from finalexam.vuln.purl import parse_purl

_NAME_VERSION = re.compile(
    r"^(?P<name>.+?)[-_](?P<version>v?\d+(?:\.\d+)*(?:[-.+]?[A-Za-z0-9]+(?:\.\d+)?)*?)"
    r"(?:-py\d|-cp\d|\.tar\.gz|\.tgz|\.zip|\.whl|\.jar|\.tar\.bz2|\.tar\.xz|\.tar|\.deb|\.rpm|"
    r"\.gem|\.nupkg|\.crate|$)"
)


# Words of a platform or target triple (x86_64-unknown-linux-gnu, linux-amd64, darwin-arm64)
_PLATFORM_WORD = re.compile(
    r"(?i)(?:^|[-_.])(?:linux|darwin|macos|windows|win32|win64|musl|gnu|msvc|unknown|apple"
    r"|amd64|arm64|aarch64|x64|x86)(?=[-_.]|$)"
)
_DOTTED_VERSION = re.compile(r"(?<![A-Za-z0-9.])v?(\d+(?:\.\d+)+)(?![.\d])")


def version_from_name(name: str) -> str | None:
    found = _NAME_VERSION.match(name)
    version = found.group("version").lstrip("v") if found else None
    if version and _PLATFORM_WORD.search(version):
        # the last dash split a target triple (rzip-0.9.2-x86_64-unknown-linux-gnu.tar.gz read
        # as version 64-unknown-linux-gnu): the release's version is its first dotted number
        dotted = _DOTTED_VERSION.search(name)
        return dotted.group(1) if dotted else None
    return version


def release_version(report: Report, manifests: Sequence[Manifest]) -> str | None:
    if report.artifact.version:
        return report.artifact.version
    for manifest in manifests:
        if manifest.version:
            return manifest.version
    return version_from_name(report.artifact.name)


def _declared_dependencies(
    report: Report, manifests: Sequence[Manifest], own_names: set[str]
) -> dict[str, tuple[str, str]]:
    deps: dict[str, tuple[str, str]] = {}
    for manifest in manifests[:1]:
        for name, requirement in manifest.dependencies.items():
            deps[normalize_name(name, manifest.ecosystem)] = (requirement, manifest.ecosystem)
    for component in report.components:
        if component.name.lower() not in own_names:
            continue
        for dependency in component.dependencies:
            if dependency.kind.value != "depends-on":
                continue
            key = normalize_name(_package_name(dependency.target), component.ecosystem)
            deps.setdefault(key, (dependency.requirement or "", component.ecosystem))
    return deps


def _package_name(target: str) -> str:
    """A dependency's package name, as its manifest spells it: ``@scope/pkg`` of
    ``pkg:npm/%40scope/pkg@1``, ``group/artifact`` of a Maven purl, a plain name as it is."""
    purl = parse_purl(target)
    if purl is None:
        return target
    return f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name


def _own_names(report: Report, manifests: Sequence[Manifest]) -> set[str]:
    names = {m.name.lower() for m in manifests if m.name}
    for component in report.components:
        if any(loc.depth <= 1 and "node_modules/" not in loc.path for loc in component.locations):
            names.add(component.name.lower())
    return names


def _report_locations(report: Report) -> list[Location]:
    locations = [f.location for f in report.findings if f.location is not None]
    locations += [loc for i in report.indicators for loc in i.locations]
    locations += [loc for c in report.components for loc in c.locations]
    locations += [Location.parse(str(b["location"])) for b in report.binaries if b.get("location")]
    return locations


def _texts(inventory: Inventory, store: ContentStore | None) -> dict[str, str]:
    return texts_by_path({k: r.sha256 for k, r in inventory.files.items() if r.sha256}, store)


def _gap_text(issue: Issue) -> str:
    where = f"{issue.location}: " if issue.location else ""
    return f"{issue.kind.value}: {where}{issue.message}"


def diff_reports(
    old: Report,
    new: Report,
    *,
    old_content: ContentStore | None = None,
    new_content: ContentStore | None = None,
    endpoint_allowlist: Sequence[str] = (),
) -> ReleaseDiff:
    notes: list[str] = []
    old_inv = build_inventory(old.files, _report_locations(old))
    new_inv = build_inventory(new.files, _report_locations(new))
    for side, report in (("old", old), ("new", new)):
        if not report.files:
            notes.append(
                f"{side} report has no file inventory (write it with --files): "
                "file changes not compared"
            )
    have_content = old_content is not None and new_content is not None
    if not have_content:
        notes.append(
            "file contents not available (stored reports): cosmetic, install-hook and "
            "added-code checks use report data only"
        )
    for side, report in (("old", old), ("new", new)):
        if not report.complete:
            gaps = report.gaps
            named = "; ".join(_gap_text(g) for g in gaps[:3]) + (
                f"; and {len(gaps) - 3} more" if len(gaps) > 3 else ""
            )
            notes.append(f"{side} exam incomplete, the diff is partial: {named}")
    for side, store in (("old", old_content), ("new", new_content)):
        if store is not None and store.truncated:
            notes.append(f"{side}: content capture limit reached; some files compared by hash")
    old_texts, new_texts = _texts(old_inv, old_content), _texts(new_inv, new_content)
    old_manifests, new_manifests = top_manifests(old_texts), top_manifests(new_texts)
    old_version = release_version(old, old_manifests)
    new_version = release_version(new, new_manifests)
    if not have_content:
        # One side is a stored report: compare only what both sides have, or everything the
        # other side's contents show would look new.
        hooked = [m for m in new_manifests if m.hooks]
        old_texts, new_texts, old_manifests, new_manifests = {}, {}, [], []
    release_bump = bump(old_version, new_version)

    delta = compare_inventories(old_inv, new_inv, old_content, new_content)
    old_has_native = any(r.file_type in BINARY_TYPES for r in old_inv.files.values())
    changes: list[Change] = []
    changes += file_changes(delta, old_has_native, old_content, new_content)
    changes += behavior.component_changes(old.components, new.components)
    changes += behavior.dependency_changes(
        _declared_dependencies(old, old_manifests, _own_names(old, old_manifests)),
        _declared_dependencies(new, new_manifests, _own_names(new, new_manifests)),
        release_bump,
        new_texts,
    )
    if have_content:
        changes += behavior.hook_changes(
            old_manifests, new_manifests, old_texts, new_texts, delta, have_content
        )
    else:
        changes += behavior.unverified_hooks(hooked, delta)
    changes += behavior.endpoint_changes(
        behavior.collect_endpoints(old, old_inv, old_texts),
        behavior.collect_endpoints(new, new_inv, new_texts),
        endpoint_allowlist,
        new_texts,
    )
    changes += behavior.finding_changes(old, new, old_inv, new_inv)
    changes += behavior.binary_changes(old, new, old_inv, new_inv, delta.moved)
    if have_content:
        changes += behavior.code_capability_changes(old_texts, new_texts, delta)
    changes += _release_level(old_inv, new_inv, delta, old_version, new_version, old, new)
    changes = sorted(_dedupe(changes), key=Change.sort_key)
    stats = {
        "files_added": len(delta.added),
        "files_removed": len(delta.removed),
        "files_modified": len(delta.modified) - len(delta.cosmetic),
        "files_cosmetic": len(delta.cosmetic),
        "files_moved": len([k for k in delta.moved if k not in delta.modified]),
        "files_unchanged": delta.unchanged,
        "components_old": len(old.components),
        "components_new": len(new.components),
    }
    return ReleaseDiff(
        old=old.artifact,
        new=new.artifact,
        old_version=old_version,
        new_version=new_version,
        # changes carry content (added lines, endpoints): redacted and neutralised like reports
        changes=tuple(
            replace(
                c,
                title=safe_text(c.title),
                location=None if c.location is None else safe_text(c.location),
                evidence=safe_value(dict(c.evidence)),
            )
            for c in changes
        ),
        stats=stats,
        notes=tuple(safe_text(note) for note in notes),
        tool_version=__version__,
        complete=old.complete and new.complete,
    )


def _dedupe(changes: list[Change]) -> list[Change]:
    seen: dict[tuple[str, str, str], Change] = {}
    for change in changes:
        key = (change.kind, change.location or "", change.title)
        current = seen.get(key)
        if current is None or change.severity.rank > current.severity.rank:
            seen[key] = change
    return list(seen.values())


def _code_bytes(inventory: Inventory) -> int:
    return sum(
        r.size for k, r in inventory.files.items() if is_code(k) or r.file_type in COMPILED_TYPES
    )


def _release_level(
    old_inv: Inventory,
    new_inv: Inventory,
    delta: Any,
    old_version: str | None,
    new_version: str | None,
    old: Report,
    new: Report,
) -> list[Change]:
    changes: list[Change] = []
    code_changed = sorted(
        k
        for k in set(delta.added) | set(delta.substantive())
        if is_code(k) or new_inv.files[k].file_type in COMPILED_TYPES
    )
    if (
        old_version
        and old_version == new_version
        and code_changed
        and old.artifact.sha256 != new.artifact.sha256
    ):
        changes.append(
            Change(
                "version-unchanged-code-changed",
                Severity.HIGH,
                f"version {new_version} unchanged but {len(code_changed)} code file(s) changed",
                code_changed[0],
                {"version": new_version, "files": code_changed[:20]},
            )
        )
    old_code, new_code = _code_bytes(old_inv), _code_bytes(new_inv)
    old_files = sum(1 for k in old_inv.files if is_code(k))
    if old_code and not new_code and new.files:
        # every line of code gone and the release still published: the package breaks all
        # of its dependents (faker 6.6.6), sabotage rather than a refactoring
        changes.append(
            Change(
                "package-emptied",
                Severity.HIGH,
                f"sabotage: every code file removed ({old_files} file(s), {old_code:,} bytes)",
                None,
                {"old_code_bytes": old_code, "old_code_files": old_files},
            )
        )
    elif old_files >= 5 and old_code and new_code < old_code * 0.2:
        changes.append(
            Change(
                "code-removed-en-masse",
                Severity.MEDIUM,
                f"code shrank from {old_code:,} to {new_code:,} bytes",
                None,
                {
                    "old_code_bytes": old_code,
                    "new_code_bytes": new_code,
                    "files_removed": len(delta.removed),
                },
            )
        )
    if old.artifact.kind != new.artifact.kind and old.artifact.kind and new.artifact.kind:
        changes.append(
            Change(
                "artifact-kind-changed",
                Severity.LOW,
                f"artifact kind {old.artifact.kind} → {new.artifact.kind}",
                None,
                {},
            )
        )
    if new.files and not any(r.file_type is not FileType.SYMLINK for r in new.files):
        changes.append(Change("release-empty", Severity.MEDIUM, "the new release is empty", None))
    return changes


def summary(diff: ReleaseDiff, limit: int = 20) -> list[Mapping[str, Any]]:
    """The reviewer's list: changes at low or above, most dangerous first."""
    return [
        {"severity": c.severity.value, "kind": c.kind, "location": c.location, "title": c.title}
        for c in diff.at_least(Severity.LOW)[:limit]
    ]
