"""Is this answer correct? Extraction, normalisation and equivalence, shared by synthesis and evaluation."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from trait import answers
from trait.answers import answers_match, exact_match, extract_answer, final_answer, normalize, split_gsm8k


@pytest.mark.parametrize("text, answer", [
    ("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\n#### 72", "72"),
    ("Adding them gives 1234. The answer is 1,234.", "1,234"),
    ("so 3 + 4 = 7. The answer is 7.", "7"),
    ("The answer is 7.2.", "7.2"),
    ("The final answer is: $1,250", "1,250"),
    ("So the fraction is $\\boxed{3/4}$ of the cake.", "3/4"),
    ("We get \\boxed{12}", "12"),
    ("The answer is $\\boxed{5}$.", "5"),
    ("Step 1: 5 + 3 = 8\nAnswer: **8**\nI hope this helps! 99 more", "8"),
    ("**Final Answer:** $\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"),
    ("First 5, then 7, finally we get 9", "9"),
    ("#### 8\nQuestion: what about 9", "8"),
    ("The answer is positive.", "positive"),
])
def test_extracts_the_final_answer(text, answer):
    assert final_answer(text) == answer


def test_extraction_marks_trailing_chatter_and_implicit_answers():
    text = "Answer: 8\nI hope this helps! 99 more"
    ex = extract_answer(text)
    assert text[: ex.end] == "Answer: 8" and ex.explicit
    assert not extract_answer("we get 9").explicit
    assert extract_answer("no digits at all") is None and final_answer("") is None
    # Prose after "the answer is" is not an answer: the last number is used instead (implicit).
    ex = extract_answer("It costs 7. The final answer is based on the steps of 1 and 2")
    assert ex.answer == "2" and not ex.explicit


# Inputs on which synthesize/checker.py and evaluate/scoring.py used to disagree (or were both wrong).
@pytest.mark.parametrize("text, answer", [
    ("#### 5\nThe answer is 6.", "6"),  # scoring: first '####' won (5); the latest marker is the final word
    ("The answer is 7. The answer is 8.", "8"),  # scoring took the first
    ("Step 1: 5 + 3 = 8\nAnswer: 8\nThanks! 99", "8"),  # scoring knew no 'Answer:' line: took 99
    ("We get \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),  # scoring's \boxed had no nested braces: took 2
    ("The result is .5", ".5"),  # scoring's numbers needed a leading digit: took 5
    ("The temperature is −3", "-3"),  # scoring dropped a unicode minus
    ("so we get 3 / 4", "3 / 4"),  # scoring took 4
    ("The final answer is: $1,250", "1,250"),  # checker kept the '$'
    ("Answer: 8. I hope this helps", "8"),  # checker took the whole line
    ("we get 41, done", "41"),  # both kept the comma
    ("the numbers 1,2,3", "3"),  # both read 1,2,3 as one number (123)
    ("#### Solution\nWe add 2 and 3 to get 5.", "5"),  # both took a markdown heading for GSM8K's '####'
    ("Answer: We add 3 and 4 to get 7.", "7"),  # checker took the sentence
])
def test_former_extraction_disagreements(text, answer):
    assert final_answer(text) == answer


@pytest.mark.parametrize("pred, gold", [
    ("72", "72.0"), ("$1,250", "1250"), ("7.", "7"), ("0.50", "0.5"), (" Positive. ", "positive"),
    ("1,234", "1234"), ("51.0", "51"), (".5", "0.5"), ("\\$18", "18"), ("25%", "25"),
    ("72 clips", "72"),  # a bare-number gold accepts units
])
def test_exact_match_normalises(pred, gold):
    assert exact_match(pred, gold) and answers_match(pred, gold, "exact") and answers_match(pred, gold, "math")


@pytest.mark.parametrize("pred, gold", [
    ("negative", "positive"), ("3 stars", "3 planets"), ("1/2", "0.5"), ("73", "72"), (None, "72"), ("720", "72"),
])
def test_exact_match_rejects(pred, gold):
    assert not exact_match(pred, gold)


@pytest.mark.parametrize("pred, gold", [
    ("3/4", "0.75"), ("\\frac{3}{4}", "0.75"), ("1/2", "0.5"), ("3 / 4", "0.75"), ("1,234,567", "1234567"),
    ("0.333333", "1/3"), ("25%", "0.25"), ("5 + 3 = 8", "8"), ("72 clips", "72"),
])
def test_math_checker_accepts_equivalent_answers(pred, gold):
    assert answers_match(pred, gold, "math")


@pytest.mark.parametrize("pred, gold", [("73", "72"), ("0.7", "3/4"), ("1,235", "1234"), ("no idea", "5"),
                                        ("720", "72"), (None, "5")])
def test_math_checker_rejects_wrong_answers(pred, gold):
    assert not answers_match(pred, gold, "math")


@pytest.mark.parametrize("pred, gold, checker, expected", [
    # Numbers were equal only under the math checker: the exact checker had no numeric canonical form.
    ("72", "72.0", "exact", True), ("1,234", "1234", "exact", True),
    # Evaluation's exact_match read '25%' and '72 clips' as 25 and 72; synthesis's exact checker did not.
    ("25%", "25", "exact", True), ("72 clips", "72", "exact", True),
    # '$' escaped for LaTeX was no number to evaluation's math_verify metric.
    ("\\$18", "18", "math", True),
])
def test_former_equivalence_disagreements(pred, gold, checker, expected):
    assert answers_match(pred, gold, checker) is expected


def test_none_checker_accepts_anything():
    assert answers_match("anything", "positive", "none") and answers_match(None, "5", "none")


def test_boxed_gold_agrees_with_decimal_extracted_from_text():
    pred = final_answer("The share is \\boxed{3/4}.")
    assert answers_match(pred, "0.75") and not answers_match(pred, "0.8")


def test_normalize():
    assert normalize(" $1,250.0 ") == "1250" and normalize("-0.0") == "0" and normalize("New  York") == "newyork"


def test_gsm8k_answer_field_splits_into_solution_and_final():
    raw = "She sold 48/2 = <<48/2=24>>24 clips.\nIn all 48+24 = <<48+24=72>>72.\n#### 1,072"
    assert split_gsm8k(raw) == ("She sold 48/2 = 24 clips.\nIn all 48+24 = 72.", "1072")
    assert split_gsm8k("no final line") is None


def test_module_runs_without_the_trait_package(monkeypatch):
    """It is copied beside the generated lm-eval YAMLs, where trait may not be installed."""
    monkeypatch.setitem(sys.modules, "trait", None)  # any 'import trait...' now fails
    spec = importlib.util.spec_from_file_location("copied_answers", answers.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.answers_match(module.final_answer("so #### 72"), "72.0")
