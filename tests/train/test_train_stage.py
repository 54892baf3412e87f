"""train_stage and run_train on the tiny random model: loss log, final model, two stages."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from trait.build.stage import run_build
from trait.config import config_from_dict
from trait.io import read_jsonl, write_jsonl
from trait.pipeline import arm_specs
from trait.records import Doc, Passage
from trait.steps import Step
from trait.train.config import StageTrainConfig, TrainConfig
from trait.train.stage import run_train
from trait.train.trainer import stage_summary, train_stage

FAST = TrainConfig(base_model="tiny-random", batch_size=2, save_steps=3, logging_steps=1)


def weights(model_dir: str | Path) -> dict[str, torch.Tensor]:
    return load_file(str(Path(model_dir) / "model.safetensors"))


def differ(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a)



def test_train_stage_logs_loss_and_saves_final_model(tiny_model, packed, tmp_path):
    cfg = StageTrainConfig(learning_rate=5e-3, max_steps=6, warmup_ratio=0.0)
    final = train_stage(tiny_model, packed, tmp_path / "s1", cfg, FAST, seed=0)
    assert final == tmp_path / "s1" / "final"
    assert (final / "config.json").exists() and (final / "tokenizer.json").exists()
    assert differ(weights(tiny_model), weights(final))
    log = read_jsonl(tmp_path / "s1" / "loss.jsonl")
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert [r["tokens"] for r in log] == [64 * s for s in range(1, 7)]  # 2 blocks x 32 tokens per step
    assert log[-1]["loss"] < log[0]["loss"]
    s = stage_summary(tmp_path / "s1")
    assert s["steps"] == 6 and s["tokens"] == 384 and s["tokens_per_s"] > 0 and s["resumed_from"] is None
    stamp = (tmp_path / "s1" / "stage.json").stat().st_mtime_ns
    assert train_stage(tiny_model, packed, tmp_path / "s1", cfg, FAST, seed=0) == final  # done: no rerun
    assert (tmp_path / "s1" / "stage.json").stat().st_mtime_ns == stamp


def test_run_train_two_stages_give_two_different_models(tmp_path):
    write_jsonl(tmp_path / "seed.jsonl", [{"id": f"s{i}", "text": f"Seed text {i}: 3 x {i} = {3 * i}. " * 3}
                                          for i in range(12)])
    write_jsonl(tmp_path / "gen.jsonl", [{"id": f"g{i}", "text": f"General page {i} about rivers. " * 3}
                                         for i in range(12)])
    cfg = config_from_dict({
        "runs_dir": str(tmp_path / "runs"),
        "data": {"seed_corpus": [str(tmp_path / "seed.jsonl")], "general_corpus": [str(tmp_path / "gen.jsonl")]},
        "build": {"seq_len": 32, "stage1_tokens": 256, "stage2_tokens": 128, "max_epochs": 4},
        "train": {"base_model": "tiny-random", "batch_size": 2, "save_steps": 10,
                  "stage1": {"learning_rate": 5e-3, "max_steps": 3}, "stage2": {"learning_rate": 1e-3}}})
    select = Step(cfg.run_dir, "select", {"fixture": 1}, outputs={"selected": "selected.jsonl.gz"})
    write_jsonl(select.start() / "selected.jsonl.gz", [Doc(id="g0", text="Selected page on algebra. " * 4)])
    synth = Step(cfg.run_dir, "synthesize", {"fixture": 1}, outputs={"passages": "passages.jsonl"})
    write_jsonl(synth.start() / "passages.jsonl",
                [Passage(id="p0", text="Problem: 2 + 2. Answer: 4. Lesson: add. " * 3, problem_ids=["q"],
                         tasks=["t"])])
    [arm] = arm_specs(cfg, ["trait_two_stage"])
    built = run_build(arm, cfg.build, cfg.data, run_dir=cfg.run_dir, base_model=cfg.train.base_model,
                      seed=cfg.seed, select=select, synth=synth)
    step = run_train(arm, cfg.train, built, run_dir=cfg.run_dir, seed=cfg.seed)
    s = step.summary()
    m1, m2 = s["models"]["stage1"], s["models"]["stage2"]
    assert s["final_model"] == m2 and m1 != m2
    base = weights(s["base_model"])
    assert differ(base, weights(m1)) and differ(weights(m1), weights(m2))
    assert s["stages"]["stage1"]["steps"] == 3  # max_steps
    assert s["stages"]["stage2"]["steps"] == 2  # 4 blocks / batch 2, one epoch
    assert s["stages"]["stage2"]["tokens"] == 128
    assert read_jsonl(s["stages"]["stage2"]["loss_log"])[0]["step"] == 1  # own schedule, from step 0


def test_save_and_log_intervals_do_not_change_the_train_step(tmp_path):
    from trait.train.stage import train_step

    def step(**train):
        cfg = config_from_dict({"runs_dir": str(tmp_path), "data": {"seed_corpus": ["s.jsonl"],
                                "general_corpus": ["g.jsonl"]}, "train": train})
        [arm] = arm_specs(cfg, ["trait_two_stage"])
        return train_step(arm, cfg.train, Step(tmp_path, "build", {"x": 1}), run_dir=cfg.run_dir, seed=0).hash

    assert step(save_steps=5, logging_steps=3) == step()  # a rerun with new intervals resumes the same run
    assert step(stage1={"learning_rate": 1e-3}) != step()


def test_bf16_autocast_trains_on_cpu(tiny_model, packed, tmp_path):
    cfg = StageTrainConfig(learning_rate=5e-3, max_steps=2)
    final = train_stage(tiny_model, packed, tmp_path / "bf16", cfg, FAST.model_copy(update={"bf16": True}), seed=0)
    assert stage_summary(tmp_path / "bf16")["bf16"] is True
    w = weights(final)
    assert all(t.dtype == torch.float32 for t in w.values())  # autocast: master weights stay fp32
    assert differ(weights(tiny_model), w)


def test_warmup_never_spends_an_update_at_learning_rate_zero(tiny_model, packed, tmp_path):
    """transformers' schedules run update 1 of a warmup at LR 0; ours never do (issue 15)."""
    def lrs(ratio: float) -> list[float]:
        cfg = StageTrainConfig(learning_rate=1e-2, max_steps=6, warmup_ratio=ratio, lr_scheduler="constant")
        train_stage(tiny_model, packed, tmp_path / str(ratio), cfg, FAST, seed=0)
        return [r["lr"] for r in read_jsonl(tmp_path / str(ratio) / "loss.jsonl")]

    assert lrs(0.05) == [1e-2] * 6  # 0.05 x 6 steps rounds to no warmup: every update at full rate
    warm = lrs(0.34)  # two warmup updates, then the full rate
    assert warm[0] > 0 and warm[0] < warm[1] < warm[2] == 1e-2 and warm[2:] == [1e-2] * 4
