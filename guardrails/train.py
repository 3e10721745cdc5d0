"""Train the learned injection layer: `python -m guardrails.train` or `godseye guard train`.

Training data, and nothing else:
- `../shared/data/injection/deepset/*.parquet` (deepset/prompt-injections train split, columns
  text,label; 546 rows, English and German);
- the rows with `"split": "train"` of `benchmarks/data/benign_shopping.jsonl` (benign shopping
  queries written for this project, label 0). The `"test"` rows are held out for the benchmark.
- the rows with `"split": "train"` of `benchmarks/data/benign_general.jsonl` (benign general-purpose
  prompts written for this project: stories, code, maths, travel, recipes, harmless role-play,
  e-mails; label 0). Without them the layer read "write a story" as an attack, because deepset's
  attacks are often "now write X" task switches and its benign rows are mostly questions.

Reproducible: fixed seed, deterministic folds, a closed-form-free but deterministic optimiser
(L-BFGS from zero). Writes `guardrails/data/injection_clf.npz` (~70 KB) with the per-token
weights, the calibration anchors and a JSON `meta` record of the rows, folds and CV results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from godseye.config import PROJECT_ROOT, get_settings
from guardrails.injection_model import (
    MODEL_PATH,
    PRIOR_TOKENS,
    distil_token_vectors,
    token_ids,
    window_means,
)
from guardrails.normalize import canonical

DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
SHOPPING_FILE = PROJECT_ROOT / "benchmarks" / "data" / "benign_shopping.jsonl"
GENERAL_FILE = PROJECT_ROOT / "benchmarks" / "data" / "benign_general.jsonl"
SEED = 20251126
FOLDS = 5
L2_GRID = (3.0, 10.0, 30.0, 100.0, 300.0)
SHOPPING_WEIGHT = 4.0  # written shopping rows count four times: the shop's own traffic must not be flagged
GENERAL_WEIGHT = 1.0  # written general prompts weigh like deepset rows (2.0 cost 0.005 CV recall)
SOURCE_WEIGHT = {"deepset": 1.0, "shopping": SHOPPING_WEIGHT, "general": GENERAL_WEIGHT}
WARN_SCORE, BLOCK_SCORE = 0.5, 0.8
BENIGN_FP_WARN, BENIGN_FP_BLOCK = 0.05, 0.01


class TrainingDataMissing(FileNotFoundError):
    pass


@dataclass
class Rows:
    texts: list[str]
    labels: np.ndarray
    sources: list[str]


def load_deepset(data_dir: Path) -> tuple[list[str], list[int]]:
    import pandas as pd

    folder = data_dir / "injection" / "deepset"
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise TrainingDataMissing(f"no deepset parquet under {folder}")
    frame = pd.concat([pd.read_parquet(f, columns=["text", "label"]) for f in files], ignore_index=True)
    return frame["text"].astype(str).tolist(), frame["label"].astype(int).tolist()


def load_shopping(split: str = "train", path: Path = SHOPPING_FILE) -> list[str]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows if r.get("split") == split]


def load_general(split: str = "train", path: Path = GENERAL_FILE) -> list[str]:
    return load_shopping(split, path)


def written_benign(split: str = "train") -> tuple[list[str], list[str]]:
    """(texts, sources) of the written benign rows of one split, all label 0."""
    shop, general = load_shopping(split), load_general(split)
    return shop + general, ["shopping"] * len(shop) + ["general"] * len(general)


def load_rows(data_dir: Path) -> Rows:
    texts, labels = load_deepset(data_dir)
    extra, sources = written_benign("train")
    return Rows(
        texts + extra,
        np.asarray(labels + [0] * len(extra), dtype=np.float64),
        ["deepset"] * len(texts) + sources,
    )


def row_weights(rows: Rows) -> np.ndarray:
    return np.asarray([SOURCE_WEIGHT[s] for s in rows.sources])


def token_table(cache_dir: Path | None = None) -> np.ndarray:
    """The distilled (V, 384) token vectors, cached next to the other local data."""
    from godseye.embedding import _model_file

    digest = hashlib.sha256(_model_file().read_bytes()).hexdigest()[:16]
    cache_dir = cache_dir or get_settings().home / "cache"
    path = cache_dir / f"minilm_token_vectors_{digest}.npy"
    if path.exists():
        return np.load(path)
    table = distil_token_vectors()
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, table)
    return table


def features(texts: list[str], table: np.ndarray) -> list[np.ndarray]:
    """Token ids per text, read exactly as the detector reads them (canonical view)."""
    return [token_ids(canonical(t)) for t in texts]


def neutral_vector(ids: list[np.ndarray], y: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The average token of the benign rows: what the shrunk pooling pulls short texts towards."""
    benign = [i for i, label in zip(ids, y, strict=True) if label == 0 and i.size]
    return table[np.concatenate(benign)].mean(axis=0)


def mean_vectors(ids: list[np.ndarray], table: np.ndarray, neutral: np.ndarray | None = None,
                 prior: float = 0.0) -> np.ndarray:
    """(sum + prior * neutral) / (n + prior); training uses prior 0, plain means.

    The shrinkage towards the neutral token is applied at inference only (PRIOR_TOKENS): trained
    with it, the optimiser scales every weight up to undo it, and long texts then saturate (long
    benign role-play prompts were blocked). Trained on plain means, the weights mean what they
    mean for a text of typical length, and the prior only discounts short texts.
    """
    neutral = np.zeros(table.shape[1], np.float32) if neutral is None else neutral
    return np.stack([(table[i].sum(axis=0) + prior * neutral) / (i.size + prior) if i.size or prior else neutral
                     for i in ids])


def fit_logreg(x: np.ndarray, y: np.ndarray, l2: float, sample_weight: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression (L-BFGS from zero: deterministic)."""
    from scipy.optimize import minimize

    n, d = x.shape

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        z = x @ w + b
        # log(1 + e^z) - y z, stable
        lse = np.logaddexp(0.0, z)
        value = np.sum(sample_weight * (lse - y * z)) / n + 0.5 * l2 * (w @ w) / n
        p = 1.0 / (1.0 + np.exp(-z))
        g = sample_weight * (p - y) / n
        grad = np.concatenate([x.T @ g + l2 * w / n, [g.sum()]])
        return value, grad

    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return res.x[:d], float(res.x[d])


def class_weights(y: np.ndarray) -> np.ndarray:
    pos = max(1.0, y.sum())
    neg = max(1.0, len(y) - y.sum())
    w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    return w


def folds_for(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Stratified fold index per row, deterministic."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return fold


@dataclass
class Fitted:
    token_weight: np.ndarray
    bias: float


def fit(ids: list[np.ndarray], y: np.ndarray, table: np.ndarray, l2: float,
        row_weight: np.ndarray | None = None) -> Fitted:
    neutral = neutral_vector(ids, y, table)
    x = mean_vectors(ids, table, neutral)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    weight = class_weights(y) * (row_weight if row_weight is not None else 1.0)
    w, b = fit_logreg((x - mu) / sd, y, l2, weight)
    w_eff = w / sd
    # Fold: logit = (sum_t E[t].w + prior * c) / (n + prior) + b0 with c = neutral.w; shifting every
    # token weight by -c makes the neutral token weigh 0: logit = sum_t (E[t].w - c) / (n + prior) + b0 + c.
    c = float(neutral @ w_eff)
    return Fitted((table @ w_eff - c).astype(np.float32), float(b - mu @ w_eff + c))


def predict(model: Fitted, ids: list[np.ndarray]) -> np.ndarray:
    """Max over token windows of the window-mean logit, as the detector computes it."""
    out = np.empty(len(ids))
    for i, row in enumerate(ids):
        z = window_means(model.token_weight[row], prior=PRIOR_TOKENS).max() + model.bias if row.size else model.bias
        out[i] = 1.0 / (1.0 + np.exp(-z))
    return out


def cross_validate(ids: list[np.ndarray], y: np.ndarray, table: np.ndarray, l2: float,
                   fold: np.ndarray, row_weight: np.ndarray | None = None) -> np.ndarray:
    oof = np.empty(len(y))
    for f in range(fold.max() + 1):
        test = fold == f
        rw = row_weight[~test] if row_weight is not None else None
        model = fit([ids[i] for i in np.flatnonzero(~test)], y[~test], table, l2, rw)
        oof[test] = predict(model, [ids[i] for i in np.flatnonzero(test)])
    return oof


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    w = class_weights(y)
    return float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))) / len(y))


CALIBRATION_SOURCES = ("deepset", "shopping")


def calibration_mask(sources: list[str]) -> np.ndarray:
    """The rows whose benign out-of-fold scores set the anchors: deepset and shopping only.

    The written general prompts teach the weights but do not set the thresholds: they are easy once
    trained on, and adding easy benign rows to the pool would loosen the 1% quantile (the anchors
    would then say less about the traffic the detector actually sees).
    """
    return np.asarray([s in CALIBRATION_SOURCES for s in sources])


def anchors(oof: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Probability -> score anchors from the benign rows' out-of-fold probabilities (within `mask`)."""
    keep = (y == 0) if mask is None else (y == 0) & mask
    benign = np.sort(oof[keep])
    p_warn = float(np.quantile(benign, 1 - BENIGN_FP_WARN))
    p_block = float(np.quantile(benign, 1 - BENIGN_FP_BLOCK))
    p_block = max(p_block, p_warn + 1e-3)
    return (np.asarray([0.0, p_warn, p_block, 1.0 + 1e-9]),
            np.asarray([0.0, WARN_SCORE, BLOCK_SCORE, 1.0]))


def train(data_dir: Path = DEFAULT_DATA_DIR, out: Path = MODEL_PATH, seed: int = SEED,
          log=print) -> dict:
    t0 = time.time()
    rows = load_rows(data_dir)
    log(f"rows: {len(rows.texts)} ({int(rows.labels.sum())} injections; "
        f"{rows.sources.count('shopping')} written shopping queries; "
        f"{rows.sources.count('general')} written general prompts)")
    table = token_table()
    log(f"token vectors: {table.shape} ({time.time() - t0:.0f}s)")
    ids = features(rows.texts, table)
    fold = folds_for(rows.labels, FOLDS, seed)
    row_weight = row_weights(rows)
    results = {}
    for l2 in L2_GRID:
        oof = cross_validate(ids, rows.labels, table, l2, fold, row_weight)
        results[l2] = (log_loss(oof, rows.labels), oof)
        log(f"  l2={l2:<5} cv log-loss {results[l2][0]:.4f}")
    best_l2 = min(results, key=lambda k: results[k][0])
    oof = results[best_l2][1]
    anchor_p, anchor_s = anchors(oof, rows.labels, calibration_mask(rows.sources))
    model = fit(ids, rows.labels, table, best_l2, row_weight)
    deep = np.asarray([s == "deepset" for s in rows.sources])
    shop = np.asarray([s == "shopping" for s in rows.sources])
    y = rows.labels
    cv = {
        "l2": best_l2,
        "folds": FOLDS,
        "learned_alone_deepset_recall_at_block": float((oof[deep & (y == 1)] >= anchor_p[2]).mean()),
        "learned_alone_deepset_recall_at_warn": float((oof[deep & (y == 1)] >= anchor_p[1]).mean()),
        "learned_alone_deepset_benign_fp_at_block": float((oof[deep & (y == 0)] >= anchor_p[2]).mean()),
        "learned_alone_shopping_fp_at_block": float((oof[shop] >= anchor_p[2]).mean()),
        "learned_alone_general_fp_at_block": float((oof[~deep & ~shop] >= anchor_p[2]).mean()),
    }
    meta = {
        "trained_on": {
            "deepset": str(sorted((data_dir / "injection" / "deepset").glob("*.parquet"))[0].name),
            "deepset_rows": int(deep.sum()),
            "shopping_rows": int(shop.sum()),
            "shopping_file": "benchmarks/data/benign_shopping.jsonl (split=train)",
            "general_rows": int((~deep & ~shop).sum()),
            "general_file": "benchmarks/data/benign_general.jsonl (split=train)",
        },
        "seed": seed,
        "shopping_weight": SHOPPING_WEIGHT,
        "calibration_sources": list(CALIBRATION_SOURCES),
        "general_weight": GENERAL_WEIGHT,
        "window": [int(x) for x in (window_means.__defaults__ or ())[:2]],
        "prior_tokens": PRIOR_TOKENS,
        "cv": cv,
        "anchors_p": anchor_p.tolist(),
        "embedder": "all-MiniLM-L6-v2-onnx-int8 token vectors (distilled)",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        token_weight=model.token_weight.astype(np.float16),
        bias=np.float32(model.bias),
        anchors_p=anchor_p.astype(np.float64),
        anchors_s=anchor_s.astype(np.float64),
        meta=np.asarray(json.dumps(meta)),
    )
    log(f"wrote {out} ({out.stat().st_size // 1024} KB) in {time.time() - t0:.0f}s; cv: {json.dumps(cv)}")
    return meta


def main(argv: list[str] | None = None) -> int:
    from godseye.netguard import install_if_requested

    install_if_requested()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    try:
        train(args.data_dir, args.out, args.seed)
    except TrainingDataMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
