"""The lm-eval hook: per-sample metrics from a generation (the answer rules are tested in test_answers.py)."""

from __future__ import annotations

import pytest

from trait.answers import final_answer
from trait.evaluate import scoring


def test_hashes_72_matches_gold_72_0_with_both_metrics():
    assert scoring.score("Janet has 72 apples.\n#### 72", "72.0") == {"exact_match": 1, "math_verify": 1}


@pytest.mark.parametrize("generation", ["#### 73", "The answer is 7.2.", "no answer", "#### 720", ""])
def test_wrong_answers_are_rejected(generation):
    assert scoring.score(generation, "72") == {"exact_match": 0, "math_verify": 0}


def test_math_verify_accepts_equivalent_forms_exact_match_does_not():
    assert scoring.score("The answer is 1/2.", "0.5") == {"exact_match": 0, "math_verify": 1}


def test_exact_checker_has_no_math_verify_metric():
    assert scoring.score("#### 5", "5", checker="exact") == {"exact_match": 1}


def test_process_results_reads_the_doc_gold_and_checker():
    doc = {"answer": "18", "checker": "math"}
    assert scoring.process_results(doc, ["9 * 2 = 18\nThe answer is 18."]) == {"exact_match": 1, "math_verify": 1}


def test_target_format_is_extractable():
    target = scoring.format_target("18", "9 * 2 = 18")
    assert target == "9 * 2 = 18\nThe answer is 18."
    assert final_answer(target) == "18"
    assert scoring.format_target("5") == "The answer is 5."
