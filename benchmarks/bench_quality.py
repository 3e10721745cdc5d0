"""Answer quality benchmark: accuracy per class on the written answer cases.

    .venv/bin/python -m benchmarks.bench_quality

`benchmarks/data/answer_cases.jsonl` holds answers written for this project, each with its request
and the tool results of the session, labelled good, ungrounded, off_topic, lazy, toxic or refusal.
`split: dev` cases (170) were used while building the scorer; `split: holdout` cases (40, eight new
scenarios) were written afterwards and not tuned on, so their row is the honest one.
For each class two numbers:
- verdict accuracy: good answers scored "good"; every other class scored "warn" or "bad" (flagged);
- label accuracy: the scorer named the right problem (`QualityResult.label`).
Plus the guarantee row: ungrounded answers scored "good" (must be 0).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

CASES = Path(__file__).resolve().parent / "data" / "answer_cases.jsonl"


def load_cases(path: Path = CASES) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def run(cases: list[dict]) -> tuple[dict[str, dict[str, float]], list[dict], np.ndarray]:
    """Per-class accuracy for one list of cases."""
    from guardrails.quality import QualityScorer

    scorer = QualityScorer()
    scorer.score("warm up", "warm up the embedder please", [])
    per: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    misses: list[dict] = []
    times = []
    for case in cases:
        t0 = time.thread_time()
        result = scorer.score(case["answer"], case["request"], case["tool_results"])
        times.append(time.thread_time() - t0)
        label = case["label"]
        verdict_ok = result.verdict == "good" if label == "good" else result.verdict != "good"
        label_ok = result.label == ("ok" if label == "good" else label)
        per[label].append((verdict_ok, label_ok))
        if not (verdict_ok and label_ok):
            misses.append({"label": label, "got": result.label, "verdict": result.verdict, "score": result.score,
                           "answer": case["answer"][:90], "reasons": result.reasons[:2]})
    summary = {
        label: {"n": len(v), "verdict": float(np.mean([a for a, _ in v])), "label": float(np.mean([b for _, b in v]))}
        for label, v in sorted(per.items())
    }
    return summary, misses, np.asarray(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    import argparse

    from godseye.netguard import install_if_requested

    install_if_requested()
    parser = argparse.ArgumentParser(description="answer quality benchmark")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--quick", action="store_true", help="accepted for `python -m benchmarks`; the set is small")
    args = parser.parse_args(argv)
    all_cases = load_cases()
    misses: list[dict] = []
    times_all = []
    for split in ("dev", "holdout"):
        cases = [c for c in all_cases if c.get("split", "dev") == split]
        if not cases:
            continue
        summary, split_misses, times = run(cases)
        misses += split_misses
        times_all.append(times)
        print(f"\n{split} cases\n\n| class | n | verdict accuracy | label accuracy |\n|---|---:|---:|---:|")
        for label, row in summary.items():
            print(f"| {label} | {row['n']} | {row['verdict']:.3f} | {row['label']:.3f} |")
        n = sum(r["n"] for r in summary.values())
        v = sum(r["verdict"] * r["n"] for r in summary.values()) / n
        lab = sum(r["label"] * r["n"] for r in summary.values()) / n
        print(f"| all | {n} | {v:.3f} | {lab:.3f} |")
    times = np.concatenate(times_all)
    ungrounded_good = sum(1 for m in misses if m["label"] == "ungrounded" and m["verdict"] == "good")
    print(f"\nUngrounded answers scored good: {ungrounded_good} (prices and discounts never are: see "
          "tests/test_quality.py). "
          f"Latency per answer (CPU): p50 {np.percentile(times, 50):.1f} ms, p99 {np.percentile(times, 99):.1f} ms")
    if args.show_misses:
        for m in misses:
            print(json.dumps(m, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
