"""Settings of the ablation: which arms of the comparison to run (the arms themselves: ``trait.arms``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from trait.arms import BUILTIN_NAMES, ArmSpec
from trait.schema import Section

ALL_ARMS: list[str] = list(BUILTIN_NAMES)


class AblateConfig(Section):
    """Every trained built-in arm sees the same number of tokens: build.stage1_tokens + build.stage2_tokens.

    - base: the base model, untrained.
    - cpt_seed: plain CPT on the seed in-domain corpus (+ general replay).
    - cpt_selected: CPT on seed + selected documents (+ replay) — TRAIT's stage-1 data alone.
    - synthetic_only: CPT on the synthetic passages (+ replay) alone.
    - trait_two_stage: stage 1 (seed + selected + replay), then stage 2 (passages + replay).
    - trait_one_stage: the same data as two-stage, shuffled together into one stage.
    """

    arms: list[str] = Field(default_factory=lambda: list(ALL_ARMS),
                            description=f"Built-in arms to run ({', '.join(BUILTIN_NAMES)}) and/or names of "
                            "custom_arms; custom arms not named here run after them.")
    seeds: list[int] | None = Field(
        None, min_length=1, description="Training seeds: every trained arm is built and trained once per seed, "
        "and the paired differences average each item over an arm's seeds (None = [seed]). The base arm is "
        "evaluated once, and evaluation (items, few-shot draws, bootstrap) always uses the top-level seed.")
    custom_arms: list[ArmSpec] = Field(
        default_factory=list, description="Arms of your own: {name, description, stages: [{name, tokens, mix, "
        "schedule}]}; see trait.arms for the format.")

    @model_validator(mode="after")
    def _names(self) -> AblateConfig:
        custom = [a.name for a in self.custom_arms]
        if clash := sorted(set(custom) & set(BUILTIN_NAMES)) or sorted({n for n in custom if custom.count(n) > 1}):
            raise ValueError(f"custom_arms: names must be new and unique (clash: {', '.join(clash)})")
        if unknown := [a for a in self.arms if a not in BUILTIN_NAMES and a not in custom]:
            raise ValueError(f"arms: unknown arm {unknown[0]!r} (built-in: {', '.join(BUILTIN_NAMES)}; "
                             f"custom: {', '.join(custom) or 'none'})")
        if self.seeds is not None and len(set(self.seeds)) < len(self.seeds):
            raise ValueError(f"seeds: each seed once (got {self.seeds})")
        return self

    def seed_list(self, seed: int) -> list[int]:
        """The training seeds: ``seeds``, or the top-level ``seed`` alone."""
        return list(self.seeds) if self.seeds is not None else [seed]

    def arm_names(self) -> list[str]:
        """The arms to run, in order: those named in ``arms``, then custom arms not named there."""
        return list(self.arms) + [a.name for a in self.custom_arms if a.name not in self.arms]
