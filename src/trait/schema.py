"""Building blocks shared by every config section (kept apart to avoid import cycles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo


def _resolve_path(value: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir")
    if base is None or "://" in value or Path(value).is_absolute():
        return value
    return str((Path(base) / value).resolve())


DataPath = Annotated[str, AfterValidator(_resolve_path)]
"""A file path or fsspec URL; relative paths are taken from the config file's folder."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored typos."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
