"""A task also scored by lm-eval's own built-in definition (``evaluate.lmeval_builtin``)."""

from __future__ import annotations

import json

import pytest
import yaml

from trait.errors import ConfigError
from trait.evaluate.items import eval_items
from trait.evaluate.standard import builtin_yaml, run_builtin, write_builtin_tasks
from trait.pipeline import eval_settings


def test_the_builtin_yaml_is_lm_evals_own_gsm8k():
    path = builtin_yaml("gsm8k")
    assert path.parts[-3:] == ("tasks", "gsm8k", "gsm8k.yaml")
    with pytest.raises(ConfigError, match="has no task 'no_such_task'"):
        builtin_yaml("no_such_task")


def test_generated_task_keeps_lm_evals_prompt_and_filters_on_our_items(make_cfg, tmp_path):
    from lm_eval.tasks import TaskManager

    cfg = make_cfg("evaluate.lmeval_builtin={gsm8k: gsm8k}", "evaluate.limit=4", "evaluate.num_fewshot=2")
    s = eval_settings(cfg)
    names = write_builtin_tasks(s, tmp_path / "builtin")
    assert names == {"gsm8k": "lmeval_gsm8k_gsm8k"}
    tm = TaskManager(include_path=str(tmp_path / "builtin"), include_defaults=False)
    task = tm.load([names["gsm8k"]])["tasks"][names["gsm8k"]]
    assert {f["name"] for f in task.config.filter_list} == {"strict-match", "flexible-extract"}
    assert task.config.doc_to_text == "Question: {{question}}\nAnswer:"  # lm-eval's own prompt
    ours = eval_items(cfg.task("gsm8k"), "test", 4, cfg.seed)
    docs = list(task.test_docs())
    assert [d["id"] for d in docs] == [p.id for p in ours]  # the same held-out items as our own scoring
    assert all(d["answer"].endswith(f"#### {p.answer}") for d, p in zip(docs, ours, strict=True))
    assert task.config.num_fewshot == 2


def test_scores_come_back_per_filter_and_per_item(make_cfg, tiny_model, tmp_path):
    cfg = make_cfg("evaluate.lmeval_builtin={gsm8k: gsm8k}", "evaluate.limit=2", "evaluate.num_fewshot=1",
                   "evaluate.max_gen_tokens=4")
    out = run_builtin(eval_settings(cfg), tiny_model, tmp_path / "out")
    ids = [p.id for p in eval_items(cfg.task("gsm8k"), "test", 2, cfg.seed)]
    assert set(out["gsm8k"]) == {"gsm8k:strict-match", "gsm8k:flexible-extract"}
    for m in out["gsm8k"].values():
        assert m["n"] == 2 and [i for i, _ in m["items"]] == ids and m["k"] == sum(v for _, v in m["items"])
    samples = [json.loads(line) for line in (tmp_path / "out" / "samples" / "gsm8k.gsm8k.jsonl").open()]
    assert sorted((s["filter"], s["id"]) for s in samples) == sorted(
        (f, i) for f in ("strict-match", "flexible-extract") for i in ids)


def test_unknown_task_in_lmeval_builtin_is_a_config_error(make_cfg):
    with pytest.raises(ConfigError, match="evaluate.lmeval_builtin: no task named 'nope'"):
        make_cfg("evaluate.lmeval_builtin={nope: gsm8k}")


def test_generated_yaml_only_swaps_the_data(make_cfg, tmp_path):
    names = write_builtin_tasks(eval_settings(make_cfg("evaluate.lmeval_builtin={gsm8k: gsm8k}")), tmp_path)
    cfg = yaml.safe_load((tmp_path / f"{names['gsm8k']}.yaml").read_text())
    assert set(cfg) == {"include", "task", "tag", "dataset_path", "dataset_name", "dataset_kwargs", "test_split",
                        "num_fewshot", "training_split", "fewshot_split"}
