"""Small real-text fixtures for the selection tests (fastText fails with "Encountered NaN" on toy text).

``seed_texts`` / ``general_texts``: the first N OpenStax math sections and Wikipedia articles of the
example data; ``select_cfg``: a factory writing those texts to small corpus files under tmp_path and
returning a TraitConfig (cheap classifier settings); ``stage_settings``: the same, as the select steps'
own settings.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trait.config import TraitConfig, config_from_dict
from trait.pipeline import select_settings
from trait.select.settings import SelectSettings

N_SEED, N_GENERAL = 60, 120
# fastText diverges ("Encountered NaN") for some small settings; this one is stable on these texts.
FAST_CLASSIFIER = {"dim": 64, "epoch": 20, "lr": 0.5, "bucket": 20_000, "max_chars": 4000, "min_count": 1}


def _first_texts(path: Path, n: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line, _ in zip(fh, range(n))]


@pytest.fixture(scope="session")
def fast_classifier() -> dict[str, Any]:
    """Cheap fastText settings for tests (``ClassifierConfig(**fast_classifier)``)."""
    return dict(FAST_CLASSIFIER)


@pytest.fixture(scope="session")
def seed_texts(example_data) -> list[str]:
    return _first_texts(example_data / "math_prose" / "openstax_math.jsonl.gz", N_SEED)


@pytest.fixture(scope="session")
def general_texts(example_data) -> list[str]:
    return _first_texts(example_data / "wikipedia" / "wiki_sample.jsonl.gz", N_GENERAL)


def write_corpus(path: Path, texts: list[str], prefix: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": f"{prefix}-{i}", "text": t}) + "\n")
    return path


@pytest.fixture
def select_cfg(tmp_path, seed_texts, general_texts) -> Callable[..., TraitConfig]:
    """``select_cfg(general=[paths], **select_overrides)`` -> a config over small real corpora."""
    seed = write_corpus(tmp_path / "data" / "seed.jsonl.gz", seed_texts, "seed")
    general = write_corpus(tmp_path / "data" / "general.jsonl.gz", general_texts, "wiki")

    def make(general_paths: list[Path] | None = None, data: dict[str, Any] | None = None,
             llm: dict[str, Any] | None = None, **select: Any) -> TraitConfig:
        select.setdefault("classifier", FAST_CLASSIFIER)
        select.setdefault("keep_fraction", 0.1)
        select.setdefault("dedup", {"minhash": False})
        decontaminate = select.pop("decontaminate", {"enabled": False})  # a top-level section
        return config_from_dict({
            "run": "t", "runs_dir": str(tmp_path / "runs"), "seed": 0, "decontaminate": decontaminate,
            "data": {"seed_corpus": [str(seed)],
                     "general_corpus": [str(p) for p in (general_paths or [general])], **(data or {})},
            "select": select, **({"llm": llm} if llm else {})})

    return make


@pytest.fixture
def stage_settings(select_cfg) -> Callable[..., SelectSettings]:
    """``stage_settings(...)`` = ``select_settings(select_cfg(...))``: what the select steps take."""
    return lambda *args, **kwargs: select_settings(select_cfg(*args, **kwargs))
