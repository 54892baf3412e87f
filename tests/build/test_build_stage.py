"""run_build: the two CPT corpora from seed, selected, synthetic and replay files; the one-stage mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from trait.arms import trait_arm
from trait.build.stage import run_build, stage_datasets
from trait.config import config_from_dict
from trait.errors import TraitError
from trait.io import read_jsonl, write_jsonl
from trait.pipeline import arm_specs
from trait.records import Doc, Passage
from trait.steps import Step


def _text(tag: str, n: int) -> str:
    return (f"{tag} " * n)[: 6 * n]


@pytest.fixture()
def inputs(tmp_path: Path):
    """Seed, general corpus, a select step with 5 of its docs, a synthesize step with passages."""
    write_jsonl(tmp_path / "seed.jsonl", [{"id": f"s{i}", "text": _text(f"seed{i}", 20)} for i in range(10)])
    general = [{"id": f"g{i}", "text": _text(f"gen{i}", 30)} for i in range(40)]
    write_jsonl(tmp_path / "general.jsonl", general)

    def make(mode: str, **build):
        cfg = config_from_dict({
            "runs_dir": str(tmp_path / "runs"), "seed": 3,
            "data": {"seed_corpus": [str(tmp_path / "seed.jsonl")],
                     "general_corpus": [str(tmp_path / "general.jsonl")]},
            "build": {"mode": mode, "seq_len": 32, "stage1_tokens": 1600, "stage2_tokens": 800,
                      "stage1_replay_fraction": 0.25, "stage2_replay_fraction": 0.1, "max_epochs": 3, **build},
            "train": {"base_model": "tiny-random"}})
        select = Step(cfg.run_dir, "select", {"fixture": 1}, outputs={"selected": "selected.jsonl.gz"})
        write_jsonl(select.start() / "selected.jsonl.gz",
                    [Doc(id=g["id"], text=g["text"], source=str(tmp_path / "general.jsonl"), line=i + 1)
                     for i, g in enumerate(general[:5])])
        synth = Step(cfg.run_dir, "synthesize", {"fixture": 1}, outputs={"passages": "passages.jsonl"})
        write_jsonl(synth.start() / "passages.jsonl",
                    [Passage(id=f"p{i}", text=_text(f"passage{i}", 25), problem_ids=[f"q{i}"], tasks=["t"])
                     for i in range(4)])
        return cfg, select, synth
    return make


def build(cfg, select, synth):
    """The build step of TRAIT's arm in the schedule ``build.mode`` names (what ``trait build`` runs)."""
    [arm] = arm_specs(cfg, [trait_arm(cfg.build)])
    return run_build(arm, cfg.build, cfg.data, run_dir=cfg.run_dir, base_model=cfg.train.base_model,
                     seed=cfg.seed, select=select, synth=synth)


def test_two_stage_build_records_the_mix(inputs):
    cfg, select, synth = inputs("two_stage")
    step = build(cfg, select, synth)
    s = step.summary()
    assert set(stage_datasets(step)) == {"stage1", "stage2"}
    mix1, mix2 = s["mix"]["stage1"], s["mix"]["stage2"]
    assert mix1["replay"] == 400 and mix1["seed"] + mix1["selected"] == 1200
    assert mix2["replay"] == 80 and mix2["synthetic"] == 720  # 4 passages x 151 tokens, repeated
    assert s["stages"]["stage2"]["sources"]["synthetic"]["epochs"] > 1
    assert s["stages"]["stage1"]["sources"]["replay"]["excluded"] == 5  # selected docs never replayed
    assert build(cfg, select, synth).path == step.path  # unchanged: skipped


def test_one_stage_mix_uses_the_same_tokens_per_source(inputs):
    two = build(*inputs("two_stage")).summary()["mix"]
    one = build(*inputs("one_stage")).summary()
    assert set(one["stages"]) == {"one_stage"}
    mix = one["mix"]["one_stage"]
    for name in ("seed", "selected"):
        assert mix[name] == two["stage1"][name]
    assert mix["synthetic"] == two["stage2"]["synthetic"]
    assert mix["replay"] == two["stage1"]["replay"] + two["stage2"]["replay"]


def test_shortfall_is_in_the_summary(inputs):
    cfg, select, synth = inputs("two_stage", max_epochs=1)
    s = build(cfg, select, synth).summary()
    assert s["stages"]["stage2"]["sources"]["synthetic"]["short_by"] == 720 - 604
    assert any("synthetic" in w and "short by" in w for w in s["warnings"])


def test_missing_upstream_output_is_one_clear_error(inputs):
    cfg, select, synth = inputs("two_stage")
    (synth.path / "passages.jsonl").unlink()
    with pytest.raises(TraitError, match="passages.jsonl: missing"):
        build(cfg, select, synth)


LEAK = "A baker puts 24 muffins in each of 7 trays before the morning rush. How many muffins are there?"


def _append(path: Path, record: dict) -> None:
    write_jsonl(path, [*read_jsonl(path), record])


def test_a_test_item_in_any_source_is_dropped_at_each_place(inputs, tmp_path):
    """A test question pasted into a seed doc, a general doc (replay: never selected, so not excluded), a
    selected doc and a passage: every build source drops it, and the summary says where and why."""
    from trait.build.stage import corpus_sources
    from trait.contamination import Decontamination, DecontaminationConfig
    from trait.tasks import TaskSpec

    (tmp_path / "test.jsonl").write_text(f'{{"question": "{LEAK}", "answer": 168}}\n')
    cfg, select, synth = inputs("two_stage")
    _append(tmp_path / "seed.jsonl", {"id": "s-leak", "text": f"Exercise. {LEAK}"})
    _append(tmp_path / "general.jsonl", {"id": "g-leak", "text": f"Forum post: {LEAK.upper()} Thanks!"})
    _append(select.file("selected"), {"id": "x-leak", "text": f"{LEAK} (worked example)", "line": 99})
    _append(synth.file("passages"), {"id": "p-leak", "text": f"Problem: {LEAK} Done.", "problem_ids": ["q"]})
    d = Decontamination(DecontaminationConfig(), (TaskSpec(name="held", test=str(tmp_path / "test.jsonl")),))
    [arm] = arm_specs(cfg, [trait_arm(cfg.build)])
    step = run_build(arm, cfg.build, cfg.data, run_dir=cfg.run_dir, base_model=cfg.train.base_model,
                     seed=cfg.seed, select=select, synth=synth, decontaminate=d)
    s = step.summary()["decontamination"]
    for place, doc_id in (("seed", "s-leak"), ("replay", "g-leak"), ("selected", "x-leak"),
                          ("synthetic", "p-leak")):
        assert s[place]["dropped"] == 1 and s[place]["by_test_task"] == {"held": 1}, place
        [ex] = s[place]["examples"]
        assert (ex["id"], ex["matched_test_item"], ex["rule"]) == (doc_id, "held:held-test-00000", "ngram")
        assert "baker puts 24 muffins" in ex["text"].lower()
    sources = step.summary()["stages"]["stage1"]["sources"]
    assert sources["seed"]["docs_available"] == 10 and sources["selected"]["docs_available"] == 5
    assert sources["replay"]["excluded"] == 5 and sources["replay"]["docs_available"] == 35  # 40 - 5 selected
    unfiltered = corpus_sources(cfg.build, cfg.data, cfg.seed, select, synth)["seed"]
    filtered = corpus_sources(cfg.build, cfg.data, cfg.seed, select, synth, decontaminate=d)["seed"]
    assert unfiltered.identity() != filtered.identity()  # a filtered source is tokenised and cached apart
