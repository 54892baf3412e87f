"""A small finished run to report on, built from the real producers and nothing trained.

The synthesize step's files come from real ``PassageJob``s fed canned completions (so passages.jsonl and
rejected.jsonl have exactly the shape synthesis writes), its summary from the stage's own ``summarize``;
the ablate step's rows and paired differences from ``trait.ablate.paired`` on constructed per-item scores
(task loss: base clearly worse; exact match: 0 for every arm).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trait.ablate.paired import paired, verdict
from trait.io import write_jsonl
from trait.llm.base import ChatResult
from trait.records import Problem
from trait.steps import Step, command
from trait.synthesize.groups import Group
from trait.synthesize.passages import ENLIGHTENMENT, PassageJob, Settings
from trait.synthesize.prompts import Prompts
from trait.synthesize.stage import OUTPUTS, summarize
from trait.tasks import TaskSpec

DOMAIN = "school arithmetic"
LESSON = ("Both problems about {a} and {b} turn a story into arithmetic on quantities; one adds parts while the "
          "other takes some away, and the lesson is to name each quantity before computing anything.")
# problem id -> (question, gold, the paragraph generated at each attempt; the last one repeats)
PROBLEMS = {
    "apples": ("Ann has 3 apples and buys 4 more. How many apples?", "7",
               ["Ann starts with 3 apples and buys 4, so 3 + 4 = 7 apples in all.\nAnswer: 7"]),
    "pens": ("Bo has 12 pens and gives away 5. How many are left?", "7",
             ["Bo gives away 5 of his 12 pens, so 12 - 5 = 7 pens are left.\nAnswer: 7"]),
    "cans": ("Cy collects 52 cans and recycles half. How many cans?", "26",
             ["Cy recycles half of his cans: 52 / 2 = 25 cans go to recycling.\nAnswer: 26",  # wrong, right line
              "Cy recycles half of his cans, which is 52 / 2 = 26 cans in all.\nAnswer: 26"]),
    "stickers": ("Di has 154 stickers and uses 78. How many are left?", "76",
                 ["Di uses 78 of her 154 stickers, so 154 - 78 = 114 stickers are left.\nAnswer: 76"]),
    "marbles": ("Ed has 9 marbles and wins 6. How many marbles?", "15",
                ["Ed has 9 marbles and wins 6 more, so he has 9 + 6 = 14 marbles.\nAnswer: 14"]),
}
SCHEDULE = [("apples", "pens"), ("cans", "apples"), ("pens", "cans"), ("stickers", "apples"),
            ("marbles", "pens"), ("stickers", "pens")]  # kept x3, wrong arithmetic, disagrees, wrong arithmetic


def _settings() -> Settings:
    spec = TaskSpec(name="toy", description="Sums.", train="x.jsonl")  # checker: math (the calculator applies)
    return Settings(prompts=Prompts.from_overrides({}), tasks={"toy": spec}, model="m", backend="test",
                    temperature=0.7, top_p=0.95, max_tokens=64, seed=0, gold_hints="answer",
                    max_regenerations=1, min_paragraph_words=4, min_enlightenment_words=10, min_problems_mentioned=2)


def _finish(job: PassageJob) -> None:
    while requests := job.pending():
        for slot, request in requests:
            if slot == ENLIGHTENMENT:
                a, b = (p.id for p in job.group.problems)
                text = LESSON.format(a=a, b=b)
            else:
                replies = PROBLEMS[job.group.problems[slot].id][2]
                text = replies[min(request.meta["attempt"], len(replies) - 1)]
            job.take(slot, request, ChatResult(text, prompt_tokens=50, completion_tokens=30))


def synthesis_jobs() -> list[PassageJob]:
    jobs = []
    for index, ids in enumerate(SCHEDULE):
        problems = tuple(Problem(id=i, task="toy", input=PROBLEMS[i][0], answer=PROBLEMS[i][1]) for i in ids)
        jobs.append(PassageJob(Group(index, problems), _settings()))
        _finish(jobs[-1])
    return jobs


def _write_synthesis(out: Path) -> dict:
    jobs = synthesis_jobs()
    write_jsonl(out / OUTPUTS["passages"], [j.passage() for j in jobs if j.status == "accepted"])
    write_jsonl(out / OUTPUTS["rejected"], [j.rejection() for j in jobs if j.status == "rejected"])
    return summarize(jobs, schedule_total=len(jobs), problems={"toy": []}, load_stats={}, llm_stats={},
                     prompts=jobs[0].s.prompts, wall_s=1.0)


def _ablation() -> dict:
    rng = np.random.default_rng(0)
    items = {}
    for arm, shift in (("base", 0.3), ("cpt_seed", 0.0), ("trait_two_stage", 0.0)):
        tokens = rng.integers(20, 60, 30)
        items[arm] = [{("toy", "task_loss"): {f"q{i}": (float((1.5 + shift + 0.3 * np.sin(i)) * t + rng.normal(0, 1)),
                                                        int(t)) for i, t in enumerate(tokens)},
                       ("toy", "exact_match"): {f"q{i}": (0, 1) for i in range(30)}}]
    rows = [{"model": a, "task": t, "metric": m, "value": sum(v[0] for v in its.values()) / sum(v[1] for v in its.values()),
             "ci_low": None, "ci_high": None, "n": len(its)} for a, runs in items.items() for (t, m), its in runs[0].items()]
    pairs = paired(items, {"iters": 300, "confidence": 0.95, "seed": 0})
    return {"rows": rows, "paired": pairs, "confidence": 0.95, "seeds": [0], "budget": "9,216 tokens",
            "verdict": verdict(pairs, 0.95, 1),
            "costs": {a: {"train_tokens": 9216, "llm_calls": 0, "llm_cost_usd": 0.0} for a in items}}


def _scores(out: Path) -> dict:
    """Score rows as the score step writes them: per doc, its domain and quality scores."""
    rng = np.random.default_rng(1)
    write_jsonl(out / "scores" / "00000.jsonl.gz",
                [{"id": f"doc-{i}", "source": "general.jsonl", "line": i + 1,
                  "scores": {"domain": float(rng.beta(1, 4)), "quality": float(rng.beta(6, 2))}} for i in range(400)])
    return {"docs": 400}


LOW_QUALITY = [{"id": "doc-7", "source": "general.jsonl", "line": 8, "scores": {"domain": 0.61, "quality": 0.2134567},
                "text": "BUY NOW!!! click click click $$$ best prices best prices"}]


def _choose(out: Path) -> dict:
    from trait.io import write_json

    write_json(out / "dropped_samples.json", {"low_quality": LOW_QUALITY, "below_threshold": []})
    return {"docs_scored": 400, "kept": 20, "threshold": 0.6123456789,
            "dropped_by_reason": {"low_quality": 31, "below_threshold": 349}}


def build_run(run: Path) -> Path:
    """Score, choose, synthesize and ablate steps of one command in ``run``; returns ``run``."""
    with command(run):
        score = Step(run, "score", {})
        score.run(_scores)
        Step(run, "choose", {"quality_scorer": "heuristic", "quality_min_score": 0.5, "threshold": None},
             deps=(score,), outputs={"dropped_samples": "dropped_samples.json"}).run(_choose)
        # the synthesize step hashes the domain section: the report finds its name there
        Step(run, "synthesize", {"domain": {"name": DOMAIN}}, outputs=OUTPUTS).run(_write_synthesis)
        Step(run, "ablate", {}).run(lambda out: _ablation())
    return run
