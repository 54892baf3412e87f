"""Run the synthesis calculator over GSM8K's gold solutions and list every statement it flags.

Each flag is a gold statement the calculator calls wrong: either a slip of the solution itself or a
false alarm (a correct solution misread). tests/synthesize/test_synth_calculator.py pins the list.

    python scripts/calculator_gold.py [examples/math/data/gsm8k]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from trait.synthesize.calculator import calculate


def main(folder: Path) -> int:
    solutions = statements = flagged = 0
    for split in ("train", "test"):
        path = folder / f"{split}.jsonl"
        for n, line in enumerate(path.read_text().splitlines(), 1):
            calc = calculate(json.loads(line)["answer"].rsplit("####", 1)[0])
            solutions += 1
            statements += calc.statements
            for wrong in calc.wrong:
                flagged += 1
                print(f"{path}:{n}: {wrong}")
    print(f"{solutions} gold solutions, {statements} statements read, {flagged} flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/math/data/gsm8k")))
