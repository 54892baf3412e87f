"""The join of the comparison: every arm's evaluation rows in one table, with costs, each arm's paired
difference to TRAIT (``trait.ablate.paired``) and a plain verdict.

The arms themselves are data (``trait.arms``) and run through the ordinary build -> train -> evaluate
steps (``trait.pipeline``), once per training seed; this step only reads their outputs. Its hash covers
every evaluation step it joins, so a new evaluation is always a new table, never the old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.ablate.paired import REFERENCE, over_seeds, paired, verdict
from trait.arms import ArmSpec
from trait.evaluate.per_item import read_items
from trait.evaluate.results import read_table
from trait.steps import Step, cost_of


def join_step(run_dir: Path, stage: str, arms: list[ArmSpec], evals: dict[str, list[Step]], synth: Step | None,
              boot: dict[str, Any]) -> Step:
    """``evals``: per arm, its evaluation of each training seed; ``boot``: iters, confidence, seed of the
    bootstrap intervals."""
    deps = [e for es in evals.values() for e in es] + ([synth] if synth is not None else [])
    return Step(run_dir, stage, {"arms": arms, "bootstrap": boot}, deps=deps)


def run_join(run_dir: Path, stage: str, arms: list[ArmSpec], evals: dict[str, list[Step]], synth: Step | None,
             budget: int, boot: dict[str, Any]) -> Step:
    """One row per (arm, task, metric) (over seeds), per-seed rows, task averages, each arm's paired
    difference to TRAIT two-stage, costs per arm, the training record (first seed), a verdict."""
    step = join_step(run_dir, stage, arms, evals, synth, boot)

    def work(out: Path) -> dict[str, Any]:
        from trait.report.tables import zero_columns

        per_seed = {a: [(e.summary().get("train_seed"), read_table(e.path)) for e in es] for a, es in evals.items()}
        items = {a: [read_items(e.file("items")) for e in es] for a, es in evals.items()}
        rows = [r for a in evals for r in over_seeds([rs for _, rs in per_seed[a]], items[a], boot)]
        llm = synth.summary().get("llm", {}) if synth is not None else {}
        trains = {a.name: _train(evals[a.name][0]) for a in arms}
        costs = {a.name: {"train_tokens": _train_tokens(trains[a.name]),
                          "llm_calls": llm.get("calls", 0) if a.uses_llm else 0,
                          "llm_cost_usd": llm.get("cost_usd", 0.0) if a.uses_llm else 0.0,
                          # everything that made the arm's models (select, synthesize, build, train; all seeds)
                          "cpu_s": cost_of([e.deps[0] for e in evals[a.name] if e.deps])["cpu_s"]}
                 for a in arms}
        rows += averages(rows)
        pairs = paired(items, boot)
        seeds = sorted({s for runs in per_seed.values() for s, _ in runs if s is not None})
        zero, notes = zero_columns(rows)  # a metric at 0 for every arm compares nothing: said once instead
        told = (verdict([p for p in pairs if (p["task"], p["metric"]) not in zero], boot["confidence"],
                        max(len(seeds), 1)) if REFERENCE in items
                else f"TRAIT two-stage ({REFERENCE}) was not among the arms: no paired comparison; see the table.")
        return {"arms": [a.name for a in arms], "budget": f"{budget:,} tokens per trained built-in arm",
                "seeds": seeds,
                "rows": rows, "seed_rows": [r | {"seed": s} for runs in per_seed.values() for s, rs in runs
                                            for r in rs],
                "reference": REFERENCE, "paired": pairs, "confidence": boot["confidence"], "costs": costs,
                "compute": cost_of(step.deps),  # the whole comparison, evaluations included
                "verdict": " ".join([told, *notes]),
                "mixes": {a: t.deps[0].summary()["mix"] for a, t in trains.items() if t is not None},
                # which weights each arm started from (the base arm: the ones it was evaluated with)
                "checkpoints": {a: (t.summary().get("base_model") if t is not None
                                    else evals[a][0].summary().get("model")) for a, t in trains.items()},
                "training": {a: {stage: {k: v.get(k) for k in ("steps", "tokens", "final_loss", "tokens_per_s",
                                                               "wall_s")}
                                 for stage, v in t.summary().get("stages", {}).items()}
                             for a, t in trains.items() if t is not None}}

    step.run(work)
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
