"""Shared fixtures: offline settings, small real data, a tiny random model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trait.testing import processes

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DATA = REPO / "examples" / "math" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Models built or converted by tests go to a private cache, never the user's."""
    old = os.environ.get("TRAIT_CACHE")
    os.environ["TRAIT_CACHE"] = str(tmp_path_factory.mktemp("trait-cache"))
    yield
    if old is None:
        os.environ.pop("TRAIT_CACHE", None)
    else:
        os.environ["TRAIT_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from trait.models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def packed(tiny_model, tmp_path_factory) -> Path:
    """A small packed corpus (tiny byte-level model, 32-token blocks) for the training tests."""
    from trait.build.corpus import CorpusSource, build_corpus

    out = tmp_path_factory.mktemp("packed")
    texts = [f"The sum of {i} and {i + 1} is {2 * i + 1}. " * 3 for i in range(30)]
    return Path(build_corpus([CorpusSource("math", texts=texts)], tiny_model, 32, 0, out)["dataset"])


@pytest.fixture(scope="session")
def example_data() -> Path:
    return EXAMPLE_DATA


# Every process a test starts carries this tag; one still alive after the session, and no longer
# a descendant of pytest, was left behind by a killed run (or a careless test): the session fails.
_SESSION_TAG = processes.new_tag()
os.environ[processes.TAG_ENV] = _SESSION_TAG


def pytest_sessionfinish(session, exitstatus):
    import time

    deadline = time.monotonic() + 10  # a worker that got SIGKILL a moment ago may still be exiting
    while (left := processes.orphans(_SESSION_TAG)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        session.exitstatus = 1
        print("\nerror: processes left behind by the tests:\n  " + "\n  ".join(left))
