"""The default selection recipe (issue 11): the embedding scorer + one bootstrap round of its own kind;
`method: fasttext` alone is the paper's recipe (no bootstrapping), the baselines and ensembles are
not bootstrapped unless asked, and an explicit rounds value always wins."""

from __future__ import annotations

import pytest

from trait.select.config import SelectConfig


def test_the_default_is_embedding_with_one_bootstrap_round() -> None:
    c = SelectConfig()
    assert (c.method, c.bootstrap.rounds, c.bootstrap.scorer) == ("embedding", 1, None)


@pytest.mark.parametrize("select", [{"method": "fasttext"}, {"method": "dsir"}, {"method": "random"},
                                    {"ensemble": ["fasttext", "embedding"]}])
def test_other_methods_and_ensembles_are_not_bootstrapped_by_default(select: dict) -> None:
    assert SelectConfig.model_validate(select).bootstrap.rounds == 0


@pytest.mark.parametrize(("method", "rounds"), [("fasttext", 2), ("embedding", 0), ("dsir", 1)])
def test_an_explicit_rounds_value_wins(method: str, rounds: int) -> None:
    c = SelectConfig.model_validate({"method": method, "bootstrap": {"rounds": rounds}})
    assert c.bootstrap.rounds == rounds and c.model_dump()["bootstrap"]["rounds"] == rounds
