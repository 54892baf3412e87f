"""N-gram decontamination against real GSM8K test questions."""

from __future__ import annotations

from trait.records import Problem
from trait.select.decontam import ContaminationIndex, words
from trait.tasks import TaskSpec, load_problems


def gsm8k_index(example_data, n: int = 13) -> tuple[ContaminationIndex, list[Problem]]:
    spec = TaskSpec(name="gsm8k", test=str(example_data / "gsm8k" / "test.jsonl"), answer_format="gsm8k")
    problems = load_problems(spec, "test")
    index = ContaminationIndex(n=n)
    index.add_problems(problems)
    return index, problems


def test_13gram_of_a_test_question_is_caught_short_overlap_is_not(example_data):
    index, problems = gsm8k_index(example_data)
    q = problems[0]  # "Janet's ducks lay 16 eggs per day. She eats three for breakfast ..."
    toks = q.input.split()
    window = " ".join(toks[5:18])  # 13 words from the middle, original punctuation and case
    doc = f"In this article about farming we note that {window.upper()}, which is common."
    assert index.match(doc) == q.id
    short = " ".join(toks[5:14])  # only 9 consecutive words shared
    assert index.match(f"In this article about farming we note that {short}, which is common.") is None
    assert index.match("Janet's ducks lay eggs. The farmers' market sells fresh duck eggs daily.") is None


def test_solutions_are_indexed_too(example_data):
    index, problems = gsm8k_index(example_data)
    p = problems[5]
    assert p.solution and index.match("Worked answer: " + p.solution) == p.id


def test_short_items_match_whole_and_tiny_items_are_skipped():
    index = ContaminationIndex(n=13, min_words=4)
    index.add("short", "How many apples does Tom have left?")  # 7 words < 13: matched whole
    index.add("tiny", "What is 2+2?")  # 4 words: kept; "what is 2 2"
    index.add("too-tiny", "Add them.")  # 2 words: too generic, skipped and counted
    assert index.match("Question: how many apples does Tom have left? Answer: three.") == "short"
    assert index.match("How many apples does Tom have?") is None
    assert index.match("add them") is None
    assert index.stats()["test_items_too_short"] == 1 and index.stats()["test_items_indexed"] == 2


def test_words_strip_punctuation_and_case():
    assert words("Janet’s ducks: 16 EGGS, per-day!") == ["janet", "s", "ducks", "16", "eggs", "per", "day"]
    assert ContaminationIndex().match("anything") is None  # empty index never matches
