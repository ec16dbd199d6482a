"""Generic-secret candidates in honest releases: negatives for the filter's model.

    python bench/secrets/honest.py --corpus DIR --out FILE.jsonl [--parts pypi,npm,...]
    python bench/secrets/honest.py --summary FILE.jsonl

Every artifact of the parts (folders of the honest corpus that ``bench/verdict/fetch.py``
downloads: ``pypi``, ``npm``, ``debian``, ``jars``, ``pypi-fresh3``, ...) goes through
finalexam's own exam in this process, one artifact at a time, with the secret scan alone
(``only = ["secrets"]``): the same unpackers, limits, member reading and context decisions
as ``finalexam scan --only secrets``. Nothing examined is run or installed.

The filter's decision is recorded for every generic candidate (a value beside a name that
says password, secret, token or key) that survives ``dropped()``: its features, the current
model's score and confidence. To learn the context the exam gives it (shipped, vendored,
test, docs...), such a candidate is kept as a low-confidence finding even when the model
scores it under the reporting threshold (low findings never block); the exam's other steps
(one finding per value and file, provider rules first, labels a file repeats) run as usual.
A candidate is written as one JSON line when its finding is in shipped or vendored context,
where a medium or high confidence blocks the default ``release`` exam.

Each line: part, artifact (``set/file`` as ``bench/verdict/run.py`` names it), family (the
project: folds of cross-validation group by it), member, rule, name, value (cut), features,
score, confidence (``none`` under the reporting threshold), severity, context and whether the
value parsed as a private key (high whatever the model says).
``--summary`` prints, per part, the candidates and the artifacts that carry a blocking one.
Runs resume: artifacts already in ``--out`` (or listed in its ``.done`` file) are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from releases import artifacts

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / ".work" / "verdict"
TRAIN_PARTS = "pypi,npm,debian,jars," + ",".join(
    f"{eco}-fresh{n}" for n in ("", 2, 3, 4, 5, 6) for eco in ("pypi", "npm", "debian")
)
EVALUATE_PARTS = ",".join(f"{eco}-fresh{n}" for n in (7, 8, 9) for eco in ("pypi", "npm", "debian"))
BLOCKING = ("medium", "high")
BLOCKING_CONTEXTS = ("shipped", "vendored")


def family(part: str, path: Path, corpus: Path) -> str:
    """The project an artifact belongs to: PyPI's and npm's folder, a .deb's or a jar's
    name without its version, so that every release of one project falls in one fold."""
    ecosystem = part.split("-", 1)[0]
    relative = path.relative_to(corpus / part).parts
    if len(relative) > 1:
        name = relative[0]
    else:
        name = re.sub(r"[-_]\d.*\Z", "", path.name.split("_", 1)[0].removesuffix(".jar"))
    return f"{ecosystem}:{name.lower().replace('_', '-')}"


class Recorder:
    """Stands in for the filter's ``decide`` while one artifact is examined, and records
    the later occurrences of a value that the exam folds into its first finding."""

    def __init__(self) -> None:
        from finalexam.analyze.secrets import filter as generic
        from finalexam.analyze.secrets import scan as scanning

        self.generic, self.scanning = generic, scanning
        self.keep_generic = scanning._keep_generic
        self.seen: list[tuple[Any, list[float], float, str, bool]] = []

    def record(self, candidate: Any) -> tuple[Any, float] | None:
        generic = self.generic
        if generic.dropped(candidate):
            return None
        verdict = generic.decide(candidate)
        row = generic.features(candidate)
        if verdict is None:
            score = generic.default_model().score(row)
            self.seen.append((candidate, row, score, "none", False))
            return None
        parsed = generic.is_private_key_der(candidate.value)  # high whatever the model says
        self.seen.append((candidate, row, verdict[1], verdict[0].value, parsed))
        return verdict

    def decide(self, candidate: Any, model: Any = None) -> Any:
        from finalexam.model import Confidence

        verdict = self.record(candidate)
        if verdict is None and not self.generic.dropped(candidate):
            # kept as a low finding (never blocking) to learn the context the exam gives it
            return Confidence.LOW, self.seen[-1][2]
        return verdict

    def keep(
        self, hits: dict[Any, Any], candidate: Any, material: Any, path: str, *rest: Any
    ) -> None:
        if ("generic", candidate.secret.decode("utf-8", "replace")) in hits:
            # a later occurrence: in the default exam it is weighed when the first one was
            # not reported, so it is weighed here too (its finding gives its context)
            self.record(self.scanning.generic_candidate(candidate, material.document, path))
        self.keep_generic(hits, candidate, material, path, *rest)


def _details(finding: Any) -> dict[str, Any]:
    return dict(finding.evidence.details) if finding.evidence else {}


def _no_hits(*_: Any, **__: Any) -> list[Any]:
    return []


def examine(part: str, key: str, path: Path, fam: str) -> tuple[list[dict[str, Any]], bool]:
    """The shipped and vendored candidates of one artifact, and whether the exam blocked
    on a generic secret (a check of the records: a blocked exam has a blocking candidate;
    the records may have more, later occurrences the exam here folded into a low one)."""
    from finalexam import scan
    from finalexam.analyze.secrets import scan as scanning
    from finalexam.config import Config

    recorder = Recorder()
    saved = scanning.decide, scanning._keep_generic, scanning.scan_binary
    # the filtered rules weigh lines of text only: strings of binaries need not be read here
    scanning.decide, scanning._keep_generic, scanning.scan_binary = (
        recorder.decide,
        recorder.keep,
        _no_hits,
    )
    try:
        report = scan(path, Config(only=("secrets",), secrets_candidates=True))
    finally:
        scanning.decide, scanning._keep_generic, scanning.scan_binary = saved
    found: dict[tuple[str, str], Any] = {}
    for finding in report.findings:
        if finding.kind.value == "secret" and "score" in _details(finding):
            sha = str(_details(finding).get("secret_sha256", ""))
            found.setdefault((finding.location.path, sha), finding)
    by_fingerprint = {f.fingerprint: f for f in report.findings}
    blocked = any(
        "score" in _details(by_fingerprint[v.fingerprint])
        for v in report.verdict.violations
        if v.fingerprint in by_fingerprint
    )
    rows, written = [], set()
    for candidate, features, score, confidence, parsed_key in recorder.seen:
        sha = hashlib.sha256(candidate.value.encode("utf-8", "surrogateescape")).hexdigest()
        finding = found.get((candidate.path, sha))
        if finding is None:
            continue  # dropped after the filter: a provider rule's value, a repeated label
        context = (finding.context.value if finding.context else None) or "shipped"
        if context not in BLOCKING_CONTEXTS:
            continue
        identity = (candidate.path, candidate.rule_id, candidate.value, tuple(features))
        if identity in written:
            continue
        written.add(identity)
        rows.append(
            {
                "part": part,
                "artifact": key,
                "family": fam,
                "member": str(finding.location),
                "rule": candidate.rule_id,
                "name": candidate.key[:80],
                "value": candidate.value[:80],
                "features": [round(x, 6) for x in features],
                "score": round(score, 6),
                "confidence": confidence,
                "severity": finding.severity.value,
                "context": context,
                "parsed_key": parsed_key,
            }
        )
    return rows, blocked


def blocks(row: dict[str, Any], confidence: str | None = None) -> bool:
    """Would this candidate block the default exam at this confidence (its own if None)?"""
    return (confidence or row["confidence"]) in BLOCKING and row["severity"] not in (
        "info",
        "low",
    )


def run(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    done_file = args.out.with_suffix(args.out.suffix + ".done")
    done = set(done_file.read_text().split()) if done_file.exists() else set()
    mismatches = 0
    with args.out.open("a") as out, done_file.open("a") as finished:
        for key, path in artifacts(args.corpus, args.parts.split(","), None):
            part = key.split("/", 1)[0]
            if key in done:
                continue
            start = time.process_time()
            try:
                rows, blocked = examine(part, key, path, family(part, path, args.corpus))
            except Exception as error:  # one bad artifact is a line of the log, not the end
                print(f"{key}: {error!r}"[:300], file=sys.stderr)
                rows, blocked = [], False
            if blocked and not any(blocks(r) for r in rows):
                mismatches += 1
                print(f"{key}: the exam's verdict and the recorded confidences differ",
                      file=sys.stderr)  # fmt: skip
            for row in rows:
                out.write(json.dumps(row) + "\n")
            out.flush()
            finished.write(key + "\n")
            finished.flush()
            print(
                f"{key}: {len(rows)} candidates, {time.process_time() - start:.1f} CPU s",
                file=sys.stderr,
            )
    print(f"verdict mismatches: {mismatches}", file=sys.stderr)
    return 0


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def summary(rows: list[dict[str, Any]]) -> dict[str, tuple[int, int, int]]:
    """part -> (candidates, blocking candidates, artifacts with a blocking candidate)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    blocked: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        counts[row["part"]]["candidates"] += 1
        if blocks(row):
            counts[row["part"]]["blocking"] += 1
            blocked[row["part"]].add(row["artifact"])
    return {
        part: (c["candidates"], c["blocking"], len(blocked[part])) for part, c in counts.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--parts", default=TRAIN_PARTS + "," + EVALUATE_PARTS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--summary", type=Path, help="print the figures of an --out file")
    args = parser.parse_args()
    if args.summary:
        print("| part | candidates | blocking candidates | artifacts blocked |")
        print("|---|---|---|---|")
        for part, (total, blocking, artifacts_blocked) in sorted(
            summary(load(args.summary)).items()
        ):
            print(f"| {part} | {total} | {blocking} | {artifacts_blocked} |")
        return 0
    if not args.out:
        parser.error("--out is required to run")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
