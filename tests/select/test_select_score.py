"""Scoring pipeline: every doc scored with provenance, bad lines counted (or one file:line error),
resume skips finished tasks, executor choices fail clearly."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from trait.config import config_from_dict
from trait.errors import BadInputError, ConfigError, TraitError
from trait.io import iter_rows
from trait.select.classifier import FastTextScorer
from trait.select.config import ClassifierConfig, ExecutorConfig
from trait.select.quality import HeuristicQuality, heuristic_quality, quality_features
from trait.select.score import (
    build_pipeline,
    collect_summary,
    iter_scores,
    make_executor,
    run_pipeline,
    score_shards,
)

N_GOOD = 40


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, seed_texts, general_texts, fast_classifier) -> Path:
    out = tmp_path_factory.mktemp("clf") / "model"
    FastTextScorer(ClassifierConfig(**fast_classifier)).fit(seed_texts, general_texts[:60], out, seed=0)
    return out


def write_messy_corpus(tmp_path: Path, texts: list[str]) -> list[Path]:
    """Two files: a clean gzip one, and a plain one with one bad line of each kind among good ones."""
    a = tmp_path / "in" / "a.jsonl.gz"
    a.parent.mkdir(parents=True)
    with gzip.open(a, "wt", encoding="utf-8") as fh:
        for i, t in enumerate(texts[:20]):
            fh.write(json.dumps({"id": f"a{i}", "text": t, "url": f"u{i}"}) + "\n")
    lines = [json.dumps({"id": f"b{i}", "text": t}).encode() for i, t in enumerate(texts[20:N_GOOD])]
    lines[3:3] = [b'{"id": "broken", "text": "no closing brace"',          # line 4: malformed JSON
                  b'{"id": "latin1", "text": "caf\xe9 au lait"}',           # line 5: not UTF-8
                  b'{"id": "notext", "body": "text under another key"}',    # line 6: missing text field
                  b'{"id": "empty", "text": "   "}']                         # line 7: empty document
    b = tmp_path / "in" / "b.jsonl"
    b.write_bytes(b"\n".join(lines) + b"\n")
    return [a, b]


def run_scoring(paths, out: Path, model_dir: Path, *, tasks: int = 2, on_error: str = "skip",
                quality: str = "heuristic") -> bool:
    pipeline = build_pipeline([str(p) for p in paths], out, method="fasttext", model_dir=model_dir,
                              quality=quality, batch_size=7, on_error=on_error)
    executor = make_executor(ExecutorConfig(tasks=tasks, workers=1), pipeline, out / "datatrove")
    return run_pipeline(executor, out)


def test_every_good_doc_scored_with_provenance_and_bad_lines_counted(tmp_path, model_dir, general_texts):
    paths = write_messy_corpus(tmp_path, general_texts)
    out = tmp_path / "score"
    assert run_scoring(paths, out, model_dir)
    shards = score_shards(out)
    assert [Path(s).name for s in shards] == ["00000.jsonl.gz", "00001.jsonl.gz"]
    docs = list(iter_scores(shards))
    assert len(docs) == N_GOOD
    by_id = {d.id: d for d in docs}
    assert by_id["a0"].source == str(paths[0]) and by_id["a0"].line == 1
    assert by_id["b3"].source == str(paths[1]) and by_id["b3"].line == 8  # after the 4 bad lines
    # a score row is where the doc is and its scores: no copy of the text (or of other fields)
    assert {tuple(sorted(r)) for _, r in iter_rows(shards[0])} == \
        {("id", "line", "scores", "source")}
    # and (file, line) leads back to the document: its text is the corpus's own
    assert [obj["text"] for n, obj in iter_rows(paths[1], on_error="skip") if n == by_id["b3"].line] == \
        [general_texts[23]]
    for d in docs:
        assert 0.0 <= d.scores["domain"] <= 1.0 and 0.0 <= d.scores["quality"] <= 1.0
    # scores in the shards are the scorer's own scores of the original texts
    ref = FastTextScorer.load(model_dir).score([general_texts[i] for i in range(20)])
    got = np.array([by_id[f"a{i}"].scores["domain"] for i in range(20)])
    assert np.allclose(ref, got)
    assert by_id["a5"].scores["quality"] == pytest.approx(heuristic_quality(general_texts[5]))

    summary = collect_summary(out)
    assert summary["docs_read"] == summary["docs_scored"] == N_GOOD
    assert summary["skipped"] == {"malformed JSON": 1, "not valid UTF-8": 1,
                                  "missing text field 'text'": 1, "empty document": 1}
    assert any(e.startswith(f"{paths[1]}:5: not valid UTF-8") for e in summary["skip_examples"])


def test_fail_mode_is_one_file_line_error(tmp_path, model_dir, general_texts):
    paths = write_messy_corpus(tmp_path, general_texts)
    with pytest.raises(BadInputError, match=r"b\.jsonl:4: malformed JSON"):
        run_scoring(paths, tmp_path / "score", model_dir, on_error="fail", tasks=1)


def test_rerun_skips_finished_tasks(tmp_path, model_dir, general_texts):
    paths = write_messy_corpus(tmp_path, general_texts)
    out = tmp_path / "score"
    assert run_scoring(paths, out, model_dir, quality="none")
    before = {p: os.stat(p).st_mtime_ns for p in score_shards(out)}
    assert run_scoring(paths, out, model_dir, quality="none")
    assert {p: os.stat(p).st_mtime_ns for p in score_shards(out)} == before
    # an unfinished task (no completion marker) is redone, the finished one is not
    (out / "datatrove" / "completions" / "00001").unlink()
    assert run_scoring(paths, out, model_dir, quality="none")
    after = {p: os.stat(p).st_mtime_ns for p in score_shards(out)}
    assert after[str(out / "scores" / "00000.jsonl.gz")] == before[str(out / "scores" / "00000.jsonl.gz")]
    assert after[str(out / "scores" / "00001.jsonl.gz")] != before[str(out / "scores" / "00001.jsonl.gz")]
    docs = list(iter_scores(score_shards(out)))
    assert len(docs) == N_GOOD and all("quality" not in d.scores for d in docs)


def test_executor_config_errors(tmp_path, monkeypatch):
    base = {"data": {"seed_corpus": ["s"], "general_corpus": ["g"]}}
    with pytest.raises(ConfigError, match="slurm_partition"):
        config_from_dict({**base, "select": {"executor": {"kind": "slurm"}}})
    with pytest.raises(ConfigError, match="select.executor.kind"):
        config_from_dict({**base, "select": {"executor": {"kind": "spark"}}})
    with pytest.raises(ConfigError, match="tasks"):
        config_from_dict({**base, "select": {"executor": {"tasks": 0}}})
    try:
        import ray  # noqa: F401
    except ImportError:
        with pytest.raises(TraitError, match=r"needs Ray: pip install 'trait\[ray\]'"):
            make_executor(ExecutorConfig(kind="ray"), [], tmp_path / "logs")
    # a Slurm executor off a Slurm cluster: a clear line, not a traceback
    monkeypatch.setenv("PATH", str(tmp_path))
    ex = make_executor(ExecutorConfig(kind="slurm", slurm_partition="cpu"), [], tmp_path / "logs")
    assert type(ex).__name__ == "SlurmPipelineExecutor"
    with pytest.raises(TraitError, match="'sbatch' not found"):
        run_pipeline(ex, tmp_path)


def test_heuristic_quality_prefers_prose_over_junk(seed_texts):
    q = HeuristicQuality().score(seed_texts[:10] + ["click here buy now!!! " * 50,
                                                    "\n".join(["Home | About | Contact"] * 40),
                                                    "# # # ... ... " * 30, "tiny doc"])
    assert q.dtype == np.float64 and ((q >= 0) & (q <= 1)).all()
    assert np.median(q[:10]) > 0.8 and q[10:].max() < 0.3
    feats = quality_features("\n".join(["the same line of text with the words in it ok."] * 30))
    assert feats["repetition"] == 0.0 and feats["stop_words"] > 0.5  # the, of, with


def test_model_quality_learns_user_labels_and_rejects_bad_ones(tmp_path, seed_texts, general_texts):
    from trait.select.config import QualityConfig
    from trait.select.quality import ModelQuality, load_quality

    labels = tmp_path / "labels.jsonl"
    rows = [{"text": t, "score": 5} for t in seed_texts[:20]] + [{"text": t, "score": 1} for t in general_texts[:20]]
    labels.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cfg = QualityConfig(scorer="model", labels=str(labels))
    metrics = ModelQuality.fit(cfg, tmp_path / "q", seed=0)
    assert metrics["n_train"] == 32 and metrics["n_heldout"] == 8 and metrics["spearman"] > 0.5
    q = load_quality("model", tmp_path / "q").score(seed_texts[40:50] + general_texts[60:70])
    assert ((q >= 0) & (q <= 1)).all() and q[:10].mean() > q[10:].mean() + 0.2
    with labels.open("a") as fh:
        fh.write(json.dumps({"text": "a doc", "score": 9}) + "\n")
    with pytest.raises(BadInputError, match=r"labels\.jsonl:41: label 'score' must be a number in \[0, 5.0\]"):
        ModelQuality.fit(cfg, tmp_path / "q2", seed=0)
    with pytest.raises(ValueError, match="needs select.quality.labels"):
        QualityConfig(scorer="model")
