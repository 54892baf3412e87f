"""The control arm's corpus: train items as text, minus those that copy a test item of any task."""

from __future__ import annotations

import json

from trait.build.task_data import run_task_data
from trait.contamination import DecontaminationConfig
from trait.io import read_jsonl
from trait.tasks import TaskSpec


def test_train_items_duplicating_a_test_item_never_become_task_data(tmp_path):
    long_q = "A baker puts 24 muffins in each of 7 trays before the morning rush at the shop. How many?"
    rows = [("t1", "test", long_q), ("d1", "train", long_q),  # a MAWPS-style duplicate pair
            ("c1", "train", "Tom reads 12 pages a day for 5 days. How many pages does he read?")]
    path = tmp_path / "mawps.jsonl"
    path.write_text("".join(json.dumps({"id": i, "split": s, "question": q, "answer": 1}) + "\n"
                            for i, s, q in rows))
    tasks = [TaskSpec(name="mawps", train=str(path), split_field="split", id_field="id")]
    step = run_task_data(tasks, on_bad_record="fail", run_dir=tmp_path / "run")
    docs = read_jsonl(step.file("docs"))
    assert [d["id"] for d in docs] == ["mawps:c1"]
    s = step.summary()["decontamination"]
    [ex] = s["examples"]
    assert s["dropped"] == 1 and ex["id"] == "mawps:d1" and ex["matched_test_item"] == "mawps:t1"
    off = run_task_data(tasks, on_bad_record="fail", run_dir=tmp_path / "run",
                        decontaminate=DecontaminationConfig(enabled=False))
    assert off.path != step.path and len(read_jsonl(off.file("docs"))) == 2


def test_choice_and_label_items_end_in_the_text_evaluation_scores(tmp_path):
    """The control trains on what the metrics score: a worked answer, the gold choice's text, or the gold
    label's verbalizer ("exact"), never "The answer is Exact." that no metric reads."""
    (tmp_path / "mc.jsonl").write_text(json.dumps({"id": "m1", "question": "Which drug blocks COX for good?",
                                                   "choices": ["Heparin", "Aspirin"], "answer": "B"}) + "\n")
    (tmp_path / "cls.jsonl").write_text(json.dumps({"id": "c1", "query": "shoes", "title": "Pegasus shoe",
                                                    "label": "Exact"}) + "\n")
    (tmp_path / "gen.jsonl").write_text(json.dumps({"id": "g1", "question": "2 + 3?", "answer": 5}) + "\n")
    tasks = [TaskSpec(name="mc", train=str(tmp_path / "mc.jsonl"), type="multiple_choice", id_field="id"),
             TaskSpec(name="cls", train=str(tmp_path / "cls.jsonl"), type="classification", id_field="id",
                      input_template="Query: {query}\nProduct: {title}", answer_field="label",
                      labels={"Exact": "exact", "Irrelevant": "irrelevant"}),
             TaskSpec(name="gen", train=str(tmp_path / "gen.jsonl"), id_field="id")]
    docs = {d["id"]: d["text"] for d in read_jsonl(run_task_data(tasks, on_bad_record="fail",
                                                                 run_dir=tmp_path / "run").file("docs"))}
    assert docs == {"mc:m1": "Question: Which drug blocks COX for good?\nAnswer: Aspirin",
                    "cls:c1": "Question: Query: shoes\nProduct: Pegasus shoe\nAnswer: exact",
                    "gen:g1": "Question: 2 + 3?\nAnswer: The answer is 5."}
