"""Final-answer extraction and gold comparison (math-verify with a numeric fallback)."""

from __future__ import annotations

import pytest

from trait.synthesize.checker import answers_match, extract_answer


@pytest.mark.parametrize("text,answer", [
    ("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\n#### 72", "72"),
    ("Adding them gives 1234. The answer is 1,234.", "1,234"),
    ("So the fraction is $\\boxed{3/4}$ of the cake.", "3/4"),
    ("Step 1: 5 + 3 = 8\nAnswer: **8**\nI hope this helps! 99 more", "8"),
    ("**Final Answer:** $\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"),
    ("First 5, then 7, finally we get 9", "9"),
])
def test_extracts_the_final_answer(text, answer):
    ex = extract_answer(text)
    assert ex is not None and ex.answer == answer


def test_extraction_marks_trailing_chatter_and_implicit_answers():
    text = "Answer: 8\nI hope this helps! 99 more"
    ex = extract_answer(text)
    assert text[: ex.end] == "Answer: 8" and ex.explicit
    assert not extract_answer("we get 9").explicit
    assert extract_answer("no digits at all") is None
    # Prose after "the answer is" is not an answer: the last number is used instead (implicit).
    ex = extract_answer("It costs 7. The final answer is based on the steps of 1 and 2")
    assert ex.answer == "2" and not ex.explicit


@pytest.mark.parametrize("pred,gold", [
    ("72", "72"), ("1,234", "1234"), ("3/4", "0.75"), ("\\frac{3}{4}", "0.75"), ("51.0", "51"),
    ("$18", "18"), ("72 clips", "72"), ("1,234,567", "1234567"),
])
def test_math_checker_accepts_equal_answers(pred, gold):
    assert answers_match(pred, gold, "math")


@pytest.mark.parametrize("pred,gold", [("73", "72"), ("0.7", "3/4"), ("1,235", "1234"), ("no idea", "5")])
def test_math_checker_rejects_wrong_answers(pred, gold):
    assert not answers_match(pred, gold, "math")


def test_exact_and_none_checkers():
    assert answers_match(" Positive. ", "positive", "exact")
    assert not answers_match("negative", "positive", "exact")
    assert answers_match("anything", "positive", "none")


def test_boxed_gold_agrees_with_decimal_extracted_from_text():
    ex = extract_answer("The share is \\boxed{3/4}.")
    assert answers_match(ex.answer, "0.75") and not answers_match(ex.answer, "0.8")
