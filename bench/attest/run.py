"""Attestation cost beside the exam it signs, and verification time, measured in one run.

    python bench/attest/run.py [ARTIFACT ...]

Without arguments it examines the wheels found under ``bench/.work/`` (downloaded by the other
benchmarks), or builds a 2,000-file wheel in a temporary directory. For each artifact: the
exam (``finalexam.scan``), ``make_bundle`` (statements with the SBOM, DSSE signing, Ed25519
and ECDSA P-256), and ``verify`` (hashing the artifact included), best of five each.
"""

from __future__ import annotations

import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from finalexam import scan
from finalexam.attest import make_bundle, verify
from finalexam.config import Config

ROOT = Path(__file__).resolve().parents[1]


def best(action: Callable[[], Any], runs: int = 5) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return min(times), result


def synthetic(directory: Path) -> Path:
    path = directory / "synthetic-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(2000):
            archive.writestr(f"synthetic/module_{index}.py", f"VALUE_{index} = {index}\n" * 40)
        archive.writestr("synthetic-1.0.dist-info/METADATA", "Name: synthetic\nVersion: 1.0\n")
    return path


def measure(path: Path, config: Config) -> str:
    exam_time, report = best(partial(scan, path, config), runs=3)
    keys = (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1()))
    signed = [best(partial(make_bundle, report, path, key, config, sbom=True)) for key in keys]
    (ed_time, ed_data), (p256_time, _) = signed
    verify_time, result = best(partial(verify, path, ed_data, keys[0].public_key()))
    assert not [f for f in result.failures if f.check != "verdict"], result.failures
    return (
        f"| {path.name} | {path.stat().st_size / 1e6:.1f} MB | {exam_time:.3f} s "
        f"| {ed_time * 1000:.1f} ms | {p256_time * 1000:.1f} ms | {verify_time * 1000:.1f} ms "
        f"| {ed_time / exam_time:.3f} |"
    )


def main(paths: list[Path]) -> None:
    config = Config(db="/nonexistent/osv.sqlite3")  # the DB's cost is the exam's, not ours
    print("| artifact | size | exam | attest (Ed25519) | attest (P-256) | verify | attest/exam |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        print(measure(path, config))


if __name__ == "__main__":
    given = [Path(arg) for arg in sys.argv[1:]]
    found = given or sorted((ROOT / ".work").rglob("*.whl"))[:5]
    if found:
        main(found)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main([synthetic(Path(scratch))])
