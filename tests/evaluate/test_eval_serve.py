"""Each arm scored through a server over its own model (``evaluate.server``), never one model under many names."""

from __future__ import annotations

import pytest

from trait.errors import ConfigError, TraitError
from trait.evaluate.harness import run_lmeval
from trait.evaluate.lmeval_tasks import write_lmeval_tasks
from trait.evaluate.serve import served
from trait.io import read_jsonl
from trait.pipeline import ablate, eval_settings


def test_an_external_server_is_refused_when_several_arms_are_scored(make_cfg):
    cfg = make_cfg("evaluate.backend=local-completions", "evaluate.base_url=http://127.0.0.1:9/v1/completions",
                   "ablate.arms=[base, cpt_seed]", "ablate.seeds=[0, 1]")
    with pytest.raises(ConfigError, match=r"external scores every model at .* evaluates 3 \(base, cpt_seed, "
                                          r"cpt_seed@1\)"):
        ablate(cfg)


def test_a_started_server_scores_the_arms_own_model_like_in_process(make_cfg, tiny_model, tmp_path):
    """`transformers serve` over the tiny model, started and stopped by the tool: the same greedy
    generations as lm-eval's in-process hf backend."""
    cfg = make_cfg("evaluate.backend=local-completions", "evaluate.server=transformers", "evaluate.limit=2",
                   "evaluate.batch_size=1")
    gen = write_lmeval_tasks(eval_settings(cfg), tmp_path / "tasks")
    with served(cfg.evaluate, tiny_model, tmp_path / "logs") as ev:
        assert ev.base_url.startswith("http://127.0.0.1:") and ev.api_model == str(tiny_model)
        api = run_lmeval(ev, tiny_model, gen, tmp_path / "api", seed=0)
        url = ev.base_url
    from trait.evaluate.serve import _answers

    assert not _answers(url.replace("/completions", "/models"))  # stopped with the block
    cfg.evaluate.backend = "hf"
    local = run_lmeval(cfg.evaluate, tiny_model, gen, tmp_path / "hf", seed=0)
    for task in api:
        a = [s["generation"] for s in read_jsonl(tmp_path / "api" / "samples" / f"{task}.jsonl")]
        h = [s["generation"] for s in read_jsonl(tmp_path / "hf" / "samples" / f"{task}.jsonl")]
        assert len(a) == 2 and a == h and local[task]["exact_match"] == api[task]["exact_match"]


def test_a_server_that_dies_at_start_is_one_line_with_its_log(make_cfg, tmp_path):
    cfg = make_cfg("evaluate.backend=local-completions", "evaluate.server=transformers")
    with (pytest.raises(TraitError, match=r"the transformers server over .*no_model exited with code"),
          served(cfg.evaluate, tmp_path / "no_model", tmp_path / "logs")):
        pass
    assert (tmp_path / "logs" / "server-transformers.log").stat().st_size > 0
