"""Peak memory of the scoring pipeline, 1x vs. 10x input: streaming means it should stay flat.

    python benchmarks/select_memory.py [--factor 10] [--out /tmp/trait-mem]

Each size is scored in a fresh interpreter (one datatrove task, workers=1, heuristic quality on) and
its peak RSS (ru_maxrss) is reported; the ratio 10x/1x is the number to watch (goal: ~1.0).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from select_throughput import make_shard, train_model

CHILD = """
import json, resource, sys, time
from pathlib import Path
from trait.select.config import ExecutorConfig
from trait.select.score import build_pipeline, collect_summary, make_executor, run_pipeline
shard, model, out = map(Path, sys.argv[1:4])
t = time.perf_counter()
pipe = build_pipeline([str(shard)], out, method="fasttext", model_dir=model, quality="heuristic")
assert run_pipeline(make_executor(ExecutorConfig(), pipe, out / "datatrove"), out)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "docs": collect_summary(out)["docs_scored"], "wall_s": time.perf_counter() - t}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="trait-mem-"))
    model = train_model(out)
    rows = {}
    for factor in (1, args.factor):
        shard, _ = make_shard(out / f"x{factor}", factor)
        run = subprocess.run([sys.executable, "-c", CHILD, str(shard), str(model), str(out / f"score-x{factor}")],
                             check=True, capture_output=True, text=True)
        rows[factor] = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"{'input':>6s} {'docs':>8s} {'peak RSS MB':>12s} {'wall s':>8s}")
    for factor, r in rows.items():
        print(f"{factor:>5d}x {r['docs']:>8d} {r['peak_rss_mb']:12.0f} {r['wall_s']:8.1f}")
    ratio = rows[args.factor]["peak_rss_mb"] / rows[1]["peak_rss_mb"]
    print(f"peak RSS {args.factor}x / 1x: {ratio:.2f} (goal: flat, ~1.0)")


if __name__ == "__main__":
    main()
