"""Educational-quality scores in [0, 1], applied after the domain score.

The paper keeps only selected documents of high educational value but does not say how it scores
them, so two scorers are offered:

* ``heuristic``: Gopher / C4 / FineWeb quality rules (datatrove's thresholds and repetition helpers)
  turned from hard pass/fail filters into soft scores: each rule gives 1 inside its threshold and
  falls linearly to 0 past a tolerance; the score is their geometric mean, so one badly failed rule
  (no stop words, a page of repeated lines) sinks a document while small misses only lower it.
* ``model``: FineWeb-Edu style. The user labels a sample of documents (e.g. with an LLM, 0..5
  "educational value") in a jsonl file ``{"text": ..., "score": 3}``; a ridge regressor on hashed
  word 1-2-grams is trained on it (held-out MAE / Spearman saved) and its prediction / label_max,
  clipped to [0, 1], is the quality score.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
from datatrove.pipeline.filters.gopher_repetition_filter import find_duplicates
from datatrove.utils.text import TERMINAL_PUNCTUATION

from trait.errors import BadInputError, TraitError
from trait.io import ReadStats, iter_rows, write_json
from trait.select.scorer import split_heldout
from trait.ui import info

_WORD = re.compile(r"\w+(?:['’]\w+)*")  # words only: punctuation runs never counted as words
# A word (\w and apostrophes) has no letter iff it is only digits, '_' and apostrophes. Counted by one
# regex pass over the space-joined words instead of one search per word (same count; this part ~20% faster).
_NO_LETTER_WORD = re.compile(r"(?<!\S)[\d_'’]+(?!\S)")
_STOP = frozenset(STOP_WORDS)
_TERMINAL = tuple(TERMINAL_PUNCTUATION) + ('"', "'", ")", "”", "$")  # sentences ending in a quote/formula
MAX_CHARS = 20_000


class QualityScorer(Protocol):
    name: str

    def score(self, texts: Sequence[str]) -> np.ndarray: ...


def _ok_below(x: float, limit: float, zero_at: float) -> float:
    """1 while x <= limit, falling linearly to 0 at zero_at."""
    return 1.0 if x <= limit else max(0.0, (zero_at - x) / (zero_at - limit))


def _ok_above(x: float, limit: float, zero_at: float) -> float:
    """1 while x >= limit, falling linearly to 0 at zero_at."""
    return 1.0 if x >= limit else max(0.0, (x - zero_at) / (limit - zero_at))


def quality_features(text: str) -> dict[str, float]:
    """The per-rule sub-scores in [0, 1] (kept separate so tests and reports can show which rule hit)."""
    text = text[:MAX_CHARS]
    words = _WORD.findall(text)
    n_words = len(words)
    if n_words == 0:
        return {"length": 0.0}
    n_chars = max(len(text), 1)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    n_lines = max(len(lines), 1)
    avg_len = sum(map(len, words)) / n_words
    lower = list(map(str.lower, words))
    symbols = (text.count("#") + text.count("...") + text.count("…")) / n_words
    bullets = sum(ln.lstrip().startswith(("•", "-", "*")) for ln in lines) / n_lines
    ellipsis_lines = sum(ln.rstrip().endswith(("...", "…")) for ln in lines) / n_lines
    alpha = (n_words - len(_NO_LETTER_WORD.findall(" ".join(words)))) / n_words
    stop = len(_STOP.intersection(lower))
    punct_lines = sum(ln.rstrip().endswith(_TERMINAL) for ln in lines) / n_lines
    dup_line_chars = find_duplicates(lines)[1] / n_chars
    top2 = top_ngram_chars(lower, 2) / n_chars if n_words >= 2 else 0.0
    dup5 = duplicate_ngram_chars(lower, 5) / n_chars if n_words >= 5 else 0.0
    return {
        "length": _ok_above(n_words, 300, 50) if n_words <= 100_000 else 0.0,   # Gopher: 50..100k words
        "word_length": _ok_above(avg_len, 3, 2) * _ok_below(avg_len, 10, 14),  # Gopher: mean 3..10
        "symbols": _ok_below(symbols, 0.1, 0.3),                                # Gopher: # and ... <= 0.1
        "bullets": _ok_below(bullets, 0.9, 1.0) * _ok_below(ellipsis_lines, 0.3, 0.6),
        "alpha_words": _ok_above(alpha, 0.8, 0.5),                              # Gopher: >= 80% alphabetic
        "stop_words": _ok_above(stop, 4, 1),                                    # Gopher: >= 2 of 8; prose has most
        "line_punct": _ok_above(punct_lines, 0.3, 0.05),                        # FineWeb/C4: lines end in punct.
        "repetition": min(_ok_below(dup_line_chars, 0.2, 0.4), _ok_below(top2, 0.2, 0.4),
                          _ok_below(dup5, 0.15, 0.3)),                          # Gopher repetition table
    }


# The two Gopher repetition measures, as datatrove's find_top_duplicate(get_n_grams(...)) and
# find_all_duplicate compute them (tests check equality), with the n-grams built by C-level map/zip
# instead of a Python loop of slices: the same counts in under half the time.
def top_ngram_chars(words: list[str], n: int) -> int:
    """Characters covered by the most frequent n-gram (its length with spaces, times its count)."""
    (gram, count), = Counter(zip(*(words[i:] for i in range(n)))).most_common(1)
    return (sum(map(len, gram)) + n - 1) * count


def duplicate_ngram_chars(words: list[str], n: int) -> int:
    """Characters in n-grams seen before, scanning left to right and skipping past each repeat.
    (Words joined without a separator, as datatrove does: 'ab c' and 'a bc' count as the same.)"""
    grams = list(map("".join, zip(*(words[i:] for i in range(n)))))
    seen: set[str] = set()
    repeated, idx, end = 0, 0, len(grams)
    while idx < end:
        gram = grams[idx]
        if gram in seen:
            repeated += len(gram)
            idx += n
        else:
            seen.add(gram)
            idx += 1
    return repeated


def heuristic_quality(text: str) -> float:
    """Geometric mean of the rule sub-scores: in [0, 1], 0 when any rule fails outright."""
    feats = quality_features(text).values()
    if min(feats) <= 0.0:
        return 0.0
    return math.exp(sum(math.log(v) for v in feats) / len(feats))


class HeuristicQuality:
    name = "heuristic"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return np.fromiter((heuristic_quality(t) for t in texts), dtype=np.float64, count=len(texts))


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    # Stateless: nothing to fit or save, and the same text always maps to the same features.
    return HashingVectorizer(n_features=2**18, ngram_range=(1, 2), alternate_sign=False, norm="l2",
                             lowercase=True)


class ModelQuality:
    """Ridge regression on hashed n-grams, trained on user-provided quality labels."""

    name = "model"

    def __init__(self, model: Any, label_max: float) -> None:
        self.model, self.label_max = model, label_max

    @classmethod
    def fit(cls, cfg: Any, out_dir: Path, seed: int, *, text_key: str = "text",
            on_error: str = "fail") -> dict[str, Any]:
        """Train on ``cfg.labels`` (jsonl: text + ``cfg.label_key``); save model.joblib + metrics.json."""
        import joblib
        from scipy.stats import spearmanr
        from sklearn.linear_model import Ridge

        texts, ys, stats = [], [], ReadStats()
        for lineno, obj in iter_rows(cfg.labels, on_error=on_error, stats=stats):
            where = f"{cfg.labels}:{lineno}"
            text, y = obj.get(text_key), obj.get(cfg.label_key)
            if not isinstance(text, str) or not text.strip():
                stats.skip(f"missing text field '{text_key}'", where, on_error)
                continue
            if not isinstance(y, (int, float)) or isinstance(y, bool) or not 0 <= y <= cfg.label_max:
                stats.skip(f"label '{cfg.label_key}' must be a number in [0, {cfg.label_max}] (got {y!r})",
                           where, on_error)
                continue
            texts.append(text[:MAX_CHARS])
            ys.append(float(y))
        if len(texts) < 10:
            raise BadInputError(f"{cfg.labels}: need at least 10 labelled documents for the quality model "
                                f"(got {len(texts)})")
        idx_train, idx_held = split_heldout(list(range(len(texts))), cfg.heldout_fraction, seed)
        vec = _vectorizer()
        model = Ridge(alpha=1.0).fit(vec.transform([texts[i] for i in idx_train]), [ys[i] for i in idx_train])
        pred = model.predict(vec.transform([texts[i] for i in idx_held]))
        y_held = np.array([ys[i] for i in idx_held])
        rho = spearmanr(pred, y_held).statistic if len(set(y_held.tolist())) > 1 else float("nan")
        metrics = {"n_train": len(idx_train), "n_heldout": len(idx_held),
                   "mae": float(np.abs(pred - y_held).mean()), "spearman": float(rho),
                   "labels": str(cfg.labels), "read": stats.to_dict()}
        out_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump({"model": model, "label_max": cfg.label_max}, out_dir / "model.joblib")
        write_json(out_dir / "metrics.json", metrics)
        info(f"quality model: held-out MAE {metrics['mae']:.3f}, Spearman {metrics['spearman']:.3f} "
             f"({len(idx_held)} docs)")
        return metrics

    @classmethod
    def load(cls, out_dir: Path) -> ModelQuality:
        import joblib

        path = Path(out_dir) / "model.joblib"
        if not path.exists():
            raise TraitError(f"{path}: quality model missing (was it trained?)")
        saved = joblib.load(path)
        return cls(saved["model"], saved["label_max"])

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros(0, dtype=np.float64)
        pred = self.model.predict(_vectorizer().transform([t[:MAX_CHARS] for t in texts]))
        return np.clip(np.asarray(pred, dtype=np.float64) / self.label_max, 0.0, 1.0)


def load_quality(kind: str, model_dir: Path | None = None) -> QualityScorer | None:
    """The configured quality scorer (None when ``select.quality.scorer: none``)."""
    if kind == "none":
        return None
    if kind == "heuristic":
        return HeuristicQuality()
    if kind == "model":
        if model_dir is None:
            raise TraitError("select.quality.scorer=model: no trained model folder")
        return ModelQuality.load(model_dir)
    raise TraitError(f"select.quality.scorer: unknown scorer {kind!r}")
