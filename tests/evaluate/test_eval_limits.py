"""``evaluate.task_limits``: a per-task item limit for lm-eval scoring."""

from __future__ import annotations

from trait.evaluate.lmeval_tasks import write_lmeval_tasks
from trait.pipeline import eval_settings


def test_a_task_limit_overrides_the_global_limit_for_that_task_only(make_cfg, tmp_path):
    cfg = make_cfg("evaluate.limit=3", "evaluate.task_limits={arith: null, svamp: 5}")
    tasks = write_lmeval_tasks(eval_settings(cfg), tmp_path).tasks
    assert tasks["gsm8k"].n_test == 3 and tasks["mawps"].n_test == 3 and tasks["svamp"].n_test == 5
    assert tasks["arith"].n_test == 64  # null: every held-out item
