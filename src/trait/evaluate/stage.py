"""The evaluate stage: the base model and every trained model, into one results table.

The train step's summary names its models (``{"models": {"stage1": path, "stage2": path}}``); the
base model is evaluated beside them as ``base`` so every table carries its own baseline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.config import TraitConfig
from trait.errors import TraitError
from trait.evaluate.results import as_dict, evaluate_model, format_table, write_table
from trait.models import resolve_model
from trait.steps import Step, fingerprint
from trait.ui import info


def models_to_evaluate(cfg: TraitConfig, train_step: Step | None) -> dict[str, Path]:
    """``base`` first, then the trained models in the order the train stage lists them."""
    models: dict[str, Path] = {"base": resolve_model(cfg.train.base_model)}
    if train_step is not None:
        trained = train_step.summary().get("models")
        if not isinstance(trained, dict):
            raise TraitError(f"{train_step.path / 'summary.json'}: no 'models' mapping (name -> path)")
        for name, path in trained.items():
            if not (Path(path) / "config.json").exists():
                raise TraitError(f"{train_step.path / 'summary.json'}: model {name!r} at {path} has no config.json")
            models[str(name)] = Path(path)
    return models


def run_evaluate(cfg: TraitConfig, train_step: Step) -> Step:
    """Evaluate every model; writes ``results.jsonl``, ``results.csv`` and ``summary.json``."""
    task_files = [p for t in cfg.tasks for p in (t.train, t.test) if p]
    step = Step(cfg.run_dir, "evaluate", {"evaluate": cfg.evaluate, "tasks": cfg.tasks, "seed": cfg.seed,
                                          "base_model": cfg.train.base_model,
                                          "data": fingerprint(task_files + list(cfg.data.heldout_general))},
                deps=[train_step])
    if step.done:
        info(f"evaluate: up to date ({step.path})")
        return step
    path = step.start()
    models = models_to_evaluate(cfg, train_step)
    rows: list[dict[str, Any]] = []
    for name, model_path in models.items():
        rows += evaluate_model(cfg, model_path, name, path / "models" / name)
    write_table(path, rows)
    info(format_table(rows))
    step.complete({"models": {k: str(v) for k, v in models.items()}, "results": as_dict(rows),
                   "n_rows": len(rows)})
    return step
