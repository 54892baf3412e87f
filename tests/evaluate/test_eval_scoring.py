"""Answer extraction and scoring: the rules that decide every exact-match number."""

from __future__ import annotations

from pathlib import Path

import pytest

from trait.evaluate import scoring


@pytest.mark.parametrize("text, expected", [
    ("She makes 9 * 2 = 18 dollars.\n#### 72", "72"),
    ("so 3 + 4 = 7. The answer is 7.", "7"),
    ("The final answer is: $1,250", "1,250"),
    ("We get \\boxed{12}", "12"),
    ("first 3 then 5 then 41", "41"),
    ("no digits here", None),
    ("#### 8\nQuestion: what about 9", "8"),
])
def test_extract_answer(text, expected):
    assert scoring.extract_answer(text) == expected


@pytest.mark.parametrize("pred, gold", [("72", "72.0"), ("$1,250", "1250"), ("7.", "7"), ("0.50", "0.5")])
def test_exact_match_normalises_numbers(pred, gold):
    assert scoring.exact_match(pred, gold)


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
    assert scoring.extract_answer(target) == "18"
    assert scoring.format_target("5") == "The answer is 5."


def test_scoring_module_is_standalone():
    """It is copied beside the YAMLs as utils.py: importing trait from there would break plain lm_eval."""
    source = Path(scoring.__file__).read_text(encoding="utf-8")
    assert "import trait" not in source and "from trait" not in source
