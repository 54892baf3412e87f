"""The control arm's corpus: the tasks' own training items as plain text, in the evaluation format.

Without an arm trained on "question + gold solution" at the same budget, nobody can tell TRAIT's
passages from mere exposure to the task data (issue 15). Only train splits become text; a train item
that shares an n-gram with (or copies) a test item of any task is left out, as it is from synthesis.
Evaluation-only tasks are left out, as they are for synthesis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trait.contamination import Decontamination, DecontaminationConfig, drop_contaminated
from trait.errors import TraitError
from trait.evaluate.items import target_text
from trait.evaluate.scoring import PROMPT_TEMPLATE, format_target
from trait.io import ReadStats, write_jsonl
from trait.steps import Step, fingerprint
from trait.tasks import TaskSpec, iter_problems

OUTPUTS = {"docs": "task_data.jsonl"}


def _used(tasks: list[TaskSpec]) -> list[TaskSpec]:
    return [t for t in tasks if not t.eval_only and t.split_file("train")]


def _decontamination(tasks: list[TaskSpec], on_bad_record: str,
                     config: DecontaminationConfig | None) -> Decontamination:
    return Decontamination(config or DecontaminationConfig(), tuple(tasks), on_bad_record)


def task_data_step(tasks: list[TaskSpec], *, on_bad_record: str, run_dir: Path,
                   decontaminate: DecontaminationConfig | None = None) -> Step:
    used = _used(tasks)
    # What renders an item; a two-file task's test file is read only through the decontamination index.
    specs = [t.model_dump(mode="json", exclude={"description", "checker"} | (set() if t.one_file else {"test"}))
             for t in used]
    config = {"tasks": [{"spec": s, "files": fingerprint([t.split_file("train")])} for s, t in zip(specs, used)],
              "on_bad_record": on_bad_record, "format": [PROMPT_TEMPLATE, format_target("{answer}", "{solution}")]}
    if any(t.type != "generate" for t in used):
        # A choice or label item ends in the text it is scored on (gold choice, gold verbalizer); before,
        # it ended in "The answer is <label name>.", which no metric scores: such steps must re-run.
        config["choice_target"] = "gold choice text or verbalizer"
    config["decontaminate"] = _decontamination(tasks, on_bad_record, decontaminate).identity()
    return Step(run_dir, "task_data", config, outputs=OUTPUTS)


def run_task_data(tasks: list[TaskSpec], *, on_bad_record: str, run_dir: Path,
                  decontaminate: DecontaminationConfig | None = None) -> Step:
    def work(out: Path) -> dict[str, Any]:
        stats = ReadStats()
        # an item without a gold answer teaches no task: nothing to show
        specs = {spec.name: spec for spec in _used(tasks)}
        problems = {name: [p for p in iter_problems(spec, "train", on_error=on_bad_record, stats=stats)
                           if p.answer is not None] for name, spec in specs.items()}
        d = _decontamination(tasks, on_bad_record, decontaminate)
        problems, contaminated = drop_contaminated(problems, d)
        # the format evaluation scores: the prompt, then the worked answer, gold choice or gold verbalizer
        docs = [{"id": f"{p.task}:{p.id}", "task": p.task,
                 "text": PROMPT_TEMPLATE.format(question=p.input) + " " + target_text(specs[p.task], p)}
                for ps in problems.values() for p in ps]
        if not docs:
            raise TraitError("task data: no train item with a gold answer in any task (the cpt_task_data arm "
                             "needs tasks[].train)")
        write_jsonl(out / OUTPUTS["docs"], docs)
        return {"docs": len(docs), "by_task": {t: len(ps) for t, ps in problems.items() if ps},
                "read": stats.to_dict(), "decontamination": contaminated}

    return task_data_step(tasks, on_bad_record=on_bad_record, run_dir=run_dir,
                          decontaminate=decontaminate).run(work)
