"""The arms of the comparison, as data.

An arm is a list of CPT stages trained one after the other from the base model; each stage has a
token budget, a mix of named sources and the optimiser schedule it trains with. ``base`` has no
stage. Every arm runs through the same build -> train -> evaluate steps, so the ablation is this
table plus a join. A user adds an arm in YAML (``ablate.custom_arms``), no code:

    ablate:
      custom_arms:
        - name: seed_then_synthetic
          stages:
            - {name: stage1, tokens: stage1, mix: {seed: null, replay: 0.2}}
            - {name: stage2, tokens: stage2, mix: {synthetic: null}, schedule: stage2}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from trait.build.config import BuildConfig
from trait.schema import Section

Source = Literal["seed", "selected", "synthetic", "replay", "task_data"]
SOURCES: tuple[str, ...] = ("seed", "selected", "synthetic", "replay", "task_data")


class ArmStage(Section):
    """One CPT stage of an arm."""

    name: str = Field("cpt", pattern=r"^[A-Za-z0-9_]+$", description="Name of the stage's corpus and model.")
    tokens: int | Literal["stage1", "stage2", "total"] = Field(
        "total", description="Token budget: a number, or build.stage1_tokens / build.stage2_tokens / their sum.")
    mix: dict[Source, float | None] = Field(
        description="Share of the stage's tokens per source (seed, selected, synthetic, replay, task_data: "
        "the tasks' train items as question + gold solution text); null = share "
        "what is left with the other null sources, in proportion to the tokens each has.")
    schedule: Literal["stage1", "stage2"] = Field(
        "stage1", description="Which optimiser schedule trains it: train.stage1 or train.stage2.")

    @model_validator(mode="after")
    def _shares(self) -> ArmStage:
        fixed = [v for v in self.mix.values() if v is not None]
        if not self.mix:
            raise ValueError("mix: name at least one source")
        if any(not 0 <= v <= 1 for v in fixed) or sum(fixed) > 1 + 1e-9:
            raise ValueError(f"mix: shares must be in [0, 1] and add up to at most 1 (got {self.mix})")
        return self


class ArmSpec(Section):
    """An arm: its stages in training order (none = the base model, untrained)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    description: str = ""
    stages: list[ArmStage] = Field(default_factory=list)

    @property
    def sources(self) -> set[str]:
        return {s for st in self.stages for s, v in st.mix.items() if v != 0}

    @property
    def uses_llm(self) -> bool:
        return "synthetic" in self.sources


@dataclass(frozen=True)
class Planned:
    """A stage with its budget resolved against the build settings (what the build step hashes)."""

    name: str
    tokens: int
    mix: dict[str, float | None]
    schedule: str


def builtin_arms(b: BuildConfig) -> dict[str, ArmSpec]:
    """The paper's comparison. Replay shares follow TRAIT's stages, so arms differ in data, not budget."""
    s1, s2 = b.stage1_tokens, b.stage2_tokens
    r1, r2, sf = b.stage1_replay_fraction, b.stage2_replay_fraction, b.stage1_seed_fraction
    total = s1 + s2
    stage1 = {"seed": sf, "selected": None, "replay": r1}
    stage2 = {"synthetic": None, "replay": r2}
    # The one-stage mix holds exactly the tokens of both stages, as shares of their sum.
    one = {"seed": None if sf is None else sf * s1 / total, "selected": None,
           "synthetic": (1 - r2) * s2 / total, "replay": (r1 * s1 + r2 * s2) / total}
    table = [
        ("base", "The base model, untrained.", []),
        ("cpt_seed", "Plain CPT on the seed in-domain corpus (+ general replay).",
         [ArmStage(mix={"seed": None, "replay": r1})]),
        ("cpt_selected", "CPT on seed + selected documents (+ replay): TRAIT's stage-1 data alone.",
         [ArmStage(mix=stage1)]),
        ("synthetic_only", "CPT on the synthetic passages (+ replay) alone.", [ArmStage(mix=stage2)]),
        ("cpt_task_data", ("Control: CPT on the tasks' train items as plain text (question + gold solution, "
                           "+ replay), in place of the passages written from them."),
         [ArmStage(mix={"task_data": None, "replay": r2})]),
        ("trait_two_stage", "TRAIT: stage 1 (seed + selected + replay), then stage 2 (passages + replay).",
         [ArmStage(name="stage1", tokens="stage1", mix=stage1),
          ArmStage(name="stage2", tokens="stage2", mix=stage2, schedule="stage2")]),
        ("trait_one_stage", "The same data as two-stage TRAIT, shuffled together into one stage.",
         [ArmStage(name="one_stage", mix=one)]),
    ]
    return {name: ArmSpec(name=name, description=doc, stages=stages) for name, doc, stages in table}


BUILTIN_NAMES: tuple[str, ...] = tuple(builtin_arms(BuildConfig()))


def trait_arm(b: BuildConfig) -> str:
    """The arm ``trait run`` trains: TRAIT in the schedule ``build.mode`` names."""
    return f"trait_{b.mode}"


def plan(arm: ArmSpec, b: BuildConfig) -> list[Planned]:
    budgets = {"stage1": b.stage1_tokens, "stage2": b.stage2_tokens, "total": b.stage1_tokens + b.stage2_tokens}
    return [Planned(st.name, budgets[st.tokens] if isinstance(st.tokens, str) else st.tokens,
                    {k: v for k, v in st.mix.items() if v != 0}, st.schedule) for st in arm.stages]
