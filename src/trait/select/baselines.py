"""Baseline scorers to compare TRAIT's classifier against: random selection and DSIR.

Both implement the ``DomainScorer`` protocol, so the stage scores and chooses with them exactly as
with fastText, and a ``keep_fraction`` selects the same number of documents for every method.

DSIR (Xie et al. 2023, "Data Selection for Language Models via Importance Resampling"): hashed
unigram+bigram counts, one bag-of-ngrams model fitted on the target (seed) docs and one on raw
(general) docs; a document's log importance weight is ``sum_j count_j * (log p_target_j -
log p_raw_j)``. Resampling without replacement in proportion to the weights = taking the top k of
``log weight + Gumbel noise`` (the Gumbel-top-k trick), so ``score()`` returns that perturbed value
and ``log_weight()`` the raw one. The PyPI package ``data-selection`` implements DSIR over files
with its own resampling and output; the few lines here fit our in-memory protocol instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trait.errors import TraitError
from trait.io import atomic_open, read_json, write_json
from trait.select.scorer import binary_metrics, register, split_heldout
from trait.ui import info

DEFAULT_HELDOUT = 0.2


def _heldout_fraction(settings: Any) -> float:
    classifier = getattr(settings, "classifier", None)
    return float(getattr(classifier, "heldout_fraction", DEFAULT_HELDOUT))


def uniform_hash(texts: Sequence[str], seed: int) -> np.ndarray:
    """A seeded, reproducible uniform number in (0, 1) per text (the same text, the same number)."""
    salt = seed.to_bytes(8, "little", signed=True)
    ints = [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8, salt=salt).digest(), "little")
            for t in texts]
    return (np.asarray(ints, dtype=np.float64) + 0.5) / 2.0**64


def _labelled_split(positives: Sequence[str], negatives: Sequence[str], frac: float,
                    seed: int) -> tuple[list[str], list[str], list[str], list[int]]:
    """Train positives/negatives and a labelled held-out set, split the way the classifier splits."""
    if len(positives) < 2 or len(negatives) < 2:
        raise TraitError(f"need at least 2 seed and 2 general docs (got {len(positives)} and {len(negatives)})")
    pos_train, pos_held = split_heldout(list(positives), frac, seed)
    neg_train, neg_held = split_heldout(list(negatives), frac, seed + 1)
    return pos_train, neg_train, pos_held + neg_held, [1] * len(pos_held) + [0] * len(neg_held)


@register("random")
class RandomScorer:
    """Score = a seeded hash of the text: selection at random, the floor every method must beat."""

    name = "random"

    def __init__(self, settings: Any = None, seed: int = 0) -> None:
        self.settings, self.seed = settings, seed

    def fit(self, positives: Sequence[str], negatives: Sequence[str], out_dir: Path,
            seed: int) -> dict[str, Any]:
        """Nothing to learn; held-out metrics are still reported so the comparison table is complete."""
        self.seed = seed
        _, _, held, labels = _labelled_split(positives, negatives, _heldout_fraction(self.settings), seed)
        metrics = binary_metrics(labels, self.score(held))
        metrics.update(n_train=0)
        out_dir = Path(out_dir)
        write_json(out_dir / "random.json", {"seed": seed})
        write_json(out_dir / "metrics.json", metrics)
        return metrics

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return uniform_hash(texts, self.seed)

    @classmethod
    def load(cls, out_dir: Path) -> RandomScorer:
        path = Path(out_dir) / "random.json"
        if not path.exists():
            raise TraitError(f"{out_dir}: no random.json (was the random scorer fitted?)")
        return cls(seed=int(read_json(path)["seed"]))


@dataclass(frozen=True)
class DSIRSettings:
    """DSIR's feature space; the defaults are the paper's (10k hashed unigram+bigram buckets)."""

    num_buckets: int = 10_000
    max_ngram: int = 2
    smoothing: float = 1.0  # add-one counts, so an n-gram unseen on one side has finite log-ratio
    max_chars: int = 100_000  # bounds the cost of very long documents
    # Off = the paper's weight. On = mean log-ratio per n-gram: the raw sum favours short documents
    # when whole articles (not DSIR's fixed-length chunks) are scored.
    length_normalize: bool = False


@register("dsir")
class DSIRScorer:
    """Score = log importance weight + seeded Gumbel noise (top-k = importance resampling)."""

    name = "dsir"

    def __init__(self, settings: Any = None, *, params: DSIRSettings | None = None,
                 log_ratio: np.ndarray | None = None, seed: int = 0) -> None:
        self.settings = settings
        self.params = params or DSIRSettings(**dict(getattr(settings, "dsir", None) or {}))
        self.log_ratio, self.seed = log_ratio, seed

    def _features(self, texts: Sequence[str]):
        from sklearn.feature_extraction.text import HashingVectorizer

        hv = HashingVectorizer(n_features=self.params.num_buckets, ngram_range=(1, self.params.max_ngram),
                               token_pattern=r"(?u)\b\w+\b", lowercase=True, alternate_sign=False,
                               norm=None, dtype=np.float64)
        return hv.transform([t[: self.params.max_chars] for t in texts])

    def _ngram_log_probs(self, texts: Sequence[str]) -> np.ndarray:
        counts = np.asarray(self._features(texts).sum(axis=0)).ravel() + self.params.smoothing
        return np.log(counts) - np.log(counts.sum())

    def fit(self, positives: Sequence[str], negatives: Sequence[str], out_dir: Path,
            seed: int) -> dict[str, Any]:
        pos_train, neg_train, held, labels = _labelled_split(positives, negatives,
                                                             _heldout_fraction(self.settings), seed)
        self.seed = seed
        self.log_ratio = self._ngram_log_probs(pos_train) - self._ngram_log_probs(neg_train)
        # Threshold 0: a doc is "in-domain" when the target model explains it better than the raw one.
        metrics = binary_metrics(labels, self.log_weight(held), threshold=0.0)
        metrics.update(n_train=len(pos_train) + len(neg_train), n_train_pos=len(pos_train),
                       n_train_neg=len(neg_train))
        out_dir = Path(out_dir)
        with atomic_open(out_dir / "dsir.npy", "wb") as fh:
            np.save(fh, self.log_ratio)
        write_json(out_dir / "dsir.json", {"seed": seed, **asdict(self.params)})
        write_json(out_dir / "metrics.json", metrics)
        info(f"dsir: held-out ROC-AUC {metrics['roc_auc']:.4f} ({metrics['n_heldout']} held-out docs)")
        return metrics

    def log_weight(self, texts: Sequence[str]) -> np.ndarray:
        """The raw log importance weight log p_target(x) - log p_raw(x) under the hashed n-gram models."""
        if self.log_ratio is None:
            raise TraitError("dsir scorer: not fitted or loaded")
        if not texts:
            return np.zeros(0, dtype=np.float64)
        x = self._features(texts)
        weight = np.asarray(x @ self.log_ratio, dtype=np.float64).ravel()
        if self.params.length_normalize:
            weight /= np.maximum(np.asarray(x.sum(axis=1)).ravel(), 1.0)
        return weight

    def score(self, texts: Sequence[str]) -> np.ndarray:
        gumbel = -np.log(-np.log(uniform_hash(texts, self.seed)))
        return self.log_weight(texts) + gumbel

    @classmethod
    def load(cls, out_dir: Path) -> DSIRScorer:
        out_dir = Path(out_dir)
        if not (out_dir / "dsir.npy").exists():
            raise TraitError(f"{out_dir}: no dsir.npy (was the DSIR scorer fitted?)")
        meta = read_json(out_dir / "dsir.json")
        seed = int(meta.pop("seed"))
        return cls(params=DSIRSettings(**meta), log_ratio=np.load(out_dir / "dsir.npy"), seed=seed)
