"""How a choice or label paragraph is read as small generators write it: an answer *statement* ("The
correct choice is B: Aspirin"), an answer that comes first with its reasoning after it, a first line
"C. <choice C>"; and what still refuses it: a wrong choice, reasoning for another choice or naming
nothing of the problem, a restated instruction instead of reasoning (echo of the real default prompt).
"""

from __future__ import annotations

import pytest

from trait.records import Problem
from trait.synthesize.checks import check_paragraph, own_text
from trait.synthesize.choices import read_answer
from trait.synthesize.passages import hint_for, shown
from trait.synthesize.prompts import Prompts
from trait.tasks import TaskSpec

DRUG = Problem(id="q1", task="pharm", input="Which drug irreversibly inhibits platelet cyclooxygenase?",
               answer="B", kind="multiple_choice", choices=["Heparin", "Aspirin", "Warfarin", "Clopidogrel"])
SHOES = Problem(id="e1", task="esci", input="Query: running shoes for men\nProduct: Pegasus men's road running shoe",
                answer="Exact", kind="classification", choices=["Exact", "Substitute", "Complement", "Irrelevant"])
SPEC = TaskSpec(name="pharm", description="Pharmacology questions.", train="x.jsonl")
PROMPTS = Prompts.from_overrides({})


def _echo(problem: Problem) -> str:
    """What passages.py passes: the real paragraph prompt with the gold hint, less the problem."""
    user = PROMPTS.render("paragraph", task=problem.task, description=SPEC.description, problem=shown(problem, PROMPTS),
                          hint=hint_for(problem, "answer", PROMPTS))
    return user.replace(shown(problem, PROMPTS), " ")


def _judge(text: str, problem: Problem = DRUG, min_words: int = 5):
    return check_paragraph(text, problem, SPEC, min_words, _echo(problem))


@pytest.mark.parametrize("text, reason", [
    # the answer first, the reasoning after it
    ("The correct choice is B: Aspirin. Aspirin acetylates platelet cyclooxygenase for good, unlike heparin.", "ok"),
    ("A short answer: the answer is (B). Aspirin acetylates platelet cyclooxygenase, so the block lasts.", "ok"),
    ("B. Aspirin\nAspirin acetylates platelet cyclooxygenase for the platelet's whole life.", "ok"),
    ("The correct choice is B. Aspirin acetylates platelet cyclooxygenase, so the block lasts.", "ok"),
    # a wrong choice stated first is read, and refused
    ("The correct choice is C: Warfarin. Warfarin blocks vitamin K recycling in the liver for days.", "disagrees"),
    ("C. Warfarin\nWarfarin blocks vitamin K recycling, so clotting factors fall for days.", "disagrees"),
    # the right choice stated, then reasoning for another one, or about nothing of the gold choice
    ("The correct choice is B: Aspirin. Yet heparin binds the enzyme for good, so option A fits best.", "argues_other"),
    ("The correct choice is B: Aspirin. This answer is accurate and based on sound medical knowledge.",
     "gold_not_discussed"),
    # the hint and the instructions said back: no reasoning of its own
    ("The correct choice is B: Aspirin. Say briefly why the other choices fail, then conclude with why B is right.",
     "too_short"),
    ("The answer is B. B is the correct answer. The correct choice is B: Aspirin.", "too_short"),
    # a bare "A." may start a list of the choices: no answer
    ("A. Heparin binds antithrombin.\nB. Aspirin acetylates the enzyme.", "no_answer"),
])
def test_an_answer_stated_first_is_read_and_its_reasoning_checked(text, reason):
    assert _judge(text).reason == reason


def test_the_reasoning_is_what_follows_an_opening_answer():
    text = "The correct choice is B: Aspirin. Aspirin acetylates platelet cyclooxygenase for good. Heparin does"
    judged = _judge(text)
    # the stub cut by max_tokens is dropped, and the kept paragraph ends with its answer line
    assert judged.reason == "ok" and judged.answer == "B"
    assert judged.kept == ("The correct choice is B: Aspirin. Aspirin acetylates platelet cyclooxygenase for good."
                           "\nAnswer: B")
    read = read_answer(text, DRUG.choices, mc=True, min_words=5)
    assert read.reasoning == ". Aspirin acetylates platelet cyclooxygenase for good."


def test_a_closing_answer_with_reasoning_before_it_wins_over_an_opening_one():
    text = ("The correct choice is B: Aspirin. Heparin and warfarin act on clotting factors, while clopidogrel blocks "
            "the ADP receptor.\nAnswer: C")
    assert _judge(text).reason == "disagrees"
    # ... unless the closing one names no choice at all ("the answer is right because ...")
    text = "The correct choice is B: Aspirin. Aspirin acetylates the enzyme for good; the answer is right because of it."
    assert _judge(text).reason == "ok"


@pytest.mark.parametrize("text, reason", [
    ("The correct label is Exact. The query asks for men's running shoes and the Pegasus is one.", "ok"),
    ("The correct answer to the task is exact: a Pegasus road shoe for men is what the query asks for.", "ok"),
    ("The correct label is Substitute. A Pegasus running shoe could stand in for others.", "disagrees"),
    ("The correct label is Exact. The Pegasus is a road shoe, so it is a substitute.", "argues_other"),
    # the label and words of the task, nothing of this query or product
    ("The answer is Exact. This means that the product matches the query exactly, as the search intends.",
     "input_not_discussed"),
    # the instruction said back
    ("The correct label is Exact. Explain what in the input makes it fit, then end your paragraph with the line.",
     "too_short"),
    # the input pasted back names its words but says nothing about them
    ("The correct label is Exact. Query: running shoes for men. Product: Pegasus men's road running shoe.",
     "copies_input"),
    ("The answer is Exact.\nQuery: running shoes for men\nProduct: Pegasus men's road running shoe\nSo it is exact.",
     "copies_input"),
    # a short quote inside reasoning of its own is no paste
    ("The correct label is Exact. The shopper wants running shoes for men, and the Pegasus is a men's road shoe.",
     "ok"),
])
def test_labels_stated_first(text, reason):
    assert _judge(text, SHOES).reason == reason


def test_words_every_input_shares_name_nothing_of_this_one():
    """The template's own words ("Match", "Brand") are in every input: a paragraph naming only them
    discusses none, while one naming the product's words does."""
    spec = TaskSpec(name="esci", description="Query-product relevance.", train="x.jsonl",
                    input_template="Query: {query}\nProduct: {title}\nBrand: {brand}\nMatch: exact or not?")
    shoes = Problem(id="e2", task="esci", answer="Exact", kind="classification",
                    choices=["Exact", "Substitute", "Complement", "Irrelevant"],
                    input="Query: trail runners\nProduct: Speedgoat trail shoe\nBrand: Hoka\nMatch: exact or not?")
    vague = "The answer is Exact. The brand is a perfect match for what this search wants, so the label is Exact."
    assert check_paragraph(vague, shoes, spec, 5).reason == "input_not_discussed"
    said = "The answer is Exact. The Speedgoat is a trail shoe, which is what trail runners means, so it is Exact."
    assert check_paragraph(said, shoes, spec, 5).reason == "ok"


def test_words_the_prompt_gave_name_nothing_of_the_input():
    """A hint that dictates "because the study" and asks for "findings" cannot by itself make a paragraph
    discuss the abstract, though the abstract says "study" too."""
    spec = TaskSpec(name="pqa", description="Yes, no or maybe.", train="x.jsonl",
                    input_template="{question}\nAbstract: {context}")
    trial = Problem(id="p1", task="pqa", answer="yes", kind="classification", choices=["yes", "no", "maybe"],
                    input="Does aspirin prevent strokes?\nAbstract: This study followed 200 patients on aspirin.")
    echo = ('The answer is yes. Begin your reply with "The answer is yes because the study" and explain in a '
            'few sentences which findings show this.')
    vague = "The answer is yes because the study has clear findings that support this answer well."
    assert check_paragraph(vague, trial, spec, 5, echo).reason == "input_not_discussed"
    said = "The answer is yes because the study followed 200 patients, and those on aspirin had fewer strokes."
    assert check_paragraph(said, trial, spec, 5, echo).reason == "ok"


def test_uncopied_cuts_only_runs_pasted_from_the_problem():
    from trait.synthesize.checks import uncopied

    assert uncopied("So. Query: running shoes for men. Product: Pegasus men's road running shoe. It fits.",
                    SHOES.input) == "So. It fits."
    kept = "The query asks for men's running shoes and the Pegasus is one."
    assert uncopied(kept, SHOES.input) == kept
    # a multiple-choice question restated is cut; the choices are not part of the input, so quoting one stays
    assert uncopied("Which drug irreversibly inhibits platelet cyclooxygenase? Aspirin does, for good.",
                    DRUG.input) == "Aspirin does, for good."
    # several problems at once (a lesson): a paste of any of them is cut
    assert uncopied("Both: Which drug irreversibly inhibits platelet cyclooxygenase? Query: running shoes for men Product: Pegasus",
                    DRUG.input, SHOES.input) == "Both:"


def test_sentences_that_only_repeat_the_prompt_are_no_reasoning():
    echo = _echo(SHOES)
    assert own_text("Explain what in the input makes it fit. The Pegasus is a running shoe.", echo) == \
        "The Pegasus is a running shoe."
    assert own_text("Explain what in the input makes it fit.") == "Explain what in the input makes it fit."
    # the gold choice said back from the hint does not discuss it
    text = ("The correct choice is B: Aspirin. Aspirin is the correct choice. This answer is accurate and based on "
            "sound medical knowledge.")
    assert _judge(text).reason == "gold_not_discussed"


def test_a_letter_called_the_correct_answer_closes_the_reasoning():
    text = "Aspirin acetylates platelet cyclooxygenase for good, unlike heparin. Therefore, B is the correct answer."
    assert _judge(text).reason == "ok"
    text = "Warfarin blocks vitamin K recycling in the liver for days. Therefore, C is the correct answer."
    assert _judge(text).reason == "disagrees"
    # a vitamin called A is no answer statement
    assert read_answer("Vitamin A is the best source of it, and so it is right.", DRUG.choices, True, 5) is None


def test_a_first_line_naming_a_letter_and_its_own_choice_is_an_answer():
    # "C: <choice C's text> is ...": the letter is read, the sentence about the choice is reasoning
    read = read_answer("B: Aspirin is taken daily; it acetylates the enzyme for good.", DRUG.choices, True, 5)
    assert (read.answer, read.reasoning) == ("B", " Aspirin is taken daily; it acetylates the enzyme for good.")
    # a letter with another choice's text, or "A." before a sentence, may be a list of the choices
    assert read_answer("A: Aspirin is taken daily, and it acetylates the enzyme.", DRUG.choices, True, 5) is None
    assert read_answer("A. Heparin binds antithrombin, B. aspirin acts for good.", DRUG.choices, True, 5) is None


@pytest.mark.parametrize("text, reason", [
    ("Exact: the Pegasus is a men's road running shoe, the very thing the query asks for.", "ok"),
    ("Substitute, as the Pegasus is a running shoe.", "disagrees"),
    ("Exactly the Pegasus running shoe that the query asks for, so the label is Exact.", "too_short"),
])
def test_a_paragraph_may_open_with_its_label(text, reason):
    assert _judge(text, SHOES).reason == reason


def test_a_passage_job_judges_a_paragraph_against_its_own_prompt():
    """passages.py hands the check the request's prompt less the problem: a parroted hint is refused."""
    from trait.llm.base import ChatResult
    from trait.synthesize.groups import Group
    from trait.synthesize.passages import PassageJob, Settings

    settings = Settings(prompts=PROMPTS, tasks={"pharm": SPEC}, model="fake", backend="openai", temperature=0.7,
                        top_p=0.95, max_tokens=128, seed=0, gold_hints="answer", max_regenerations=1,
                        min_paragraph_words=5, min_enlightenment_words=10)
    job = PassageJob(Group(0, (DRUG,)), settings)
    (slot, request), = job.pending()
    job.take(slot, request, ChatResult("The correct choice is B: Aspirin. Say briefly why the other choices fail."))
    (slot, request), = job.pending()
    job.take(slot, request, ChatResult("The correct choice is B: Aspirin. Aspirin acetylates platelet "
                                       "cyclooxygenase for good, unlike heparin."))
    assert [a.reason for a in job.paragraphs[0].attempts] == ["too_short", "ok"]


@pytest.mark.parametrize("text, answer", [
    ("C is the most appropriate choice. Warfarin blocks vitamin K recycling in the liver for days.", "C"),
    ("B is correct. Aspirin acetylates platelet cyclooxygenase for good, unlike heparin.", "B"),
    ("Aspirin is the most lasting blocker: it acetylates platelet cyclooxygenase for good.", "B"),
    ("Aspirin.\nAspirin acetylates platelet cyclooxygenase for good, unlike heparin.", "B"),
    # not answers: a choice's text in a list, a letter that does not start its clause
    ("Heparin, warfarin and aspirin all act on clotting in some way or other.", None),
    ("Vitamin A is the best source of it, and so it is right for the eyes.", None),
])
def test_a_choice_named_the_right_one_is_an_answer(text, answer):
    read = read_answer(text, DRUG.choices, mc=True, min_words=5)
    assert (read.answer if read else None) == answer
