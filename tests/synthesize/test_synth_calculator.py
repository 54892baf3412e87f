"""The calculator: statements it reads are checked exactly; statements it cannot read are never wrong.

The false-positive check runs it over every GSM8K training solution shipped with the math example:
what it flags there must be slips of the solutions themselves, listed here one by one.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from trait.synthesize.calculator import calculate, final_value_agrees


@pytest.mark.parametrize("text", [
    "Natalia sold 48/2 = 24 clips in May.",
    "She earned 0.2 x 50 = $10.",
    "So 100 - 50 - 30 - 15 = $5 more.",
    "In total 1,250 + 750 = 2,000 people.",
    "That is 12 × 4 = 48, and 48 ÷ 6 = 8.",
    "The change is 10 − 3.5 = 6.5 dollars.",
    "It takes 365 – 1 = 364 days.",  # en dash as minus
    "First 5 * 2 = 10 + 3 = 13 apples.",  # a running total
    "A discount of 25% of 80 = 20 dollars.",
    "The rate is 50% * 10 = 5.",
    "So (3 + 4) * 2 = 14.",
    "Each costs 10 / 3 = 3.33 dollars.",  # rounded to what it shows
    "He needs 7 / 2 = 3.5 boxes, and 3.5 * 2 = 7.",
    "So 60 / 3/4 = 80 minutes.",  # a fraction written tight is one number
    "- 48 / 2 = 24 (a bullet)\n* 24 + 1 = 25",
    "**48 / 2 = 24**",
    "\\(3 \\times 4 = 12\\)",
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.",  # GSM8K calculator notes
    "The difference is 3 - 8 = -5.",
    "She sold 72 clips (48 + 24 = 72) in all.",
    "1. 5 + 5 = 10\n2. 10 * 2 = 20",
    "which is 10 - 8 = 2 (10 lost marbles - 8 gained marbles = 2 lost marbles)",  # an aside after the value
])
def test_true_statements_are_read_and_pass(text):
    calc = calculate(text)
    assert calc.statements >= 1 and calc.wrong == ()


@pytest.mark.parametrize("text,shown", [
    ("She has 154 - 78 = 114 left.", "154 - 78 = 114 (is 76)"),
    ("So 5 * 2 = 10 + 3 = 14.", "10 + 3 = 14 (is 13)"),
    ("A tip of 20% of 50 = 12 dollars.", "20% of 50 = 12 (is 10)"),
    ("He pays 3 x 1,250 = 3,500.", "3 x 1,250 = 3,500 (is 3750)"),
    ("Then 10 / 4 = 3.5 hours.", "10 / 4 = 3.5 (is 2.5)"),
    ("In all 7 + 8 = 16.", "7 + 8 = 16 (is 15)"),
    ("She sold 72 clips (48 + 24 = 82) in all.", "48 + 24 = 82 (is 72)"),
    ("So 48/2 = 25 (clips) in May.", "48/2 = 25 (is 24)"),
    # SmolLM2-135M, synthesizing the math demo:
    ("multiply the total length of the longer worm by itself: 0.3 * 0.3 = 0.06", "0.3 * 0.3 = 0.06 (is 0.09)"),
    ("Step 1: First, convert all the exponents to positive numbers.\n(44 + 44 = 96)", "44 + 44 = 96 (is 88)"),
])
def test_false_statements_are_flagged_with_the_right_value(text, shown):
    assert calculate(text).wrong == (shown,)


@pytest.mark.parametrize("text", [
    "Half of 10 = 5 apples.",  # a word scales the number
    "Twice 4 = 8.",
    "He buys 3 dozen = 36 eggs, so 1 dozen = 12.",
    "Let x - 5 = 12, so x = 17.",  # a variable
    "2x = 10 gives x = 5.",
    "The ratio 3:4 = 0.75.",
    "48 clips / 2 = 24 clips.",  # units inside the expression
    "100 students x 2/5 = 40 students.",
    "He left at 0900-0130 = 0730 hours.",  # a time
    "It costs $1 / 2 = 50 cents.",
    "She runs 12 x 1 and 1/4 = 15 miles.",  # a mixed number
    "He buys 100 / 6 = 16 and (2/3) books.",
    "Week 3 + Week 4 = 48 + 48 = 96 hours.",  # labels, not sums
    "Remaining 10 = 62,300/10 = $6230.",
    "2^3 = 8 and 5² = 25.",
    "Since 1 <= 2 and 3 == 3.",
])
def test_statements_it_cannot_read_are_never_wrong(text):
    assert calculate(text).wrong == ()


def test_last_derived_value_against_the_answer_line():
    text = "She recycled 52 / 2 = 26 cans, so she earned 26 points.\nAnswer: 9"
    assert final_value_agrees(calculate(text), "9", text) is False
    text = "She recycled 52 / 2 = 26 cans, so she earned 26 points.\nAnswer: 26"
    assert final_value_agrees(calculate(text), "26", text) is True
    # A later step it cannot read still counts when the text names the answer after the last statement.
    text = "Fred spent 236 - 14 = 222 dollars, and $222 / 6 books = $37 a book.\nAnswer: 37"
    assert final_value_agrees(calculate(text), "37", text) is True
    text = "So 12 / 15 = 0.8 of the girls.\nAnswer: 80"  # a share stated as a percentage
    assert final_value_agrees(calculate(text), "80%", text) is True
    text = "So 3 / 4 = 0.75 of it.\nAnswer: 3/4"
    assert final_value_agrees(calculate(text), "3/4", text) is True
    assert final_value_agrees(calculate("No arithmetic here. Answer: 4"), "4", "No arithmetic here.") is None
    calc = calculate("So 3 - 8 = -5.")
    assert calc.last == (Fraction(-5),) and final_value_agrees(calc, "-5", "So 3 - 8 = -5.\nAnswer: -5")


# Every statement the calculator flags in GSM8K's 7,473 training solutions (with their <<...>> notes):
# arithmetic slips of the solutions themselves, except the last few, marked, which read a notation
# differently from its writer (a range "Weeks 1-2", "14 / 1 / 4" for 14 / (1/4), amounts in another unit).
GSM8K_FLAGGED = {
    "192*100=$1920 (is 19200)", "6/3=.5 (is 2)", "4080 + 4080 / 2 = 4000 + 2040 (is 6120)", "3/1=1 (is 3)",
    "$4200+$3000 = $8600 (is 7200)", "10 x .5 = 10 (is 5)", "2*8 = 24 (is 16)", "200*.55=100 (is 110)",
    "5 x 1/2 = 10 (is 2.5)", "70 + 40 = 100 (is 110)", "10 x 1,248 = 11,480 (is 12480)", "14*20=140 (is 280)",
    "2 / 12 = .125 (is 0.1667)", "3 x (8/16) = 6 (is 1.5)", "4+4+6 = 18 (is 14)", "500/ 2/5 = 200 (is 50)",
    "1152/ 1,536 = .5 (is 0.75)",
    # read differently from what the writer meant:
    "1-2 = 96 - 70 (is -1)", "14 / 1 / 4 = 14 * 4 (is 3.5)", "100 * 0.75 = $0.75 (is 75)",
    "5 * 3 = $15,000 (is 15)", "7+9+1+2 = $19.50 (is 19)",
}


def test_gsm8k_gold_solutions_are_read_and_only_their_own_slips_flagged(example_data):
    rows = [json.loads(line) for line in (example_data / "gsm8k" / "train.jsonl").read_text().splitlines()]
    read = solutions = 0
    flagged: list[str] = []
    for row in rows:
        calc = calculate(row["answer"].rsplit("####", 1)[0])
        read += calc.statements
        solutions += calc.statements > 0
        flagged += calc.wrong
    assert len(rows) == 7473 and solutions >= 7300 and read >= 24000
    assert set(flagged) == GSM8K_FLAGGED and len(flagged) == len(GSM8K_FLAGGED)
