"""Every shipped example: its config loads, its tasks load, and no test item leaks into anything the
example trains on from its own task data (by the same decontamination rule the pipeline applies).

A failure here means an example was edited into a broken or leaking state; fix the data (each
example's make_data.py) or the config, not this test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trait.config import load_config
from trait.contamination import Decontamination
from trait.corpus import resolve
from trait.tasks import load_problems

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*/config.yaml"))


def test_the_three_examples_are_found():
    assert {p.parent.name for p in EXAMPLES} >= {"math", "medical", "ecommerce"}


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.parent.name)
def example(request):
    return load_config(request.param)


def test_every_corpus_file_exists(example):
    corpora = example.data
    for items in (corpora.seed_corpus, corpora.general_corpus, corpora.heldout_general):
        assert resolve(items), f"{example.run}: a corpus list resolves to no file"
    if example.select.labels:
        assert Path(example.select.labels).is_file()


def test_every_task_loads_both_splits_without_a_bad_record(example):
    for spec in example.tasks:
        train, test = load_problems(spec, "train"), load_problems(spec, "test")  # on_error=fail: raises
        assert train and test, spec.name
        assert all(p.answer is not None for p in train + test), spec.name
        if spec.type != "generate":
            assert all(p.choices and len(p.choices) >= 2 for p in test), spec.name
        # ids name items in results and paired comparisons: unique within a split, never shared by both
        for split in (train, test):
            assert len({p.id for p in split}) == len(split), f"{spec.name}: duplicate ids"
        assert not {p.id for p in train} & {p.id for p in test}, f"{spec.name}: an id in both splits"


def test_decontamination_keeps_most_train_items_and_those_drawn_here_whole(example):
    """The pipeline drops train problems whose input shares a word 13-gram with (or copies) a test item
    of any task. It must keep most of every task: a long literal in an input_template, or boilerplate
    shared by every item, would silently drop nearly all of it. Data drawn by an example's own
    make_data.py is drawn clean: there the pipeline has nothing to drop."""
    index, stats = Decontamination(example.decontaminate, tuple(example.tasks)).index()
    assert stats["test_items_indexed"] > 0
    drawn_clean = (Path(example.runs_dir).parent / "make_data.py").is_file()
    for spec in example.tasks:
        train = load_problems(spec, "train")
        hits = [(p.id, hit) for p in train if (hit := index.match(p.input))]
        assert len(hits) <= 0.2 * len(train), f"{spec.name}: {len(hits)} of {len(train)} hold a test item"
        assert not (drawn_clean and hits), f"{spec.name}: {hits[:3]}"


def test_no_pubmedqa_prompt_can_state_the_answer():
    """PubMedQA's LONG_ANSWER is the abstract's conclusion: it is not even in the copied files."""
    medical = next(p for p in EXAMPLES if p.parent.name == "medical")
    spec = next(t for t in load_config(medical).tasks if t.name == "pubmedqa")
    for f in spec.files:
        assert "LONG_ANSWER" not in Path(f).read_text(encoding="utf-8")
    assert "{original" not in (spec.input_template or "")
