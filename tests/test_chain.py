"""The whole chain on tiny inputs: select -> synthesize -> every ablation arm -> evaluate -> report.

Real components throughout: fastText, datatrove, the OpenAI-compatible HTTP path (a local server
whose replies lead with the gold hint, so passages validate), transformers training of a tiny random
Llama, lm-eval, and the HTML report.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from trait.ablate.config import ALL_ARMS
from trait.config import config_from_dict
from trait.io import read_json
from trait.testing.openai_server import OpenAIServer

PROMPTS = {"paragraph": "${hint}Task: $task. $description\nProblem: $problem",
           "hint_answer": "Answer: $answer\n", "hint_solution": "Answer: $answer\n"}


def _head(src: Path, dst: Path, n: int, skip: int = 0) -> None:
    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rt", encoding="utf-8") as fh:
        lines = [ln for i, ln in enumerate(fh) if skip <= i < skip + n]
    dst.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def chain_cfg(tmp_path_factory, example_data, tiny_model):
    root = tmp_path_factory.mktemp("chain")
    _head(example_data / "math_prose" / "openstax_math.jsonl.gz", root / "seed.jsonl", 60)
    _head(example_data / "wikipedia" / "wiki_sample.jsonl.gz", root / "general.jsonl", 160)
    _head(example_data / "wikitext2" / "wikitext2_test.articles.jsonl.gz", root / "heldout.jsonl", 2)
    _head(example_data / "gsm8k" / "train.jsonl", root / "gsm_train.jsonl", 8)
    _head(example_data / "gsm8k" / "test.jsonl", root / "gsm_test.jsonl", 4)
    with open(root / "sums.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": f"s{i}", "question": f"Tom has {i + 2} apples and buys {i} more. "
                                 "How many apples does he have?", "answer": float(2 * i + 2),
                                 "split": "test" if i >= 8 else "train"}) + "\n" for i in range(12))
    server = OpenAIServer().start()

    def cfg(**over):
        return config_from_dict({
            "run": "chain", "seed": 1,
            "data": {"seed_corpus": ["seed.jsonl"], "general_corpus": ["general.jsonl"],
                     "heldout_general": ["heldout.jsonl"]},
            "tasks": [{"name": "gsm8k", "train": "gsm_train.jsonl", "test": "gsm_test.jsonl",
                       "answer_format": "gsm8k", "description": "Grade-school word problems."},
                      {"name": "sums", "train": "sums.jsonl", "split_field": "split", "id_field": "id",
                       "description": "Apple sums."}],
            "select": {"keep_fraction": 0.1, "classifier": {"epoch": 5, "dim": 16}},
            "llm": {"backend": "openai", "base_url": server.url, "model": "fake", "max_tokens": 64,
                    "api_key_env": "TRAIT_CHAIN_TEST_KEY"},
            "synthesize": {"problems_per_passage": 2, "max_passages": 4, "gold_hints": "answer",
                           "min_paragraph_words": 3, "prompts": PROMPTS},
            "build": {"seq_len": 64, "stage1_tokens": 2048, "stage2_tokens": 1024},
            "train": {"base_model": str(tiny_model), "batch_size": 4, "save_steps": 1000,
                      "stage1": {"learning_rate": 1e-3}, "stage2": {"learning_rate": 1e-3}},
            "evaluate": {"limit": 2, "num_fewshot": 1, "max_gen_tokens": 4, "task_loss_limit": 3,
                         "perplexity_max_docs": 1, "perplexity_context": 64,
                         "perplexity_max_tokens_per_doc": 256, "bootstrap_iters": 50, "batch_size": 2},
            **over}, base_dir=root)

    yield cfg
    server.stop()


def test_ablation_table_and_report(chain_cfg):
    from trait import pipeline

    cfg = chain_cfg()
    step = pipeline.ablate(cfg)
    summary = read_json(step.path / "summary.json")
    rows = summary["rows"]
    arms = {r["model"] for r in rows}
    assert arms == set(ALL_ARMS)
    for arm in ALL_ARMS:
        losses = [r for r in rows if r["model"] == arm and r["metric"] == "task_loss" and r["task"] != "avg"]
        assert {r["task"] for r in losses} == {"gsm8k", "sums"}
        assert all(math.isfinite(r["value"]) and r["ci_low"] <= r["value"] <= r["ci_high"] for r in losses)
        assert any(r["model"] == arm and r["metric"] == "perplexity" for r in rows)
    # Trained arms moved away from the base model, and each saw tokens; the base arm saw none.
    avg = {r["model"]: r["value"] for r in rows if r["task"] == "avg" and r["metric"] == "task_loss"}
    assert all(avg[a] != avg["base"] for a in ALL_ARMS if a != "base")
    assert summary["costs"]["base"]["train_tokens"] == 0
    assert all(summary["costs"][a]["train_tokens"] > 0 for a in ALL_ARMS if a != "base")
    # machine time: none to make the base arm, some for every trained one; the whole run costs more
    cpu = {a: summary["costs"][a]["cpu_s"] for a in ALL_ARMS}
    assert cpu["base"] == 0 and all(cpu[a] > 0 for a in ALL_ARMS if a != "base")
    assert summary["compute"]["cpu_s"] > max(cpu.values()) and summary["compute"]["wall_s"] > 0
    # every other arm against TRAIT two-stage, per task and metric, on the same items
    pairs = summary["paired"]
    assert {p["arm"] for p in pairs} == set(ALL_ARMS) - {"trait_two_stage"}
    assert {(p["task"], p["metric"]) for p in pairs if p["arm"] == "base"} == {
        (r["task"], r["metric"]) for r in rows if r["model"] == "base" and r["task"] != "avg"}
    assert all(p["n_items"] > 0 and p["n_seeds"] == 1 and isinstance(p["significant"], bool) for p in pairs)
    assert summary["verdict"].startswith("Every arm against TRAIT two-stage")
    from trait.models import resolve_model

    assert summary["checkpoints"] == {a: str(resolve_model(cfg.train.base_model)) for a in ALL_ARMS}

    report = cfg.run_dir / "report.html"
    html = report.read_text()
    for arm in ALL_ARMS:
        assert f"<td>{arm}</td>" in html
    assert "data:image/png;base64," in html and "http://" not in html.replace(cfg.llm.base_url, "")
    assert 'alt="paired differences against TRAIT"' in html
    assert "<h3>Where each arm started</h3>" in html
    assert "<th>CPU (min)</th>" in html and "CPU-hours and" in html


def test_rerun_is_a_no_op_and_keep_fraction_only_reruns_choose(chain_cfg):
    from trait import pipeline

    cfg = chain_cfg()
    first = pipeline.ablate(cfg)
    marker = (first.path / "SUCCESS").stat().st_mtime_ns
    assert pipeline.ablate(cfg).path == first.path
    assert (first.path / "SUCCESS").stat().st_mtime_ns == marker
    changed = chain_cfg(select={"keep_fraction": 0.2, "classifier": {"epoch": 5, "dim": 16}})
    assert pipeline.select(changed).path != pipeline.select(cfg).path


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(chain_cfg, tmp_path):
    """The page a person opens: rendered offline by a real browser, not blank, every plot decoded."""
    from PIL import Image

    from trait import pipeline

    cfg = chain_cfg()
    pipeline.ablate(cfg)  # cached: reuses the run of the first test
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400",
                    f"--screenshot={shot}", (cfg.run_dir / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 2400)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, tables and plots, not an empty page


def test_run_reuses_the_ablations_steps_and_reports(chain_cfg):
    """`trait run`: the TRAIT chain alone is the base arm and TRAIT's arm, the very steps the ablation ran."""
    from trait import pipeline
    from trait.steps import last_steps

    cfg = chain_cfg()
    pipeline.ablate(cfg)
    step = pipeline.run(cfg)
    rows = step.summary()["rows"]
    assert {r["model"] for r in rows} == {"base", "trait_two_stage"}
    assert all(math.isfinite(r["value"]) for r in rows if r["metric"] == "task_loss")
    status = {s["stage"]: s["status"] for s in last_steps(cfg.run_dir)}
    assert status.pop("evaluate") == "ran" and set(status.values()) == {"reused"}, status
    assert {"eval_base", "eval_trait_two_stage", "train_trait_two_stage", "choose", "synthesize"} <= set(status)
    html = (cfg.run_dir / "report.html").read_text()
    assert "<td>trait_two_stage</td>" in html and "task_loss" in html


def _ran(run_dir) -> set[str]:
    from trait.steps import last_steps

    return {s["stage"] for s in last_steps(run_dir) if s["status"] == "ran"}


def test_an_evaluate_change_reruns_only_evaluation_and_the_join(chain_cfg):
    from trait import pipeline

    cfg = chain_cfg()
    old = pipeline.ablate(cfg).summary()
    before = _parts(cfg.run_dir)
    ev = dict(cfg.evaluate.model_dump(), task_loss_limit=2)
    changed = chain_cfg(evaluate=ev)
    new = pipeline.ablate(changed).summary()
    assert _ran(changed.run_dir) == {f"eval_{a}" for a in ALL_ARMS} | {"ablate"}
    n = {(r["model"], r["task"]): r["n"] for r in new["rows"] if r["metric"] == "task_loss" and r["task"] == "gsm8k"}
    assert set(n.values()) == {2}  # the new table, not the old one
    assert new["rows"] != old["rows"]
    # lm-eval and perplexity parts were reused from the run's cache: only the task loss was recomputed
    after = _parts(cfg.run_dir)
    assert after["task_loss"] - before["task_loss"] == len(ALL_ARMS)
    assert after["lmeval"] == before["lmeval"] and after["perplexity"] == before["perplexity"]


def _parts(run_dir) -> dict[str, int]:
    names = [p.name.split("-")[0] for p in (run_dir / "cache" / "eval").glob("*.json")]
    return {part: names.count(part) for part in ("lmeval", "task_loss", "perplexity")}


def test_a_new_arm_in_yaml_alone(chain_cfg):
    """A user's own arm: seed text first, then the synthetic passages, declared in the config only."""
    from trait import pipeline

    custom = {"name": "seed_then_synthetic", "stages": [
        {"name": "stage1", "tokens": "stage1", "mix": {"seed": None, "replay": 0.2}},
        {"name": "stage2", "tokens": "stage2", "mix": {"synthetic": None}, "schedule": "stage2"}]}
    pipeline.ablate(chain_cfg(ablate={"arms": ["base"]}))  # what the run had before (any test order)
    pipeline.synthesize(chain_cfg())
    cfg = chain_cfg(ablate={"arms": ["base", "seed_then_synthetic"], "custom_arms": [custom]})
    step = pipeline.ablate(cfg)
    s = step.summary()
    assert s["arms"] == ["base", "seed_then_synthetic"]
    assert set(s["mixes"]["seed_then_synthetic"]) == {"stage1", "stage2"}
    assert set(s["mixes"]["seed_then_synthetic"]["stage2"]) == {"synthetic"}
    assert s["costs"]["seed_then_synthetic"]["train_tokens"] > 0
    assert _ran(cfg.run_dir) == {"build_seed_then_synthetic", "train_seed_then_synthetic",
                                 "eval_seed_then_synthetic", "ablate"}


def test_two_seeds_train_every_arm_twice_and_pair_over_both(chain_cfg):
    """`ablate.seeds`: a trained arm is built, trained and evaluated once per seed (the first seed's steps
    are the plain run's), the base model once; rows over seeds, per-seed rows kept, paired differences."""
    from trait import pipeline
    from trait.steps import last_steps

    cfg = chain_cfg(ablate={"arms": ["base", "trait_two_stage"], "seeds": [1, 2]})  # seed 1: the config's
    s = pipeline.ablate(cfg).summary()
    stages = [st["stage"] for st in last_steps(cfg.run_dir)]
    assert [stages.count(f"{step}_trait_two_stage") for step in ("build", "train", "eval")] == [2, 2, 2]
    assert stages.count("eval_base") == 1 and s["seeds"] == [1, 2]
    assert {r["model"]: r["n_seeds"] for r in s["rows"] if r["task"] != "avg"} == {"base": 1, "trait_two_stage": 2}
    per_seed = [(r["seed"], r["task"], r["metric"]) for r in s["seed_rows"] if r["model"] == "trait_two_stage"]
    assert {seed for seed, *_ in per_seed} == {1, 2} and len(per_seed) == len(set(per_seed)) == 2 * sum(
        r["model"] == "trait_two_stage" and r["task"] != "avg" for r in s["rows"])
    assert {p["arm"] for p in s["paired"]} == {"base"} and "2 training seeds" in s["verdict"]
