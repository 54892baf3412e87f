"""Precision on the general corpus: user labels, ranking metrics, and the LLM-judge hook."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from trait.errors import BadInputError
from trait.select.precision import (
    judged_precision,
    load_labels,
    precision_report,
    ranking_metrics,
    wilson_interval,
)

LABELS = Path(__file__).resolve().parents[2] / "examples" / "math" / "labels" / "wiki_math_labels.jsonl"


def test_committed_math_labels_load() -> None:
    labels = load_labels(LABELS)
    assert len(labels) == 1602 and sum(labels.values()) == 93
    assert labels["enwiki-29208"] == 1 and labels["enwiki-344"] == 0  # Square root / Allan Dwan


@pytest.mark.parametrize("line, message", [
    ('{"label": 1}', "no 'id'"),
    ('{"id": "a"}', "has no 'label'"),
    ('{"id": "a", "label": "yes"}', "must be 0/1"),
    ('{"id": "a", "label": 2}', "must be 0/1"),
    ('{"id": "b", "label": 0}\n{"id": "b", "label": 1}', "labelled both"),
    ("{not json", "malformed JSON"),
])
def test_bad_label_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    p = tmp_path / "labels.jsonl"
    p.write_text('{"id": "ok", "label": true}\n' + line + "\n")
    with pytest.raises(BadInputError, match=message) as err:
        load_labels(p)
    assert f"{p}:" in str(err.value)


def test_ranking_metrics() -> None:
    m = ranking_metrics([1, 0, 1, 0, 0], [0.9, 0.8, 0.7, 0.1, 0.0], ks=(1, 3))
    assert m["n_pos"] == 2 and m["precision_at_npos"] == 0.5
    assert m["precision_at_1"] == 1.0 and m["precision_at_3"] == pytest.approx(2 / 3)
    assert m["roc_auc"] == pytest.approx(5 / 6)
    # ties are broken by position, not by chance
    assert ranking_metrics([0, 1], [0.5, 0.5], ks=(1,))["precision_at_1"] == 0.0


def test_precision_report_counts_labels_missing_from_the_corpus() -> None:
    ids = ["a", "b", "c", "d"]
    labels = {"a": 1, "b": 0, "c": 1, "zzz": 1}
    r = precision_report(ids, [0.9, 0.8, 0.1, 0.5], [True, True, False, True], labels, ks=(2,))
    assert r["n_labelled_in_corpus"] == 3 and r["n_labels_not_in_corpus"] == 1
    assert r["labels_not_in_corpus_examples"] == ["zzz"]
    assert r["kept_labelled"] == 2 and r["kept_precision"] == 0.5 and r["kept_recall"] == 0.5
    lo, hi = r["kept_precision_ci95"]
    assert 0 < lo < 0.5 < hi < 1
    assert r["ranking"]["precision_at_2"] == 0.5


def test_wilson_interval_edges() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0 and 0.2 < hi < 0.35
    assert wilson_interval(10, 10)[1] == 1.0


class KeywordJudge:
    """A deterministic stand-in for an LLM judge; None = the model gave no usable answer."""

    def judge(self, texts: Sequence[str]) -> list[int | None]:
        return [None if "???" in t else int("theorem" in t) for t in texts]


def test_judged_precision_estimates_precision_and_recall() -> None:
    kept = ["a theorem"] * 8 + ["a castle"] * 2
    dropped = ["a theorem"] * 5 + ["a castle"] * 40 + ["???"] * 5
    r = judged_precision(kept, dropped, KeywordJudge(), n=100, seed=0)
    assert r["precision"] == 0.8
    assert r["dropped"]["unanswered"] == 5 and r["dropped"]["in_domain_rate"] == pytest.approx(5 / 45)
    assert r["recall_estimate"] == pytest.approx(8 / (8 + 50 * 5 / 45))


def test_judge_returning_wrong_count_is_an_error() -> None:
    class Broken:
        def judge(self, texts: Sequence[str]) -> list[int | None]:
            return [1]

    with pytest.raises(BadInputError, match="answers for"):
        judged_precision(["x", "y"], ["z"], Broken(), n=5, seed=0)
