"""Honest quality numbers: how precise is the selection *on the general corpus itself*?

A classifier's held-out metrics on a seed-vs-general split say little about the general corpus's own
in-domain pages (issue 7). Two estimates fix that:
- ``precision_report``: from a small user-labelled sample of general-corpus docs (jsonl ``{id, label}``),
  ranking quality (ROC-AUC, precision at k) and the precision/recall of the kept set on those docs;
- ``judged_precision``: from a ``RelevanceJudge`` (the hook for LLM judgements) applied to random
  samples of kept and dropped docs, which also gives an estimate of recall.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from trait.errors import BadInputError
from trait.io import iter_rows

MAX_EXAMPLES = 10


def load_labels(path: str | os.PathLike) -> dict[str, int]:
    """``{id: 0/1}`` from a jsonl of ``{"id": ..., "label": 0|1|true|false}`` (other keys ignored).

    Every bad line is an error naming ``file:line``: a benchmark built on a silently shortened
    label set would be misleading.
    """
    labels: dict[str, int] = {}
    for lineno, obj in iter_rows(path, on_error="fail"):
        where = f"{path}:{lineno}"
        if "id" not in obj or obj["id"] is None:
            raise BadInputError(f"{where}: label record has no 'id'")
        if "label" not in obj:
            raise BadInputError(f"{where}: label record {obj['id']!r} has no 'label'")
        raw = obj["label"]
        if isinstance(raw, bool) or raw in (0, 1):
            value = int(raw)
        else:
            raise BadInputError(f"{where}: label of {obj['id']!r} must be 0/1 or true/false (got {raw!r})")
        key = str(obj["id"])
        if key in labels and labels[key] != value:
            raise BadInputError(f"{where}: id {key!r} labelled both {labels[key]} and {value}")
        labels[key] = value
    if not labels:
        raise BadInputError(f"{path}: no labels")
    return labels


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a proportion that behaves at 0/n and n/n (small labelled samples)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def ranking_metrics(labels: Sequence[int], scores: Sequence[float], ks: Sequence[int] = (20,)) -> dict[str, Any]:
    """ROC-AUC, average precision and precision at k (k = #positives, and each of ``ks``).

    Ties are broken by position so the numbers are deterministic.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    both = 0 < n_pos < len(y)
    order = np.lexsort((np.arange(len(s)), -s))
    out: dict[str, Any] = {"n": len(y), "n_pos": n_pos,
                           "roc_auc": float(roc_auc_score(y, s)) if both else float("nan"),
                           "average_precision": float(average_precision_score(y, s)) if both else float("nan")}
    def p_at(k: int) -> float:
        k = min(int(k), len(y))
        return float(y[order[:k]].mean()) if k > 0 else float("nan")

    out["precision_at_npos"] = p_at(n_pos)  # = recall at n_pos (R-precision)
    for k in ks:
        out[f"precision_at_{k}"] = p_at(k)
    return out


def precision_report(ids: Sequence[str], scores: Sequence[float], kept: Sequence[bool],
                     labels: dict[str, int], ks: Sequence[int] = (20,)) -> dict[str, Any]:
    """Quality of a scored and chosen general corpus measured on its labelled docs.

    ``ids``/``scores``/``kept`` describe every scored doc; labels whose id is not among them are
    counted and reported (a label file for another corpus shows up here, not as a silent 0).
    """
    index = {doc_id: i for i, doc_id in enumerate(ids)}
    found = [(index[i], y) for i, y in labels.items() if i in index]
    missing = [i for i in labels if i not in index]
    rows = np.array([i for i, _ in found], dtype=int)
    y = np.array([lab for _, lab in found], dtype=int)
    s = np.asarray(scores, dtype=np.float64)[rows] if len(rows) else np.zeros(0)
    k = np.asarray(kept, dtype=bool)[rows] if len(rows) else np.zeros(0, dtype=bool)
    tp, n_kept = int((y[k] == 1).sum()), int(k.sum())
    report: dict[str, Any] = {
        "n_labels": len(labels), "n_labelled_in_corpus": len(found),
        "n_labels_not_in_corpus": len(missing), "labels_not_in_corpus_examples": missing[:MAX_EXAMPLES],
        "kept_labelled": n_kept,
        "kept_precision": tp / n_kept if n_kept else float("nan"),
        "kept_precision_ci95": wilson_interval(tp, n_kept),
        "kept_recall": tp / int(y.sum()) if y.sum() else float("nan"),
    }
    if len(found):
        report["ranking"] = ranking_metrics(y, s, ks)
    return report


class RelevanceJudge(Protocol):
    """The hook for LLM judgements: one label per text, 1 = in-domain, 0 = not, None = no answer.

    An implementation wraps the synthesis stage's LLM client with a prompt such as "Is this document
    about <domain>? Answer yes or no." (FineWeb-Edu style); tests use a keyword judge.
    """

    def judge(self, texts: Sequence[str]) -> list[int | None]: ...


def judged_precision(kept: Sequence[str], dropped: Sequence[str], judge: RelevanceJudge, n: int,
                     seed: int, n_kept_total: int | None = None,
                     n_dropped_total: int | None = None) -> dict[str, Any]:
    """Judge ``n`` random kept and ``n`` random dropped docs; estimate precision and recall.

    Recall = in-domain kept / all in-domain, extrapolated from the two samples to the totals
    (default: the lengths of ``kept``/``dropped``). Unanswered judgements are counted, not guessed.
    """
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    rates = {}
    for side, texts in (("kept", kept), ("dropped", dropped)):
        sample = rng.sample(list(texts), min(n, len(texts)))
        answers = judge.judge(sample) if sample else []
        if len(answers) != len(sample):
            raise BadInputError(f"relevance judge: {len(answers)} answers for {len(sample)} docs")
        valid = [a for a in answers if a is not None]
        pos = sum(1 for a in valid if a)
        rates[side] = pos / len(valid) if valid else float("nan")
        out[side] = {"judged": len(sample), "unanswered": len(sample) - len(valid), "in_domain": pos,
                     "in_domain_rate": rates[side], "ci95": wilson_interval(pos, len(valid))}
    nk = n_kept_total if n_kept_total is not None else len(kept)
    nd = n_dropped_total if n_dropped_total is not None else len(dropped)
    found_kept, found_dropped = nk * rates["kept"], nd * rates["dropped"]
    total = found_kept + found_dropped
    out["precision"] = rates["kept"]
    out["recall_estimate"] = found_kept / total if total and not math.isnan(total) else float("nan")
    return out
