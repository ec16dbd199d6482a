"""File-level changes: added, removed, moved, modified; cosmetic edits told apart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from finalexam.diffing.content import ContentStore, first_lines, is_code, is_cosmetic, line_delta
from finalexam.diffing.inventory import BINARY_TYPES, COMPILED_TYPES, Inventory, version_blind
from finalexam.diffing.model import Change
from finalexam.model import FileRecord, FileType, Severity


@dataclass
class FileDelta:
    added: dict[str, FileRecord] = field(default_factory=dict)
    removed: dict[str, FileRecord] = field(default_factory=dict)
    modified: dict[str, tuple[FileRecord, FileRecord]] = field(default_factory=dict)  # key: new
    moved: dict[str, str] = field(default_factory=dict)  # new key → old key
    cosmetic: set[str] = field(default_factory=set)  # new keys of cosmetic-only modifications
    unchanged: int = 0

    def substantive(self) -> dict[str, tuple[FileRecord, FileRecord]]:
        return {k: v for k, v in self.modified.items() if k not in self.cosmetic}


def _same(a: FileRecord, b: FileRecord) -> bool:
    if a.file_type is FileType.SYMLINK or b.file_type is FileType.SYMLINK:
        return a.link_target == b.link_target and a.file_type == b.file_type
    return a.sha256 == b.sha256


def compare_inventories(
    old: Inventory,
    new: Inventory,
    old_store: ContentStore | None,
    new_store: ContentStore | None,
) -> FileDelta:
    delta = FileDelta()
    removed = {k: r for k, r in old.files.items() if k not in new.files}
    added = {k: r for k, r in new.files.items() if k not in old.files}
    for key, record in new.files.items():
        before = old.files.get(key)
        if before is None:
            continue
        if _same(before, record):
            delta.unchanged += 1
        else:
            delta.modified[key] = (before, record)
    # Moved: same bytes at a new place.
    by_hash: dict[str, list[str]] = defaultdict(list)
    for key, record in sorted(removed.items()):
        if record.sha256:
            by_hash[record.sha256].append(key)
    for key, record in sorted(added.items()):
        candidates = by_hash.get(record.sha256) if record.sha256 else None
        if candidates:
            old_key = candidates.pop(0)
            delta.moved[key] = old_key
            del removed[old_key]
            del added[key]
    # Renamed with the version: x-1.0.dist-info/METADATA ↔ x-1.1.dist-info/METADATA.
    blind_old: dict[str, list[str]] = defaultdict(list)
    for key in sorted(removed):
        blind_old[version_blind(key)].append(key)
    for key in sorted(added):
        candidates = blind_old.get(version_blind(key))
        if candidates and len(candidates) == 1:
            old_key = candidates.pop()
            delta.modified[key] = (removed.pop(old_key), added.pop(key))
            delta.moved[key] = old_key
    delta.added = added
    delta.removed = removed
    for key, (before, after) in delta.modified.items():
        if old_store is None or new_store is None:
            continue
        old_text, new_text = old_store.text(before.sha256), new_store.text(after.sha256)
        if old_text is not None and new_text is not None and is_cosmetic(old_text, new_text, key):
            delta.cosmetic.add(key)
    return delta


def file_changes(
    delta: FileDelta,
    old_has_native: bool,
    old_store: ContentStore | None,
    new_store: ContentStore | None,
) -> list[Change]:
    changes: list[Change] = []
    for key, record in sorted(delta.added.items()):
        severity = Severity.INFO
        kind = "file-added"
        if record.file_type in BINARY_TYPES:
            kind = "native-binary-added"
            severity = Severity.LOW if old_has_native else Severity.MEDIUM
        changes.append(
            Change(
                kind,
                severity,
                f"new {record.file_type.value} file"
                + ("; the previous release shipped no native code" if severity.rank >= 2 else ""),
                key,
                {"sha256": record.sha256, "size": record.size, "type": record.file_type.value},
            )
        )
    for key, record in sorted(delta.removed.items()):
        changes.append(
            Change(
                "file-removed",
                Severity.INFO,
                f"{record.file_type.value} file removed",
                key,
                {"sha256": record.sha256, "size": record.size},
            )
        )
    for key, old_key in sorted(delta.moved.items()):
        if key in delta.modified:
            continue
        changes.append(
            Change("file-moved", Severity.INFO, f"moved from {old_key}", key, {"from": old_key})
        )
    for key, (before, after) in sorted(delta.modified.items()):
        evidence: dict[str, object] = {
            "old_sha256": before.sha256,
            "new_sha256": after.sha256,
            "old_size": before.size,
            "new_size": after.size,
        }
        if key in delta.moved:
            evidence["from"] = delta.moved[key]
        if key in delta.cosmetic:
            changes.append(
                Change(
                    "file-cosmetic",
                    Severity.INFO,
                    "layout, comments or local names only: same token stream",
                    key,
                    evidence,
                )
            )
            continue
        kind = "binary-modified" if after.file_type in COMPILED_TYPES else "file-modified"
        old_text = old_store.text(before.sha256) if old_store else None
        new_text = new_store.text(after.sha256) if new_store else None
        if old_text is not None and new_text is not None:
            lines = line_delta(old_text, new_text)
            evidence["hunks"] = list(lines.hunks[:20])
            evidence["lines_added"] = len(lines.added)
            evidence["lines_removed"] = len(lines.removed)
            evidence["added"] = first_lines(lines.added)
            if is_code(key):
                kind = "code-modified"
        changes.append(Change(kind, Severity.INFO, "content changed", key, evidence))
    return changes
