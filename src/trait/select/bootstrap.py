"""Crossing the style gap: bootstrap a domain scorer on the general corpus, and ensemble scorers.

A scorer trained on seed docs vs. general docs learns the seed's style as much as its topic, so it
can rank the general corpus's own in-domain pages poorly (issue 7). Bootstrapping fixes the training
data rather than the model: round 0 trains the first scorer on seed vs. general; in each later round
the general docs ranked highest become positives and the lowest become negatives, so the final
scorer is trained on general-corpus text on both sides (the iterative recipe used to mine math
pages from Common Crawl). Rankings are *cross-fitted*: a doc is ranked only by a model that did not
train on it, otherwise a round's positives would simply be re-found by memorisation.

Several scorers can be combined by rank averaging (``EnsembleScorer``): each member's score is
mapped to its empirical CDF over a reference sample of the general corpus, so scales as different
as probabilities and log importance weights average fairly, and scoring stays streaming.

``train_selection`` is the one entry point the stage calls.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from trait.errors import TraitError
from trait.io import atomic_open, read_json, write_json
from trait.select.scorer import DomainScorer, load_scorer, make_scorer, register

T = TypeVar("T")
ENSEMBLE_FILE, REFS_FILE = "ensemble.json", "ensemble_refs.npz"
MIN_PSEUDO = 4  # fewer pseudo-labelled docs per side than this cannot train anything


@dataclass
class Trained:
    """A trained scorer, where it is saved (``load_scorer(name, out_dir)`` restores it) and how it was made."""

    name: str
    out_dir: Path
    scorer: DomainScorer
    summary: dict[str, Any] = field(default_factory=dict)


def reservoir_sample(items: Iterable[T], n: int, seed: int) -> list[T]:
    """A uniform sample of ``n`` items from a stream of unknown length, in one pass and O(n) memory."""
    rng = random.Random(seed)
    out: list[T] = []
    for i, item in enumerate(items):
        if i < n:
            out.append(item)
        else:
            j = rng.randint(0, i)
            if j < n:
                out[j] = item
    return out


def fit_scorer(name: str, settings: Any, positives: Sequence[str], negatives: Sequence[str],
               out_dir: Path, seed: int) -> Trained:
    scorer = make_scorer(name, settings)
    metrics = scorer.fit(list(positives), list(negatives), Path(out_dir), seed)
    return Trained(name, Path(out_dir), scorer, {"scorer": name, "heldout": metrics})


def _folds(n: int, k: int, seed: int) -> np.ndarray:
    """Fold index per item: a seeded shuffle cut into ``k`` near-equal parts."""
    order = np.random.default_rng(seed).permutation(n)
    fold = np.empty(n, dtype=int)
    fold[order] = np.arange(n) % k
    return fold


def _cap(idx: np.ndarray, cap: int | None, rng: np.random.Generator) -> np.ndarray:
    return idx if cap is None or len(idx) <= cap else np.sort(rng.choice(idx, cap, replace=False))


def _cross_fit(name: str, settings: Any, pool: Sequence[str], pos_idx: np.ndarray, neg_idx: np.ndarray,
               extra_pos: Sequence[str], out_dir: Path, seed: int,
               rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Out-of-fold scores of every pool doc: fold k is scored by a model trained without fold k."""
    cfg = settings.bootstrap
    folds = cfg.folds
    fold = _folds(len(pool), folds, seed)
    scores = np.empty(len(pool), dtype=np.float64)
    metrics = []
    for k in range(folds):
        pos = list(extra_pos) + [pool[i] for i in pos_idx if fold[i] != k]
        neg = [pool[i] for i in _cap(neg_idx[fold[neg_idx] != k], cfg.max_negatives, rng)]
        t = fit_scorer(name, settings, pos, neg, out_dir / f"fold-{k}", seed + 17 * k)
        inside = np.flatnonzero(fold == k)
        scores[inside] = t.scorer.score([pool[i] for i in inside])
        metrics.append(t.summary["heldout"])
    return scores, metrics


def _pseudo_labels(scores: np.ndarray, cfg: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the top ``top_fraction`` (positives) and bottom ``bottom_fraction`` (negatives)."""
    n = len(scores)
    order = np.lexsort((np.arange(n), -scores))  # descending score, ties by position: deterministic
    n_top, n_bottom = math.ceil(cfg.top_fraction * n), math.floor(cfg.bottom_fraction * n)
    if n_top < MIN_PSEUDO or n_bottom < MIN_PSEUDO:
        raise TraitError(f"select.bootstrap: {n} general docs x top_fraction={cfg.top_fraction} / "
                         f"bottom_fraction={cfg.bottom_fraction} gives {n_top} / {n_bottom} pseudo-labelled "
                         f"docs (need >= {MIN_PSEUDO} each): raise the fractions or bootstrap.sample_size")
    return np.sort(order[:n_top]), _cap(np.sort(order[n - n_bottom:]), cfg.max_negatives, rng)


def _mean_metrics(metrics: list[dict]) -> dict[str, float]:
    keys = ("precision", "recall", "f1", "roc_auc")
    return {k: float(np.nanmean([m.get(k, float("nan")) for m in metrics])) for k in keys}


def bootstrap(first: str, settings: Any, seed_texts: Sequence[str], general: Sequence[str],
              out_dir: Path, seed: int) -> Trained:
    """Train ``first`` on seed vs. general, then ``settings.bootstrap.rounds`` pseudo-labelled rounds.

    ``general`` is a sample of the general corpus (see ``reservoir_sample``); the returned scorer is
    the last round's, trained on all its pseudo-labels, saved under ``out_dir/final``.
    """
    cfg = settings.bootstrap
    nxt = cfg.scorer or first
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    pool = list(general)
    rounds: list[dict[str, Any]] = []
    prev_top: np.ndarray | None = None
    all_idx = np.arange(len(pool))
    pos_idx, neg_idx = np.zeros(0, dtype=int), _cap(all_idx, cfg.max_negatives, rng)
    extra_pos: Sequence[str] = seed_texts
    for r in range(cfg.rounds + 1):
        name = first if r == 0 else nxt
        info: dict[str, Any] = {"round": r, "scorer": name, "n_pos": int(len(pos_idx) + len(extra_pos)),
                                "n_pos_general": len(pos_idx), "n_neg": len(neg_idx)}
        if r == cfg.rounds:  # last round: the final model sees all its (pseudo-)labels
            final = fit_scorer(name, settings, list(extra_pos) + [pool[i] for i in pos_idx],
                               [pool[i] for i in neg_idx], out_dir / "final", seed + 1000 * r)
            info["heldout"] = final.summary["heldout"]
            rounds.append(info)
            break
        # round 0 trains on seed vs. every pool doc outside the fold; later rounds on pseudo-labels
        neg_for_fit = all_idx if r == 0 else neg_idx
        scores, metrics = _cross_fit(name, settings, pool, pos_idx, neg_for_fit, extra_pos,
                                     out_dir / f"round-{r}", seed + 1000 * r, rng)
        pos_idx, neg_idx = _pseudo_labels(scores, cfg, rng)
        extra_pos = seed_texts if cfg.include_seed else []
        info["heldout_mean"] = _mean_metrics(metrics)
        info["top_overlap_with_previous"] = (None if prev_top is None else
                                             len(np.intersect1d(prev_top, pos_idx)) / len(pos_idx))
        prev_top = pos_idx
        rounds.append(info)
    summary = {"scorer": nxt if cfg.rounds else first, "first_scorer": first, "rounds": rounds,
               "pool_size": len(pool), "settings": cfg.model_dump(mode="json")}
    write_json(out_dir / "bootstrap.json", summary)
    return Trained(final.name, final.out_dir, final.scorer, summary)


# ---- ensembling ------------------------------------------------------------------------------------

def _ecdf(ref: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Mid-rank empirical CDF of ``s`` in the sorted reference ``ref`` (0..1)."""
    lo = np.searchsorted(ref, s, side="left")
    hi = np.searchsorted(ref, s, side="right")
    return (lo + hi) / (2.0 * len(ref))


@register("ensemble")
class EnsembleScorer:
    """Mean of the members' ranks in a general-corpus reference sample (higher = more in-domain).

    A tiny tie-breaker (each member's z-score, squashed and scaled by 1e-6) keeps an order among
    docs that fall outside every reference sample, e.g. the very top of a large corpus.
    """

    name = "ensemble"

    def __init__(self, settings: Any = None, members: list[Trained] | None = None,
                 refs: list[np.ndarray] | None = None) -> None:
        self.settings = settings
        self.members = members or []
        self.refs = refs or []

    @classmethod
    def from_members(cls, members: list[Trained], reference: Sequence[str], out_dir: Path) -> EnsembleScorer:
        if len(members) < 2 or len(reference) < 2:
            raise TraitError(f"ensemble: need >= 2 members and >= 2 reference docs (got {len(members)}, "
                             f"{len(reference)})")
        refs = [np.sort(np.asarray(m.scorer.score(list(reference)), dtype=np.float64)) for m in members]
        ens = cls(None, members, refs)
        ens._save(Path(out_dir))
        return ens

    def fit(self, positives: Sequence[str], negatives: Sequence[str], out_dir: Path, seed: int) -> dict[str, Any]:
        """Protocol form: train each ``settings.ensemble`` member on the same data, reference = negatives."""
        names = list(getattr(self.settings, "ensemble", None) or [])
        out_dir = Path(out_dir)
        members = [fit_scorer(n, self.settings, positives, negatives, out_dir / n, seed) for n in names]
        done = self.from_members(members, negatives, out_dir)
        self.members, self.refs = done.members, done.refs
        return {"members": {m.name: m.summary.get("heldout") for m in members}, "combine": "rank_average"}

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not self.members:
            raise TraitError("ensemble scorer: score() before fit() or load()")
        texts = list(texts)
        total = np.zeros(len(texts), dtype=np.float64)
        tie = np.zeros(len(texts), dtype=np.float64)
        for m, ref in zip(self.members, self.refs):
            s = np.asarray(m.scorer.score(texts), dtype=np.float64)
            total += _ecdf(ref, s)
            tie += np.tanh((s - ref.mean()) / (ref.std() + 1e-12))
        return (total + 1e-6 * tie) / len(self.members)

    def _save(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(out_dir / REFS_FILE) as fh:
            np.savez(fh, *self.refs)
        write_json(out_dir / ENSEMBLE_FILE, {
            "combine": "rank_average",
            # relative, so a run folder can be moved or copied and still load
            "members": [{"name": m.name, "dir": os.path.relpath(m.out_dir.resolve(), out_dir.resolve())}
                        for m in self.members]})

    @classmethod
    def load(cls, out_dir: Path) -> EnsembleScorer:
        out_dir = Path(out_dir)
        if not (out_dir / ENSEMBLE_FILE).exists():
            raise TraitError(f"{out_dir}: no trained ensemble ({ENSEMBLE_FILE} missing)")
        meta = read_json(out_dir / ENSEMBLE_FILE)
        members = [Trained(m["name"], out_dir / m["dir"], load_scorer(m["name"], out_dir / m["dir"]))
                   for m in meta["members"]]
        with np.load(out_dir / REFS_FILE) as z:
            refs = [z[f"arr_{i}"] for i in range(len(members))]
        return cls(None, members, refs)


# ---- the stage's entry point -----------------------------------------------------------------------

def train_selection(settings: Any, seed_texts: Sequence[str], general: Sequence[str], out_dir: Path,
                    seed: int) -> Trained:
    """Train what ``select`` asks for: ``method`` (or each ``ensemble`` member), bootstrapped when
    ``bootstrap.rounds > 0``, rank-averaged when several. ``general`` = a general-corpus sample
    (negatives, bootstrap pool and ensemble reference). ``Trained.summary`` records the choice."""
    names = list(settings.ensemble) or [settings.method]
    if len(set(names)) != len(names):
        raise TraitError(f"select.ensemble: a scorer is listed twice ({names})")
    out_dir = Path(out_dir)
    rounds = settings.bootstrap.rounds
    members = []
    for name in names:
        if rounds > 0:
            members.append(bootstrap(name, settings, seed_texts, general, out_dir / name, seed))
        else:
            neg = reservoir_sample(general, settings.bootstrap.max_negatives or len(general), seed)
            members.append(fit_scorer(name, settings, seed_texts, neg, out_dir / name / "final", seed))
    choice = {"members": names, "bootstrap_rounds": rounds,
              "bootstrap_scorer": (settings.bootstrap.scorer or "same as member") if rounds else None,
              "combine": "rank_average" if len(members) > 1 else None}
    if len(members) == 1:
        m = members[0]
        m.summary = {"choice": choice, "final_scorer": m.name, "scorer_dir": str(m.out_dir), **m.summary}
        return m
    ens = EnsembleScorer.from_members(members, general, out_dir / "ensemble")
    summary = {"choice": choice, "final_scorer": "ensemble", "scorer_dir": str(out_dir / "ensemble"),
               "members": {m.name: m.summary for m in members}}
    write_json(out_dir / "selection.json", summary)
    return Trained("ensemble", out_dir / "ensemble", ens, summary)
