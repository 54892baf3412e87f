"""Write the demo's small-arithmetic task (examples/math/data/arith/) with reasoning-gym.

A task on which SmolLM2-135M is neither at 0% nor near 100%, so that accuracy (not only task loss)
can move at CPU scale. Items come from reasoning-gym's ``chain_sum`` generator (Apache-2.0) at its
easiest level; the seed below makes the files reproducible. reasoning-gym is not a dependency of
trait: install it only to regenerate (``pip install reasoning-gym==0.1.25``).

    python scripts/make_arith_task.py examples/math/data/arith

Train and test share no expression: items are deduplicated by expression, then split by a hash of their
operands alone. Decontamination drops punctuation ("5 + 2" and "5 - 2" read alike), so both land in
one split and no train item looks like a test one.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

SEED = 20261202
SETTINGS = {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1, "allow_negation": False}
TEST_FRACTION = 0.3


def main(out: Path) -> None:
    import reasoning_gym

    rows: dict[str, dict] = {}
    for item in reasoning_gym.create_dataset("chain_sum", size=2000, seed=SEED, **SETTINGS):
        expr = item["metadata"]["expression"]
        rows.setdefault(expr, {"question": item["question"], "answer": item["answer"],
                               "solution": f"{expr} = {item['answer']}", "expression": expr})
    out.mkdir(parents=True, exist_ok=True)
    splits: dict[str, list[dict]] = {"train": [], "test": []}
    for expr in sorted(rows):
        operands = " ".join(expr.replace("+", " ").replace("-", " ").split())
        h = int(hashlib.sha256(operands.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        split = "test" if h < TEST_FRACTION else "train"
        splits[split].append({"id": f"arith-{split}-{len(splits[split]):03d}", **rows[expr]})
    for split, items in splits.items():
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in items)
        print(f"{out / f'{split}.jsonl'}: {len(items)} items")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/math/data/arith"))
