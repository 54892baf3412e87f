"""``trait select`` SIGKILLed while scoring, at seeded random points, then rerun: the scores and the
selection equal an uninterrupted run's, ranks finished before a kill are never redone, and a step
without its SUCCESS marker is never read as complete."""

from __future__ import annotations

import gzip
import hashlib
import random
import subprocess
from pathlib import Path

from reliability_kit import cli, kill_when, trait_process, write_project

from trait.io import iter_docs, read_json
from trait.select.score import iter_scores, score_shards
from trait.steps import SUCCESS, latest

TASKS = 6
SHARDS = [f"general_{i}.jsonl" for i in range(TASKS)]
OVERRIDES = [f"data.general_corpus=[{','.join(SHARDS)}]", f"select.executor.tasks={TASKS}"]


def _project(root: Path, example_data: Path) -> Path:
    config = write_project(root, example_data, "http://127.0.0.1:9/v1", n_general=120)
    lines = (root / "general.jsonl").read_text().splitlines(keepends=True)
    for i, name in enumerate(SHARDS):  # one input file per datatrove task
        (root / name).write_text("".join(lines[i::TASKS]))
    return config


def _score_dir(root: Path) -> Path:
    found = list((root / "runs" / "r").glob("score-*"))
    assert len(found) <= 1
    return found[0] if found else root / "runs" / "r" / "score-none"


def _completed(root: Path) -> set[str]:
    folder = _score_dir(root) / "datatrove" / "completions"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _fingerprints(root: Path, ranks: set[str]) -> dict[str, tuple[int, str]]:
    shards = _score_dir(root) / "scores"
    return {r: ((p := shards / f"{r}.jsonl.gz").stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for r in ranks}


def _gunzip(path: str) -> bytes:
    with gzip.open(path) as fh:
        return fh.read()  # raises on a truncated stream


def _scores(step: Path) -> list[tuple[str, float, float]]:
    return sorted((d.id, d.scores["domain"], d.scores["quality"]) for d in iter_scores(score_shards(step)))


def test_scoring_killed_twice_resumes_to_the_same_scores_and_selection(tmp_path, example_data):
    rng = random.Random(6)
    root = tmp_path / "killed"
    config = _project(root, example_data)
    kept: dict[str, tuple[int, str]] = {}
    for attempt in range(2):
        before = len(_completed(root))
        kill_at = rng.randint(before + 1, min(before + 2, TASKS - 2))  # 1 or 2 more finished ranks
        proc = trait_process(["select", config, *OVERRIDES], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_when(proc, lambda k=kill_at: len(_completed(root)) >= k)
        done = _completed(root)
        assert kill_at <= len(done) < TASKS, (attempt, done)
        assert not (_score_dir(root) / SUCCESS).exists() and latest(root / "runs" / "r", "score") is None
        kept.update(_fingerprints(root, done))
    assert len(kept) >= 2

    rc, out = cli(["select", config, *OVERRIDES])
    assert rc == 0, out[-2000:]
    assert _fingerprints(root, set(kept)) == kept  # finished ranks were skipped, not redone
    score = latest(root / "runs" / "r", "score")
    assert score is not None

    clean_root = tmp_path / "clean"
    clean_config = _project(clean_root, example_data)
    rc, out = cli(["select", clean_config, *OVERRIDES])
    assert rc == 0, out[-2000:]
    clean = latest(clean_root / "runs" / "r", "score")

    got, want = _scores(score), _scores(clean)
    assert read_json(score / "summary.json")["docs_scored"] == len(want) == 120
    assert len({i for i, _, _ in got}) == len(got)  # no losses, no duplicates
    assert got == want
    for step in (score, clean):  # every shard a complete gzip stream, one per task
        assert len(score_shards(step)) == TASKS
        assert all(_gunzip(p) for p in score_shards(step))
    chosen = [sorted(d.id for d in iter_docs([latest(r / "runs" / "r", "choose") / "selected"]))
              for r in (root, clean_root)]
    assert chosen[0] == chosen[1] and len(chosen[0]) > 0
