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
