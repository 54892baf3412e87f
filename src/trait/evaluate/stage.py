"""The evaluate step of one arm: its model (the base model for ``base``) into rows of the results table.

Each part (lm-eval, task loss, perplexity) is cached in the run under a fingerprint of exactly what it
depends on, so a new evaluate step (another setting of one part) recomputes only that part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.errors import TraitError
from trait.evaluate.per_item import ITEMS
from trait.evaluate.results import FORMAT, evaluate_model, format_table
from trait.evaluate.settings import EvalSettings
from trait.steps import Step, fingerprint
from trait.ui import info


def eval_step(s: EvalSettings, arm: str, train: Step | None) -> Step:
    config = {"evaluate": s.evaluate, "tasks": s.tasks, "seed": s.seed,
              "data": fingerprint([p for t in s.tasks for p in t.files] + list(s.heldout)),
              "keys": {"text_key": s.text_key, "id_key": s.id_key, "on_bad_record": s.on_bad_record},
              "model": s.base_model if train is None else None, "format": FORMAT}
    return Step(s.run_dir, f"eval_{arm}", config, deps=(train,) if train is not None else (),
                outputs={"results": "results.jsonl", "results_csv": "results.csv", "items": ITEMS})


def run_eval(s: EvalSettings, arm: str, train: Step | None) -> Step:
    """Evaluate the arm's final model (``train`` None: the base model); rows are named by the arm."""

    def work(out: Path) -> dict[str, Any]:
        model = _model(s, train)
        info(f"evaluate {arm}: {model}")
        rows = evaluate_model(s, model, arm, out)
        info(format_table(rows))
        return {"arm": arm, "model": str(model), "n_rows": len(rows), "train_seed": s.train_seed}

    return eval_step(s, arm, train).run(work)


def _model(s: EvalSettings, train: Step | None) -> Path:
    from trait.models import resolve_model

    if train is None:
        return resolve_model(s.base_model)
    final = train.summary().get("final_model")
    if not final or not (Path(final) / "config.json").exists():
        raise TraitError(f"{train.path / 'summary.json'}: no trained model at final_model={final!r}")
    return Path(final)
