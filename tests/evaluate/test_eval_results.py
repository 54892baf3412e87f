"""The results table: one row per (model, task, metric) with CIs; reuse of finished work; the stage."""

from __future__ import annotations

import csv
import math

import pytest

from trait.errors import TraitError
from trait.evaluate.per_item import ITEMS, read_items
from trait.evaluate.results import as_dict, evaluate_model, format_table, read_table
from trait.evaluate.stage import run_eval
from trait.evaluate.stats import paired_bootstrap
from trait.pipeline import eval_settings
from trait.steps import Step


def _check_rows(rows, models):
    d = as_dict(rows)
    assert sorted(d) == sorted(models)
    for model in models:
        for task in ("gsm8k", "svamp", "mawps"):
            assert set(d[model][task]) == {"exact_match", "math_verify", "task_loss"}
        assert set(d[model]["general"]) == {"perplexity"}
    for r in rows:
        assert math.isfinite(r["value"]) and r["ci_low"] <= r["value"] <= r["ci_high"], r
        assert r["n"] > 0
        assert r["ci_method"] == ("wilson" if r["metric"] in ("exact_match", "math_verify") else "bootstrap")


def _check_items(out, rows):
    """``items.jsonl``: every row's value is its items' sum(num) / sum(den) (perplexity: the exp), n items."""
    items = read_items(out / ITEMS)
    assert set(items) == {(r["task"], r["metric"]) for r in rows}
    for r in rows:
        num, den = (sum(v[i] for v in items[(r["task"], r["metric"])].values()) for i in (0, 1))
        value = math.exp(num / den) if r["metric"] == "perplexity" else num / den
        assert value == pytest.approx(r["value"]) and len(items[(r["task"], r["metric"])]) == r["n"], r
        if r["metric"] in ("exact_match", "math_verify"):
            assert {v for v in items[(r["task"], r["metric"])].values()} <= {(0, 1), (1, 1)}


def test_evaluate_model_writes_table_and_reuses_finished_parts(eval_cfg, tiny_model, tmp_path):
    out = tmp_path / "eval"
    rows = evaluate_model(eval_settings(eval_cfg), tiny_model, "base", out)
    _check_rows(rows, ["base"])
    _check_items(out, rows)
    assert len(rows) == 4 * 3 + 1  # 4 tasks x (exact match, math-verify, task loss) + perplexity
    assert read_table(out) == rows
    assert len(format_table(rows).splitlines()) == len(rows) + 1
    with open(out / "results.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [(r["model"], r["task"], r["metric"]) for r in table] == [(r["model"], r["task"], r["metric"]) for r in rows]
    cache = eval_cfg.run_dir / "cache" / "eval"
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert len(stamps) == 3 and {p.name for p in (out / "parts").iterdir()} == {
        "lmeval.json", "task_loss.json", "perplexity.json"}
    # another step folder (as a new evaluate step has) still finds every finished part
    assert evaluate_model(eval_settings(eval_cfg), tiny_model, "base", tmp_path / "another_step") == rows
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps  # nothing recomputed
    assert read_items(tmp_path / "another_step" / ITEMS) == read_items(out / ITEMS)  # reused parts keep items


def test_changed_setting_recomputes_only_what_it_invalidates(eval_cfg, model_copy, tmp_path):
    eval_cfg.evaluate.downstream = False
    out = tmp_path / "eval"
    cache = eval_cfg.run_dir / "cache" / "eval"
    first = as_dict(evaluate_model(eval_settings(eval_cfg), model_copy, "m", out))["m"]
    [loss_part] = cache.glob("task_loss-*.json")
    loss_stamp = loss_part.stat().st_mtime_ns
    eval_cfg.evaluate.perplexity_max_docs = 2
    second = as_dict(evaluate_model(eval_settings(eval_cfg), model_copy, "m", out))["m"]
    assert [p.stat().st_mtime_ns for p in cache.glob("task_loss-*.json")] == [loss_stamp]  # reused
    assert len(list(cache.glob("perplexity-*.json"))) == 2  # recomputed under its new settings
    assert first["general"]["perplexity"]["n"] == 3 and second["general"]["perplexity"]["n"] == 2
    eval_cfg.evaluate.task_loss_limit = 2
    third = as_dict(evaluate_model(eval_settings(eval_cfg), model_copy, "m", out))["m"]
    assert third["gsm8k"]["task_loss"]["n"] == 2 and first["gsm8k"]["task_loss"]["n"] == 5
    # New weights under the same path: everything is recomputed, nothing stale is served.
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_copy)
    for p in model.parameters():
        p.data.mul_(0.5)
    model.save_pretrained(model_copy)
    fourth = as_dict(evaluate_model(eval_settings(eval_cfg), model_copy, "m", out))["m"]
    assert fourth["gsm8k"]["task_loss"]["value"] != third["gsm8k"]["task_loss"]["value"]


def test_eval_steps_of_the_base_and_a_trained_model(eval_cfg, tuned_model, tmp_path):
    eval_cfg.evaluate.limit = 2
    eval_cfg.evaluate.max_gen_tokens = 4
    train = Step(eval_cfg.run_dir, "train_x", {"fake": 1})
    train.start()
    train.complete({"final_model": str(tuned_model)})
    base, tuned = run_eval(eval_settings(eval_cfg), "base", None), run_eval(eval_settings(eval_cfg), "x", train)
    assert base.done and tuned.done and base.path != tuned.path
    rows = read_table(base.path) + read_table(tuned.file("results").parent)
    _check_rows(rows, ["base", "x"])
    d = as_dict(rows)
    items = {name: read_items(step.file("items")) for name, step in (("base", base), ("x", tuned))}
    for task in ("gsm8k", "svamp", "mawps"):
        assert d["x"][task]["task_loss"]["value"] < d["base"][task]["task_loss"]["value"]
        # paired on the same items, the tuned model's lower loss is a difference the data show
        p = paired_bootstrap(items["x"][(task, "task_loss")], items["base"][(task, "task_loss")], iters=500)
        assert p.significant and p.ci_high < 0 and p.n_items == d["x"][task]["task_loss"]["n"]
    assert tuned.file("results_csv").exists()
    assert tuned.summary()["train_seed"] is None  # eval_settings(cfg) without a training seed
    assert run_eval(eval_settings(eval_cfg), "x", train).status == "reused"  # complete step: skipped


def test_stage_rejects_a_train_summary_without_models(eval_cfg, tmp_path):
    train = Step(eval_cfg.run_dir, "train", {"fake": 2})
    train.start()
    train.complete({"steps": 3})
    with pytest.raises(TraitError, match="no trained model at final_model=None"):
        run_eval(eval_settings(eval_cfg), "x", train)
