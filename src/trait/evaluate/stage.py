"""The evaluate step of one arm: its model (the base model for ``base``) into rows of the results table.

Each part (lm-eval, task loss, perplexity) is cached in the run under a fingerprint of exactly what it
depends on, so a new evaluate step (another setting of one part) recomputes only that part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.config import TraitConfig
from trait.errors import TraitError
from trait.evaluate.results import evaluate_model, format_table
from trait.steps import Step, fingerprint
from trait.ui import info


def eval_step(cfg: TraitConfig, arm: str, train: Step | None) -> Step:
    d = cfg.data
    config = {"evaluate": cfg.evaluate, "tasks": cfg.tasks, "seed": cfg.seed,
              "data": fingerprint([p for t in cfg.tasks for p in t.files] + list(d.heldout_general)),
              "keys": {"text_key": d.text_key, "id_key": d.id_key, "on_bad_record": d.on_bad_record},
              "model": cfg.train.base_model if train is None else None}
    return Step(cfg.run_dir, f"eval_{arm}", config, deps=(train,) if train is not None else (),
                outputs={"results": "results.jsonl", "results_csv": "results.csv"})


def run_eval(cfg: TraitConfig, arm: str, train: Step | None) -> Step:
    """Evaluate the arm's final model (``train`` None: the base model); rows are named by the arm."""

    def work(out: Path) -> dict[str, Any]:
        model = _model(cfg, train)
        info(f"evaluate {arm}: {model}")
        rows = evaluate_model(cfg, model, arm, out)
        info(format_table(rows))
        return {"arm": arm, "model": str(model), "n_rows": len(rows)}

    return eval_step(cfg, arm, train).run(work)


def _model(cfg: TraitConfig, train: Step | None) -> Path:
    from trait.models import resolve_model

    if train is None:
        return resolve_model(cfg.train.base_model)
    final = train.summary().get("final_model")
    if not final or not (Path(final) / "config.json").exists():
        raise TraitError(f"{train.path / 'summary.json'}: no trained model at final_model={final!r}")
    return Path(final)
