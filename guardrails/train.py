"""Train the learned injection layer: `python -m guardrails.train` or `godseye guard train`.

Training data, and nothing else:
- `../shared/data/injection/deepset/*.parquet` (deepset/prompt-injections train split, columns
  text,label; 546 rows, English and German: direct injections and benign questions);
- `../shared/data/injection/jackhhao/*.csv` (jackhhao/jailbreak-classification train split, columns
  prompt,type; ~1,600 rows: jailbreaks, and benign prompts that include harmless role-play such as
  "You are Naruto, describe your dream", so the layer learns a jailbreak from a persona);
- `../shared/data/injection/giskard/prompt_injections.csv` (35 attack strings, all label 1);
- the rows with `"split": "train"` of `benchmarks/data/benign_shopping.jsonl` (benign shopping
  queries written for this project, label 0). The `"test"` rows are held out for the benchmark.
- the rows with `"split": "train"` of `benchmarks/data/benign_general.jsonl` (benign general-purpose
  prompts written for this project: stories, code, maths, travel, recipes, harmless role-play,
  e-mails; label 0). Without them the layer read "write a story" as an attack, because deepset's
  attacks are often "now write X" task switches and its benign rows are mostly questions.
- `benchmarks/data/benign_trigger_train.jsonl` (benign prompts written for this project that hold
  the words attacks use: "make git ignore the build folder", "act as my stylist", "what is a
  jailbreak on a phone"; label 0). With token and pair weights the layer otherwise learns
  "everything", "free" and "print" as attack words. The older `benign_trigger.jsonl` is never
  trained on: it is the benchmark's held-out check of the same thing.

The model (see `guardrails.injection_model`) is one logistic regression over three feature blocks
of a text's content tokens: the mean of their distilled MiniLM vectors (semantics that carry to
words the data never had), the bag of the tokens themselves, and the bag of hashed adjacent token
pairs ("previous instructions", "stay in character", "unwahre Überschrift"). The last two let it
learn attack phrasings the 384 dimensions of the mean cannot hold; they are regularised much more
lightly (the bag features are fractions of a text, so their weights must be large to matter), with
both strengths picked by cross-validation.

Reproducible: fixed seed, deterministic folds (stratified by source and label), a deterministic
optimiser (L-BFGS from zero). Writes `guardrails/data/injection_clf.npz` (~200 KB) with the
per-token and per-pair weights, the calibration anchors and a JSON `meta` record of the rows,
folds and CV results.
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
    BIGRAM_BUCKETS,
    MODEL_PATH,
    PRIOR_TOKENS,
    TokenClassifier,
    bigram_buckets,
    distil_token_vectors,
    token_ids,
    window_means,
)
from guardrails.normalize import canonical

DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
SHOPPING_FILE = PROJECT_ROOT / "benchmarks" / "data" / "benign_shopping.jsonl"
GENERAL_FILE = PROJECT_ROOT / "benchmarks" / "data" / "benign_general.jsonl"
TRIGGER_FILE = PROJECT_ROOT / "benchmarks" / "data" / "benign_trigger_train.jsonl"
SEED = 20251126
FOLDS = 5
# (dense L2, bag L2) pairs tried by cross-validation. The bags need ~1e4 times less: their values
# are fractions (count / tokens) and a useful weight on a phrase is tens of logits.
L2_GRID = ((30.0, 0.001), (30.0, 0.003), (30.0, 0.01))  # dense 10 and 100 lost to 30 in CV
SHOPPING_WEIGHT = 4.0  # written shopping rows count four times: the shop's own traffic must not be flagged
GENERAL_WEIGHT = 1.0  # written general prompts weigh like the public rows (2.0 cost 0.005 CV recall)
TRIGGER_WEIGHT = 2.0  # benign prompts with trigger words: the hard negatives a bag of words gets wrong
SOURCE_WEIGHT = {"deepset": 1.0, "jackhhao": 1.0, "giskard": 1.0, "shopping": SHOPPING_WEIGHT,
                 "general": GENERAL_WEIGHT, "trigger": TRIGGER_WEIGHT}
PUBLIC_SOURCES = ("deepset", "jackhhao", "giskard")
WARN_SCORE, BLOCK_SCORE = 0.5, 0.8
BENIGN_FP_WARN, BENIGN_FP_BLOCK = 0.05, 0.02  # see guardrails.injection on the block anchor


class TrainingDataMissing(FileNotFoundError):
    pass


@dataclass
class Rows:
    texts: list[str]
    labels: np.ndarray
    sources: list[str]


def _read_table(folder: Path, patterns: tuple[str, ...]):
    import pandas as pd

    files = sorted(f for pattern in patterns for f in folder.glob(pattern) if "meta" not in f.name)
    if not files:
        raise TrainingDataMissing(f"no {folder.name} data ({', '.join(patterns)}) under {folder}")
    read = {".parquet": pd.read_parquet, ".csv": pd.read_csv}
    return pd.concat([read[f.suffix](f) for f in files], ignore_index=True)


def load_deepset(data_dir: Path) -> tuple[list[str], list[int]]:
    frame = _read_table(data_dir / "injection" / "deepset", ("*.parquet",))
    return frame["text"].astype(str).tolist(), frame["label"].astype(int).tolist()


def load_jackhhao(data_dir: Path) -> tuple[list[str], list[int]]:
    frame = _read_table(data_dir / "injection" / "jackhhao", ("*.csv",))
    return frame["prompt"].astype(str).tolist(), (frame["type"].str.lower() == "jailbreak").astype(int).tolist()


def load_giskard(data_dir: Path) -> tuple[list[str], list[int]]:
    frame = _read_table(data_dir / "injection" / "giskard", ("prompt_injections.csv",))
    column = next(c for c in ("prompt", "text", "content") if c in frame)
    return frame[column].astype(str).tolist(), [1] * len(frame)


PUBLIC_LOADERS = {"deepset": load_deepset, "jackhhao": load_jackhhao, "giskard": load_giskard}


def load_written(path: Path, split: str | None = "train") -> list[str]:
    """Texts of a written JSON Lines file (`benchmarks/data/*.jsonl`), of one split or all rows."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows if split is None or r.get("split") == split]


def written_benign(split: str = "train") -> tuple[list[str], list[str]]:
    """(texts, sources) of the written benign rows of one split, all label 0.

    The trigger-word prompts have a training file of their own; `benign_trigger.jsonl`, written
    earlier alongside the rules, stays out of training and is the benchmark's held-out set.
    """
    files = {"shopping": SHOPPING_FILE, "general": GENERAL_FILE, "trigger": TRIGGER_FILE}
    texts: list[str] = []
    sources: list[str] = []
    for source, path in files.items():
        found = load_written(path, split)
        texts += found
        sources += [source] * len(found)
    return texts, sources


def load_rows(data_dir: Path, sources: tuple[str, ...] = PUBLIC_SOURCES) -> Rows:
    """Every public set in `sources` (all required: a partial copy of ../shared/data would train a
    different model silently) plus the written benign training rows."""
    texts: list[str] = []
    labels: list[int] = []
    origin: list[str] = []
    for name in sources:
        t, y = PUBLIC_LOADERS[name](data_dir)
        texts += t
        labels += y
        origin += [name] * len(t)
    extra, extra_sources = written_benign("train")
    return Rows(texts + extra, np.asarray(labels + [0] * len(extra), dtype=np.float64), origin + extra_sources)


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


def bag_features(ids: list[np.ndarray], vocab: int, buckets: int = BIGRAM_BUCKETS):
    """Sparse (rows, vocab + buckets): each token's and each hashed pair's count / tokens.

    Dividing by the token count makes the bags means like the dense block, so one linear model's
    weights fold into per-position contributions that the detector averages over windows.
    """
    import scipy.sparse as sp

    data: list[float] = []
    rows: list[int] = []
    cols: list[int] = []
    for r, row in enumerate(ids):
        n = max(1, row.size)
        for values, offset in ((row, 0), (bigram_buckets(row, buckets), vocab)):
            if values.size:
                uniq, counts = np.unique(values, return_counts=True)
                rows += [r] * len(uniq)
                cols += (uniq + offset).tolist()
                data += (counts / n).tolist()
    return sp.csr_matrix((data, (rows, cols)), shape=(len(ids), vocab + buckets))


def fit_logreg(dense: np.ndarray, bags, y: np.ndarray, l2: tuple[float, float],
               sample_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted logistic regression with one L2 strength per block (L-BFGS from zero: deterministic)."""
    from scipy.optimize import minimize

    n, d = dense.shape
    k = bags.shape[1]
    l2_dense, l2_bags = l2
    bags_t = bags.T.tocsr()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        wd, wb, b = theta[:d], theta[d:d + k], theta[-1]
        z = dense @ wd + bags @ wb + b
        value = (np.sum(sample_weight * (np.logaddexp(0.0, z) - y * z))
                 + 0.5 * (l2_dense * (wd @ wd) + l2_bags * (wb @ wb))) / n
        g = sample_weight * (1.0 / (1.0 + np.exp(-z)) - y) / n
        grad = np.concatenate([dense.T @ g + l2_dense * wd / n, bags_t @ g + l2_bags * wb / n, [g.sum()]])
        return value, grad

    res = minimize(loss, np.zeros(d + k + 1), jac=True, method="L-BFGS-B", options={"maxiter": 3000})
    return res.x[:d], res.x[d:d + k], float(res.x[-1])


def class_weights(y: np.ndarray) -> np.ndarray:
    pos = max(1.0, y.sum())
    neg = max(1.0, len(y) - y.sum())
    w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    return w


def folds_for(y: np.ndarray, k: int, seed: int, groups: list[str] | None = None) -> np.ndarray:
    """Fold index per row, stratified by label (and by source when `groups` is given), deterministic."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    strata = np.asarray(groups) if groups is not None else np.zeros(len(y), dtype=object)
    for group in sorted(set(strata.tolist())):
        for label in (0, 1):
            idx = np.flatnonzero((strata == group) & (y == label))
            rng.shuffle(idx)
            fold[idx] = np.arange(len(idx)) % k
    return fold


def fit(ids: list[np.ndarray], y: np.ndarray, table: np.ndarray, l2: tuple[float, float],
        row_weight: np.ndarray | None = None) -> TokenClassifier:
    """Fit, then fold everything into per-token and per-pair weights (anchors still to be set)."""
    neutral = neutral_vector(ids, y, table)
    x = mean_vectors(ids, table, neutral)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    weight = class_weights(y) * (row_weight if row_weight is not None else 1.0)
    vocab = table.shape[0]
    w, w_bags, b = fit_logreg((x - mu) / sd, bag_features(ids, vocab), y, l2, weight)
    w_eff = w / sd
    # Fold: logit = (sum_t E[t].w + prior * c) / (n + prior) + b0 with c = neutral.w; shifting every
    # token weight by -c makes the neutral token weigh 0: logit = sum_t (E[t].w - c) / (n + prior) + b0 + c.
    c = float(neutral @ w_eff)
    token_weight = (table @ w_eff - c + w_bags[:vocab]).astype(np.float32)
    return TokenClassifier(token_weight, float(b - mu @ w_eff + c), np.asarray([0.0, 1.0]), np.asarray([0.0, 1.0]),
                           {"prior_tokens": PRIOR_TOKENS}, w_bags[vocab:].astype(np.float32))


def with_anchors(model: TokenClassifier, anchor_p: np.ndarray, anchor_s: np.ndarray) -> TokenClassifier:
    return TokenClassifier(model.token_weight, model.bias, anchor_p, anchor_s, model.meta, model.bigram_weight)


def predict(model: TokenClassifier, ids: list[np.ndarray]) -> np.ndarray:
    """Max over token windows of the window-mean logit, as the detector computes it."""
    return np.asarray([model.prob("", row) for row in ids])


def cross_validate(ids: list[np.ndarray], y: np.ndarray, table: np.ndarray, l2: tuple[float, float],
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
    trained on, and adding easy benign rows to the pool would loosen the block quantile (the anchors
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


def recall_at_anchor(oof: np.ndarray, y: np.ndarray, sources: list[str], anchor_p: np.ndarray) -> dict[str, float]:
    """Learned-layer recall at the block anchor, per public attack source."""
    src = np.asarray(sources)
    return {name: float((oof[(src == name) & (y == 1)] >= anchor_p[2]).mean())
            for name in PUBLIC_SOURCES if ((src == name) & (y == 1)).any()}


def train(data_dir: Path = DEFAULT_DATA_DIR, out: Path = MODEL_PATH, seed: int = SEED,
          log=print) -> dict:
    """Cross-validate the L2 grid, fit on every row, calibrate and write the weight file."""
    from threadpoolctl import threadpool_limits

    # The optimiser's products are small; several BLAS threads fighting over two cores made each fit
    # six times slower than one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(data_dir, out, seed, log)


def _train(data_dir: Path, out: Path, seed: int, log) -> dict:
    t0 = time.time()
    rows = load_rows(data_dir)
    counts = {name: rows.sources.count(name) for name in SOURCE_WEIGHT}
    log(f"rows: {len(rows.texts)} ({int(rows.labels.sum())} injections); by source: {counts}")
    table = token_table()
    log(f"token vectors: {table.shape} ({time.time() - t0:.0f}s)")
    ids = features(rows.texts, table)
    y = rows.labels
    fold = folds_for(y, FOLDS, seed, rows.sources)
    row_weight = row_weights(rows)
    calib = calibration_mask(rows.sources)
    results = {}
    for l2 in L2_GRID:
        oof = cross_validate(ids, y, table, l2, fold, row_weight)
        recall = recall_at_anchor(oof, y, rows.sources, anchors(oof, y, calib)[0])
        results[l2] = (float(np.mean(list(recall.values()))), log_loss(oof, y), oof)
        log(f"  l2={l2}: cv recall at the block anchor {json.dumps({k: round(v, 3) for k, v in recall.items()})}, "
            f"log-loss {results[l2][1]:.4f} ({time.time() - t0:.0f}s)")
    # The objective is recall at the block anchor (BENIGN_FP_BLOCK of benign calibration rows), so that picks the
    # strengths; log-loss breaks ties.
    best_l2 = max(results, key=lambda k: (round(results[k][0], 3), -results[k][1]))
    oof = results[best_l2][2]
    anchor_p, anchor_s = anchors(oof, y, calib)
    model = with_anchors(fit(ids, y, table, best_l2, row_weight), anchor_p, anchor_s)
    src = np.asarray(rows.sources)
    cv = {
        "l2": list(best_l2),
        "folds": FOLDS,
        **{f"learned_alone_{name}_recall_at_block": v
           for name, v in recall_at_anchor(oof, y, rows.sources, anchor_p).items()},
        **{f"learned_alone_{name}_fp_at_block": float((oof[(src == name) & (y == 0)] >= anchor_p[2]).mean())
           for name in SOURCE_WEIGHT if ((src == name) & (y == 0)).any()},
    }
    meta = {
        "trained_on": {
            **{f"{name}_rows": counts[name] for name in SOURCE_WEIGHT},
            "public_files": {name: sorted(f.name for f in (data_dir / "injection" / name).glob("*")
                                          if f.suffix in {".parquet", ".csv"} and "meta" not in f.name)
                             for name in PUBLIC_SOURCES},
            "shopping_file": "benchmarks/data/benign_shopping.jsonl (split=train)",
            "general_file": "benchmarks/data/benign_general.jsonl (split=train)",
        },
        "seed": seed,
        "source_weight": SOURCE_WEIGHT,
        "calibration_sources": list(CALIBRATION_SOURCES),
        "window": [int(x) for x in (window_means.__defaults__ or ())[:2]],
        "prior_tokens": PRIOR_TOKENS,
        "bigram_buckets": BIGRAM_BUCKETS,
        "cv": cv,
        "anchors_p": anchor_p.tolist(),
        "embedder": "all-MiniLM-L6-v2-onnx-int8 token vectors (distilled) + token and hashed token-pair bags",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        token_weight=model.token_weight.astype(np.float16),
        bigram_weight=model.bigram_weight.astype(np.float16),
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
