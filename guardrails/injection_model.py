"""The learned layer: a linear classifier on the local embedder's token vectors, in microseconds.

Why not the sentence embedder itself: MiniLM on onnxruntime costs ~4 ms for a ten-token text and
~20 ms for 64 tokens on one core of these machines, so a classifier on its sentence vectors cannot
meet a 5 ms p99 budget once prompts get longer than a line. Instead we *distil* the embedder the
way model2vec does: every WordPiece token of its vocabulary is run through the same ONNX model once
(at training time, ~30 s), giving a static 384-d vector per token. A text's vector is the mean of
its tokens' vectors, and a logistic regression on that vector is trained on the labelled data.

Because the classifier is linear and the pooling is a mean, the weights fold into one number per
token (`token_weight[t] = E[t] . w`), and scoring is tokenise + gather + mean. The tokens inherit
the embedder's geometry, so words the training set never contained but that sit near "unfiltered",
"instructions" or "pretend" in the embedding space get similar weights, which is what a bag of
words could not give.

The same regression also reads two bags, as fractions of the text: the tokens themselves and
hashed pairs of adjacent tokens (`bigram_buckets`). 384 dimensions cannot hold "stay in
character", "previous instructions" or "unwahre Überschrift" as phrases; the pair weights can.
The token bag folds into `token_weight` too, and a pair's weight is added at the token that ends
it (`TokenClassifier.contributions`), so scoring stays one mean over windows. The file holds
30522 token and 65536 pair weights as float16 (~150 KB compressed).

Long texts are scored over overlapping token windows (max of the window scores), so one hostile
sentence inside a long message is not averaged away.

Short texts and the prior. A plain mean gives a one-word text the full weight of its only token,
so a bag of per-token weights latches onto single words ("hello", "declared", "score") that
happened to sit in more attacks than benign rows. The pooling is therefore a *shrunk* mean: the
token vectors are summed and divided by `n + PRIOR_TOKENS`, as if every text also held
PRIOR_TOKENS neutral tokens, the neutral token being the average token of the benign training rows
(training shifts the folded weights so that this token weighs exactly 0, and a text without
evidence scores like average benign traffic). A one-word text moves the logit a fifth as far as a
sentence of the same words; evidence has to accumulate over several content words before the
learned layer can say much. The classifier itself is trained on plain means (see
`guardrails.train.mean_vectors` for why); the shrinkage is a prior applied when scoring. On top of that the detector caps what the learned
layer alone may conclude from very few words (`guardrails.injection`).

Calibration: `calibrate()` maps the raw probability onto the detector's fixed score scale with
two anchors measured on out-of-fold predictions for the *benign* calibration rows: the probability
that only 5% of them exceed becomes the warn threshold (0.5) and the one that only 2% exceed
becomes the block threshold (0.8). See `guardrails.train` and `guardrails.injection`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parent / "data" / "injection_clf.npz"
MAX_CHARS = 1000  # what the learned layer reads of one text; the rules read everything
WINDOW = 48  # tokens per window for long texts
STRIDE = 24
PRIOR_TOKENS = 4.0  # pseudo-count of neutral tokens in every pooled window (see the module docstring)
BIGRAM_BUCKETS = 1 << 16  # hashed token pairs with a weight of their own (128 KB as float16)


class ModelUnavailable(RuntimeError):
    """The weight file is missing: run `godseye guard train` (or reinstall the package)."""


def _tokenizer():
    from tokenizers import Tokenizer

    from godseye.embedding import _tokenizer_file

    tok = Tokenizer.from_file(str(_tokenizer_file()))
    tok.no_padding()
    tok.no_truncation()
    return tok


@lru_cache(maxsize=1)
def shared_tokenizer():
    return _tokenizer()


# Trigger words are left to the rules, which read them in context. A bag-of-tokens classifier
# trained on deepset learns "forget" and "ignore" as injection words and then flags "forget the
# red one" and "how do I ignore a compiler warning"; without them it has to learn the rest of an
# attack's wording (a new task, an essay about politics, a role to play).
TRIGGER_TOKENS = (
    "ignore", "ignored", "ignores", "ignoring", "disregard", "forget", "forgetting", "forgot",
    "forgotten", "bypass", "pretend", "pretending", "act", "acting", "role", "roles", "instructions",
    "instruction", "prompt", "system", "developer", "rules", "rule", "reveal", "previous", "prior",
    "above", "earlier", "dan", "mode", "restrictions", "restriction", "filter", "filters", "policy",
    "policies", "guidelines", "directive", "command", "commands", "secret", "hidden", "password", "jail",
    "override",
)


# Function words are left out too: they carry register, not intent. Trained on deepset, where the
# attacks are commands ("you will ...", "... and write ..."), a per-token model learns "will" and
# "and" as injection words, and then flags "what will break and when?".
STOP_TOKENS = (
    "a", "an", "the", "and", "or", "but", "if", "then", "so", "of", "to", "in", "on", "at", "by", "for",
    "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did",
    "will", "would", "shall", "should", "can", "could", "may", "might", "must", "have", "has", "had",
    "i", "me", "my", "we", "our", "us", "it", "its", "this", "that", "these", "those", "there", "here",
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "not", "no", "yes", "all",
    "any", "some", "very", "just", "also", "too", "about", "into", "than", "now",
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und", "oder",
    "aber", "ist", "sind", "war", "wird", "werden", "ich", "wir", "es", "zu", "mit", "von", "auf", "fur",
    "nicht", "was", "wie", "wer", "wo", "le", "la", "les", "un", "une", "et", "ou", "est", "de", "du",
    "el", "los", "las", "y", "o", "es", "il", "lo", "gli", "e", "di", "che",
)


@lru_cache(maxsize=1)
def word_tokens() -> np.ndarray:
    """Boolean mask over the vocabulary: the tokens the learned layer reads.

    Left out: punctuation, digits and special tokens (in deepset a final full stop says more about
    who wrote a row than about injection, and a classifier that learns "ends with a period" flags
    every polite request), the trigger words and the function words above.
    """
    tok = shared_tokenizer()
    keep = np.zeros(tok.get_vocab_size(), dtype=bool)
    for word, idx in tok.get_vocab().items():
        keep[idx] = not (word.startswith("[") and word.endswith("]")) and any(c.isalpha() for c in word)
    for word in TRIGGER_TOKENS + STOP_TOKENS:
        idx = tok.token_to_id(word)
        if idx is not None:
            keep[idx] = False
    return keep


def token_ids(text: str, max_chars: int = MAX_CHARS) -> np.ndarray:
    """WordPiece ids of the words of `text` (no punctuation or special tokens), head of the text."""
    ids = np.asarray(shared_tokenizer().encode(text[:max_chars], add_special_tokens=False).ids, dtype=np.int64)
    return ids[word_tokens()[ids]] if ids.size else ids


def pooled(ids: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Mean of the token rows of `table` (a (V,) weight vector or a (V, d) matrix)."""
    if ids.size == 0:
        return np.zeros(table.shape[1:], dtype=np.float32) if table.ndim == 2 else np.float32(0.0)
    return table[ids].mean(axis=0)


def window_means(values: np.ndarray, window: int = WINDOW, stride: int = STRIDE, prior: float = 0.0) -> np.ndarray:
    """Shrunk means of `values` over sliding windows: sum / (len + prior) (one window when short).

    `prior` = 0 gives plain means; > 0 pulls short windows towards 0 (the neutral token).
    """
    n = values.shape[0]
    if n <= window:
        return np.asarray([values.sum() / (n + prior)]) if n else np.zeros(1)
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    starts = np.arange(0, n - window + 1, stride)
    if starts[-1] != n - window:
        starts = np.append(starts, n - window)
    return (csum[starts + window] - csum[starts]) / (window + prior)


def bigram_buckets(ids: np.ndarray, buckets: int = BIGRAM_BUCKETS) -> np.ndarray:
    """Hash bucket of each adjacent pair of content tokens (pair i ends at token i + 1).

    Multiplicative hash of the two ids: deterministic across processes and platforms, unlike
    Python's `hash`. Collisions share a weight; with 65k buckets and the regularisation they cost
    nothing measurable.
    """
    if ids.size < 2:
        return np.zeros(0, dtype=np.int64)
    return ((ids[:-1].astype(np.int64) * 1_000_003) ^ ids[1:].astype(np.int64)) % buckets


def word_count(ids: np.ndarray) -> int:
    """Words among content token ids (WordPiece continuations "##x" are not new words)."""
    if ids.size == 0:
        return 0
    return int(np.count_nonzero(~continuation_tokens()[ids]))


@lru_cache(maxsize=1)
def continuation_tokens() -> np.ndarray:
    tok = shared_tokenizer()
    mask = np.zeros(tok.get_vocab_size(), dtype=bool)
    for word, idx in tok.get_vocab().items():
        mask[idx] = word.startswith("##")
    return mask


def distil_token_vectors(batch: int = 1024) -> np.ndarray:
    """One 384-d vector per vocabulary token: the embedder's output for "[CLS] token [SEP]".

    Uses the very ONNX model and tokenizer of `godseye.embedding`, so the learned layer reads the
    same geometry as every other semantic feature in the project.
    """
    from godseye.embedding import LocalEmbedder

    emb = LocalEmbedder(max_tokens=8, cache_size=0)
    emb._load()
    tok = emb._tokenizer
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    vocab = tok.get_vocab_size()
    out = np.zeros((vocab, 384), dtype=np.float32)
    for start in range(0, vocab, batch):
        ids = np.arange(start, min(vocab, start + batch), dtype=np.int64)
        inp = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        feeds = {"input_ids": inp, "attention_mask": np.ones_like(inp)}
        if "token_type_ids" in emb._input_names:
            feeds["token_type_ids"] = np.zeros_like(inp)
        hidden = emb._session.run(None, feeds)[0]
        out[ids] = hidden[:, 1, :]
    return out


@dataclass(frozen=True)
class ModelScore:
    prob: float  # raw probability (max over windows)
    score: float  # calibrated onto the detector's scale (warn 0.5, block 0.8)
    top_tokens: tuple[str, ...]
    words: int = 0  # content words the score rests on (the detector needs several to block)


class TokenClassifier:
    """Per-token weights + calibration anchors; scores texts. Load the committed file with `load()`."""

    def __init__(self, token_weight: np.ndarray, bias: float, anchors_p: np.ndarray, anchors_s: np.ndarray,
                 meta: dict | None = None, bigram_weight: np.ndarray | None = None):
        self.token_weight = np.asarray(token_weight, dtype=np.float32)
        # Files written before the pair weights have none: tokens alone, as before.
        self.bigram_weight = None if bigram_weight is None else np.asarray(bigram_weight, dtype=np.float32)
        self.bias = float(bias)
        self.anchors_p = np.asarray(anchors_p, dtype=np.float64)
        self.anchors_s = np.asarray(anchors_s, dtype=np.float64)
        self.meta = meta or {}
        # Files written before the shrunk pooling have no prior: they keep plain means.
        self.prior = float(self.meta.get("prior_tokens", 0.0))

    @classmethod
    def load(cls, path: Path | str = MODEL_PATH) -> TokenClassifier:
        path = Path(path)
        if not path.exists():
            raise ModelUnavailable(f"injection model not found at {path}; run `godseye guard train`")
        with np.load(path, allow_pickle=False) as data:
            return cls(data["token_weight"], float(data["bias"]), data["anchors_p"], data["anchors_s"],
                       json.loads(str(data["meta"])),
                       data["bigram_weight"] if "bigram_weight" in data.files else None)

    def contributions(self, ids: np.ndarray) -> np.ndarray:
        """Each content token's share of the logit: its own weight plus that of the pair it ends."""
        values = self.token_weight[ids].astype(np.float64)
        if self.bigram_weight is not None and ids.size > 1:
            values[1:] += self.bigram_weight[bigram_buckets(ids, self.bigram_weight.shape[0])]
        return values

    def logit_windows(self, text: str, ids: np.ndarray | None = None) -> np.ndarray:
        ids = token_ids(text) if ids is None else ids
        if ids.size == 0:
            return np.asarray([self.bias])
        return window_means(self.contributions(ids), prior=self.prior) + self.bias

    def prob(self, text: str, ids: np.ndarray | None = None) -> float:
        z = float(self.logit_windows(text, ids).max())
        return float(1.0 / (1.0 + np.exp(-z)))

    def calibrate(self, prob: float) -> float:
        return float(np.interp(prob, self.anchors_p, self.anchors_s))

    def score(self, text: str, explain: bool = False) -> ModelScore:
        ids = token_ids(text)
        p = self.prob(text, ids)
        top: tuple[str, ...] = ()
        if explain:
            top = self.top_tokens(text)
        return ModelScore(p, self.calibrate(p), top, word_count(ids))

    def top_tokens(self, text: str, k: int = 4) -> tuple[str, ...]:
        """The tokens that pushed the score up most (for reasons a person can check)."""
        ids = token_ids(text)
        if ids.size == 0:
            return ()
        tok = shared_tokenizer()
        weights = self.contributions(ids)
        order = np.argsort(-weights)
        seen: list[str] = []
        for i in order:
            if weights[i] <= 0 or len(seen) >= k:
                break
            word = tok.id_to_token(int(ids[i]))
            if word not in seen:
                seen.append(word)
        return tuple(seen)


@lru_cache(maxsize=1)
def get_model() -> TokenClassifier:
    return TokenClassifier.load()
