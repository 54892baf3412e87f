"""Scale-out executors: scoring and choosing (MinHash and decontamination stages) on datatrove's Ray
executor (a local Ray instance started here) give the same scores and selection as the local
executor; Slurm without ``sbatch`` is one error line."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_kit import cli, error_lines, write_project

from trait.io import iter_docs, read_json
from trait.select.score import iter_scores, score_shards
from trait.steps import latest

SPLIT = ["data.general_corpus=[general_0.jsonl,general_1.jsonl]", "select.executor.tasks=2"]


@pytest.fixture(scope="module")
def project(tmp_path_factory, example_data) -> Path:
    config = write_project(tmp_path_factory.mktemp("scale"), example_data, "http://127.0.0.1:9/v1")
    lines = (config.parent / "general.jsonl").read_text().splitlines(keepends=True)
    for i in range(2):
        (config.parent / f"general_{i}.jsonl").write_text("".join(lines[i::2]))
    return config


def _outputs(config: Path, run: str) -> tuple[list[tuple], list[str], dict]:
    run_dir = config.parent / "runs" / run
    score = latest(run_dir, "score")
    scores = sorted((d.id, d.source, d.line, d.scores["domain"], d.scores["quality"])
                    for d in iter_scores(score_shards(score)))
    choose = latest(run_dir, "choose")
    chosen = sorted((d.id, d.text) for d in iter_docs([choose / "selected"], on_error="fail"))
    return scores, chosen, read_json(score / "summary.json") | {"choose": read_json(choose / "summary.json")}


@pytest.mark.ray
def test_ray_executor_scores_like_the_local_executor(project, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a throwaway local instance: no token in ~/.ray
    rc, out = cli(["select", project, "run=local", *SPLIT])
    assert rc == 0, out[-2000:]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rc, out = cli(["select", project, "run=ray", "select.executor.kind=ray", "select.executor.workers=2",
                       *SPLIT])
    finally:
        ray.shutdown()
    assert rc == 0, out[-2000:]
    local, on_ray = _outputs(project, "local"), _outputs(project, "ray")
    assert on_ray[2]["executor"] == "ray" and on_ray[2]["shards"] == 2
    assert on_ray[2]["choose"]["executor"] == "ray" and on_ray[2]["choose"]["shards"] == 2
    assert on_ray[2]["choose"]["dropped_by_reason"] == local[2]["choose"]["dropped_by_reason"]
    assert len(local[0]) == 80 and len({s[0] for s in on_ray[0]}) == 80  # every doc once
    assert on_ray[0] == local[0] and on_ray[1] == local[1] and len(local[1]) > 0


def test_slurm_without_sbatch_is_one_error_line(project, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no sbatch, whatever the machine has
    rc, out = cli(["select", project, "run=slurm", "select.executor.kind=slurm",
                   "select.executor.slurm_partition=cpu"])
    assert rc == 2 and "Traceback" not in out
    assert error_lines(out) == ["error: select.executor.kind=slurm: 'sbatch' not found (is this a Slurm login node?)"]


def test_slurm_without_partition_is_a_config_error(project):
    rc, out = cli(["select", project, "run=slurm", "select.executor.kind=slurm"])
    assert rc == 2 and "Traceback" not in out
    (line,) = error_lines(out)
    assert "select.executor.kind=slurm needs select.executor.slurm_partition" in line
