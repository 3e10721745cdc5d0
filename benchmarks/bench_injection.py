"""Injection detector benchmark: recall / false positives at the thresholds, and latency.

    .venv/bin/python -m benchmarks.bench_injection [--quick] [--no-cv] [--data-dir DIR]

Data sets:
- every set under `../shared/data/injection/` that is present (deepset, jackhhao, giskard, and any
  other folder holding a parquet/csv/jsonl with a text column and a label). deepset, jackhhao and
  giskard train the learned layer, so their in-sample rows are followed by 5-fold cross-validated
  rows where the learned layer of each fold never saw the rows it scores (the honest number);
- the written sets in `benchmarks/data/`: the held-out half of the benign shopping queries (the
  other half trained the model), the held-out half of the benign general-purpose prompts (stories,
  code, maths, travel, recipes, harmless role-play; likewise), benign prompts with trigger words
  (`benign_trigger.jsonl`, never trained on; the model trains on a separate written file), and
  written attacks (obfuscated, multilingual, policy bypass). The trigger and attack sets were
  written alongside the rules, so for the rules they show coverage, not generalisation.
- indirect injection: product texts with one hostile sentence buried in them, through
  `guardrails.indirect.scan_tool_result`.

Latency is measured per message, pinned to one CPU core, with the result cache off, as CPU time
of the scoring thread (`time.thread_time`): on a shared machine wall-clock time also counts the
time other processes held the core. Wall-clock percentiles are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Dataset:
    name: str
    texts: list[str]
    labels: np.ndarray
    note: str = ""


def _read_table(path: Path):
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.read_json(path, lines=True)


def _labels(frame) -> np.ndarray | None:
    for col in ("label", "labels", "is_injection", "injection"):
        if col in frame:
            return frame[col].astype(int).to_numpy()
    if "type" in frame:
        return frame["type"].astype(str).str.lower().isin({"jailbreak", "injection", "malicious"}).to_numpy(int)
    return None


def shared_sets(root: Path) -> list[Dataset]:
    """Every labelled set under root/injection/ (skipping what is absent)."""
    from guardrails.train import PUBLIC_SOURCES

    out: list[Dataset] = []
    base = root / "injection"
    if not base.is_dir():
        return out
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        files = [f for f in sorted(folder.rglob("*")) if f.suffix in {".parquet", ".csv", ".jsonl"}
                 and "meta" not in f.name]
        for f in files:
            frame = _read_table(f)
            col = next((c for c in ("text", "prompt", "content", "input") if c in frame), None)
            if col is None:
                continue
            labels = _labels(frame)
            if labels is None:  # a set of attacks only (giskard)
                labels = np.ones(len(frame), dtype=int)
            texts = frame[col].astype(str).tolist()
            name = folder.name if len(files) == 1 else f"{folder.name}/{f.stem}"
            note = "training set (in-sample)" if folder.name in PUBLIC_SOURCES else "not used for training"
            out.append(Dataset(name, texts, labels, note))
    return out


def written_sets() -> list[Dataset]:
    from guardrails.train import load_written

    shop = load_written(DATA / "benign_shopping.jsonl", "test")
    general = load_written(DATA / "benign_general.jsonl", "test")
    trig = load_written(DATA / "benign_trigger.jsonl", None)
    att = load_written(DATA / "attacks_written.jsonl", None)
    return [
        Dataset("shopping (held-out, written)", shop, np.zeros(len(shop), int), "not used for training"),
        Dataset("general prompts (held-out, written)", general, np.zeros(len(general), int),
                "not used for training"),
        Dataset("benign + trigger words (written)", trig, np.zeros(len(trig), int),
                "not used for training; written with the rules"),
        Dataset("attacks (written)", att, np.ones(len(att), int), "written with the rules"),
    ]


@dataclass
class Row:
    name: str
    n: int
    pos: int
    recall_block: float | None
    fp_block: float | None
    recall_warn: float | None
    fp_warn: float | None
    p50_ms: float
    p99_ms: float
    note: str


def evaluate(detector, ds: Dataset) -> tuple[Row, np.ndarray]:
    scores = np.empty(len(ds.texts))
    times = np.empty(len(ds.texts))
    for i, text in enumerate(ds.texts):
        t0 = time.thread_time()
        scores[i] = detector.score(text).score
        times[i] = time.thread_time() - t0
    return _row(ds, scores, times), scores


def _row(ds: Dataset, scores: np.ndarray, times: np.ndarray | None) -> Row:
    from guardrails.injection import BLOCK, WARN

    pos, neg = ds.labels == 1, ds.labels == 0

    def rate(mask: np.ndarray, thr: float) -> float | None:
        return float((scores[mask] >= thr).mean()) if mask.any() else None

    t = times * 1e3 if times is not None else np.zeros(1)
    return Row(ds.name, len(ds.texts), int(pos.sum()), rate(pos, BLOCK), rate(neg, BLOCK), rate(pos, WARN),
               rate(neg, WARN), float(np.percentile(t, 50)), float(np.percentile(t, 99)), ds.note)


def cross_validated_rows(data_dir: Path, folds: int = 5) -> list[Row]:
    """The full detector (rules + learned layer) on every public training row, with the learned layer
    retrained per fold on the other folds only and its anchors set by an inner CV of those folds:
    what the detector does on rows like its training data that it never saw."""
    from threadpoolctl import threadpool_limits

    from guardrails import train as T
    from guardrails.injection import InjectionDetector
    from guardrails.injection_model import get_model

    rows = T.load_rows(data_dir)
    table = T.token_table()
    ids = T.features(rows.texts, table)
    y = rows.labels
    weight = T.row_weights(rows)
    fold = T.folds_for(y, folds, T.SEED, rows.sources)
    calib = T.calibration_mask(rows.sources)
    l2 = tuple(get_model().meta.get("cv", {}).get("l2", T.L2_GRID[0]))  # the committed model's choice
    scores = np.empty(len(y))
    with threadpool_limits(limits=1, user_api="blas"):
        for f in range(folds):
            train_idx = np.flatnonzero(fold != f)
            sub_ids = [ids[i] for i in train_idx]
            inner = T.folds_for(y[train_idx], 3, T.SEED + 1, [rows.sources[i] for i in train_idx])
            oof = T.cross_validate(sub_ids, y[train_idx], table, l2, inner, weight[train_idx])
            model = T.with_anchors(T.fit(sub_ids, y[train_idx], table, l2, weight[train_idx]),
                                   *T.anchors(oof, y[train_idx], calib[train_idx]))
            det = InjectionDetector(model, cache_size=0)
            for i in np.flatnonzero(fold == f):
                scores[i] = det.score(rows.texts[i]).score
            print(f"  cv fold {f + 1}/{folds} done", flush=True)
    src = np.asarray(rows.sources)
    out = []
    for name in T.PUBLIC_SOURCES:
        mask = src == name
        ds = Dataset(f"{name} ({folds}-fold CV)", [t for t, m in zip(rows.texts, mask, strict=True) if m],
                     y[mask].astype(int), "learned layer never saw the scored fold")
        out.append(_row(ds, scores[mask], None))
    return out


def indirect_rows() -> list[Row]:
    from guardrails.indirect import scan_tool_result

    docs = [json.loads(line) for line in (DATA / "indirect_docs.jsonl").read_text("utf-8").splitlines() if line]
    labels = np.asarray([d["label"] for d in docs])
    flagged = np.empty(len(docs))
    removed_hostile = []
    times = np.empty(len(docs))
    for i, doc in enumerate(docs):
        t0 = time.thread_time()
        clean, findings = scan_tool_result({"description": doc["text"]})
        times[i] = time.thread_time() - t0
        flagged[i] = 1.0 if findings else 0.0
        if doc["label"] == 1:
            removed_hostile.append(doc["hostile"][:40].lower() not in clean["description"].lower())
    ds = Dataset("indirect: product texts (written)", [d["text"] for d in docs], labels,
                 f"hostile sentence removed in {np.mean(removed_hostile):.0%} of attacked docs")
    return [_row(ds, flagged, times)]


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def table(rows: list[Row]) -> str:
    head = ("| data set | n | attacks | recall@block | FP@block | recall@warn | FP@warn | p50 ms | p99 ms | note |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for r in rows:
        lat = (f"{r.p50_ms:.2f} | {r.p99_ms:.2f}") if r.p99_ms else "- | -"
        lines.append(f"| {r.name} | {r.n} | {r.pos} | {fmt(r.recall_block)} | {fmt(r.fp_block)} | "
                     f"{fmt(r.recall_warn)} | {fmt(r.fp_warn)} | {lat} | {r.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from godseye.netguard import install_if_requested

    install_if_requested()
    parser = argparse.ArgumentParser(description="injection detector benchmark")
    parser.add_argument("--quick", action="store_true", help="at most 300 rows per shared set, no CV")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation of the public sets")
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from guardrails.injection import BLOCK, WARN, InjectionDetector

    detector = InjectionDetector(cache_size=0)
    detector.score("warm up: load the model and tokenizer")
    rows: list[Row] = []
    all_times: list[float] = []
    shared = shared_sets(args.data_dir)
    if not shared:
        print(f"(no shared data at {args.data_dir}: shared sets skipped)")
    for ds in shared:
        if args.quick and len(ds.texts) > 300:
            rng = np.random.default_rng(0)
            keep = np.sort(rng.choice(len(ds.texts), 300, replace=False))
            ds = Dataset(ds.name + " (sample)", [ds.texts[i] for i in keep], ds.labels[keep], ds.note)
        rows.append(evaluate(detector, ds)[0])
    if shared and not (args.quick or args.no_cv):
        rows.extend(cross_validated_rows(args.data_dir))
    for ds in written_sets():
        rows.append(evaluate(detector, ds)[0])
    rows.extend(indirect_rows())
    wall: list[float] = []
    for ds in shared + written_sets():
        for text in ds.texts:
            c0, w0 = time.thread_time(), time.perf_counter()
            detector.score(text)
            all_times.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
    t, w = np.asarray(all_times) * 1e3, np.asarray(wall) * 1e3
    print(f"Thresholds: warn >= {WARN}, block >= {BLOCK}. One core, result cache off, CPU time per message.\n")
    print(table(rows))
    print(f"\nLatency over all {len(t)} messages: CPU p50 {np.percentile(t, 50):.2f} ms, "
          f"p99 {np.percentile(t, 99):.2f} ms, max {t.max():.2f} ms; wall-clock p50 {np.percentile(w, 50):.2f} ms, "
          f"p99 {np.percentile(w, 99):.2f} ms (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
