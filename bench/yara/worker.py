"""One YARA engine over one rule set and many files, in its own process (so its memory is its
own): ``python worker.py ENGINE JOB.json`` prints one JSON object.

ENGINE ``yara-x`` compiles the way finalexam imports a public set (``compile_lenient``: rules
YARA-X rejects are skipped) and scans with ``RuleScanner``; ``yara-python`` (run with an
interpreter that has it, e.g. the peers' venv) first drops the files libyara refuses (it has no
per-rule skipping), then compiles the rest in one call. Both define the same external variables
and time (CPU and wall) only the compile call and each scan call, not reading files.

JOB: {"rules": [[namespace, path], ...], "files": [path, ...], "timeout": seconds}.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

EXTERNALS = ("filename", "filepath", "extension", "filetype", "owner")


def run_yara_x(job: dict[str, Any]) -> dict[str, Any]:
    from importlib.metadata import version

    from finalexam.matching.yara import RuleScanner, compile_lenient

    sources = [
        (ns, Path(p).read_text(encoding="utf-8", errors="replace")) for ns, p in job["rules"]
    ]
    start, cpu = time.perf_counter(), time.process_time()
    build = compile_lenient(sources)
    compile_seconds, compile_cpu = time.perf_counter() - start, time.process_time() - cpu
    if build.rules is None:
        raise SystemExit("no rule compiles")
    scanner = RuleScanner(build.rules)
    files = []
    for path in job["files"]:
        data = Path(path).read_bytes()
        externals = dict.fromkeys(EXTERNALS[:4], "")
        start, cpu = time.perf_counter(), time.process_time()
        error = ""
        try:
            names = sorted(
                {f"{m.namespace}:{m.rule}" for m in scanner.scan(data, job["timeout"], externals)}
            )
        except Exception as failure:  # a timeout is a result here, not a crash
            names, error = [], f"{type(failure).__name__}: {failure}"
        files.append({"path": path, "size": len(data), "seconds": time.perf_counter() - start,
                      "cpu": time.process_time() - cpu, "matches": names,
                      "error": error})  # fmt: skip
    return {"engine": f"yara-x {version('yara-x')}", "compile_seconds": compile_seconds,
            "compile_cpu": compile_cpu,
            "rules": build.count, "rejected": len(build.skipped), "files": files}  # fmt: skip


def run_yara_python(job: dict[str, Any]) -> dict[str, Any]:
    import yara  # type: ignore[import-not-found]

    externals = dict.fromkeys(EXTERNALS, "")
    accepted: dict[str, str] = {}
    rejected = 0
    for namespace, path in job["rules"]:
        try:
            yara.compile(filepath=path, externals=externals)
            accepted[namespace] = path
        except yara.Error:
            rejected += 1
    start, cpu = time.perf_counter(), time.process_time()
    rules = yara.compile(filepaths=accepted, externals=externals)
    compile_seconds, compile_cpu = time.perf_counter() - start, time.process_time() - cpu
    files = []
    for path in job["files"]:
        data = Path(path).read_bytes()
        start, cpu = time.perf_counter(), time.process_time()
        error = ""
        try:
            names = sorted(
                {f"{m.namespace}:{m.rule}" for m in rules.match(data=data, timeout=job["timeout"])}
            )
        except yara.Error as failure:
            names, error = [], f"{type(failure).__name__}: {failure}"
        files.append({"path": path, "size": len(data), "seconds": time.perf_counter() - start,
                      "cpu": time.process_time() - cpu, "matches": names,
                      "error": error})  # fmt: skip
    count = sum(1 for _ in rules)
    return {"engine": f"yara-python {yara.__version__} (libyara {yara.YARA_VERSION})",
            "compile_seconds": compile_seconds, "compile_cpu": compile_cpu, "rules": count,
            "rejected_files": rejected, "files": files}  # fmt: skip


def main() -> None:
    engine, job_path = sys.argv[1], sys.argv[2]
    job = json.loads(Path(job_path).read_text())
    result = run_yara_x(job) if engine == "yara-x" else run_yara_python(job)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
