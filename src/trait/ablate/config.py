"""Settings of the ablation: which arms of the paper's comparison to run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trait.schema import Section

Arm = Literal["base", "cpt_seed", "cpt_selected", "synthetic_only", "trait_two_stage", "trait_one_stage"]
ALL_ARMS: list[Arm] = ["base", "cpt_seed", "cpt_selected", "synthetic_only", "trait_two_stage",
                       "trait_one_stage"]


class AblateConfig(Section):
    """Every trained arm sees the same number of tokens: build.stage1_tokens + build.stage2_tokens.

    - base: the base model, untrained.
    - cpt_seed: plain CPT on the seed in-domain corpus (+ general replay).
    - cpt_selected: CPT on seed + selected documents (+ replay) — TRAIT's stage-1 data alone.
    - synthetic_only: CPT on the synthetic passages (+ replay) alone.
    - trait_two_stage: stage 1 (seed + selected + replay), then stage 2 (passages + replay).
    - trait_one_stage: the same data as two-stage, shuffled together into one stage.
    """

    arms: list[Arm] = Field(default_factory=lambda: list(ALL_ARMS))
