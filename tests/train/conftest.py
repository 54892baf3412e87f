"""A small packed corpus (tiny byte-level model, 32-token blocks) shared by the training tests."""

from pathlib import Path

import pytest

from trait.build.corpus import CorpusSource, build_corpus


@pytest.fixture(scope="module")
def packed(tiny_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packed")
    texts = [f"The sum of {i} and {i + 1} is {2 * i + 1}. " * 3 for i in range(30)]
    return Path(build_corpus([CorpusSource("math", texts=texts)], tiny_model, 32, 0, out)["dataset"])
