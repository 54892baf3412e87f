"""``trait train``: an arm's CPT stages in order, each from the previous stage's weights (stage 1 from
the base model) with its own optimiser schedule. Each stage resumes on its own after a crash."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trait.arms import ArmSpec
from trait.build.stage import stage_datasets
from trait.steps import Step, canonical
from trait.train.config import TrainConfig
from trait.train.trainer import LOSS_LOG, stage_summary, train_stage
from trait.ui import info


def train_step(arm: ArmSpec, train: TrainConfig, build: Step, *, run_dir: Path, seed: int) -> Step:
    """Hashes the training settings (save/log intervals are knobs: changing them resumes this step)
    and only the schedules the arm's stages use."""
    settings = canonical(train)
    schedules = {name: settings.pop(name) for name in ("stage1", "stage2")}
    return Step(run_dir, f"train_{arm.name}", {"train": settings, "seed": seed,
                                               "schedules": [schedules[s.schedule] for s in arm.stages]},
                deps=(build,))


def run_train(arm: ArmSpec, train: TrainConfig, build: Step, *, run_dir: Path, seed: int) -> Step:
    """Train every corpus of the build in order; the summary names each stage's final model."""

    def work(out: Path) -> dict[str, Any]:
        from trait.models import resolve_model

        base = resolve_model(train.base_model)
        model: Path = base
        models: dict[str, str] = {}
        stages: dict[str, Any] = {}
        t0 = time.perf_counter()
        schedules = {st.name: st.schedule for st in arm.stages}
        for name, dataset in stage_datasets(build).items():
            info(f"train {arm.name}/{name}: from {model}")
            model = train_stage(model, dataset, out / name, getattr(train, schedules[name]), train, seed)
            models[name] = str(model)
            s = stage_summary(out / name)
            stages[name] = {k: s[k] for k in ("steps", "tokens", "final_loss", "train_loss", "wall_s",
                                              "tokens_per_s", "resumed_from", "blocks", "seq_len")}
            stages[name]["loss_log"] = str(out / name / LOSS_LOG)
        return {"arm": arm.name, "base_model": str(base), "models": models, "final_model": str(model),
                "stages": stages, "wall_s": round(time.perf_counter() - t0, 2)}

    return train_step(arm, train, build, run_dir=run_dir, seed=seed).run(work)
