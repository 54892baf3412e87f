"""Settings of the two-stage CPT corpus build."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trait.schema import Section


class BuildConfig(Section):
    mode: Literal["two_stage", "one_stage"] = "two_stage"
    seq_len: int = 512
    stage1_tokens: int = 40_000
    stage2_tokens: int = 20_000
    stage1_replay_fraction: float = Field(0.2, ge=0, lt=1)
    stage2_replay_fraction: float = Field(0.1, ge=0, lt=1)
