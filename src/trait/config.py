"""One typed configuration for the whole chain, loaded from YAML plus ``key=value`` overrides.

Each stage owns its section model (``trait/<stage>/config.py``); this module composes them and turns
validation failures into one readable line. Relative paths are resolved against the config file's
folder, so a config and its data move together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from trait.ablate.config import AblateConfig
from trait.build.config import BuildConfig
from trait.contamination import DecontaminationConfig
from trait.corpus import CorpusPath
from trait.domain import DomainConfig
from trait.errors import ConfigError
from trait.evaluate.config import EvaluateConfig
from trait.llm.config import LLMConfig
from trait.schema import DataPath, Section
from trait.select.config import SelectConfig
from trait.synthesize.config import SynthesizeConfig
from trait.tasks import TaskSpec
from trait.train.config import TrainConfig


class DataConfig(Section):
    seed_corpus: list[CorpusPath] = Field(
        description="In-domain seed documents (jsonl[.gz/.bz2/.xz/.zst], parquet, txt; globs, folders, URLs).")
    general_corpus: list[CorpusPath] = Field(description="General corpus to select from, any size.")
    replay_corpus: list[CorpusPath] | None = Field(
        None, description="General text replayed during CPT; defaults to the general corpus.")
    heldout_general: list[CorpusPath] = Field(
        default_factory=list, description="Held-out general text for the perplexity check.")
    text_key: str = Field("text", description="Field holding a document's text.")
    id_key: str | None = Field("id", description="Field holding a document's id (else file:line).")
    on_bad_record: Literal["skip", "fail"] = Field(
        "skip", description="skip = count and report bad records; fail = stop at the first with file:line.")


class TraitConfig(Section):
    run: str = Field("default", description="Run name: outputs go to <runs_dir>/<run>/.")
    runs_dir: DataPath = Field("runs", validate_default=True, description="Relative to the config file.")
    seed: int = Field(0, description="Seed of every sampling step (classifier negatives, grouping, shuffles).")
    domain: DomainConfig = Field(default_factory=DomainConfig, description="The domain's name and description.")
    data: DataConfig = Field(description="Seed, general, replay and held-out corpora.")
    tasks: list[TaskSpec] = Field(default_factory=list, description="Downstream tasks (train: synthesis; test: evaluation, decontamination).")
    select: SelectConfig = Field(default_factory=SelectConfig)
    decontaminate: DecontaminationConfig = Field(default_factory=DecontaminationConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    synthesize: SynthesizeConfig = Field(default_factory=SynthesizeConfig)
    build: BuildConfig = Field(default_factory=BuildConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    ablate: AblateConfig = Field(default_factory=AblateConfig)

    @model_validator(mode="after")
    def _task_names(self) -> TraitConfig:
        names = [t.name for t in self.tasks]
        for key in ("task_limits", "lmeval_builtin"):
            if unknown := [k for k in getattr(self.evaluate, key) if k not in names]:
                raise ValueError(f"evaluate.{key}: no task named {unknown[0]!r} (have: {', '.join(names) or 'none'})")
        return self

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.run

    def task(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t
        raise ConfigError(f"tasks: no task named {name!r} (have: {', '.join(t.name for t in self.tasks)})")


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    node: Any = data
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
            continue
        node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"override {key}: {part!r} is not a section")
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides; values are parsed as YAML (so ``0.1``, ``true``, ``[a, b]`` work)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        try:
            _set_dotted(data, key.strip(), value)
        except (ValueError, IndexError):
            raise ConfigError(f"override {key}: list index out of range or not a number") from None
    return data


def format_validation_error(err: ValidationError, origin: str) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "<root>"
        if e["type"] == "extra_forbidden":
            parts.append(f"{loc}: unknown key")
        elif e["type"] == "missing":
            parts.append(f"{loc}: required key missing")
        else:
            parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})"[:300])
    return f"{origin}: invalid config: " + "; ".join(parts)


def load_config(path: str | Path, overrides: list[str] | None = None) -> TraitConfig:
    """Load, override and validate a config; every problem becomes one ``ConfigError`` line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    data = apply_overrides(data, overrides or [])
    return config_from_dict(data, base_dir=path.parent, origin=str(path))


def config_from_dict(data: dict[str, Any], *, base_dir: str | Path = ".", origin: str = "<config>") -> TraitConfig:
    try:
        return TraitConfig.model_validate(data, context={"base_dir": str(Path(base_dir).resolve())})
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, origin)) from None
