"""Settings of the two-stage CPT corpus build."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trait.schema import Section, knob


class BuildConfig(Section):
    mode: Literal["two_stage", "one_stage"] = Field(
        "two_stage", description="two_stage = the paper's stage 1 then stage 2; one_stage = the same tokens "
        "of every source shuffled into one corpus (the ablation the two-stage claim is measured against).")
    seq_len: int = Field(512, ge=8, description="Tokens per packed training block.")
    stage1_tokens: int = Field(40_000, ge=1, description="Token budget of stage 1 (seed + selected + replay).")
    stage2_tokens: int = Field(20_000, ge=1, description="Token budget of stage 2 (synthetic + replay).")
    stage1_replay_fraction: float = Field(0.2, ge=0, lt=1, description="Share of stage 1 that is general replay.")
    stage2_replay_fraction: float = Field(0.1, ge=0, lt=1, description="Share of stage 2 that is general replay.")
    stage1_seed_fraction: float | None = Field(
        None, ge=0, le=1, description="Share of stage 1 given to the seed corpus; None = seed and selected "
        "docs share the in-domain budget in proportion to the tokens each has.")
    max_epochs: float = Field(
        1.0, ge=1, description="A source with fewer tokens than its share is repeated up to this many times; "
        "any remaining shortfall is reported in summary.json, never hidden.")
    replay_sample_rate: float = Field(
        1.0, gt=0, le=1, description="Read only this share of the replay corpus (hash-sampled by doc id), so "
        "tokenising a huge general corpus costs in proportion to the budget, not the corpus.")
    separator_token: str | None = Field(
        None, description="Token appended after every document; None = the tokenizer's EOS token.")
    num_proc: int = knob(1, ge=1, description="Processes for tokenising and packing (datasets.map).")
