"""``trait train``: stage 1 from the base model, stage 2 from stage 1's weights (own schedule);
``build.mode: one_stage`` trains once on the mixed corpus. Each stage resumes on its own after a crash."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trait.build.stage import stage_datasets
from trait.config import TraitConfig
from trait.steps import Step
from trait.train.trainer import LOSS_LOG, stage_summary, train_stage
from trait.ui import info

# Settings that change how often we save or log, not the weights: kept out of the step hash, so
# changing them resumes the same run instead of starting a new one.
NOT_HASHED = {"save_steps", "save_total_limit", "logging_steps", "dataloader_workers"}


def train_step(cfg: TraitConfig, build_step: Step) -> Step:
    return Step(cfg.run_dir, "train", {"train": cfg.train.model_dump(mode="json", exclude=NOT_HASHED),
                                       "seed": cfg.seed}, deps=(build_step,))


def run_train(cfg: TraitConfig, build_step: Step) -> Step:
    """Train every corpus of the build in order; the summary names each stage's final model."""
    from accelerate import PartialState

    from trait.models import resolve_model

    step = train_step(cfg, build_step)
    if step.done:
        info(f"train: up to date ({step.path})")
        return step
    out = step.start()
    base = resolve_model(cfg.train.base_model)
    model: Path = base
    models: dict[str, str] = {}
    stages: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name, dataset in stage_datasets(build_step).items():
        stage_cfg = cfg.train.stage2 if name == "stage2" else cfg.train.stage1
        info(f"train {name}: from {model}")
        model = train_stage(model, dataset, out / name, stage_cfg, cfg.train, cfg.seed)
        models[name] = str(model)
        s = stage_summary(out / name)
        stages[name] = {k: s[k] for k in ("steps", "tokens", "final_loss", "train_loss", "wall_s",
                                          "tokens_per_s", "resumed_from", "blocks", "seq_len")}
        stages[name]["loss_log"] = str(out / name / LOSS_LOG)
    if PartialState().is_main_process:
        step.complete({"base_model": str(base), "mode": cfg.build.mode, "models": models,
                       "final_model": str(model), "stages": stages,
                       "wall_s": round(time.perf_counter() - t0, 2)})
    return step
