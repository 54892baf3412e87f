"""lm-eval (0.4.x) task YAMLs generated from the user's task specs.

Each task becomes ``trait_<name>.yaml`` over local jsonl files (``dataset_path: json`` with
``dataset_kwargs.data_files``, the way lm-eval loads any local dataset): ``test.jsonl`` holds the
chosen held-out items, ``train.jsonl`` the few-shot pool. ``generate`` tasks are ``generate_until``,
scored by ``utils.py`` and ``answers.py`` beside the YAMLs (verbatim copies of ``trait.evaluate.scoring``
and ``trait.answers``). ``multiple_choice`` and ``classification`` tasks are lm-eval's own
``multiple_choice`` output type: the same "Question: ...\nAnswer:" prompt, each choice text (or label
verbalizer) as a continuation, lm-eval's acc / acc_norm, and for classification macro-F1 (lm-eval's
``f1`` metric, which hands its aggregation (gold, predicted) pairs, with ``utils.macro_f1`` as that
aggregation). The folder also runs with the plain ``lm_eval --include_path <folder>`` command line.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trait import answers
from trait.evaluate import scoring
from trait.evaluate.items import choice_texts, eval_items, gold_index
from trait.evaluate.settings import EvalSettings
from trait.io import atomic_open, write_json, write_jsonl
from trait.records import Problem
from trait.tasks import TaskSpec
from trait.ui import info

PREFIX = "trait_"
LMEVAL_KEY = {"macro_f1": "f1"}  # trait's metric name -> lm-eval's, where they differ
METRICS = {"math": ["exact_match", "math_verify"], "exact": ["exact_match"], "f1": ["exact_match", "f1"],
           "multiple_choice": ["acc", "acc_norm"], "classification": ["acc", "macro_f1"]}


def lmeval_key(metric: str) -> str:
    return LMEVAL_KEY.get(metric, metric)


class _Function(str):
    """A YAML ``!function utils.<name>`` value (lm-eval resolves the tag to that callable)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Function, lambda d, v: d.represent_scalar("!function", str(v)))


@dataclass
class TaskInfo:
    """What one generated lm-eval task evaluates (kept in ``tasks.json`` beside the YAMLs)."""

    task: str
    lmeval_name: str
    n_test: int
    n_fewshot_pool: int
    num_fewshot: int
    checker: str
    metrics: list[str]
    type: str = "generate"


@dataclass
class GeneratedTasks:
    folder: Path
    tasks: dict[str, TaskInfo] = field(default_factory=dict)  # keyed by the trait task name
    skipped: dict[str, str] = field(default_factory=dict)  # task name -> why it is not evaluated

    @property
    def lmeval_names(self) -> list[str]:
        return [t.lmeval_name for t in self.tasks.values()]


def _doc(spec: TaskSpec, p: Problem, checker: str) -> dict[str, Any]:
    doc = {"id": p.id, "question": p.input, "answer": p.answer}
    if spec.type == "generate":
        return doc | {"checker": checker, "target": scoring.format_target(p.answer or "", p.solution)}
    return doc | {"choices": choice_texts(spec, p), "gold": gold_index(p)}


def _task_yaml(info: TaskInfo, test: Path, train: Path | None, cache: Path, max_gen_tokens: int) -> str:
    data_files = {"test": str(test)} | ({"train": str(train)} if train else {})
    metrics = [{"metric": lmeval_key(m), "aggregation": _Function("utils.macro_f1") if m == "macro_f1" else "mean",
                "higher_is_better": True} for m in info.metrics]
    if info.type == "generate":
        kind: dict[str, Any] = {
            "output_type": "generate_until", "doc_to_target": "{{target}}",
            "generation_kwargs": {"until": list(scoring.STOP_SEQUENCES), "do_sample": False,
                                  "max_gen_toks": max_gen_tokens},
            "process_results": _Function("utils.process_results")}
    else:  # lm-eval scores each continuation " <choice>" after the prompt and picks the likeliest
        kind = {"output_type": "multiple_choice", "doc_to_choice": "choices", "doc_to_target": "gold"}
    cfg: dict[str, Any] = {
        "task": info.lmeval_name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": data_files, "cache_dir": str(cache)},
        "output_type": kind.pop("output_type"),
        "test_split": "test",
        **({"training_split": "train", "fewshot_split": "train"} if train else {}),
        "doc_to_text": scoring.PROMPT_TEMPLATE.replace("{question}", "{{question}}"),
        "target_delimiter": " ",
        "fewshot_delimiter": "\n\n",
        "num_fewshot": info.num_fewshot,
        **kind,
        "metric_list": metrics,
        "metadata": {"version": 1.0, "trait_task": info.task},
    }
    return yaml.dump(cfg, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _one_task(spec: TaskSpec, s: EvalSettings, folder: Path) -> TaskInfo | str:
    ev = s.evaluate
    if not spec.has_answers:
        return "no answer_field: nothing to score"
    if spec.split_file("test") is None:
        return "no test split (give test:, split_field or holdout_fraction)"
    test = eval_items(spec, "test", ev.limit_for(spec.name), s.seed)
    if not test:
        return "no test items with answers"
    pool = eval_items(spec, "train", ev.fewshot_pool, s.seed) if ev.num_fewshot else []
    shots = min(ev.num_fewshot, len(pool))
    if shots < ev.num_fewshot:
        info(f"[yellow]evaluate: task {spec.name} has {len(pool)} train items for {ev.num_fewshot}-shot "
             f"prompts: using {shots}-shot[/yellow]")
    checker = spec.checker if spec.checker != "none" else "exact"
    t = TaskInfo(task=spec.name, lmeval_name=PREFIX + spec.name, n_test=len(test), n_fewshot_pool=len(pool),
                 num_fewshot=shots, checker=checker, type=spec.type,
                 metrics=METRICS[checker if spec.type == "generate" else spec.type])
    data = folder / "data" / spec.name
    write_jsonl(data / "test.jsonl", [_doc(spec, p, checker) for p in test])
    train_path = None
    if shots:
        train_path = data / "train.jsonl"
        write_jsonl(train_path, [_doc(spec, p, checker) for p in pool])
    text = _task_yaml(t, data / "test.jsonl", train_path, folder / ".hf_cache", ev.max_gen_tokens)
    with atomic_open(folder / f"{t.lmeval_name}.yaml", "w") as fh:
        fh.write(text)
    return t


def write_lmeval_tasks(s: EvalSettings, folder: Path) -> GeneratedTasks:
    """Write one lm-eval task per scorable task spec (+ utils.py, answers.py, tasks.json) into ``folder``."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    out = GeneratedTasks(folder=folder)
    for spec in s.tasks:
        result = _one_task(spec, s, folder)
        if isinstance(result, str):
            out.skipped[spec.name] = result
            info(f"[yellow]evaluate: task {spec.name} skipped: {result}[/yellow]")
        else:
            out.tasks[spec.name] = result
    for source, name in ((answers.__file__, "answers.py"), (scoring.__file__, "utils.py")):
        tmp = folder / f".{name}.tmp"
        shutil.copyfile(source, tmp)
        tmp.replace(folder / name)
    write_json(folder / "tasks.json", {"tasks": {k: asdict(v) for k, v in out.tasks.items()},
                                       "skipped": out.skipped})
    return out


def task_manager(folder: Path):
    """lm-eval's TaskManager over the generated folder only (indexing its ~10k built-in tasks costs seconds)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(folder), include_defaults=False)
