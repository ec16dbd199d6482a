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
import os
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
IMAGE_DEBS = ["openjdk-17-jre-headless", "libcurl4", "curl", "libssl3", "python3.11-minimal",
              "libpython3.11-minimal", "perl-base", "coreutils", "libsqlite3-0", "zlib1g"]


def fetch_inputs() -> list[Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    debs = WORK / "debs"
    debs.mkdir(exist_ok=True)
    if not list(debs.glob("*.deb")):
        subprocess.run(["apt-get", "download", *IMAGE_DEBS], cwd=debs, check=True,
                       capture_output=True)
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
            layer = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True,
                                   capture_output=True).stdout
            name = f"layer{number:02d}/layer.tar"
            info = tarfile.TarInfo(name)
            info.size = len(layer)
            image.addfile(info, io.BytesIO(layer))
            layers.append(name)
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        manifest = json.dumps([{"Config": "config.json", "RepoTags": ["bench:1"],
                                "Layers": layers}]).encode()
        for name, data in (("config.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            image.addfile(info, io.BytesIO(data))


def measure(command: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (MiB) of the process tree's largest member, exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


RAW_SCRIPT = r"""
set -eu
extract() {  # extract every archive found, recursively, with standard tools
  dir="$1"
  find "$dir" -type f -print0 | while IFS= read -r -d '' f; do
    magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
    out="$f.x"
    case "$magic" in
      504b0304*) mkdir -p "$out"; unzip -qq -o "$f" -d "$out" 2>/dev/null || true; extract "$out";;
      1f8b*) mkdir -p "$out"; (tar -xzf "$f" -C "$out" 2>/dev/null || gzip -dc "$f" > "$out/data") ; extract "$out";;
      fd377a585a00*) mkdir -p "$out"; (tar -xJf "$f" -C "$out" 2>/dev/null || xz -dc "$f" > "$out/data"); extract "$out";;
      28b52ffd*) mkdir -p "$out"; (tar --zstd -xf "$f" -C "$out" 2>/dev/null || true); extract "$out";;
      213c617263683e0a*) mkdir -p "$out"; (cd "$out" && ar x "$f"); extract "$out";;
      *) if [ "$(tail -c +258 "$f" | head -c 5)" = "ustar" ]; then mkdir -p "$out"; tar -xf "$f" -C "$out" 2>/dev/null || true; extract "$out"; fi;;
    esac
  done
}
work=$(mktemp -d)
cp "$1" "$work/"
extract "$work"
find "$work" -type f -print0 | xargs -0 sha256sum > /dev/null
rm -rf "$work"
"""


def main() -> int:
    inputs = [Path(p) for p in sys.argv[1:]] or fetch_inputs()
    rows = []
    env_python = sys.executable
    for path in inputs:
        size_mb = path.stat().st_size / 1e6
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "r.json"
            ours = measure([env_python, "-m", "finalexam", "scan", str(path), "-o",
                            f"json={report}", "--max-total-bytes", "64G"])
            summary = json.loads(report.read_text())["summary"]["files"]
        raw = measure(["bash", "-c", RAW_SCRIPT, "raw", str(path)])
        syft = measure([SYFT, "scan", f"file:{path}", "-q", "-o", "cyclonedx-json=/dev/null"]
                       ) if Path(SYFT).exists() else (float("nan"), 0, -1)
        rows.append((path.name, size_mb, summary["count"], summary["bytes"] / 1e6, ours, raw,
                     syft))
        print(rows[-1], flush=True)
    print("\n| artifact | size MB | files | unpacked MB | finalexam s | raw s | finalexam/raw "
          "| finalexam peak MiB | syft s | syft peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, size, files, unpacked, ours, raw, syft in rows:
        print(f"| {name} | {size:.0f} | {files:,} | {unpacked:,.0f} | {ours[0]:.1f} | "
              f"{raw[0]:.1f} | {ours[0] / raw[0]:.2f} | {ours[1]} | {syft[0]:.1f} | {syft[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
