"""The chain as the paper draws it: select -> synthesize -> build -> train -> evaluate -> report.

Every arm of the comparison (``trait.arms``) is the same build -> train -> evaluate steps over another
mix, trained once per seed of ``ablate.seeds``; ``trait run`` is the base model and TRAIT's arm,
``trait ablate`` every configured arm. This module only wires steps together: each stage module builds
its step from its settings and the steps it reads, and ``Step.run`` decides what runs. ``plan`` builds
the whole graph without running anything, so every step's hash is known up front
(``tests/test_rerun_table.py`` checks what each key re-runs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trait.arms import ArmSpec, builtin_arms, trait_arm
from trait.config import TraitConfig
from trait.contamination import Decontamination
from trait.errors import ConfigError
from trait.evaluate.settings import EvalSettings
from trait.select.settings import SelectSettings
from trait.steps import Step, command
from trait.synthesize.settings import SynthesisSettings


def _command(fn: Callable[[TraitConfig], Step]) -> Callable[[TraitConfig], Step]:
    """A user command: the run folder is locked while it runs, then ``last.json`` lists its steps."""
    @functools.wraps(fn)
    def wrapper(cfg: TraitConfig) -> Step:
        with command(cfg.run_dir):
            return fn(cfg)
    return wrapper


def arm_specs(cfg: TraitConfig, names: list[str]) -> list[ArmSpec]:
    table = builtin_arms(cfg.build) | {a.name: a for a in cfg.ablate.custom_arms}
    missing = [n for n in names if n not in table]
    if missing:
        raise ConfigError(f"ablate.arms: unknown arm {missing[0]!r} (have: {', '.join(table)})")
    return [table[n] for n in names]


def eval_settings(cfg: TraitConfig, train_seed: int | None = None) -> EvalSettings:
    """Evaluation always draws with the top-level seed, so only training varies across ``ablate.seeds``."""
    d = cfg.data
    return EvalSettings(evaluate=cfg.evaluate, tasks=cfg.tasks, heldout=d.heldout_general, text_key=d.text_key,
                        id_key=d.id_key, on_bad_record=d.on_bad_record, seed=cfg.seed, train_seed=train_seed,
                        base_model=cfg.train.base_model, run_dir=cfg.run_dir)


def _runs(cfg: TraitConfig, arm: ArmSpec) -> list[tuple[int | None, str]]:
    """(training seed, plan-name suffix) of each run of ``arm``: one per seed of ``ablate.seeds`` (the
    first unsuffixed, then ``@<seed>``), or (None, '') for the base model, which is not trained."""
    if not arm.stages:
        return [(None, "")]
    seeds = cfg.ablate.seed_list(cfg.seed)
    return [(s, "" if i == 0 else f"@{s}") for i, s in enumerate(seeds)]


def _bootstrap(cfg: TraitConfig) -> dict[str, Any]:
    """What the join's intervals resample with (the per-arm ones use the same)."""
    return {"iters": cfg.evaluate.bootstrap_iters, "confidence": cfg.evaluate.confidence, "seed": cfg.seed}


def decontamination(cfg: TraitConfig) -> Decontamination:
    """Every task's test split, which each source of every build is checked against."""
    return Decontamination(cfg.decontaminate, tuple(cfg.tasks), cfg.data.on_bad_record)


def _chain_arms(cfg: TraitConfig) -> list[ArmSpec]:
    return arm_specs(cfg, ["base", trait_arm(cfg.build)])


# ---- running ------------------------------------------------------------------------------------

def select_settings(cfg: TraitConfig) -> SelectSettings:
    if cfg.select.judge.enabled and not cfg.select.judge.domain and "name" not in cfg.domain.model_fields_set:
        raise ConfigError("select.judge.enabled: the judge asks whether each document is about the domain; "
                          "name it in domain.name (e.g. 'mathematics')")
    return SelectSettings(select=cfg.select, data=cfg.data, tasks=cfg.tasks, decontaminate=cfg.decontaminate,
                          llm=cfg.llm, seed=cfg.seed, domain=cfg.domain,
                          run_dir=cfg.run_dir, run=cfg.run)


@_command
def select(cfg: TraitConfig) -> Step:
    from trait.select.stage import run_select

    return run_select(select_settings(cfg))


def synthesis_settings(cfg: TraitConfig) -> SynthesisSettings:
    return SynthesisSettings(run_dir=cfg.run_dir, seed=cfg.seed, synthesize=cfg.synthesize, llm=cfg.llm,
                             decontaminate=cfg.decontaminate, domain=cfg.domain,
                             tasks=cfg.tasks, on_bad_record=cfg.data.on_bad_record)


@_command
def synthesize(cfg: TraitConfig) -> Step:
    from trait.synthesize.stage import run_synthesize

    return run_synthesize(synthesis_settings(cfg))


def _arm_train(cfg: TraitConfig, arm: ArmSpec, upstream: dict[str, Step | None],
               seed: int | None = None) -> Step | None:
    """Build and train one arm with ``seed`` (default: the top-level one); None for the base model."""
    from trait.build.stage import run_build
    from trait.train.stage import run_train

    if not arm.stages:
        return None
    seed = cfg.seed if seed is None else seed
    build_ = run_build(arm, cfg.build, cfg.data, run_dir=cfg.run_dir, base_model=cfg.train.base_model,
                       seed=seed, select=upstream.get("select"), synth=upstream.get("synthesize"),
                       task_data=upstream.get("task_data"), decontaminate=decontamination(cfg))
    return run_train(arm, cfg.train, build_, run_dir=cfg.run_dir, seed=seed)


def _upstream(cfg: TraitConfig, arms: list[ArmSpec]) -> dict[str, Step | None]:
    """Selection, synthesis and the task-data corpus, each run only when some arm reads it."""
    from trait.build.task_data import run_task_data
    from trait.models import check_model

    check_model(cfg.train.base_model)  # before selection and synthesis, not after them
    used = set().union(*(a.sources for a in arms))
    task_data = (run_task_data(cfg.tasks, on_bad_record=cfg.data.on_bad_record, run_dir=cfg.run_dir,
                               decontaminate=cfg.decontaminate)
                 if "task_data" in used else None)
    return {"select": select(cfg) if used & {"selected", "replay"} else None,
            "synthesize": synthesize(cfg) if "synthetic" in used else None, "task_data": task_data}


@_command
def build(cfg: TraitConfig) -> Step:
    from trait.build.stage import run_build

    arm = _chain_arms(cfg)[1]
    up = _upstream(cfg, [arm])
    return run_build(arm, cfg.build, cfg.data, run_dir=cfg.run_dir, base_model=cfg.train.base_model,
                     seed=cfg.seed, select=up["select"], synth=up["synthesize"],
                     decontaminate=decontamination(cfg))


@_command
def train(cfg: TraitConfig) -> Step:
    arm = _chain_arms(cfg)[1]
    step = _arm_train(cfg, arm, _upstream(cfg, [arm]))
    assert step is not None  # TRAIT's arm always has stages
    return step


def _compare(cfg: TraitConfig, stage: str, arms: list[ArmSpec]) -> Step:
    """Train (once per seed) and evaluate every arm, then join their rows into one table (``stage``)."""
    from trait.ablate.join import run_join
    from trait.evaluate.stage import run_eval

    _one_model_per_server(cfg, [a.name + suffix for a in arms for _, suffix in _runs(cfg, a)])
    up = _upstream(cfg, arms)
    evals = {a.name: [run_eval(eval_settings(cfg, seed), a.name, _arm_train(cfg, a, up, seed))
                      for seed, _ in _runs(cfg, a)] for a in arms}
    return run_join(cfg.run_dir, stage, arms, evals, up["synthesize"],
                    cfg.build.stage1_tokens + cfg.build.stage2_tokens, _bootstrap(cfg))


def _one_model_per_server(cfg: TraitConfig, models: list[str]) -> None:
    """An external server holds one model: scoring several arms through it would score it under each name."""
    ev = cfg.evaluate
    if ev.backend == "local-completions" and ev.server == "external" and len(models) > 1:
        raise ConfigError(f"evaluate.server: external scores every model at {ev.base_url}, but this command "
                          f"evaluates {len(models)} ({', '.join(models[:4])}{', ...' if len(models) > 4 else ''}): "
                          "set evaluate.server: transformers (or vllm) to serve each arm's own model")


@_command
def evaluate(cfg: TraitConfig) -> Step:
    """The base model and TRAIT's model, evaluated and joined (what ``trait run`` reports)."""
    return _compare(cfg, "evaluate", _chain_arms(cfg))


def run(cfg: TraitConfig) -> Step:
    """The whole chain, then the report (unchanged steps are skipped)."""
    from trait.report import write_report

    step = evaluate(cfg)
    write_report(cfg.run_dir, domain=cfg.domain.name)
    return step


def ablate(cfg: TraitConfig) -> Step:
    """Every configured arm on one budget, sharing common steps; one table and a verdict."""
    from trait.report import write_report

    with command(cfg.run_dir):
        step = _compare(cfg, "ablate", arm_specs(cfg, cfg.ablate.arm_names()))
    write_report(cfg.run_dir, domain=cfg.domain.name)
    return step


# ---- planning -----------------------------------------------------------------------------------

def plan(cfg: TraitConfig, arms: list[str] | None = None) -> dict[str, Step]:
    """Every step ``trait ablate`` would run (or ``arms``), by a readable name, without running any.
    The hashes are those the run uses: each stage module builds its step here and in its runner."""
    from trait.ablate.join import join_step
    from trait.build.stage import build_step
    from trait.build.task_data import task_data_step
    from trait.evaluate.stage import eval_step
    from trait.select.choose import choose_step
    from trait.select.judge import judge_step
    from trait.select.stage import classify_step, score_step
    from trait.synthesize.stage import synthesize_step
    from trait.train.stage import train_step

    specs = arm_specs(cfg, arms if arms is not None else cfg.ablate.arm_names())
    steps: dict[str, Step] = {}
    sel = select_settings(cfg)
    steps["classify"] = classify_step(sel)
    steps["score"] = score_step(sel, steps["classify"])
    steps["choose"] = choose_step(sel, steps["score"])
    if cfg.select.judge.enabled:
        steps["judge"] = judge_step(sel, steps["score"], steps["choose"])
    synth = synthesize_step(synthesis_settings(cfg)) if any(a.uses_llm for a in specs) else None
    if synth is not None:
        steps["synthesize"] = synth
    task_data = (task_data_step(cfg.tasks, on_bad_record=cfg.data.on_bad_record, run_dir=cfg.run_dir,
                                decontaminate=cfg.decontaminate)
                 if any("task_data" in a.sources for a in specs) else None)
    if task_data is not None:
        steps["task_data"] = task_data
    evals: dict[str, list[Step]] = {}
    for a in specs:
        for seed, tag in _runs(cfg, a):
            trained = None
            if seed is not None:
                steps[f"build_{a.name}{tag}"] = b = build_step(a, cfg.build, cfg.data, run_dir=cfg.run_dir,
                                                               base_model=cfg.train.base_model, seed=seed,
                                                               select=steps["choose"], synth=synth,
                                                               task_data=task_data,
                                                               decontaminate=decontamination(cfg))
                trained = train_step(a, cfg.train, b, run_dir=cfg.run_dir, seed=seed)
                steps[f"train_{a.name}{tag}"] = trained
            steps[f"eval_{a.name}{tag}"] = e = eval_step(eval_settings(cfg, seed), a.name, trained)
            evals.setdefault(a.name, []).append(e)
    steps["ablate"] = join_step(Path(cfg.run_dir), "ablate", specs, evals, synth, _bootstrap(cfg))
    return steps
