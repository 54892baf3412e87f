"""Decontamination: the n-gram index against real GSM8K test questions, the exact match of short items,
what a filtered step hashes, and train problems that copy a test item (MAWPS-style) dropped."""

from __future__ import annotations

import json

from trait.contamination import (
    ContaminationIndex,
    Decontamination,
    DecontaminationConfig,
    drop_contaminated,
    words,
)
from trait.records import Problem
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
    hit = index.find(doc)
    assert hit is not None and hit.rule == "ngram" and hit.shared == " ".join(words(window))
    short = " ".join(toks[5:14])  # only 9 consecutive words shared
    assert index.match(f"In this article about farming we note that {short}, which is common.") is None
    assert index.match("Janet's ducks lay eggs. The farmers' market sells fresh duck eggs daily.") is None


def test_solutions_are_indexed_too(example_data):
    index, problems = gsm8k_index(example_data)
    p = problems[5]
    assert p.solution and index.match("Worked answer: " + p.solution) == p.id


def test_short_items_match_whole_and_tiny_items_only_by_equality():
    index = ContaminationIndex(n=13, min_words=4)
    index.add("short", "How many apples does Tom have left?")  # 7 words < 13: matched whole
    index.add("tiny", "What is 2+2?")  # 4 words: kept; "what is 2 2"
    index.add("too-tiny", "Add them.")  # 2 words: too generic for a substring match, counted
    assert index.match("Question: how many apples does Tom have left? Answer: three.") == "short"
    assert index.match("How many apples does Tom have?") is None
    assert index.match("add them") is None  # exact_short off
    assert index.stats()["test_items_too_short"] == 1 and index.stats()["test_items_indexed"] == 2

    exact = ContaminationIndex(n=13, min_words=8, exact_short=True)
    exact.add("q", "How many pens does Sam have?")  # 6 words: only a verbatim copy counts
    exact.add("eq", "x = 5 * 9", exact=False)  # an equation: many unrelated items share it
    assert exact.find("how many PENS does sam have") == exact.find("How many pens does Sam have?")
    assert exact.match("How many pens does Sam have?") == "q"
    assert exact.match("Sam has 3 pens. How many pens does Sam have?") is None
    assert exact.match("x=5*9") is None


def test_words_strip_punctuation_and_case():
    assert words("Janet’s ducks: 16 EGGS, per-day!") == ["janet", "s", "ducks", "16", "eggs", "per", "day"]
    assert ContaminationIndex().match("anything") is None  # empty index never matches


def _mawps_like(root) -> TaskSpec:
    """One file split by a field, as MAWPS ships: two train items copy test items (one long, one short)."""
    long_q = "A baker puts 24 muffins in each of 7 trays before the morning rush at the shop. How many?"
    rows = [("t1", "test", long_q), ("t2", "test", "How many pens does Sam have?"),
            ("d1", "train", long_q.replace("How many?", "What is the total?")),  # shares a 13-gram
            ("d2", "train", "How many pens does Sam have ?"),  # verbatim, MAWPS spacing: the exact rule
            ("c1", "train", "Tom reads 12 pages a day for 5 days. How many pages does he read?"),
            ("c2", "valid", "Ann buys 3 bags of 8 apples and eats 2 of them. How many apples are left?")]
    path = root / "mawps.jsonl"
    path.write_text("".join(json.dumps({"id": i, "split": s, "question": q, "answer": 1}) + "\n"
                            for i, s, q in rows))
    return TaskSpec(name="mawps", train=str(path), split_field="split", train_values=["train", "valid"],
                    id_field="id")


def test_train_problems_copying_a_test_item_are_dropped_with_reasons(tmp_path):
    spec = _mawps_like(tmp_path)
    other = tmp_path / "other.jsonl"  # another task's train item copies a mawps test question: dropped too
    other.write_text(json.dumps({"question": "How many pens does Sam have?", "answer": 2}) + "\n"
                     + json.dumps({"question": "What is 7 times 6?", "answer": 42}) + "\n")
    tasks = (spec, TaskSpec(name="other", train=str(other)))
    problems = {t.name: load_problems(t, "train") for t in tasks}
    kept, s = drop_contaminated(problems, Decontamination(DecontaminationConfig(), tasks))
    assert [p.id for p in kept["mawps"]] == ["c1", "c2"] and len(kept["other"]) == 1
    assert s["checked"] == 6 and s["dropped"] == 3
    assert s["by_rule"] == {"ngram": 1, "exact": 2} and s["by_test_task"] == {"mawps": 3}
    first = s["examples"][0]
    assert first["id"] == "mawps:d1" and first["matched_test_item"] == "mawps:t1" and first["rule"] == "ngram"
    assert first["where"].endswith("mawps.jsonl:3") and s["index"]["tasks"]["mawps"]["texts_indexed"] == 1

    off, s_off = drop_contaminated(problems, Decontamination(DecontaminationConfig(enabled=False), tasks))
    assert off == problems and s_off["dropped"] == 0 and s_off["index"] == {"enabled": False}


def test_identity_covers_settings_and_the_test_files_content(tmp_path):
    spec = _mawps_like(tmp_path)
    d = Decontamination(DecontaminationConfig(), (spec,))
    before = d.identity()
    assert Decontamination(DecontaminationConfig(ngram=8), (spec,)).identity() != before
    assert Decontamination(DecontaminationConfig(enabled=False), (spec,)).identity() == {"enabled": False}
    with open(spec.train, "a") as fh:  # a new test item: every step filtered by it must re-run
        fh.write(json.dumps({"id": "t3", "split": "test", "question": "A new one?", "answer": 1}) + "\n")
    assert d.identity() != before


def test_the_report_lists_the_drops_of_every_place_with_examples(tmp_path):
    from trait.report import write_report
    from trait.steps import Step, command

    def drops(n: int, example_id: str) -> dict:
        example = {"id": example_id, "matched_test_item": "mawps:t1", "rule": "ngram",
                   "shared": "sara has 35 marbles", "text": f"{example_id}: Sara has 35 marbles ..."}
        return {"checked": 10, "dropped": n, "by_rule": {"ngram": n}, "by_test_task": {"mawps": n},
                "examples": [example]}

    build = {"seed": drops(1, "s-leak"), "replay": drops(1, "g-leak")}
    with command(tmp_path):
        Step(tmp_path, "synthesize", {}).run(lambda out: {"decontamination": drops(2, "mawps:d1")})
        Step(tmp_path, "build_cpt_seed", {}).run(lambda out: {"decontamination": build})
    html = write_report(tmp_path).read_text()
    assert "Test items kept out of training" in html
    for place in ("synthesis (train problems)", "build: seed", "build: replay"):
        assert f"<td>{place}</td>" in html
    assert "mawps:d1 matches mawps:t1 (ngram)" in html and "s-leak" in html and "g-leak" in html
