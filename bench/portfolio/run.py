"""Portfolio benchmark: store write throughput under 8 concurrent writers, and `monitor run`
re-check time for 10,000 stored releases of 100 components, on SQLite and PostgreSQL.

Run from the repository root: ``python bench/portfolio/run.py`` (options: ``--help``). The
advisories are the real shared OSV exports (``../shared/data/osv`` by default, or
``--osv DIR``); a "before" DB holds them all but the newest ones, the "after" DB all of them,
so the second check meets real new advisories. PostgreSQL is started on loopback in a scratch
directory as the tests do. Results go to ``bench/out/portfolio.json``; a markdown table is
printed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

import finalexam.data  # noqa: E402
from finalexam.monitor.recheck import run_monitor  # noqa: E402
from finalexam.store import Store  # noqa: E402
from finalexam.store import schema as t  # noqa: E402
from finalexam.vuln.match import Matcher  # noqa: E402
from finalexam.vuln.store import VulnDatabase  # noqa: E402
from finalexam.vuln.update import update_database  # noqa: E402
from portfolio_support import RELEASE_POLICY, make_report, postgres_server  # noqa: E402

ECOSYSTEM_ZIPS = ("PyPI", "npm", "Maven", "Go", "crates.io", "NuGet")
MALICIOUS_ZIPS = ("malicious/npm", "malicious/PyPI")
TODAY = date(2026, 6, 1)


# -- inputs --------------------------------------------------------------------------------


def _records(osv: Path) -> list[dict[str, Any]]:
    found = []
    for relative in (*ECOSYSTEM_ZIPS, *MALICIOUS_ZIPS):
        with zipfile.ZipFile(osv / relative / "all.zip") as archive:
            for info in archive.infolist():
                found.append(json.loads(archive.read(info)))
    return found


def build_databases(osv: Path, work: Path, held_back: int) -> tuple[Path, Path, list[str]]:
    """``before`` lacks the ``held_back`` newest non-malicious advisories; ``after`` has all."""
    records = _records(osv)
    dated = sorted(
        (r for r in records if not r["id"].startswith("MAL-") and not r.get("withdrawn")
         and r.get("published", "0001") > "2000"),
        key=lambda r: (r.get("published", ""), r["id"]),
    )  # fmt: skip
    newest = {r["id"] for r in dated[-held_back:]}
    for name, keep in (("before", lambda r: r["id"] not in newest), ("after", lambda r: True)):
        directory = work / f"osv-{name}"
        directory.mkdir()
        for record in records:
            if keep(record):
                (directory / f"{record['id']}.json").write_text(json.dumps(record))
    before, after = work / "before.sqlite3", work / "after.sqlite3"
    update_database(before, [str(work / "osv-before")])
    update_database(after, [str(work / "osv-after")])
    return before, after, sorted(newest)


def _versions(record: dict[str, Any]) -> list[str]:
    found = []
    for affected in record.get("affected") or []:
        found += [v for v in affected.get("versions") or [] if isinstance(v, str)]
        for item in affected.get("ranges") or []:
            for event in item.get("events") or []:
                found += [v for k, v in event.items() if k in ("introduced", "fixed") and v != "0"]
    return found


def package_pool(
    osv: Path, seed: int
) -> tuple[list[tuple[str, str, list[str]]], list[tuple[str, str]]]:
    """Packages named by advisories (with versions from their ranges) and popular names."""
    rng = random.Random(seed)
    named: dict[tuple[str, str], set[str]] = {}
    for record in _records(osv):
        if record["id"].startswith("MAL-"):
            continue
        for affected in record.get("affected") or []:
            package = affected.get("package") or {}
            ecosystem, name = package.get("ecosystem"), package.get("name")
            if ecosystem in ECOSYSTEM_ZIPS and isinstance(name, str):
                named.setdefault((ecosystem, name), set()).update(_versions(record))
    advised = [(e, n, sorted(v) or ["1.0.0"]) for (e, n), v in sorted(named.items())]
    data = Path(finalexam.data.__file__).parent
    popular = [("PyPI", n) for n in (data / "popular-pypi.txt").read_text().split()[:3000]]
    popular += [("npm", n) for n in (data / "popular-npm.txt").read_text().split()[:3000]]
    rng.shuffle(advised)
    return advised, popular


def releases(
    count: int, per_release: int, seed: int, osv: Path
) -> Iterator[tuple[str, str, list[tuple[str, str, str]]]]:
    """Products with 20 versions each; a version changes a tenth of its product's packages."""
    rng = random.Random(seed)
    advised, popular = package_pool(osv, seed)
    products = max(1, count // 20)
    for product in range(products):
        base: list[tuple[str, str, str]] = []
        for _ in range(per_release):
            if rng.random() < 0.1:  # a tenth of the packages have had advisories,
                ecosystem, name, versions = rng.choice(advised)  # half in an affected version
                version = rng.choice(versions) if rng.random() < 0.5 else "999.0.0"
                base.append((ecosystem, name, version))
            else:
                ecosystem, name = rng.choice(popular)
                base.append((ecosystem, name, f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.0"))
        for version in range(count // products):
            for index in rng.sample(range(per_release), per_release // 10):
                ecosystem, name, _ = base[index]
                base[index] = (ecosystem, name, f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.1")
            yield f"product-{product}", f"1.{version}", list(base)


# -- measurements --------------------------------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _write(args: tuple[str, list[tuple[str, str, list[tuple[str, str, str]]]]]) -> list[int]:
    url, batch = args
    acknowledged = []
    with Store(url) as store:
        for product, version, packages in batch:
            report = make_report(product, version, packages)
            acknowledged.append(
                store.add_exam(report, product, version, "built", RELEASE_POLICY).exam_id
            )
    return acknowledged


def write_phase(url: str, items: list[Any], writers: int) -> dict[str, Any]:
    Store(url).close()
    shares = [(url, items[i::writers]) for i in range(writers)]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(writers) as pool:
        results = pool.map(_write, shares)
    seconds = time.perf_counter() - start
    acknowledged = {exam for batch in results for exam in batch}
    from sqlalchemy import func, select

    with Store(url) as store, store.reading() as connection:
        stored = set(connection.execute(select(t.exams.c.id)).scalars())
        rows = connection.execute(select(func.count()).select_from(t.components)).scalar_one()
    components = sum(len(p) for _, _, p in items)
    return {
        "writers": writers,
        "exams": len(items),
        "seconds": round(seconds, 2),
        "exams_per_second": round(len(items) / seconds, 1),
        "components_per_second": round(components / seconds),
        "acknowledged": len(acknowledged),
        "lost": len(acknowledged - stored),
        "component_rows": rows,
    }


def monitor(url: str, db: Path) -> dict[str, Any]:
    with VulnDatabase(db) as database, Store(url) as store:
        wall, cpu = time.perf_counter(), _cpu()
        result = run_monitor(store, database, TODAY)
        return {
            "seconds": round(time.perf_counter() - wall, 2),
            "cpu_seconds": round(_cpu() - cpu, 2),
            "releases": result.releases,
            "re_decided": result.rechecked,
            "new_exposures": len(result.opened),
            "closed": len(result.closed),
            "verdict_changes": len(result.verdict_changes),
        }


def naive(items: list[Any], db: Path, sample: int) -> dict[str, Any]:
    """Side by side: matching each release's components on their own (what re-scanning every
    stored SBOM does, without even unpacking), on a sample, per release."""
    chosen = items[:: max(1, len(items) // sample)][:sample]
    with VulnDatabase(db) as database:
        start = time.perf_counter()
        for product, version, packages in chosen:
            Matcher(database).match_all(make_report(product, version, packages).components)
        seconds = time.perf_counter() - start
    return {"releases": len(chosen), "seconds": round(seconds, 2),
            "per_release_ms": round(1000 * seconds / len(chosen), 2)}  # fmt: skip


@contextmanager
def backend(name: str, work: Path) -> Iterator[str]:
    if name == "sqlite":
        yield str(work / "portfolio.sqlite3")
        return
    with postgres_server() as server:
        yield server.new_database()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osv", default=str(REPO / ".." / "shared" / "data" / "osv"))
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--held-back", type=int, default=60, help="advisories published later")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "portfolio.json"))
    args = parser.parse_args()
    osv = Path(args.osv)
    results: dict[str, Any] = {"releases": args.releases, "components": args.components}
    with tempfile.TemporaryDirectory(prefix="finalexam-bench-") as scratch:
        work = Path(scratch)
        start = time.perf_counter()
        before, after, new_ids = build_databases(osv, work, args.held_back)
        results["db_build_seconds"] = round(time.perf_counter() - start, 1)
        results["held_back"] = new_ids
        items = list(releases(args.releases, args.components, 7, osv))
        results["naive"] = naive(items, after, 500)
        for name in args.backends.split(","):
            directory = work / name
            directory.mkdir()
            with backend(name, directory) as url:
                entry: dict[str, Any] = {"write": write_phase(url, items, args.writers)}
                entry["first_check"] = monitor(url, before)
                entry["new_advisories"] = monitor(url, after)
                entry["unchanged"] = monitor(url, after)
                results[name] = entry
                print(name, json.dumps(entry), flush=True)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
