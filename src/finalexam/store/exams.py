"""Keeping an exam: name the release, snapshot the policy, write it in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from finalexam.config import Config
from finalexam.model import Report
from finalexam.report.sbom import primary_component
from finalexam.store.policy import policy_snapshot, snapshot_text
from finalexam.store.store import Attestation, Store, StoredExam


def release_identity(report: Report, product: str | None, version: str | None) -> tuple[str, str]:
    """The product and version given, else the artifact's own package, else its file name."""
    own = primary_component(report)
    if not product:
        product = own.name if own else _stem(report.artifact.name)
    if not version:
        version = (
            (own.version if own else None)
            or report.artifact.version
            or (report.artifact.sha256[:12] if report.artifact.sha256 else "unversioned")
        )
    return product, version


def _stem(name: str) -> str:
    for suffix in (".tar.gz", ".tar.xz", ".tar.bz2", ".cdx.json", ".spdx.json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem or name


def store_exam(
    store: Store,
    report: Report,
    config: Config,
    source: str,
    product: str | None = None,
    version: str | None = None,
    attestations: Sequence[Attestation] = (),
) -> StoredExam:
    product, version = release_identity(report, product, version)
    snapshot = snapshot_text(policy_snapshot(config))
    return store.add_exam(report, product, version, source, snapshot, attestations)
