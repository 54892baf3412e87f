"""Draw the medical example's task subsets from the project's shared data folder (seeded, re-runnable).

    python examples/medical/make_data.py [SHARED_DATA]     # default: <repo>/../shared/data

- MMLU medical subjects: 400 of the 1,561 test items, and every train item (MMLU dev + val minus
  the items repeated in test) that is clean against the whole test split (below).
- PubMedQA PQA-L: 200 of the 500 official test items, and 200 of the clean train items. ``original``
  is dropped: its LONG_ANSWER is the abstract's conclusion and states the answer, so it must reach no
  prompt; ``text`` (question + context again) is dropped to save space.

Clean: the item's input, as the config renders it, shares no word 13-gram with (nor copies) a test
input of either task's whole shared test split: trait's decontamination rule, so the pipeline drops
none of them (USMLE-style boilerplate such as "which of the following is the most likely cause of
this patient's" would otherwise cost train items at run time).
Every draw is ``random.Random(SEED).sample`` over the rows, written back in file order. The MedQuAD
seed (data/medquad/) is a whole copy of the shared file, not drawn here.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import yaml

from trait.contamination import ContaminationIndex, DecontaminationConfig
from trait.io import read_jsonl, write_jsonl
from trait.tasks import TaskSpec, render

SEED = 20261202
HERE = Path(__file__).resolve().parent
PUBMEDQA_FIELDS = ["id", "pubid", "split", "question", "context", "label", "choices", "answer", "answer_index"]


def draw(rows: list[dict], n: int | None, seed: int = SEED) -> list[dict]:
    """``n`` rows chosen by a seeded sample, in file order (all rows when ``n`` is None)."""
    if n is None or n >= len(rows):
        return rows
    keep = set(random.Random(seed).sample(range(len(rows)), n))
    return [r for i, r in enumerate(rows) if i in keep]


def specs() -> dict[str, TaskSpec]:
    """The config's task specs (for their input templates), keyed by the shared folder they come from."""
    tasks = yaml.safe_load((HERE / "config.yaml").read_text())["tasks"]
    return {Path(t["test"]).parent.name: TaskSpec(**{k: v for k, v in t.items() if k not in ("train", "test")},
                                                  test="test.jsonl") for t in tasks}


def main(shared: Path) -> None:
    sizes = {"mmlu_medical": (None, 400, None), "pubmedqa": (200, 200, PUBMEDQA_FIELDS)}
    src = {name: shared / "medical_tasks" / name for name in sizes}
    spec = specs()
    d = DecontaminationConfig()
    index = ContaminationIndex(n=d.ngram, min_words=d.min_words, exact_short=d.exact_short)
    for name in sizes:
        for r in read_jsonl(src[name] / "test.jsonl"):
            index.add(f"{name}:{r['id']}", render(spec[name], r))
    for name, (n_train, n_test, fields) in sizes.items():
        train = read_jsonl(src[name] / "train.jsonl")
        clean = [r for r in train if index.find(render(spec[name], r)) is None]
        print(f"{name}: {len(clean)} of {len(train)} train items clean against the test splits")
        out = HERE / "data" / name
        for split, rows in (("train", draw(clean, n_train)), ("test", draw(read_jsonl(src[name] / "test.jsonl"), n_test))):
            n = write_jsonl(out / f"{split}.jsonl", [{k: r[k] for k in fields} if fields else r for r in rows])
            print(f"{out / f'{split}.jsonl'}: {n} rows")
        shutil.copyfile(src[name] / "LICENSE.txt", out / "LICENSE.txt")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data")
