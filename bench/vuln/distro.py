"""Operating-system packages: the names, versions and release the matcher looks up, beside
what Trivy reads from the same image (Trivy 0.59.1, offline).

Run from the repository root after downloading real Debian packages (see README.md):
``PYTHONPATH=src python bench/vuln/distro.py``. The image is assembled here, without a
daemon and without installing anything: one layer per real ``.deb`` (its
``dpkg-deb --fsys-tarfile`` data, so ``usr/lib/os-release`` is base-files' own) and a base
layer with dpkg's status database made of the packages' control paragraphs
(``dpkg-deb --field``). Trivy's offline database has no distribution advisories, so only
what the lookups key on is compared: binary package, source package, source version,
release. Results go to ``bench/out/vuln-distro.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEBS = Path(os.environ.get("BENCH_DEBS", REPO / "bench" / ".work" / "dl" / "debian"))
OUT = REPO / "bench" / "out"
PEERS = Path(os.environ.get("PEERS_BIN", "/opt/peers/bin"))
sys.path.insert(0, str(REPO / "src"))

from finalexam.config import Config  # noqa: E402
from finalexam.exam import run_exam  # noqa: E402
from finalexam.vuln.purl import package_ref  # noqa: E402


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _run(*args: str) -> bytes:
    return subprocess.run(list(args), check=True, capture_output=True).stdout


def image(debs: list[Path]) -> bytes:
    """A ``docker save`` tarball made of the packages."""
    status = []
    for deb in debs:
        lines = _run("dpkg-deb", "--field", str(deb)).decode().rstrip("\n").splitlines()
        lines.insert(1, "Status: install ok installed")
        status.append("\n".join(lines) + "\n")
    layers = [_tar({"var/lib/dpkg/status": "\n".join(status).encode()})]
    layers += [_run("dpkg-deb", "--fsys-tarfile", str(deb)) for deb in debs]
    members: dict[str, bytes] = {}
    paths, digests = [], []
    for number, layer in enumerate(layers):
        digests.append(f"sha256:{hashlib.sha256(layer).hexdigest()}")
        path = f"{digests[-1][7:19]}{number:03d}/layer.tar"
        members[path] = layer
        paths.append(path)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": digests},
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
    }
    members["config.json"] = json.dumps(config).encode()
    manifest = [{"Config": "config.json", "RepoTags": ["bench/debian:12"], "Layers": paths}]
    members["manifest.json"] = json.dumps(manifest).encode()
    return _tar(members)


def ours(target: Path) -> dict[str, dict[str, Any]]:
    report = run_exam(target, Config(), analyzers=())
    found: dict[str, dict[str, Any]] = {}
    for component in report.components:
        ref = package_ref(component)
        if ref is None or not component.purl or not component.purl.startswith("pkg:deb/"):
            continue
        found[component.name] = {
            "version": component.version,
            "source": ref.name,
            "source_version": ref.version,
            "release": ref.release.ecosystem if ref.release else None,
            "release_from": ref.release.source if ref.release else None,
        }
    return found


def trivy(target: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    report = json.loads(
        _run(str(PEERS / "trivy-osv"), "image", "--input", str(target), "--scanners", "vuln",
             "--list-all-pkgs", "-f", "json", "-q")
    )  # fmt: skip
    found: dict[str, dict[str, Any]] = {}
    for result in report.get("Results") or []:
        for package in result.get("Packages") or []:
            epoch = f"{package['SrcEpoch']}:" if package.get("SrcEpoch") else ""
            release = f"-{package['SrcRelease']}" if package.get("SrcRelease") else ""
            found[package["Name"]] = {
                "version": package.get("Version"),
                "source": package.get("SrcName"),
                "source_version": f"{epoch}{package.get('SrcVersion', '')}{release}",
            }
    return found, report.get("Metadata", {}).get("OS", {})


def compare(debs: list[Path], scratch: Path) -> dict[str, Any]:
    target = scratch / "debian12.tar"
    target.write_bytes(image(debs))
    mine, (theirs, os_info) = ours(target), trivy(target)
    same_source = [n for n in mine if n in theirs and mine[n]["source"] == theirs[n]["source"]]
    same_version = [
        n for n in same_source if mine[n]["source_version"] == theirs[n]["source_version"]
    ]
    differences = [
        {"package": n, "finalexam": mine.get(n), "trivy": theirs.get(n)}
        for n in sorted(set(mine) | set(theirs))
        if n not in same_version
    ]
    return {
        "packages": len(debs),
        "finalexam_packages": len(mine),
        "trivy_packages": len(theirs),
        "same_source_name": len(same_source),
        "same_source_version": len(same_version),
        "source_differs_from_binary": sum(1 for n in mine if mine[n]["source"] != n),
        "finalexam_releases": sorted({str(v["release"]) for v in mine.values()}),
        "trivy_os": os_info,
        "differences": differences,
    }


def single_packages(debs: list[Path]) -> dict[str, Any]:
    """Each .deb alone, with no image around it: the release its version names, if any."""
    releases: dict[str, int] = {}
    unknown = []
    for deb in debs:
        for name, facts in ours(deb).items():
            key = f"{facts['release']} ({facts['release_from']})" if facts["release"] else "unknown"
            releases[key] = releases.get(key, 0) + 1
            if not facts["release"]:
                unknown.append(f"{name} {facts['version']}")
    return {"packages": len(debs), "releases": releases, "unknown": sorted(unknown)}


def main() -> int:
    debs = sorted(DEBS.glob("*.deb"))
    if not debs or not (PEERS / "trivy-osv").exists():
        print(f"needs .deb files in {DEBS} and {PEERS}/trivy-osv", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-distro-") as tmp:
        results = {"image": compare(debs, Path(tmp)), "single": single_packages(debs)}
    (OUT / "vuln-distro.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
