"""Versioned steps: a step's output folder is named by a hash of its settings and its inputs.

``runs/<run>/<stage>-<hash>/`` holds ``config.json`` (what produced it), the stage's outputs and a
``SUCCESS`` marker written last. An unchanged step is found complete and skipped; a changed setting
gives a new hash, and since a step's hash includes its inputs' hashes, everything downstream re-runs
too (the marin pattern). Work inside an unfinished folder is kept, so a stage can resume from it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from trait import __version__
from trait.io import read_json, write_json

SUCCESS = "SUCCESS"


def canonical(obj: Any) -> Any:
    """A JSON-able, order-stable form of configs (pydantic models become plain dicts)."""
    if isinstance(obj, BaseModel):
        return canonical(obj.model_dump(mode="json"))
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def config_hash(obj: Any, length: int = 10) -> str:
    return hashlib.sha256(orjson.dumps(canonical(obj), option=orjson.OPT_SORT_KEYS)).hexdigest()[:length]


def fingerprint(paths: Iterable[str | os.PathLike]) -> list[dict[str, Any]]:
    """Identify input files by path, size and mtime, so editing a data file re-runs what read it."""
    out = []
    for p in paths:
        p = str(p)
        if "://" in p:
            out.append({"path": p})
            continue
        try:
            st = os.stat(p)
            out.append({"path": p, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        except FileNotFoundError:
            out.append({"path": p, "missing": True})
    return out


@dataclass
class Step:
    """One versioned unit of work. Build it from settings; ``done`` says whether it can be skipped."""

    run_dir: Path
    stage: str
    config: Any
    deps: Sequence[Step] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self.hash = config_hash({"stage": self.stage, "config": self.config,
                                 "deps": [d.hash for d in self.deps], "version": _code_version()})

    @property
    def path(self) -> Path:
        return self.run_dir / f"{self.stage}-{self.hash}"

    @property
    def done(self) -> bool:
        return (self.path / SUCCESS).exists()

    def start(self) -> Path:
        """Create the folder and record what produces it (kept if a previous attempt left work there)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / "config.json", {"stage": self.stage, "hash": self.hash,
                                               "config": canonical(self.config),
                                               "deps": {d.stage: str(d.path) for d in self.deps}})
        return self.path

    def complete(self, summary: dict[str, Any]) -> None:
        """Write the summary, then the marker: a folder without the marker is never read as complete."""
        write_json(self.path / "summary.json", summary)
        (self.path / SUCCESS).write_text(__version__ + "\n")
        write_json(self.run_dir / "latest" / f"{self.stage}.json", {"path": str(self.path), "hash": self.hash})

    def summary(self) -> dict[str, Any]:
        return read_json(self.path / "summary.json")


def _code_version() -> str:
    # Only the major.minor of the package: patch releases must not invalidate every cached run.
    return ".".join(__version__.split(".")[:2])


def latest(run_dir: str | Path, stage: str) -> Path | None:
    """The folder of the last completed step of a stage in a run (what ``trait report`` reads)."""
    p = Path(run_dir) / "latest" / f"{stage}.json"
    if not p.exists():
        return None
    path = Path(read_json(p)["path"])
    return path if (path / SUCCESS).exists() else None
