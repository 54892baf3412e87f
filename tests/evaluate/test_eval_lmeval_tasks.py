"""Generated lm-eval task YAMLs: they load in lm-eval's TaskManager and hold the chosen items."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from trait.errors import TraitError
from trait.evaluate.lmeval_tasks import task_manager, write_lmeval_tasks
from trait.io import read_jsonl
from trait.pipeline import eval_settings


def test_yamls_load_in_task_manager_with_fewshot_from_train(eval_cfg, tmp_path):
    gen = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "tasks")
    assert sorted(gen.tasks) == ["arith", "gsm8k", "mawps", "svamp"] and not gen.skipped
    tm = task_manager(gen.folder)
    assert sorted(tm.all_tasks) == ["trait_arith", "trait_gsm8k", "trait_mawps", "trait_svamp"]
    loaded = tm.load(gen.lmeval_names)["tasks"]
    for name, task in loaded.items():
        info = gen.tasks[name.removeprefix("trait_")]
        assert len(task.test_docs()) == info.n_test == 3
        assert len(task.fewshot_docs()) == info.n_fewshot_pool == 4
        assert task.config.num_fewshot == 1
        assert set(info.metrics) == {"exact_match", "math_verify"}
        test_ids = {d["id"] for d in task.test_docs()}
        assert test_ids.isdisjoint(d["id"] for d in task.fewshot_docs())  # no test item is a shot


def test_generated_folder_scores_without_the_trait_package(eval_cfg, tmp_path, monkeypatch):
    """lm-eval loads utils.py by path; a plain ``lm_eval --include_path`` may run where trait is not installed."""
    gen = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "t")
    monkeypatch.setitem(sys.modules, "trait", None)  # any 'import trait...' now fails
    spec = importlib.util.spec_from_file_location("utils", gen.folder / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    assert utils.process_results({"answer": "18"}, ["The answer is 18."]) == {"exact_match": 1, "math_verify": 1}


def test_generation_is_deterministic_and_a_smaller_limit_is_a_prefix(eval_cfg, tmp_path):
    a = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "a")
    b = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "b")
    for task in a.tasks:
        assert (a.folder / "data" / task / "test.jsonl").read_bytes() == (b.folder / "data" / task / "test.jsonl").read_bytes()
    eval_cfg.evaluate.limit = 2
    c = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "c")
    three = read_jsonl(a.folder / "data" / "svamp" / "test.jsonl")
    assert read_jsonl(c.folder / "data" / "svamp" / "test.jsonl") == three[:2]


def test_gold_answers_and_targets_come_from_the_task_file(eval_cfg, tmp_path):
    gen = write_lmeval_tasks(eval_settings(eval_cfg), tmp_path / "t")
    docs = read_jsonl(gen.folder / "data" / "gsm8k" / "train.jsonl")
    for d in docs:
        assert d["target"].endswith(f"The answer is {d['answer']}.")
        assert "<<" not in d["target"]  # calculator annotations stripped by the task loader


def test_task_without_answers_is_skipped_and_reported(make_cfg, tmp_path):
    cfg = make_cfg("tasks.0.answer_field=null")
    gen = write_lmeval_tasks(eval_settings(cfg), tmp_path / "t")
    assert "gsm8k" in gen.skipped and "answer" in gen.skipped["gsm8k"]
    assert sorted(gen.tasks) == ["arith", "mawps", "svamp"]


def test_bad_task_file_is_one_clear_error(make_cfg, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "1+1?", "answer": 2}\n{"question": "2+2?"\n')
    cfg = make_cfg(f"tasks.2.train={bad}", "tasks.2.split_field=null", "tasks.2.holdout_fraction=0.5",
                   "tasks.2.id_field=null")
    with pytest.raises(TraitError, match=r"bad\.jsonl:2"):
        write_lmeval_tasks(eval_settings(cfg), tmp_path / "t")
