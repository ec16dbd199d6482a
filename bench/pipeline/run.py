"""Pipeline benchmark: time and peak memory of `finalexam scan` on large real artifacts,
side by side in one run with the raw limit (decompress every level + sha256 of every file
with standard tools) and with `syft scan` on the same input.

    python bench/pipeline/run.py            # downloads inputs into bench/.work/pipeline

Nothing downloaded is executed: packages are fetched as files (apt-get download, PyPI JSON
API) and only read.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "pipeline"
SYFT = shutil.which("syft") or "/opt/peers/bin/syft"
IMAGE_DEBS = [
    "openjdk-17-jre-headless",
    "libcurl4",
    "curl",
    "libssl3",
    "python3.11-minimal",
    "libpython3.11-minimal",
    "perl-base",
    "coreutils",
    "libsqlite3-0",
    "zlib1g",
]


def plugin_names() -> list[str]:
    """Every cataloger and analyzer: disabling them all leaves the walk and inventory."""
    from finalexam.analyze import ANALYZERS
    from finalexam.catalog import CATALOGERS
    from finalexam.config import Config

    return sorted({make().name for make in CATALOGERS} | {a(Config()).name for a in ANALYZERS})


def fetch_inputs() -> list[Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    debs = WORK / "debs"
    debs.mkdir(exist_ok=True)
    if not list(debs.glob("*.deb")):
        subprocess.run(
            ["apt-get", "download", *IMAGE_DEBS], cwd=debs, check=True, capture_output=True
        )
    sdists = sorted(WORK.glob("pyspark-*.tar.gz"))
    if not sdists:  # the newest pyspark sdist: ~450 MB of Python and bundled jars
        api = "https://pypi.org/pypi/pyspark/json"
        with urllib.request.urlopen(api) as response:
            meta = json.load(response)
        release = next(u for u in meta["urls"] if u["packagetype"] == "sdist")
        sdists = [WORK / release["filename"]]
        url = urllib.parse.urljoin(api, release["url"])
        subprocess.run(["curl", "-sSfL", "-o", str(sdists[0]), url], check=True)
    sdist = sdists[-1]
    image = WORK / "debian-layers-image.tar"
    if not image.exists():
        build_image(sorted(debs.glob("*.deb")), image)
    jdk = next(debs.glob("openjdk-17-jre-headless_*.deb"))
    return [jdk, sdist, image]


def build_image(debs: list[Path], target: Path) -> None:
    """A `docker save` tarball: one layer per Debian package (its data tarball)."""
    layers = []
    with tarfile.open(target, "w") as image:
        for number, deb in enumerate(debs):
            layer = subprocess.run(
                ["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True
            ).stdout
            name = f"layer{number:02d}/layer.tar"
            info = tarfile.TarInfo(name)
            info.size = len(layer)
            image.addfile(info, io.BytesIO(layer))
            layers.append(name)
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        manifest = json.dumps(
            [{"Config": "config.json", "RepoTags": ["bench:1"], "Layers": layers}]
        ).encode()
        for name, data in (("config.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            image.addfile(info, io.BytesIO(data))


def measure(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MiB (GNU time), exit code."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        code = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", stats.name, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ).returncode
        seconds = time.perf_counter() - start
        lines = stats.read().strip().splitlines()
    return seconds, int(lines[-1]) // 1024 if lines else 0, code


ZIP, AR = b"PK\x03\x04", b"!<arch>\n"
COMPRESSED = (b"\x1f\x8b", b"\xfd7zXZ\x00", b"(\xb5/\xfd")


def _kind(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(262)
    if head.startswith(ZIP):
        return "zip"
    if head.startswith(AR):
        return "ar"
    if head.startswith(COMPRESSED) or head[257:262] == b"ustar":
        return "tar"
    return None


def raw_limit(path: Path, work: Path, depth: int = 0) -> None:
    """Decompress every level and sha256 every byte with standard tools (tar, unzip, ar,
    sha256sum): one process per archive, never one per file."""
    kind = _kind(path)
    if kind == "zip" and depth > 0:  # nested zips/jars: stream the members into the hash
        subprocess.run(f"unzip -p '{path}' | sha256sum > /dev/null", shell=True, check=False)
        return
    target = Path(tempfile.mkdtemp(dir=work, prefix=f"level{depth}-{path.name}-"))
    if kind == "zip":
        subprocess.run(["unzip", "-qq", "-o", str(path), "-d", str(target)], check=False)
    elif kind == "ar":
        subprocess.run(["ar", "x", str(path.resolve())], cwd=target, check=False)
    elif kind == "tar":
        subprocess.run(
            ["tar", "-xf", str(path), "-C", str(target)], check=False, stderr=subprocess.DEVNULL
        )
    subprocess.run(
        f"find '{target}' -type f -print0 | xargs -0 -r sha256sum > /dev/null",
        shell=True,
        check=False,
    )
    for file in sorted(target.rglob("*")):
        if file.is_file() and not file.is_symlink() and _kind(file):
            raw_limit(file, work, depth + 1)


def measure_raw(path: Path) -> float:
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        start = time.perf_counter()
        raw_limit(path, Path(tmp))
        return time.perf_counter() - start


def main() -> int:
    inputs = [Path(p) for p in sys.argv[1:]] or fetch_inputs()
    inputs.sort(key=lambda p: p.stat().st_size)  # smallest first: partial runs still report
    rows = []
    for path in inputs:
        size_mb = path.stat().st_size / 1e6
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "r.json"
            scan = [
                sys.executable,
                "-m",
                "finalexam",
                "scan",
                str(path),
                "-o",
                f"json={report}",
                "--max-total-bytes",
                "64G",
                "--policy",
                "ci",
            ]
            walk = measure([*scan, "--disable", ",".join(plugin_names())])
            full = measure(scan)
            summary = json.loads(report.read_text())["summary"]["files"]
        raw = (measure_raw(path), 0, 0)
        syft = (
            measure([SYFT, "scan", f"file:{path}", "-q", "-o", "cyclonedx-json=/dev/null"])
            if Path(SYFT).exists()
            else (float("nan"), 0, -1)
        )
        rows.append(
            (path.name, size_mb, summary["count"], summary["bytes"] / 1e6, raw, walk, full, syft)
        )
        print(rows[-1], flush=True)
    print(
        "\n| artifact | MB | files | unpacked MB | raw s | walk s | walk/raw | walk MiB "
        "| full exam s | full/raw | full MiB | syft s | syft MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, size, files, unpacked, raw, walk, full, syft in rows:
        print(
            f"| {name} | {size:.0f} | {files:,} | {unpacked:,.0f} | {raw[0]:.1f} | "
            f"{walk[0]:.1f} | {walk[0] / raw[0]:.2f} | {walk[1]} | {full[0]:.1f} | "
            f"{full[0] / raw[0]:.2f} | {full[1]} | {syft[0]:.1f} | {syft[1]} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
