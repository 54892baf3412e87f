"""A task also scored by lm-eval's own built-in definition (e.g. ``gsm8k``), on the task's local files.

Our own scoring (``lmeval_tasks``) uses one prompt and answer checker for every task. A reader who
compares with published numbers needs the standard definition: its prompt, regex filters and metrics.
Each such task gets a YAML that ``include``s lm-eval's own file and only swaps the dataset for the same
held-out items (and few-shot pool) our scoring uses, written in GSM8K's fields (``question``, and
``answer`` = worked solution + ``#### <final>``). The number of shots and the generation length are
the evaluate section's (the published GSM8K figure is 5-shot), and the report says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trait.errors import ConfigError
from trait.evaluate.items import eval_items
from trait.evaluate.settings import EvalSettings
from trait.io import atomic_open, write_jsonl
from trait.records import Problem

PREFIX = "lmeval_"


def builtin_yaml(name: str) -> Path:
    """lm-eval's own YAML of task ``name`` (``tasks/**/<name>.yaml``; indexing all ~10k tasks costs ~30 s)."""
    import lm_eval

    root = Path(lm_eval.__file__).parent / "tasks"
    for path in sorted(root.glob(f"**/{name}.yaml")):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if f"task: {name}\n" in text:
            return path
    raise ConfigError(f"evaluate.lmeval_builtin: lm-eval {lm_eval.__version__} has no task {name!r} "
                      f"(looked for tasks/**/{name}.yaml under {root})")


def _doc(p: Problem) -> dict[str, Any]:
    worked = (p.solution or "").rstrip()
    return {"id": p.id, "question": p.input, "answer": f"{worked}\n#### {p.answer}" if worked else f"#### {p.answer}"}


def write_builtin_tasks(s: EvalSettings, folder: Path) -> dict[str, str]:
    """One YAML per ``evaluate.lmeval_builtin`` entry; returns {trait task: generated lm-eval task name}."""
    ev, folder = s.evaluate, Path(folder).resolve()
    specs = {t.name: t for t in s.tasks}
    out: dict[str, str] = {}
    for task, builtin in ev.lmeval_builtin.items():
        if task not in specs:
            raise ConfigError(f"evaluate.lmeval_builtin: no task named {task!r} (have: {', '.join(specs)})")
        test = eval_items(specs[task], "test", ev.limit_for(task), s.seed)
        if not test:
            continue
        pool = eval_items(specs[task], "train", ev.fewshot_pool, s.seed) if ev.num_fewshot else []
        data = folder / "data" / task
        write_jsonl(data / "test.jsonl", [_doc(p) for p in test])
        files = {"test": str(data / "test.jsonl")}
        if pool:
            write_jsonl(data / "train.jsonl", [_doc(p) for p in pool])
            files["train"] = str(data / "train.jsonl")
        name = f"{PREFIX}{builtin}_{task}"
        cfg: dict[str, Any] = {
            "include": str(builtin_yaml(builtin)), "task": name, "tag": [],
            "dataset_path": "json", "dataset_name": None,
            "dataset_kwargs": {"data_files": files, "cache_dir": str(folder / ".hf_cache")},
            "test_split": "test", "num_fewshot": min(ev.num_fewshot, len(pool)),
            **({"training_split": "train", "fewshot_split": "train"} if pool else
               {"training_split": None, "fewshot_split": None}),
        }
        with atomic_open(folder / f"{name}.yaml", "w") as fh:
            fh.write(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
        out[task] = name
    return out


def run_builtin(s: EvalSettings, model_path: Path, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Score every ``lmeval_builtin`` task; ``{task: {"<builtin> <metric> (<filter>)": {value, k, n, items}}}``."""
    from trait.evaluate.harness import evaluate_tasks

    ev = s.evaluate
    folder = Path(out_dir) / "lmeval_builtin"
    names = write_builtin_tasks(s, folder)
    if not names:
        return {}
    gen = {"max_gen_toks": ev.max_gen_tokens} if ev.backend == "hf" else None
    res = evaluate_tasks(ev, model_path, list(names.values()), folder.resolve(), s.seed, gen)
    out: dict[str, dict[str, Any]] = {}
    for task, name in names.items():
        builtin = ev.lmeval_builtin[task]
        samples = res["samples"].get(name, [])
        write_jsonl(Path(out_dir) / "samples" / f"{task}.{builtin}.jsonl",
                    [{"id": x["doc"].get("id"), "filter": x.get("filter"), "generation": (x.get("resps") or [[""]])[0][0],
                      "filtered": x.get("filtered_resps"), "target": x.get("target"), "exact_match": x.get("exact_match")}
                     for x in samples])
        by_filter: dict[str, list[tuple[str, int]]] = {}
        for x in samples:
            by_filter.setdefault(x.get("filter", "none"), []).append((str(x["doc"].get("id")), int(x["exact_match"])))
        out[task] = {f"{builtin}:{flt}": {"value": sum(v for _, v in items) / len(items), "k": sum(v for _, v in items),
                                          "n": len(items), "items": [list(i) for i in items]}
                     for flt, items in by_filter.items()}
    return out
