"""Building blocks shared by every config section (kept apart to avoid import cycles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo


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


def knob(default: Any = ..., **kwargs: Any) -> Any:
    """A speed-only setting (process counts, batch sizes, save/log intervals, concurrency, timeouts,
    retries, rate limits): it changes how fast a step runs, never what it writes, so step hashes
    leave it out and changing it re-runs nothing. ``trait config-reference`` marks these keys."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra["hashed"] = False
    return Field(default, json_schema_extra=extra, **kwargs)


def is_hashed(model: type[BaseModel], name: str) -> bool:
    """False for fields declared with ``knob``: they never count in a step's hash."""
    extra = model.model_fields[name].json_schema_extra
    return not (isinstance(extra, dict) and extra.get("hashed") is False)
