"""Train the generic-secret filter on the DEV repositories of the labelled corpus.

    pip install scikit-learn            # training only: finalexam never imports it
    PYTHONPATH=src python bench/secrets/train.py [--corpus DIR] [--write]

Every candidate of the filtered rules (``filter = "generic"``) in the dev repositories'
files is labelled by its line (CredData labels lines): a ``T`` line makes it positive, an
``F`` or ``X`` line negative, and an unlabelled line negative with half the weight. Model
choices and thresholds come from grouped cross-validation over the dev repositories (one
fold per group of repositories, never by line); the held-out repositories are never read
here. ``--write`` stores the model trained on every dev repository as
``src/finalexam/rules/secrets/model/generic-filter.json``.

    PYTHONPATH=src python bench/secrets/train.py --honest honest.jsonl [--honest-weight 0.5,1]
                                                 [--save-models DIR] [--write]

``--honest`` adds negatives from shipped honest releases: the candidates ``honest.py`` wrote
for the TRAIN parts of the honest corpus (the dev sets and fresh..fresh6), each with the
weight ``--honest-weight`` (an artifact's candidates share at most ``ARTIFACT_CAP`` such
weights, so that one icon library or keymap package does not outweigh the rest); folds of
the cross-validation group them by project, as CredData's by repository. The thresholds
are still chosen on CredData's out-of-fold line precision. One run compares the committed
model, the model retrained without honest negatives and one model per weight: CredData
cross-validated figures, the honest TRAIN parts' out-of-fold blocking candidates, and the
EVALUATE parts (fresh7..fresh9, never trained or tuned on) with the model trained on all.
``--save-models`` stores each model, for ``creddata.py --model``; ``--write`` (one weight)
stores the model of that weight.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
from honest import EVALUATE_PARTS, TRAIN_PARTS, blocks, load  # noqa: E402

from finalexam.analyze.secrets.engine import default_engine  # noqa: E402
from finalexam.analyze.secrets.extract import decode_text  # noqa: E402
from finalexam.analyze.secrets.features import FEATURES, GenericCandidate, features  # noqa: E402
from finalexam.analyze.secrets.filter import MODEL_PATH, dropped, load_model  # noqa: E402
from finalexam.analyze.secrets.scan import generic_candidate  # noqa: E402

CORPUS = Path(
    os.environ.get("CREDDATA", ROOT / ".." / "shared" / "data" / "secrets" / "creddata-dev")
)
SPLIT = Path(__file__).resolve().parent / "creddata-split.tsv"
UNLABELLED_WEIGHT = 0.5
# Confidence thresholds: the least out-of-fold line precision each level must keep.
PRECISION = {"high": 0.95, "medium": 0.90, "low": 0.75}
# An artifact weighs at most as much as this many honest candidates (the 90th percentile of
# candidates per artifact of the TRAIN parts): lucide-react's 9,072 icon keys share it.
ARTIFACT_CAP = 20
PARAMS = {"n_estimators": 100, "max_depth": 2, "learning_rate": 0.1, "subsample": 0.8}


def split() -> dict[str, str]:
    with SPLIT.open() as handle:
        return {row["repo_id"]: row["split"] for row in csv.DictReader(handle, delimiter="\t")}


def labels(corpus: Path) -> dict[tuple[str, int], tuple[str, int]]:
    """(path, line) -> (T/F/X, first line of its labelled span) for every labelled line."""
    out: dict[tuple[str, int], tuple[str, int]] = {}
    with (corpus / "labels.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            start = int(row["line"])
            for line in range(start, int(row["line_end"]) + 1):
                current = out.get((row["path"], line))
                # as the scorer does: a row starting on the line first, then T before F
                if current is None or (
                    current[1] != line and (start == line or row["label"] == "T")
                ):
                    out[(row["path"], line)] = (row["label"], start)
    return out


def candidates(corpus: Path, repos: set[str]) -> list[tuple[str, int, GenericCandidate]]:
    """(path, line, candidate) of every filtered rule's match in the repositories' files."""
    engine = default_engine()
    found: list[tuple[str, int, GenericCandidate]] = []
    for repo in sorted(repos):
        for file in sorted((corpus / "data" / repo).rglob("*")):
            if not file.is_file():
                continue
            rel = file.relative_to(corpus).as_posix()
            document, _ = decode_text(file.read_bytes())
            inner = rel.split("/", 2)[2]  # scope/file: the path as an artifact would hold it
            line, counted = 1, 0
            for candidate in engine.scan(document):
                line += bytes(document[counted : candidate.start]).count(b"\n")
                counted = max(counted, candidate.start)
                if candidate.rule.filter:
                    found.append((rel, line, generic_candidate(candidate, document, inner)))
    return found


CANDIDATES: list[GenericCandidate] = []


def dataset(
    corpus: Path, repos: set[str]
) -> tuple[list[list[float]], list[int], list[float], list[str], list[tuple[str, int]]]:
    truth = labels(corpus)
    rows, ys, weights, groups, where = [], [], [], [], []
    for rel, line, candidate in candidates(corpus, repos):
        if dropped(candidate):
            continue
        label, start = truth.get((rel, line), ("", line))
        rows.append(features(candidate))
        CANDIDATES.append(candidate)
        ys.append(1 if label == "T" else 0)
        weights.append(1.0 if label else UNLABELLED_WEIGHT)
        groups.append(rel.split("/")[1])
        where.append((rel, start))
    return rows, ys, weights, groups, where


def line_scores(scores: list[float], where: list[tuple[str, int]]) -> dict[tuple[str, int], float]:
    best: dict[tuple[str, int], float] = defaultdict(float)
    for score, key in zip(scores, where, strict=True):
        best[key] = max(best[key], score)
    return best


def curve(
    best: dict[tuple[str, int], float],
    truth: dict[tuple[str, int], tuple[str, int]],
    total_true: int,
) -> list[tuple[float, float, float, float]]:
    """(threshold, labelled precision, recall, F1) at each distinct score."""
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    tp = fp = 0
    out = []
    for key, score in ranked:
        label = truth.get(key, ("",))[0]
        if label == "T":
            tp += 1
        elif label in ("F", "X"):
            fp += 1
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / total_true
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append((score, precision, recall, f1))
    return out


def thresholds(points: list[tuple[float, float, float, float]]) -> dict[str, float]:
    """``medium`` (reported, and blocking when shipped): the threshold of the best F1 among
    those whose precision (from there up) keeps 0.90; ``high`` and ``low``: the lowest
    thresholds whose precision keeps 0.95 and 0.75 (candidates, reported only when asked)."""
    chosen = {}
    for level, floor in PRECISION.items():
        ok = [p for p in points if p[1] >= floor]
        if level == "medium":
            chosen[level] = max(ok, key=lambda p: (p[3], -p[0]))[0] if ok else 1.0
        else:
            chosen[level] = min((p[0] for p in ok), default=1.0)
    chosen["low"] = min(chosen["low"], chosen["medium"])
    chosen["high"] = max(chosen["high"], chosen["medium"])
    return chosen


def fit(rows: list[list[float]], ys: list[int], weights: list[float], seed: int = 7) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(random_state=seed, **PARAMS)
    model.fit(rows, ys, sample_weight=weights)
    return model


def export(model: Any, chosen: dict[str, float], meta: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    trees = []
    for estimator in model.estimators_[:, 0]:
        tree = estimator.tree_
        trees.append(
            {
                "feature": [int(f) if f >= 0 else 0 for f in tree.feature],
                "threshold": [round(float(t), 4) for t in tree.threshold],
                "left": [int(x) for x in tree.children_left],
                "right": [int(x) for x in tree.children_right],
                "value": [round(float(v), 4) for v in tree.value[:, 0, 0]],
            }
        )
    base = float(model._raw_predict_init(np.zeros((1, len(FEATURES))))[0, 0])
    return {
        "kind": "gradient-boosted trees (log-odds)",
        "features": list(FEATURES),
        "base": round(base, 6),
        "learning_rate": PARAMS["learning_rate"],
        "thresholds": {k: round(v, 4) for k, v in chosen.items()},
        "trees": trees,
        **meta,
    }


def assign_folds(groups: list[str], folds: int) -> dict[str, int]:
    """Groups dealt to folds in a fixed order: CredData's repositories as before, then the
    honest projects on their own, so adding them leaves CredData's folds as they were."""
    repos = sorted({g for g in groups if not g.startswith(HONEST)})
    families = sorted({g for g in groups if g.startswith(HONEST)})
    return {g: i % folds for part in (repos, families) for i, g in enumerate(part)}


def out_of_fold(
    rows: list[list[float]], ys: list[int], weights: list[float], groups: list[str], folds: int
) -> list[float]:
    fold_of = assign_folds(groups, folds)
    oof = [0.0] * len(rows)
    for fold in range(folds):
        train = [i for i, g in enumerate(groups) if fold_of[g] != fold and weights[i] > 0]
        test = [i for i, g in enumerate(groups) if fold_of[g] == fold]
        model = fit([rows[i] for i in train], [ys[i] for i in train], [weights[i] for i in train])
        for i, p in zip(test, model.predict_proba([rows[i] for i in test])[:, 1], strict=True):
            oof[i] = float(p)
    return oof


HONEST = "honest:"


def blocking(rows: list[dict[str, Any]], scores: list[float], medium: float) -> tuple[int, int]:
    """Candidates and artifacts that would block the default exam at these scores."""
    hits = [
        r for r, s in zip(rows, scores, strict=True)
        if r["parsed_key"] or blocks(r, "medium" if s >= medium else "none")
    ]  # fmt: skip
    return len(hits), len({r["artifact"] for r in hits})


def report_thresholds(
    points: list[tuple[float, float, float, float]], chosen: dict[str, float]
) -> None:
    for level, t in chosen.items():
        at = [p for p in points if p[0] >= t]
        p, r, f = at[-1][1:] if at else (0, 0, 0)
        print(
            f"  cross-validated {level:6s} >= {t:.3f}: precision {p:.3f} recall {r:.3f} F1 {f:.3f}"
        )
    best = max(points, key=lambda p: p[3])
    print(
        f"  best cross-validated F1 {best[3]:.3f} at {best[0]:.3f}"
        f" (P {best[1]:.3f} R {best[2]:.3f})"
    )


def compare(
    args: argparse.Namespace,
    rows: list[list[float]],
    ys: list[int],
    weights: list[float],
    groups: list[str],
    where: list[tuple[str, int]],
    truth: dict[tuple[str, int], tuple[str, int]],
    total_true: int,
    dev: set[str],
) -> int:
    """The committed model beside retrained ones, with and without honest negatives."""
    honest = load(args.honest)
    trained = [r for r in honest if r["part"] in args.honest_train.split(",")]
    evaluated = [r for r in honest if r["part"] in args.honest_evaluate.split(",")]
    print(
        f"honest TRAIN parts: {len(trained)} candidates in"
        f" {len({r['artifact'] for r in trained})} artifacts,"
        f" {len({r['family'] for r in trained})} projects;"
        f" EVALUATE parts: {len(evaluated)} candidates in"
        f" {len({r['artifact'] for r in evaluated})} artifacts"
    )
    chosen_weights = [float(w) for w in args.honest_weight.split(",")]
    per_artifact = Counter(r["artifact"] for r in trained)
    share = {a: min(1.0, ARTIFACT_CAP / n) for a, n in per_artifact.items()}
    if args.write and len(chosen_weights) != 1:
        raise SystemExit("--write takes one --honest-weight")
    committed = load_model()
    medium = committed.thresholds["medium"]
    before = [committed.score(r["features"]) for r in trained + evaluated]
    lines = [
        "| model | CV medium: P / R / F1 | medium >= | TRAIN parts (out of fold): blocking"
        " candidates / artifacts | EVALUATE parts: blocking candidates / artifacts |",
        "|---|---|---|---|---|",
        "| committed | - | {:.3f} | {} / {} | {} / {} |".format(
            medium,
            *blocking(trained, before[: len(trained)], medium),
            *blocking(evaluated, before[len(trained) :], medium),
        ),
    ]
    for weight in [0.0, *chosen_weights] if not args.write else chosen_weights:
        # parsed private keys are high whatever the model says: no negatives to learn from
        extra = [0.0 if r["parsed_key"] else weight * share[r["artifact"]] for r in trained]
        all_rows = rows + [r["features"] for r in trained]
        all_ys = ys + [0] * len(trained)
        all_weights = weights + extra
        all_groups = groups + [HONEST + r["family"] for r in trained]
        oof = out_of_fold(all_rows, all_ys, all_weights, all_groups, args.folds)
        points = curve(line_scores(oof[: len(rows)], where), truth, total_true)
        chosen = thresholds(points)
        print(f"honest weight {weight}:")
        report_thresholds(points, chosen)
        at = [p for p in points if p[0] >= chosen["medium"]][-1]
        kept = [i for i, w in enumerate(all_weights) if w > 0]
        model = fit(
            [all_rows[i] for i in kept], [all_ys[i] for i in kept], [all_weights[i] for i in kept]
        )
        scores = [float(p) for p in model.predict_proba([r["features"] for r in evaluated])[:, 1]]
        name = "retrained, no honest negatives" if weight == 0 else f"honest weight {weight:g}"
        lines.append(
            "| {} | {:.3f} / {:.3f} / {:.3f} | {:.3f} | {} / {} | {} / {} |".format(
                name,
                *at[1:],
                chosen["medium"],
                *blocking(trained, oof[len(rows) :], chosen["medium"]),
                *blocking(evaluated, scores, chosen["medium"]),
            )
        )
        meta = {
            "trained_on": f"{len(dev)} dev repositories of CredData"
            " (bench/secrets/creddata-split.tsv)"
            + (
                f"; {sum(1 for w in extra if w)} generic candidates of honest releases"
                f" (bench/secrets/honest.py, parts {args.honest_train}) as negatives,"
                f" weight {weight:g}"
                if weight
                else ""
            ),
            "candidates": len(kept),
            "params": PARAMS,
        }
        exported = json.dumps(export(model, chosen, meta), separators=(",", ":")) + "\n"
        if args.save_models:
            args.save_models.mkdir(parents=True, exist_ok=True)
            (args.save_models / f"generic-filter-honest-{weight:g}.json").write_text(exported)
        if args.write:
            MODEL_PATH.write_text(exported)
            print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({MODEL_PATH.stat().st_size} bytes)")
    print("\n".join(lines))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--trees", type=int, default=PARAMS["n_estimators"])
    parser.add_argument("--depth", type=int, default=PARAMS["max_depth"])
    parser.add_argument("--rate", type=float, default=PARAMS["learning_rate"])
    parser.add_argument(
        "--dump", type=Path, help="out-of-fold scores of dev candidates (JSON Lines)"
    )
    parser.add_argument("--honest", type=Path, help="honest.py's candidates (JSON Lines)")
    parser.add_argument("--honest-weight", default="0.5,1", help="weights to compare, by commas")
    parser.add_argument("--honest-train", default=TRAIN_PARTS, help="parts to train on")
    parser.add_argument("--honest-evaluate", default=EVALUATE_PARTS, help="parts to report")
    parser.add_argument("--save-models", type=Path, help="a folder to store each model in")
    args = parser.parse_args()
    PARAMS.update(n_estimators=args.trees, max_depth=args.depth, learning_rate=args.rate)
    dev = {repo for repo, part in split().items() if part == "dev"}
    truth = labels(args.corpus)
    rows, ys, weights, groups, where = dataset(args.corpus, dev)
    total_true = len(
        {
            (path, start)
            for (path, _), (label, start) in truth.items()
            if label == "T" and path.split("/")[1] in dev
        }
    )
    print(f"dev: {len(rows)} candidates, {sum(ys)} on T lines, {total_true} T lines")
    if args.honest:
        return compare(args, rows, ys, weights, groups, where, truth, total_true, dev)
    oof = out_of_fold(rows, ys, weights, groups, args.folds)
    if args.dump:
        with args.dump.open("w") as out:
            for i, c in enumerate(CANDIDATES):
                label = truth.get(where[i], ("",))[0]
                out.write(
                    json.dumps(
                        {
                            "where": where[i],
                            "label": label,
                            "score": oof[i],
                            "rule": c.rule_id,
                            "key": c.key,
                            "value": c.value,
                            "line": c.line[:200],
                        }
                    )
                    + "\n"
                )
    points = curve(line_scores(oof, where), truth, total_true)
    chosen = thresholds(points)
    report_thresholds(points, chosen)
    if args.write:
        model = fit(rows, ys, weights)
        meta = {
            "trained_on": f"{len(dev)} dev repositories of CredData"
            " (bench/secrets/creddata-split.tsv)",
            "candidates": len(rows),
            "params": PARAMS,
        }
        MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
        MODEL_PATH.write_text(json.dumps(export(model, chosen, meta), separators=(",", ":")) + "\n")
        print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({MODEL_PATH.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
