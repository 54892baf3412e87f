"""``trait synthesize``: task problems -> TRAIT passages, as one versioned, resumable step.

The LLM cache lives at the run level (``<run>/llm_cache.sqlite``), not in the step folder: a new
``max_passages`` or a new step hash still finds every completed call, and a crashed run resumes
by replaying its requests (all hits) up to where it stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.progress import TextColumn

from trait.contamination import drop_contaminated
from trait.errors import ConfigError, TraitError
from trait.io import ReadStats, write_json, write_jsonl
from trait.llm.config import LLMConfig
from trait.records import Passage, Problem
from trait.steps import Step, canonical, fingerprint
from trait.synthesize.checks import CHECKS_VERSION
from trait.synthesize.diagnosis import TRIVIALLY_TRUE, check_rates, kept_too_little, truncation
from trait.synthesize.groups import make_groups
from trait.synthesize.passages import PassageJob, Settings, kind_of
from trait.synthesize.prompts import PROMPTS_VERSION, Prompts
from trait.synthesize.rounds import run_jobs
from trait.synthesize.settings import SynthesisSettings
from trait.synthesize.whole import make_job
from trait.tasks import TaskSpec, load_problems
from trait.ui import info, progress

STAGE = "synthesize"
OUTPUTS = {"passages": "passages.jsonl", "rejected": "rejected.jsonl"}  # the step's declared files


def synthesis_tasks(tasks: list[TaskSpec]) -> list[TaskSpec]:
    """Tasks whose training problems may seed passages (a train split, and not evaluation-only)."""
    tasks = [t for t in tasks if t.split_file("train") and not t.eval_only]
    if not tasks:
        raise ConfigError("tasks: no task with a train split for synthesis (all are eval_only or test-only)")
    return tasks


def llm_settings(llm: LLMConfig) -> dict[str, Any]:
    """The LLM section as hashed and recorded: speed knobs and the key's variable name (never a key) dropped."""
    return {k: v for k, v in canonical(llm).items() if "key" not in k}


def synthesize_step(s: SynthesisSettings) -> Step:
    """The step (hash of settings + prompts + task files), without running it."""
    tasks = synthesis_tasks(s.tasks)
    prompts = Prompts.from_overrides(s.synthesize.prompts, s.domain)
    synth = canonical(s.synthesize)
    if not s.synthesize.verifier.enabled:  # an unused verifier's settings change nothing
        synth["verifier"] = {"enabled": False}
    config = {"synthesize": synth, "llm": llm_settings(s.llm), "seed": s.seed,
              "on_bad_record": s.on_bad_record,  # 'fail' must not be served a run that skipped
              "prompts": {"version": PROMPTS_VERSION, "hash": prompts.hash}, "checks": CHECKS_VERSION,
              "domain": canonical(s.domain),  # also in the prompts' hash; here so the report can name it
              "tasks": [{"spec": t, "files": fingerprint([t.split_file("train")])} for t in tasks],
              "decontaminate": s.decontamination().identity()}
    return Step(s.run_dir, STAGE, config, outputs=OUTPUTS)


def run_synthesize(s: SynthesisSettings) -> Step:
    return synthesize_step(s).run(lambda out: _synthesize(s, out))


def _synthesize(s: SynthesisSettings, out: Path) -> dict[str, Any]:
    t0 = time.time()
    sc, lc = s.synthesize, s.llm
    tasks = synthesis_tasks(s.tasks)
    prompts = Prompts.from_overrides(sc.prompts, s.domain)
    problems, load_stats = _load(tasks, s.on_bad_record)
    problems, contaminated = drop_contaminated(problems, s.decontamination())  # before any grouping
    schedule = make_groups(problems, sc.problems_per_passage, sc.uses_per_problem, s.seed)
    groups = schedule[: sc.max_passages] if sc.max_passages else schedule
    settings = Settings(prompts=prompts, tasks={t.name: t for t in tasks}, model=lc.model,
                        backend=lc.backend, temperature=lc.temperature, top_p=lc.top_p,
                        max_tokens=lc.max_tokens, seed=s.seed, gold_hints=sc.gold_hints,
                        max_regenerations=sc.max_regenerations, min_paragraph_words=sc.min_paragraph_words,
                        min_enlightenment_words=sc.min_enlightenment_words,
                        max_repeated_trigram_share=sc.max_repeated_trigram_share,
                        min_problems_mentioned=sc.min_problems_mentioned,
                        verifier=(sc.verifier.model or lc.model, sc.verifier.max_tokens) if sc.verifier.enabled else None,
                        mode=sc.mode)
    info(f"synthesize ({sc.mode}): {len(groups)} passages of {sc.problems_per_passage} problems from "
         f"{sum(map(len, problems.values()))} problems ({', '.join(f'{k} {len(v)}' for k, v in problems.items())})")

    from trait.llm import make_llm

    llm = make_llm(lc, cache_path=s.run_dir / "llm_cache.sqlite",
                   failures_path=out / "llm_failures.jsonl")
    verifier = None  # a verifier on another model gets its own backend (a local one loads that model)
    if settings.verifier and settings.verifier[0] != lc.model:
        verifier = make_llm(lc.model_copy(update={"model": settings.verifier[0]}),
                            cache_path=s.run_dir / "llm_cache.sqlite", failures_path=out / "llm_failures.jsonl")
    finished: list[PassageJob] = []
    try:
        with progress(TextColumn("{task.fields[llm]}")) as bar:
            task = bar.add_task("passages", total=len(groups), llm="")

            def on_result(_res) -> None:
                bar.update(task, llm=_llm_line(llm.stats()))

            def on_finished(job: PassageJob) -> None:
                finished.append(job)
                bar.update(task, advance=1, llm=_llm_line(llm.stats()))

            for start in range(0, len(groups), sc.chunk_passages):
                jobs = [make_job(g, settings) for g in groups[start: start + sc.chunk_passages]]
                run_jobs(jobs, llm, verifier=verifier, on_result=on_result, on_finished=on_finished,
                         show_progress=False)
        llm_stats = llm.stats()
        if verifier is not None:
            llm_stats["verifier"] = verifier.stats()
    finally:
        llm.close()
        if verifier is not None:
            verifier.close()

    finished.sort(key=lambda j: j.group.index)
    passages: list[Passage] = [j.passage() for j in finished if j.status == "accepted"]
    rejected = [j for j in finished if j.status == "rejected"]
    write_jsonl(out / OUTPUTS["passages"], passages)
    write_jsonl(out / OUTPUTS["rejected"], [j.rejection() for j in rejected[: sc.rejected_sample]])
    summary = summarize(finished, schedule_total=len(schedule), problems=problems, load_stats=load_stats,
                        llm_stats=llm_stats, prompts=prompts, wall_s=time.time() - t0)
    summary["decontamination"] = contaminated
    info(f"synthesize: {summary['passages']} passages, rejection rate {summary['rejection_rate']:.1%}, "
         f"answer agreement {_pct(summary['agreement']['first_try'])} first try, "
         f"{_pct(summary['agreement']['after_regeneration'])} after regeneration -> {out}")
    info("synthesize checks (pass rate of the attempts each applied to): " + ", ".join(
        f"{name} {_pct(c['rate'])} of {c['checked']}" + (" (dictated by the gold hint)"
                                                         if name in summary["trivially_true"] else "")
        for name, c in summary["checks"].items() if c["checked"]))
    # Checked before the step completes: a rerun with other settings re-runs it, every LLM call cached.
    diagnosis = kept_too_little(finished, summary, min_kept_fraction=sc.min_kept_fraction,
                                max_tokens=lc.max_tokens, gold_hints=sc.gold_hints, out=out)
    if diagnosis:
        write_json(out / "summary.json", summary)  # for inspection; without SUCCESS the step is not done
        raise TraitError(diagnosis)
    return summary


def _load(tasks: list[TaskSpec], on_error) -> tuple[dict[str, list[Problem]], dict[str, Any]]:
    problems: dict[str, list[Problem]] = {}
    stats: dict[str, Any] = {}
    for t in tasks:
        st = ReadStats()
        problems[t.name] = load_problems(t, "train", on_error=on_error, stats=st)
        stats[t.name] = st.to_dict()
        if st.skipped:
            info(f"[yellow]task {t.name}: skipped {sum(st.skipped.values())} bad train records "
                 f"({dict(st.skipped)}); first: {st.examples[0]}[/yellow]")
    return problems, stats


def summarize(jobs: list[PassageJob], *, schedule_total: int, problems: dict[str, list[Problem]],
              load_stats: dict[str, Any], llm_stats: dict[str, Any], prompts: Prompts,
              wall_s: float) -> dict[str, Any]:
    """Counts a reader of the run needs: yield, why passages died, how often the generator agreed, each
    check's pass rate (and which the gold hint makes trivially true), how many completions were cut."""
    accepted = [j for j in jobs if j.status == "accepted"]
    rejected = Counter(j.reason for j in jobs if j.status == "rejected")
    attempt_reasons: Counter = Counter()
    gold = first_ok = any_ok = 0
    for j in jobs:
        for i, (p, piece) in enumerate(zip(j.group.problems, j.paragraphs)):
            attempt_reasons.update(f"paragraph:{a.reason}" for a in piece.attempts)
            free = kind_of(p) == "generate" and j.s.tasks[p.task].checker == "none"  # choices always checked
            if p.answer is None or free or not piece.attempts:
                continue
            gold += 1
            # the answer line alone: a paragraph the calculator or verifier refused still agreed with gold
            first_ok += piece.attempts[0].checks.get("answer_line", False)
            any_ok += any(a.checks.get("answer_line", False) for a in piece.attempts)
        attempt_reasons.update(f"enlightenment:{a.reason}" for a in j.enlightenment.attempts)
        attempt_reasons.update(f"passage:{a.reason}" for a in j.whole.attempts)  # passage mode only
    n = len(jobs)
    tokens = Counter()
    for j in accepted:
        tokens.update(j.provenance()["tokens"])
    return {
        "passages": len(accepted),
        "planned": n,
        "schedule_total": schedule_total,
        "rejected": dict(rejected),
        "rejection_rate": (n - len(accepted)) / n if n else 0.0,
        "agreement": {"paragraphs_with_gold": gold,
                      "first_try": first_ok / gold if gold else None,
                      "after_regeneration": any_ok / gold if gold else None},
        "attempts": dict(sorted(attempt_reasons.items())),
        "checks": check_rates(jobs),
        "trivially_true": TRIVIALLY_TRUE[jobs[0].s.gold_hints] if jobs else [],
        "truncation": truncation(jobs),
        "cross_task_fraction": sum(len(set(j.group.tasks)) > 1 for j in accepted) / len(accepted) if accepted else 0.0,
        "passages_by_tasks": dict(Counter("+".join(sorted(set(j.group.tasks))) for j in accepted)),
        "problems": {k: len(v) for k, v in problems.items()},
        "input": load_stats,
        "accepted_tokens": dict(tokens),
        "llm": llm_stats,
        "prompt_hash": prompts.hash,
        "wall_s": round(wall_s, 2),
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _llm_line(stats: dict[str, Any]) -> str:
    """The live LLM counters beside the passage bar: what was new, what came from the cache."""
    line = (f"hits {stats.get('cache_hits', 0)} · new {stats.get('fresh', 0)} · failed {stats.get('failed', 0)}"
            f" · tok {stats.get('prompt_tokens', 0)}+{stats.get('completion_tokens', 0)}")
    return line + (f" · ${stats['cost_usd']:.4f}" if stats.get("cost_usd") else "")
