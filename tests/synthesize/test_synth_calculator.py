"""The calculator: statements it reads are checked exactly; statements it cannot read are never wrong.

The false-alarm check runs it over every GSM8K gold solution shipped with the math example (train and
test): what it flags there must be slips of the solutions themselves, listed here one by one.
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
    # Gold GSM8K statements it once misread (train lines 717, 3860, 4594, 5782):
    "Margaret has 100 * 0.75 = $0.75.",  # cents restated in dollars
    "the losses are 5 * 3 = $15,000.",  # 5 thousand dollars a day
    "A bottle lasts her 14 / 1 / 4 = 14 * 4 = 56 washes.",  # 14 / (1/4): nobody divides by one
    "so she spends 7+9+1+2 = $19.50 per week",  # whole dollars, the cents dropped
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
    # where a dollar result may restate another unit, a factor of ten or a large gap is still a slip:
    ("So it cost 192*100=$1920", "192*100=$1920 (is 19200)"),
    ("she spends 7+9+1+2 = $25.50", "7+9+1+2 = $25.50 (is 19)"),
    ("it costs 2.5 + 1 = $4.50", "2.5 + 1 = $4.50 (is 3.5)"),
    ("So 28 / 1 / 4 = 14 in all.", "28 / 1 / 4 = 14 (is 7)"),
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
    "Subtract Weeks 3-4 from Weeks 1-2 = 96 - 70 = 26",  # ranges (GSM8K train line 6591)
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


# Every statement the calculator flags in GSM8K's 8,792 gold solutions (train and test, with their
# <<...>> notes): each checked by hand to be a slip of the solution itself, so none is a false alarm.
GSM8K_SLIPS = {
    ("train", 168): "192*100=$1920 (is 19200)", ("train", 199): "6/3=.5 (is 2)",
    ("train", 225): "4080 + 4080 / 2 = 4000 + 2040 (is 6120)", ("train", 503): "3/1=1 (is 3)",
    ("train", 3335): "$4200+$3000 = $8600 (is 7200)", ("train", 3410): "10 x .5 = 10 (is 5)",
    ("train", 4692): "2*8 = 24 (is 16)", ("train", 4974): "200*.55=100 (is 110)",
    ("train", 5196): "5 x 1/2 = 10 (is 2.5)", ("train", 6158): "70 + 40 = 100 (is 110)",
    ("train", 6257): "10 x 1,248 = 11,480 (is 12480)", ("train", 6701): "2 / 12 = .125 (is 0.1667)",
    ("train", 6714): "3 x (8/16) = 6 (is 1.5)", ("train", 6761): "4+4+6 = 18 (is 14)",
    ("train", 6843): "500/ 2/5 = 200 (is 50)", ("train", 7179): "1152/ 1,536 = .5 (is 0.75)",
    ("train", 7445): "14*20=140 (is 280)", ("test", 1025): "$32 - $20 = $300 (is 12)",
}


def test_gsm8k_gold_solutions_raise_no_false_alarm(example_data):
    """Every gold solution is read; what is flagged is exactly the known slips (file, line)."""
    read = solutions = rows = 0
    flagged: list[tuple[str, int, str]] = []
    for split in ("train", "test"):
        lines = (example_data / "gsm8k" / f"{split}.jsonl").read_text().splitlines()
        rows += len(lines)
        for n, line in enumerate(lines, 1):
            calc = calculate(json.loads(line)["answer"].rsplit("####", 1)[0])
            read += calc.statements
            solutions += calc.statements > 0
            flagged += [(split, n, w) for w in calc.wrong]
    assert rows == 8792 and solutions >= 8600 and read >= 28000
    slips = {(split, n, w) for (split, n), w in GSM8K_SLIPS.items()}
    assert [f for f in flagged if f not in slips] == [], "false alarms: gold statements flagged as wrong"
    assert sorted(flagged) == sorted(slips)  # and every known slip is still caught
