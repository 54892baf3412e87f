"""The one interface every domain scorer implements (fastText, DSIR, random, embedding).

The stage trains any scorer the same way and scores the general corpus through the same datatrove
step, so a baseline differs from TRAIT's classifier only in the scorer class. Scorer modules
register themselves on import; the registry imports them lazily by name, so a missing optional
dependency (e.g. sentence-transformers) only fails when that scorer is chosen.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from trait.errors import ConfigError


@runtime_checkable
class DomainScorer(Protocol):
    """Higher score = more in-domain. Constructed as ``cls(settings)`` (see ``make_scorer``)."""

    name: str

    def fit(self, positives: Sequence[str], negatives: Sequence[str], out_dir: Path,
            seed: int) -> dict[str, Any]:
        """Train on seed docs (positives) vs. general docs (negatives), save into ``out_dir``
        (so ``load(out_dir)`` restores it) and return held-out metrics: precision, recall, f1,
        roc_auc, n_train, n_heldout (see ``binary_metrics``)."""
        ...

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """One float64 score per text, batched; the same text always gets the same score."""
        ...

    @classmethod
    def load(cls, out_dir: Path) -> DomainScorer: ...


SCORERS: dict[str, type] = {}

# Where each built-in scorer lives: imported only when that name is asked for.
SCORER_MODULES: dict[str, str] = {
    "fasttext": "trait.select.classifier",
    "random": "trait.select.baselines",
    "dsir": "trait.select.baselines",
    "embedding": "trait.select.embedding",
    "ensemble": "trait.select.bootstrap",
}

T = TypeVar("T", bound=type)


def register(name: str) -> Callable[[T], T]:
    """Class decorator: ``@register("dsir") class DSIRScorer: ...``."""

    def deco(cls: T) -> T:
        SCORERS[name] = cls
        cls.name = name
        return cls

    return deco


def scorer_class(name: str) -> type:
    """The class registered under ``name``, importing its module on first use."""
    if name not in SCORERS and name in SCORER_MODULES:
        try:
            importlib.import_module(SCORER_MODULES[name])
        except ImportError as e:
            raise ConfigError(f"select.method={name}: needs a package that is not installed ({e})") from None
    if name not in SCORERS:
        known = sorted(set(SCORERS) | set(SCORER_MODULES))
        raise ConfigError(f"select.method: unknown scorer {name!r} (known: {', '.join(known)})")
    return SCORERS[name]


def make_scorer(name: str, settings: Any = None) -> DomainScorer:
    """A fresh, untrained scorer. ``settings`` is the ``SelectConfig`` section (each scorer reads its
    own sub-section, e.g. ``settings.classifier``) or None for the scorer's defaults."""
    return scorer_class(name)(settings)


def load_scorer(name: str, out_dir: Path) -> DomainScorer:
    """A trained scorer restored from the folder its ``fit`` wrote."""
    return scorer_class(name).load(Path(out_dir))


# ---- helpers every scorer shares, so their held-out numbers are computed the same way -------------

def split_heldout(items: Sequence[Any], fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """Shuffle with ``seed`` and cut off ``fraction`` (at least one item when there are two or more)."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n_held = round(len(items) * fraction)
    if len(items) >= 2:
        n_held = min(max(n_held, 1), len(items) - 1)
    held = [items[i] for i in order[:n_held]]
    train = [items[i] for i in order[n_held:]]
    return train, held


def binary_metrics(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """Precision, recall, F1 at ``threshold`` and threshold-free ROC-AUC (sklearn) on a held-out set."""
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=np.float64)
    pred = (s >= threshold).astype(int)
    auc = float(roc_auc_score(y, s)) if len(set(y.tolist())) == 2 else float("nan")
    return {"precision": float(precision_score(y, pred, zero_division=0)),
            "recall": float(recall_score(y, pred, zero_division=0)),
            "f1": float(f1_score(y, pred, zero_division=0)),
            "roc_auc": auc, "threshold": threshold,
            "n_heldout": len(y), "n_heldout_pos": int(y.sum())}
