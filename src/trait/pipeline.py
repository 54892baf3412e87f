"""The chain as the paper draws it: select -> synthesize -> build -> train -> evaluate -> report.

Each function takes the whole config, runs its step only when the step's folder is not complete,
and returns the ``Step`` so later stages can depend on it. Stage modules own their work; this
module only wires them together.
"""

from __future__ import annotations

from trait.config import TraitConfig
from trait.steps import Step


def select(cfg: TraitConfig) -> Step:
    from trait.select.stage import run_select

    return run_select(cfg)


def synthesize(cfg: TraitConfig) -> Step:
    from trait.synthesize.stage import run_synthesize

    return run_synthesize(cfg)


def build(cfg: TraitConfig) -> Step:
    from trait.build.stage import run_build
    from trait.models import check_model

    check_model(cfg.train.base_model)  # before selection and synthesis, not after them
    return run_build(cfg, select(cfg), synthesize(cfg))


def train(cfg: TraitConfig) -> Step:
    from trait.train.stage import run_train

    return run_train(cfg, build(cfg))


def evaluate(cfg: TraitConfig) -> Step:
    from trait.evaluate.stage import run_evaluate

    return run_evaluate(cfg, train(cfg))


def run(cfg: TraitConfig) -> Step:
    """The whole chain, then the report (unchanged steps are skipped)."""
    from trait.report import write_report

    step = evaluate(cfg)
    write_report(cfg.run_dir)
    return step


def ablate(cfg: TraitConfig) -> Step:
    from trait.ablate.arms import run_ablation
    from trait.models import check_model
    from trait.report import write_report

    check_model(cfg.train.base_model)  # before selection and synthesis, not after them
    step = run_ablation(cfg, select(cfg), synthesize(cfg))
    write_report(cfg.run_dir)
    return step
