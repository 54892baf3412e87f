"""The join of the comparison: every arm's evaluation rows in one table, with costs and a plain verdict.

The arms themselves are data (``trait.arms``) and run through the ordinary build -> train -> evaluate
steps (``trait.pipeline``); this step only reads their outputs. Its hash covers every evaluation step
it joins, so a new evaluation is always a new table, never the old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.arms import ArmSpec
from trait.evaluate.results import read_table
from trait.steps import Step


def join_step(run_dir: Path, stage: str, arms: list[ArmSpec], evals: dict[str, Step],
              synth: Step | None) -> Step:
    deps = [*evals.values()] + ([synth] if synth is not None else [])
    return Step(run_dir, stage, {"arms": arms}, deps=deps)


def run_join(run_dir: Path, stage: str, arms: list[ArmSpec], evals: dict[str, Step], synth: Step | None,
             budget: int) -> Step:
    """One row per (arm, task, metric), task averages, costs per arm, the training record, a verdict."""

    def work(out: Path) -> dict[str, Any]:
        rows = [r for e in evals.values() for r in read_table(e.path)]
        llm = synth.summary().get("llm", {}) if synth is not None else {}
        trains = {a.name: _train(evals[a.name]) for a in arms}
        costs = {a.name: {"train_tokens": _train_tokens(trains[a.name]),
                          "llm_calls": llm.get("calls", 0) if a.uses_llm else 0,
                          "llm_cost_usd": llm.get("cost_usd", 0.0) if a.uses_llm else 0.0} for a in arms}
        rows += averages(rows)
        return {"arms": [a.name for a in arms], "budget": f"{budget:,} tokens per trained built-in arm",
                "rows": rows, "costs": costs, "verdict": verdict(rows),
                "mixes": {a: t.deps[0].summary()["mix"] for a, t in trains.items() if t is not None},
                "training": {a: {stage: {k: v.get(k) for k in ("steps", "tokens", "final_loss", "tokens_per_s",
                                                               "wall_s")}
                                 for stage, v in t.summary().get("stages", {}).items()}
                             for a, t in trains.items() if t is not None}}

    step = join_step(run_dir, stage, arms, evals, synth).run(work)
    from trait.report.tables import ablation_view
    from trait.ui import console

    console.print(_console_table(ablation_view(step.summary())))
    return step


def _train(eval_step: Step) -> Step | None:
    return eval_step.deps[0] if eval_step.deps else None  # the base model's evaluation reads no train step


def _train_tokens(train: Step | None) -> int:
    if train is None:
        return 0
    return int(sum(s.get("tokens") or 0 for s in train.summary().get("stages", {}).values()))


def averages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Macro-average of each metric over the downstream tasks (no CI: tasks differ in size)."""
    out: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["task"] != "general" and r["value"] is not None:
            out.setdefault((r["model"], r["metric"]), []).append(r["value"])
    return [{"model": m, "task": "avg", "metric": metric, "value": sum(v) / len(v), "ci_low": None,
             "ci_high": None, "n": len(v)} for (m, metric), v in out.items()]


def verdict(rows: list[dict[str, Any]]) -> str:
    """One plain sentence: did TRAIT (two-stage) lower the average task loss vs. base and plain CPT?"""
    avg = {r["model"]: r["value"] for r in rows if r["task"] == "avg" and r["metric"] == "task_loss"}
    if "trait_two_stage" not in avg:
        return "TRAIT (two-stage) was not among the arms; see the table."
    t = avg["trait_two_stage"]
    parts = []
    for other in ("base", "cpt_seed", "cpt_selected", "synthetic_only", "trait_one_stage"):
        if other in avg:
            d = avg[other] - t
            parts.append(f"{other} {avg[other]:.3f} ({'+' if d >= 0 else ''}{d:.3f})")
    best = min(avg, key=avg.get)
    head = ("TRAIT two-stage has the lowest average task loss" if best == "trait_two_stage"
            else f"TRAIT two-stage does not win: {best} has the lowest average task loss")
    return (f"{head}. TRAIT two-stage: {t:.3f} nats/token; others (difference to TRAIT): {', '.join(parts)}. "
            "Check the per-task confidence intervals before concluding.")


def _console_table(view: dict[str, Any]) -> Any:
    """The headline columns as a rich table (averages, general perplexity, tokens, cost)."""
    from rich.table import Table

    table = Table(title="ablation", show_lines=False)
    # Arm names whole (two arms share a prefix): never cut to '…'.
    table.add_column("arm", no_wrap=True, min_width=max((len(r["arm"]) for r in view["rows"]), default=3))
    for c in view["columns"]:
        table.add_column(c.replace("_", " "), justify="right", overflow="fold")  # spaces: headers wrap by word
    for r in view["rows"]:
        table.add_row(r["arm"], *(str(r["cells"].get(c, "—")) for c in view["columns"]))
    return table
