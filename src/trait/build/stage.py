"""``trait build``: the CPT corpora of one arm (``trait.arms``) from the earlier steps' outputs.

TRAIT's arm: stage 1 = seed in-domain + selected docs + general replay; stage 2 = synthetic passages +
a little replay. Every other arm of the comparison is another mix of the same sources, built by this
same step. Replay never reuses a selected document, and no source keeps a document holding a task's
test item (``trait.contamination``): the summary lists what each source dropped.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from trait.arms import ArmSpec, plan
from trait.build.config import BuildConfig
from trait.build.corpus import CorpusSource, build_corpus
from trait.config import DataConfig
from trait.contamination import Decontamination
from trait.errors import TraitError
from trait.steps import Step, fingerprint
from trait.ui import info

# What packing depends on besides the arm's budgets (those come resolved from ``trait.arms.plan``).
PACKING = {"seq_len", "max_epochs", "replay_sample_rate", "separator_token"}


def build_step(arm: ArmSpec, build: BuildConfig, data: DataConfig, *, run_dir: Path, base_model: str,
               seed: int, select: Step | None, synth: Step | None, task_data: Step | None = None,
               decontaminate: Decontamination | None = None) -> Step:
    """The build step of ``arm`` (not run): its hash covers the arm's resolved stages, the packing
    settings, the files of the sources it reads, the steps that produce the others and the test splits
    every source is checked against."""
    used = arm.sources
    files = {"seed": data.seed_corpus, "replay": data.replay_corpus or data.general_corpus}
    # The schedule is the train step's business: a stage trained differently packs the same corpus.
    config = {"stages": [{k: v for k, v in vars(p).items() if k != "schedule"} for p in plan(arm, build)],
              "packing": build.model_dump(mode="json", include=PACKING),
              "data": {name: fingerprint(paths) for name, paths in files.items() if name in used},
              "keys": {"text_key": data.text_key, "id_key": data.id_key, "on_bad_record": data.on_bad_record},
              "tokenizer": base_model, "seed": seed,
              "decontaminate": decontaminate.identity() if decontaminate else None}
    # Replay excludes the selected docs, so it reads the selection too.
    deps = [s for s, needed in ((select, used & {"selected", "replay"}), (synth, "synthetic" in used),
                                (task_data, "task_data" in used)) if needed]
    if None in deps:
        raise TraitError(f"arm {arm.name}: reads {', '.join(sorted(used))} but an upstream step is missing")
    return Step(run_dir, f"build_{arm.name}", config, deps=deps)


def run_build(arm: ArmSpec, build: BuildConfig, data: DataConfig, *, run_dir: Path, base_model: str,
              seed: int, select: Step | None, synth: Step | None, task_data: Step | None = None,
              decontaminate: Decontamination | None = None) -> Step:
    """Tokenise (cached per run), budget, mix and pack each stage's corpus; record the mix."""
    step = build_step(arm, build, data, run_dir=run_dir, base_model=base_model, seed=seed, select=select,
                      synth=synth, task_data=task_data, decontaminate=decontaminate)

    def work(out: Path) -> dict[str, Any]:
        from trait.models import resolve_model

        tokenizer = resolve_model(base_model)
        sources = corpus_sources(build, data, seed, select, synth, task_data, decontaminate)
        stages: dict[str, Any] = {}
        for i, stage in enumerate(plan(arm, build)):
            mix = [replace(sources[name], fraction=share) for name, share in stage.mix.items()]
            info(f"build {arm.name}/{stage.name}: {stage.tokens} tokens from {', '.join(stage.mix)}")
            # Each stage gets its own seed so stage-2 replay draws other documents than stage 1's.
            stages[stage.name] = build_corpus(
                mix, tokenizer, build.seq_len, seed + i, out / stage.name, total_tokens=stage.tokens,
                cache_dir=run_dir / "cache" / "tokens", num_proc=build.num_proc,
                separator_token=build.separator_token)
        return {"arm": arm.name, "tokenizer": str(tokenizer), "seq_len": build.seq_len,
                "mix": {k: {s: v["tokens"] for s, v in c["sources"].items()} for k, c in stages.items()},
                "warnings": [f"{k}: {w}" for k, c in stages.items() for w in c["warnings"]],
                "decontamination": {s: v["decontamination"] for c in stages.values()
                                    for s, v in c["sources"].items() if "decontamination" in v},
                "stages": stages}

    return step.run(work)


def corpus_sources(build: BuildConfig, data: DataConfig, seed: int, select: Step | None,
                   synth: Step | None, task_data: Step | None = None,
                   decontaminate: Decontamination | None = None) -> dict[str, CorpusSource]:
    """The sources every mix draws from, without budgets (a stage sets each one's share)."""
    keys = {"text_key": data.text_key, "id_key": data.id_key, "on_bad_record": data.on_bad_record,
            "max_epochs": build.max_epochs, "decontaminate": decontaminate}
    own = {"text_key": "text", "id_key": "id", "max_epochs": build.max_epochs, "on_bad_record": "fail",
           "decontaminate": decontaminate}
    out = {"seed": CorpusSource("seed", paths=tuple(data.seed_corpus), **keys)}
    if select is not None:
        selected = _need(select.file("selected"), "select")
        out["selected"] = CorpusSource("selected", paths=(selected,), **own)
        out["replay"] = CorpusSource("replay", paths=tuple(data.replay_corpus or data.general_corpus),
                                     exclude=(selected,), sample_rate=build.replay_sample_rate,
                                     sample_seed=seed, **keys)
    if synth is not None:
        out["synthetic"] = CorpusSource("synthetic", paths=(_need(synth.file("passages"), "synthesize"),), **own)
    if task_data is not None:
        out["task_data"] = CorpusSource("task_data", paths=(_need(task_data.file("docs"), "ablate"),), **own)
    return out


def stage_datasets(build: Step) -> dict[str, Path]:
    """The packed dataset of each stage of a completed build, in training order."""
    return {k: Path(v["dataset"]) for k, v in build.summary()["stages"].items()}


def _need(path: Path, stage: str) -> str:
    if not path.exists():
        raise TraitError(f"{path}: missing (the {stage} step has not produced it; run `trait {stage}`)")
    return str(path)
