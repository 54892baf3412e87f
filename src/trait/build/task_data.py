"""The control arm's corpus: the tasks' own training items as plain text, in the evaluation format.

Without an arm trained on "question + gold solution" at the same budget, nobody can tell TRAIT's
passages from mere exposure to the task data (issue 15). Only train splits are read, never a test
split; evaluation-only tasks are left out, as they are for synthesis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.errors import TraitError
from trait.evaluate.scoring import PROMPT_TEMPLATE, format_target
from trait.io import ReadStats, write_jsonl
from trait.steps import Step, fingerprint
from trait.tasks import TaskSpec, iter_problems

OUTPUTS = {"docs": "task_data.jsonl"}


def task_data_step(tasks: list[TaskSpec], *, on_bad_record: str, run_dir: Path) -> Step:
    used = [t for t in tasks if not t.eval_only and t.split_file("train")]
    # What renders an item; a two-file task's test file is never read here.
    specs = [t.model_dump(mode="json", exclude={"description", "checker"} | (set() if t.one_file else {"test"}))
             for t in used]
    config = {"tasks": [{"spec": s, "files": fingerprint([t.split_file("train")])} for s, t in zip(specs, used)],
              "on_bad_record": on_bad_record, "format": [PROMPT_TEMPLATE, format_target("{answer}", "{solution}")]}
    return Step(run_dir, "task_data", config, outputs=OUTPUTS)


def run_task_data(tasks: list[TaskSpec], *, on_bad_record: str, run_dir: Path) -> Step:
    def work(out: Path) -> dict[str, Any]:
        stats, docs = ReadStats(), []
        for spec in tasks:
            if spec.eval_only or not spec.split_file("train"):
                continue
            for p in iter_problems(spec, "train", on_error=on_bad_record, stats=stats):
                if p.answer is None:
                    continue  # nothing to show: an item without a gold answer teaches no task
                text = PROMPT_TEMPLATE.format(question=p.input) + " " + format_target(p.answer, p.solution)
                docs.append({"id": f"{p.task}:{p.id}", "text": text, "task": p.task})
        if not docs:
            raise TraitError("task data: no train item with a gold answer in any task (the cpt_task_data arm "
                             "needs tasks[].train)")
        write_jsonl(out / OUTPUTS["docs"], docs)
        return {"docs": len(docs), "by_task": {t: sum(d["task"] == t for d in docs) for t in {d["task"] for d in docs}},
                "read": stats.to_dict()}

    return task_data_step(tasks, on_bad_record=on_bad_record, run_dir=run_dir).run(work)
