"""``trait build``: the paper's two CPT corpora (or the one-stage mix) from the earlier stages' outputs.

Stage 1 = seed in-domain + selected docs + general replay; stage 2 = synthetic passages + a little
replay. ``mode: one_stage`` puts exactly the same tokens of every source into one shuffled corpus,
so the ablation compares the schedule, not the data. Replay never reuses a selected document.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from trait.build.corpus import CorpusSource, build_corpus
from trait.config import TraitConfig
from trait.errors import TraitError
from trait.steps import Step, fingerprint
from trait.ui import info

SELECTED_FILE = "selected.jsonl.gz"
PASSAGES_FILE = "passages.jsonl"


def corpus_sources(cfg: TraitConfig, select_step: Step, synth_step: Step) -> dict[str, CorpusSource]:
    """The four inputs of every CPT mix, without budgets (callers set them with ``dataclasses.replace``);
    the ablation reuses these to build its arms."""
    d, b = cfg.data, cfg.build
    selected = _need(select_step.path / SELECTED_FILE, "select")
    passages = _need(synth_step.path / PASSAGES_FILE, "synthesize")
    keys = {"text_key": d.text_key, "id_key": d.id_key, "on_bad_record": d.on_bad_record,
            "max_epochs": b.max_epochs}
    return {
        "seed": CorpusSource("seed", paths=tuple(d.seed_corpus), **keys),
        "selected": CorpusSource("selected", paths=(selected,), text_key="text", id_key="id",
                                 max_epochs=b.max_epochs, on_bad_record="fail"),
        "synthetic": CorpusSource("synthetic", paths=(passages,), text_key="text", id_key="id",
                                  max_epochs=b.max_epochs, on_bad_record="fail"),
        "replay": CorpusSource("replay", paths=tuple(d.replay_corpus or d.general_corpus), exclude=(selected,),
                               sample_rate=b.replay_sample_rate, sample_seed=cfg.seed, **keys),
    }


def stage_plans(cfg: TraitConfig, src: dict[str, CorpusSource]) -> dict[str, tuple[list[CorpusSource], int]]:
    """Sources with budgets, and the total, of each corpus to build: {"stage1", "stage2"} or {"one_stage"}."""
    b = cfg.build
    r1, r2 = b.stage1_replay_fraction, b.stage2_replay_fraction
    seed_src = replace(src["seed"], fraction=b.stage1_seed_fraction)
    stage1 = [seed_src, src["selected"]] + ([replace(src["replay"], fraction=r1)] if r1 > 0 else [])
    stage2 = [src["synthetic"]] + ([replace(src["replay"], fraction=r2)] if r2 > 0 else [])
    if b.mode == "two_stage":
        return {"stage1": (stage1, b.stage1_tokens), "stage2": (stage2, b.stage2_tokens)}
    # Same requests as the two stages, as absolute tokens: in-domain docs fill (1 - r1) * stage1_tokens.
    replay_tokens = round(r1 * b.stage1_tokens) + round(r2 * b.stage2_tokens)
    one = [replace(seed_src, fraction=None, tokens=None if b.stage1_seed_fraction is None
                   else round(b.stage1_seed_fraction * b.stage1_tokens)),
           src["selected"], replace(src["synthetic"], tokens=round((1 - r2) * b.stage2_tokens))]
    if replay_tokens:
        one.append(replace(src["replay"], tokens=replay_tokens))
    return {"one_stage": (one, b.stage1_tokens + b.stage2_tokens)}


def token_cache(cfg: TraitConfig) -> Path:
    """Tokenised sources, shared by every build of a run: entries are keyed by the source's identity
    and the tokenizer, so the ablation's arms tokenise the seed and replay corpora once, not per arm."""
    return cfg.run_dir / "cache" / "tokens"


def build_step(cfg: TraitConfig, select_step: Step, synth_step: Step) -> Step:
    d = cfg.data
    inputs = list(d.seed_corpus) + list(d.replay_corpus or d.general_corpus)
    # num_proc changes how fast, not what: it stays out of the hash so changing it reuses the build.
    config = {"build": cfg.build.model_dump(mode="json", exclude={"num_proc"}),
              "base_model": cfg.train.base_model, "seed": cfg.seed,
              "data": {"seed_corpus": d.seed_corpus, "replay_corpus": d.replay_corpus or d.general_corpus,
                       "text_key": d.text_key, "id_key": d.id_key, "on_bad_record": d.on_bad_record},
              "inputs": fingerprint(inputs)}
    return Step(cfg.run_dir, "build", config, deps=(select_step, synth_step))


def run_build(cfg: TraitConfig, select_step: Step, synth_step: Step) -> Step:
    """Tokenise (cached in the step folder), budget, mix and pack each corpus; record the mix."""
    from trait.models import resolve_model

    step = build_step(cfg, select_step, synth_step)
    if step.done:
        info(f"build: up to date ({step.path})")
        return step
    out = step.start()
    tokenizer = resolve_model(cfg.train.base_model)
    sources = corpus_sources(cfg, select_step, synth_step)
    stages: dict[str, Any] = {}
    for i, (name, (plan, total)) in enumerate(stage_plans(cfg, sources).items()):
        info(f"build {name}: {total} tokens from {', '.join(s.name for s in plan)}")
        # Each stage gets its own seed so stage-2 replay draws other documents than stage 1's.
        stages[name] = build_corpus(plan, tokenizer, cfg.build.seq_len, cfg.seed + i, out / name,
                                    total_tokens=total, cache_dir=token_cache(cfg), num_proc=cfg.build.num_proc,
                                    separator_token=cfg.build.separator_token)
    step.complete({"mode": cfg.build.mode, "tokenizer": str(tokenizer), "seq_len": cfg.build.seq_len,
                   "mix": {k: {s: v["tokens"] for s, v in c["sources"].items()} for k, c in stages.items()},
                   "warnings": [f"{k}: {w}" for k, c in stages.items() for w in c["warnings"]],
                   "stages": stages})
    return step


def stage_datasets(build: Step) -> dict[str, Path]:
    """The packed datasets of a completed build, in training order ({"stage1", "stage2"} or {"one_stage"})."""
    if not build.done:
        raise TraitError(f"build step {build.path} is not complete: run `trait build` first")
    return {k: Path(v["dataset"]) for k, v in build.summary()["stages"].items()}


def _need(path: Path, stage: str) -> str:
    if not path.exists():
        raise TraitError(f"{path}: missing (the {stage} step has not produced it; run `trait {stage}`)")
    return str(path)
