"""``trait ablate``: the arms of the paper's comparison on one token budget, sharing common steps.

Select and synthesize run once for every arm; TRAIT's arms reuse the regular build/train steps (so
``trait run`` and ``trait ablate`` share them); each arm's model is evaluated in its own step, and
the ``ablate`` step joins them into one table (one row per arm) with costs and a plain verdict.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from trait.build.corpus import CorpusSource, build_corpus
from trait.build.stage import corpus_sources, run_build, token_cache
from trait.config import TraitConfig
from trait.steps import Step
from trait.ui import info

TRAIT_ARMS = {"trait_two_stage": "two_stage", "trait_one_stage": "one_stage"}


def _single_plan(cfg: TraitConfig, arm: str, src: dict[str, CorpusSource]) -> list[CorpusSource]:
    """The one-stage mixes of the CPT baselines; replay shares match TRAIT's stage 1 (or stage 2)."""
    b = cfg.build
    r1, r2 = b.stage1_replay_fraction, b.stage2_replay_fraction
    replay1 = [replace(src["replay"], fraction=r1)] if r1 > 0 else []
    if arm == "cpt_seed":
        return [src["seed"]] + replay1
    if arm == "cpt_selected":
        return [replace(src["seed"], fraction=b.stage1_seed_fraction), src["selected"]] + replay1
    if arm == "synthetic_only":
        return [src["synthetic"]] + ([replace(src["replay"], fraction=r2)] if r2 > 0 else [])
    raise ValueError(arm)


def _baseline_model(cfg: TraitConfig, arm: str, select_step: Step, synth_step: Step
                    ) -> tuple[Step, Path, dict[str, Any]]:
    """Build + train one CPT baseline on the whole budget (one stage, stage-1 schedule)."""
    from trait.models import resolve_model
    from trait.train.trainer import stage_summary, train_stage

    total = cfg.build.stage1_tokens + cfg.build.stage2_tokens
    # Replay never reuses a selected doc, so every baseline depends on selection; only one reads passages.
    deps = (select_step, synth_step) if arm == "synthetic_only" else (select_step,)
    plan = _single_plan(cfg, arm, corpus_sources(cfg, select_step, synth_step))
    common = {"build": cfg.build, "base_model": cfg.train.base_model, "seed": cfg.seed,
              "sources": [s.identity() | {"fraction": s.fraction, "tokens": s.tokens} for s in plan]}
    build = Step(cfg.run_dir, f"build_{arm}", common | {"total": total}, deps=deps)
    tokenizer = resolve_model(cfg.train.base_model)
    if not build.done:
        out = build.start()
        info(f"ablate {arm}: build {total} tokens from {', '.join(s.name for s in plan)}")
        corpus = build_corpus(plan, tokenizer, cfg.build.seq_len, cfg.seed, out / "cpt", total_tokens=total,
                              cache_dir=token_cache(cfg), num_proc=cfg.build.num_proc,
                              separator_token=cfg.build.separator_token)
        build.complete({"mode": "one_stage", "stages": {"cpt": corpus},
                        "mix": {"cpt": {k: v["tokens"] for k, v in corpus["sources"].items()}}})
    train = Step(cfg.run_dir, f"train_{arm}", {"train": cfg.train, "seed": cfg.seed}, deps=(build,))
    if not train.done:
        out = train.start()
        dataset = Path(build.summary()["stages"]["cpt"]["dataset"])
        final = train_stage(tokenizer, dataset, out / "cpt", cfg.train.stage1, cfg.train, cfg.seed)
        s = stage_summary(out / "cpt")
        train.complete({"models": {"cpt": str(final)}, "final_model": str(final),
                        "stages": {"cpt": {k: s.get(k) for k in ("steps", "tokens", "final_loss", "wall_s",
                                                                 "tokens_per_s")}}})
    return train, Path(train.summary()["final_model"]), build.summary()["mix"]


def _trait_model(cfg: TraitConfig, arm: str, select_step: Step, synth_step: Step
                 ) -> tuple[Step, Path, dict[str, Any]]:
    from trait.train.stage import run_train

    arm_cfg = cfg.model_copy(update={"build": cfg.build.model_copy(update={"mode": TRAIT_ARMS[arm]})})
    build = run_build(arm_cfg, select_step, synth_step)
    train = run_train(arm_cfg, build)
    return train, Path(train.summary()["final_model"]), build.summary()["mix"]


def _evaluate(cfg: TraitConfig, arm: str, model: Path, train: Step | None) -> list[dict[str, Any]]:
    from trait.evaluate.results import evaluate_model, read_table
    from trait.steps import fingerprint

    task_files = [p for t in cfg.tasks for p in (t.train, t.test) if p]
    step = Step(cfg.run_dir, f"eval_{arm}", {"evaluate": cfg.evaluate, "tasks": cfg.tasks, "seed": cfg.seed,
                                             "model": str(model) if train is None else None,
                                             "data": fingerprint(task_files + list(cfg.data.heldout_general))},
                deps=(train,) if train is not None else ())
    if not step.done:
        info(f"ablate {arm}: evaluate {model}")
        rows = evaluate_model(cfg, model, arm, step.start())
        step.complete({"model": str(model), "n_rows": len(rows)})
    return read_table(step.path)


def _train_tokens(train: Step | None) -> int:
    if train is None:
        return 0
    return int(sum(s.get("tokens") or 0 for s in train.summary().get("stages", {}).values()))


def run_ablation(cfg: TraitConfig, select_step: Step, synth_step: Step) -> Step:
    """Train and evaluate every configured arm, then write the joined table into an ``ablate`` step."""
    from trait.models import resolve_model

    trains: dict[str, Step | None] = {}
    mixes: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for arm in cfg.ablate.arms:
        if arm == "base":
            train, model = None, resolve_model(cfg.train.base_model)
        elif arm in TRAIT_ARMS:
            train, model, mixes[arm] = _trait_model(cfg, arm, select_step, synth_step)
        else:
            train, model, mixes[arm] = _baseline_model(cfg, arm, select_step, synth_step)
        trains[arm] = train
        rows += _evaluate(cfg, arm, model, train)
    step = Step(cfg.run_dir, "ablate", {"arms": cfg.ablate.arms},
                deps=[select_step, synth_step] + [t for t in trains.values() if t is not None])
    if step.done:
        info(f"ablate: up to date ({step.path})")
        return step
    step.start()
    llm = synth_step.summary().get("llm", {})
    costs = {arm: {"train_tokens": _train_tokens(t),
                   "llm_calls": llm.get("sent", 0) if arm in ("synthetic_only", *TRAIT_ARMS) else 0,
                   "llm_cost_usd": llm.get("cost_usd", 0.0) if arm in ("synthetic_only", *TRAIT_ARMS) else 0.0}
             for arm, t in trains.items()}
    rows += averages(rows)
    budget = cfg.build.stage1_tokens + cfg.build.stage2_tokens
    step.complete({"arms": cfg.ablate.arms, "budget": f"{budget:,} tokens per trained arm", "rows": rows,
                   "costs": costs, "mixes": mixes, "verdict": verdict(rows),
                   "training": {arm: {stage: {k: v.get(k) for k in ("steps", "tokens", "final_loss", "tokens_per_s",
                                                                    "wall_s")} for stage, v in
                                      t.summary().get("stages", {}).items()}
                                for arm, t in trains.items() if t is not None}})
    from trait.report.tables import ablation_view
    from trait.ui import console

    console.print(_console_table(ablation_view(step.summary())))
    return step


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
