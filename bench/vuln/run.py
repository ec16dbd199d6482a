"""Vulnerability matching benchmark: DB build time, matching throughput, agreement with Trivy.

Run from the repository root: ``PYTHONPATH=src python bench/vuln/run.py``. Inputs are
downloaded beforehand into ``bench/.work/dl`` (see README.md); the shared OSV data is read
from ``../shared/data/osv``; peers from ``/opt/peers/bin``. Results go to
``bench/out/vuln.json`` and a markdown summary is printed.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[2]
SHARED_OSV = REPO / ".." / "shared" / "data" / "osv"
WORK = REPO / "bench" / ".work"
DOWNLOADS = WORK / "dl"
ROOTS = WORK / "vuln-roots"
OUT = REPO / "bench" / "out"
PEERS = Path(os.environ.get("PEERS_BIN", "/opt/peers/bin"))
sys.path.insert(0, str(REPO / "src"))

from finalexam.model import Component  # noqa: E402
from finalexam.vuln.match import Matcher  # noqa: E402
from finalexam.vuln.store import VulnDatabase  # noqa: E402
from finalexam.vuln.update import update_database  # noqa: E402
from finalexam.vuln.versions import normalize_name  # noqa: E402

TOP_LEVEL_ZIPS = sorted(p for p in SHARED_OSV.glob("*/all.zip"))  # what Trivy's DB holds


# -- inputs (read statically; nothing is installed or run) ------------------------------


def _deb_data(path: Path) -> tarfile.TarFile:
    data = path.read_bytes()
    assert data.startswith(b"!<arch>\n")
    offset = 8
    while offset < len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = data[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(body))
        offset += 60 + size + (size % 2)
    raise ValueError(f"no data.tar in {path}")


def prepare_roots() -> dict[str, Path]:
    if ROOTS.exists():
        shutil.rmtree(ROOTS)
    roots = {name: ROOTS / name for name in ("python", "npm", "go", "java")}
    site = roots["python"] / "usr/lib/python3/site-packages"
    for wheel in sorted(DOWNLOADS.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if ".dist-info/" in member:  # metadata is all a matcher needs
                    archive.extract(member, site)
    modules = roots["npm"] / "app/node_modules"
    for tarball in sorted(DOWNLOADS.glob("*.tgz")):
        with tarfile.open(tarball) as archive:
            manifest = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
            target = modules / manifest["name"]
            target.mkdir(parents=True, exist_ok=True)
            (target / "package.json").write_text(json.dumps(manifest))
            if not manifest["name"].startswith("@esbuild/"):
                continue
            for member in archive.getmembers():  # esbuild's platform package is a Go binary
                if member.isfile() and member.name.startswith("package/bin/"):
                    gobin = roots["go"] / "usr/bin" / Path(member.name).name
                    gobin.parent.mkdir(parents=True, exist_ok=True)
                    gobin.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
                    gobin.chmod(0o755)  # Trivy only looks at executables; nothing runs them
    for deb in sorted(DOWNLOADS.glob("*.deb")):
        with _deb_data(deb) as data:
            for member in data.getmembers():
                if not member.isfile():
                    continue
                name = member.name.lstrip("./")
                if name.endswith(".jar"):
                    target = roots["java"] / name
                elif name.startswith("usr/bin/"):
                    target = roots["go"] / name
                else:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.extractfile(member).read())  # type: ignore[union-attr]
                target.chmod(member.mode & 0o755)
    return roots


# -- measurements -----------------------------------------------------------------------


def timed(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_times(scratch: Path) -> dict[str, Any]:
    ours_path = scratch / "all.sqlite3"
    cpu = time.process_time()
    ours, result = timed(lambda: update_database(ours_path, [str(SHARED_OSV)]))
    ours_cpu = time.process_time() - cpu
    zips = sorted(str(p) for p in SHARED_OSV.rglob("all.zip"))
    cpu = _children_cpu()
    trivy, _ = timed(
        lambda: subprocess.run(
            [str(PEERS / "osv2trivydb"), "-o", str(scratch / "trivy-all"), *zips],
            check=True,
            capture_output=True,
        )
    )
    trivy_cpu = _children_cpu() - cpu
    cpu = time.process_time()
    again, _ = timed(lambda: update_database(ours_path, [str(SHARED_OSV)]))
    again_cpu = time.process_time() - cpu
    return {
        "records": result.records,
        "finalexam_seconds": round(ours, 2),
        "finalexam_cpu_seconds": round(ours_cpu, 2),
        "finalexam_incremental_seconds": round(again, 2),
        "finalexam_incremental_cpu_seconds": round(again_cpu, 2),
        "osv2trivydb_seconds": round(trivy, 2),
        "osv2trivydb_cpu_seconds": round(trivy_cpu, 2),
        "db_bytes": ours_path.stat().st_size,
        "trivy_db_bytes": (scratch / "trivy-all" / "db" / "trivy.db").stat().st_size,
    }


def sample_components(db_path: Path, count: int) -> list[Component]:
    """Real package names from the DB with versions taken from the records' own events."""
    rng = random.Random(20261126)
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT ecosystem, name, MIN(record_id) FROM packages GROUP BY ecosystem, name "
        "ORDER BY ecosystem, name"
    ).fetchall()
    conn.close()
    rng.shuffle(rows)
    components = []
    with VulnDatabase(db_path) as database:
        for ecosystem, name, record_id in rows[:count]:
            record = database.record(record_id) or {}
            versions = ["1.0.0"]
            for affected in record.get("affected", []):
                package = affected.get("package", {})
                if normalize_name(package.get("ecosystem", ""), package.get("name", "")) == name:
                    name = package["name"]  # the spelling the advisory uses, not our key
                for item in affected.get("ranges", []):
                    for event in item.get("events", []):
                        versions.extend(v for v in event.values() if v != "0")
                versions.extend(affected.get("versions", [])[:5])
            components.append(
                Component(name=name, version=rng.choice(versions), ecosystem=ecosystem)
            )
    while len(components) < count:  # pad with misses: names the database does not know
        index = len(components)
        components.append(Component(name=f"unknown-{index}", version="1.0", ecosystem="PyPI"))
    return components


_PURL_TYPES = {"PyPI": "pypi", "npm": "npm", "Go": "golang", "crates.io": "cargo",
               "Maven": "maven", "NuGet": "nuget", "RubyGems": "gem"}  # fmt: skip


def _purl(component: Component) -> str | None:
    kind = _PURL_TYPES.get(component.ecosystem)
    if kind is None:
        return None
    name = component.name.replace(":", "/") if kind == "maven" else component.name
    name = name.replace("@", "%40") if kind == "npm" else name
    return f"pkg:{kind}/{name}@{component.version}"


def _typical(components: list[Component], known_share: float) -> list[Component]:
    """Like a real artifact: most components have no advisory at all."""
    known = int(len(components) * known_share)
    misses = [
        Component(name=f"lib-{i}", version="1.0.0", ecosystem=c.ecosystem)
        for i, c in enumerate(components[known:])
    ]
    return components[:known] + misses


def _match_timing(db_path: Path, components: list[Component]) -> dict[str, Any]:
    with VulnDatabase(db_path) as database:
        matcher = Matcher(database)
        cpu = time.process_time()
        seconds, findings = timed(lambda: matcher.match_all(components))
        cpu = time.process_time() - cpu
    return {
        "components": len(components),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "components_per_second": round(len(components) / seconds),
        "findings": len(findings),
    }


def throughput(db_path: Path, same_db: Path, scratch: Path, count: int = 10_000) -> dict[str, Any]:
    components = sample_components(db_path, count)
    out: dict[str, Any] = {
        "every_component_known": _match_timing(db_path, components),
        "five_percent_known": _match_timing(db_path, _typical(components, 0.05)),
    }
    # Side by side with Trivy: the same 10,000 components as one CycloneDX SBOM, each tool
    # started as a process on the same data (no MAL- records, as in Trivy's DB).
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "bom-ref": f"c{i}", "name": c.name, "version": c.version,
             "purl": purl}
            for i, c in enumerate(components)
            if (purl := _purl(c)) is not None
        ],
    }  # fmt: skip
    sbom = scratch / "throughput.cdx.json"
    sbom.write_text(json.dumps(bom))
    ours, _ = timed(
        lambda: subprocess.run(
            [sys.executable, "-m", "finalexam", "scan", str(sbom), "--db", str(same_db),
             "-o", f"json={scratch / 'throughput.finalexam.json'}"],
            check=False, capture_output=True,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        )
    )  # fmt: skip
    theirs, _ = timed(
        lambda: subprocess.run(
            [str(PEERS / "trivy-osv"), "sbom", "--scanners", "vuln", "-f", "json", "-q",
             "-o", str(scratch / "throughput.trivy.json"), str(sbom)],
            check=True, capture_output=True,
        )
    )  # fmt: skip
    out["sbom_scan_side_by_side"] = {
        "components": len(bom["components"]),
        "finalexam_seconds": round(ours, 2),
        "trivy_seconds": round(theirs, 2),
    }
    # The same run doubles as an agreement check over 10,000 real package names.
    out["agreement"] = compare(
        json.loads((scratch / "throughput.finalexam.json").read_text()),
        json.loads((scratch / "throughput.trivy.json").read_text()),
    )
    return out


# -- agreement with Trivy ---------------------------------------------------------------


def _purl_key(purl: str) -> str:
    base = unquote(purl.split("?", 1)[0].split("#", 1)[0])
    kind = base[4:].split("/", 1)[0]
    # Trivy writes Go module paths in lower case in its purls; PyPI and NuGet are case-blind.
    return base.lower() if kind in ("pypi", "nuget", "golang") else base


def trivy_json(args: list[str]) -> dict[str, Any]:
    run = subprocess.run(
        [str(PEERS / "trivy-osv"), *args], check=True, capture_output=True, text=True
    )
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def agreement(name: str, root: Path, db_path: Path, scratch: Path) -> dict[str, Any]:
    report = trivy_json(["rootfs", "--scanners", "vuln", "-f", "json", "-q", str(root)])
    sbom = scratch / f"{name}.cdx.json"
    sbom.write_text(json.dumps(trivy_json(["rootfs", "-f", "cyclonedx", "-q", str(root)])))
    out = scratch / f"{name}.finalexam.json"
    subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(sbom), "--db", str(db_path),
         "-o", f"json={out}"],
        check=False,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    return compare(json.loads(out.read_text()), report)


def compare(document: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """Per component: every Trivy id must be one of our finding's ids (rule id or alias)."""
    theirs: dict[str, set[str]] = defaultdict(set)
    for result in report.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            purl = vuln.get("PkgIdentifier", {}).get("PURL") or vuln["PkgName"]
            theirs[_purl_key(purl)].add(vuln["VulnerabilityID"])
    ours: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in document["findings"]:
        if finding["kind"] in ("vulnerability", "malicious"):
            ours[_purl_key(finding["component"])].append(finding)
    agreed, only_trivy, only_ours = 0, [], []
    for purl in sorted(set(theirs) | set(ours)):
        names_by_finding = [(f, {f["rule_id"], *f.get("aliases", [])}) for f in ours.get(purl, [])]
        for vid in sorted(theirs.get(purl, ())):
            if not any(vid in names for _, names in names_by_finding):
                only_trivy.append({"component": purl, "id": vid})
        for finding, names in names_by_finding:
            if names & theirs.get(purl, set()):
                agreed += 1
            else:
                only_ours.append(
                    {
                        "component": purl,
                        "id": finding["rule_id"],
                        "aliases": finding.get("aliases", []),
                        "matched": finding["evidence"].get("matched", []),
                    }
                )
    return {
        "components": len(document["components"]),
        "trivy_ids": sum(len(v) for v in theirs.values()),
        "finalexam_findings": sum(len(v) for v in ours.values()),
        "agreed_findings": agreed,
        "only_trivy": only_trivy,
        "only_finalexam": only_ours,
    }


def _calibrate() -> float:
    start = time.process_time()
    sum(range(30_000_000))
    return time.process_time() - start


def main() -> int:
    if not SHARED_OSV.is_dir() or not (PEERS / "trivy-osv").exists():
        print("needs ../shared/data/osv and /opt/peers/bin/trivy-osv", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-vuln-") as tmp:
        scratch = Path(tmp)
        results["load_average"] = os.getloadavg()[0]
        # How fast this machine is right now: CPU seconds of a fixed pure-Python loop
        # (0.35-0.5 s on an idle current x86 core), to read the other CPU figures against.
        results["calibration_cpu_seconds"] = round(_calibrate(), 2)
        results["build"] = build_times(scratch)
        results["calibration_cpu_seconds_after_build"] = round(_calibrate(), 2)
        # Same data as Trivy's offline DB: the top-level exports, no MAL-/derived records.
        same_db = scratch / "top-level.sqlite3"
        update_database(same_db, [str(p) for p in TOP_LEVEL_ZIPS])
        results["throughput"] = throughput(scratch / "all.sqlite3", same_db, scratch)
        roots = prepare_roots()
        results["agreement"] = {
            name: agreement(name, root, same_db, scratch) for name, root in roots.items()
        }
        all_db = scratch / "all.sqlite3"
        results["agreement_with_malicious"] = {
            name: len(agreement(name, root, all_db, scratch)["only_finalexam"])
            for name, root in roots.items()
        }
        for name in ("throughput.finalexam.json", "throughput.trivy.json", "throughput.cdx.json"):
            shutil.copy(scratch / name, OUT / f"vuln-{name}")  # kept for reading disagreements
    (OUT / "vuln.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
