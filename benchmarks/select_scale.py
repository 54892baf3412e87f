"""Scale rehearsal of ``trait select``: the Wikipedia sample tiled to --docs documents, selected end to
end (train, score, cut, dedup, decontaminate, join) with the local executor, then at 10x less input;
optionally once more on a local Ray cluster, whose selection must equal the local one.

    python benchmarks/select_scale.py [--docs 1000000] [--shards 8] [--workers 2] [--method dsir]
                                      [--ray] [--out DIR]

Every tiled document is a random ~40% of one article's sentences (in order) with ~2% of the words
dropped, under a unique id: distinct enough that MinHash does not fold the copies together, so dedup
and the join see the full kept fraction, as on a real web corpus. Prints, per size: wall time, peak RSS
of the largest process and of the whole process tree (sampled every 0.2 s), disk per step folder, and
the 10x/1x ratios (goal for RSS: ~1.0, flat). The default scorer is DSIR with one DSIR bootstrap round:
the math example's recipe ends in an embedding round, which a 2-core CPU cannot run over 1M documents
(``benchmarks/scorer_throughput.py`` gives its core-hours per billion documents).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "math"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def tile(out: Path, n_docs: int, shards: int) -> tuple[list[str], int]:
    """``n_docs`` perturbed copies of the sample's articles in ``shards`` jsonl.gz files."""
    import orjson

    with gzip.open(EXAMPLE / "data" / "wikipedia" / "wiki_sample.jsonl.gz") as src:
        articles = [[s for s in _SENTENCE.split(orjson.loads(line)["text"]) if s.strip()] for line in src]
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"tiled_{k:03d}.jsonl.gz" for k in range(shards)]
    rng = random.Random(0)
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(gzip.open(p, "wb", compresslevel=1)) for p in paths]
        for j in range(n_docs):
            sents = articles[j % len(articles)]
            keep = sorted(rng.sample(range(len(sents)), max(1, min(len(sents), round(0.4 * len(sents))))))
            words = " ".join(sents[i] for i in keep).split(" ")
            text = " ".join(w for w in words if rng.random() >= 0.02)
            handles[j % shards].write(orjson.dumps({"id": f"tile-{j}", "text": text}) + b"\n")
    return [str(p) for p in paths], sum(p.stat().st_size for p in paths)


def write_config(out: Path, general: list[str], args: argparse.Namespace) -> Path:
    """The math example's config with absolute paths and the tiled corpus as the general corpus."""
    cfg = yaml.safe_load((EXAMPLE / "config.yaml").read_text())

    def absolute(p: str) -> str:
        return str((EXAMPLE / p).resolve())

    cfg["data"] = {"seed_corpus": [absolute(p) for p in cfg["data"]["seed_corpus"]], "general_corpus": general}
    for task in cfg["tasks"]:
        task.update({k: absolute(task[k]) for k in ("train", "test") if k in task})
    scorer = {"method": args.method, "bootstrap": {"rounds": args.bootstrap_rounds, "scorer": args.method}}
    cfg["select"] = {**scorer, "keep_fraction": cfg["select"]["keep_fraction"],
                     "executor": {"kind": "local", "tasks": args.shards, "workers": args.workers}}
    cfg["runs_dir"] = str(out / "runs")
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_select(config: Path, run: str, extra: list[str], env: dict[str, str] | None = None) -> dict:
    """``trait select`` in a child process: wall time, CPU time of the whole process tree
    (``trait.cputime``: datatrove's workers included) and peak RSS (largest process, whole tree),
    sampled every 0.2 s."""
    from trait.cputime import CPUMeter

    cmd = [sys.executable, "-m", "trait.cli", "select", str(config), f"run={run}", *extra]
    peak = {"tree_mb": 0.0, "process_mb": 0.0}
    with CPUMeter(interval=0.2) as meter:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, **(env or {})})

        def sample() -> None:
            root = psutil.Process(proc.pid)
            while proc.poll() is None:
                rss = []
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    break
                for p in tree:
                    try:
                        rss.append(p.memory_info().rss / 2**20)
                    except psutil.Error:
                        continue
                if rss:
                    peak["tree_mb"] = max(peak["tree_mb"], sum(rss))
                    peak["process_mb"] = max(peak["process_mb"], max(rss))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        log = proc.communicate()[0]
        sampler.join()
    if proc.returncode:
        sys.exit(f"trait select ({run}) failed with exit {proc.returncode}:\n{log[-3000:]}")
    return {"wall_s": meter.wall_s, "cpu_s": meter.cpu_s, **peak, "log": log}


def step_disk(run_dir: Path) -> dict[str, float]:
    """MB on disk of each step folder of the run (classify, score, choose)."""
    return {d.name.split("-")[0]: sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) / 2**20
            for d in sorted(run_dir.iterdir()) if d.is_dir()}


def selected_ids(run_dir: Path) -> list[str]:
    (choose,) = [d for d in run_dir.iterdir() if d.name.startswith("choose-")]
    ids = []
    for shard in sorted((choose / "selected").glob("*.jsonl.gz")):
        with gzip.open(shard) as fh:
            ids += [json.loads(line)["id"] for line in fh]
    return ids


def rehearse(out: Path, n_docs: int, args: argparse.Namespace, extra: list[str] = (), run: str = "") -> dict:
    general, input_bytes = tile(out / "corpus", n_docs, args.shards)
    config = write_config(out, general, args)
    run = run or f"scale-{n_docs}"
    figures = run_select(config, run, list(extra))
    run_dir = out / "runs" / run
    summary = json.loads((next(run_dir.glob("choose-*")) / "summary.json").read_text())
    return {"docs": n_docs, "input_mb": input_bytes / 2**20, **figures, "disk_mb": step_disk(run_dir),
            "kept": summary.get("kept"), "dropped": summary.get("dropped_by_reason"),
            "ids": selected_ids(run_dir), "config": config}


def show(r: dict, workers: int) -> None:
    disk = ", ".join(f"{k} {v:,.1f}" for k, v in r["disk_mb"].items())
    print(f"{r['docs']:>9,} docs | input {r['input_mb']:,.0f} MB | wall {r['wall_s']:,.0f} s "
          f"({r['docs'] / r['wall_s']:,.0f} docs/s, {workers} workers), CPU {r['cpu_s']:,.0f} s "
          f"({r['docs'] / r['cpu_s']:,.0f} docs/CPU-s) | peak RSS: largest process "
          f"{r['process_mb']:,.0f} MB, tree {r['tree_mb']:,.0f} MB | kept {r['kept']:,} | "
          f"dropped {r['dropped']} | disk MB: {disk}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--method", default="dsir", choices=["dsir", "fasttext"])
    ap.add_argument("--bootstrap-rounds", type=int, default=1)
    ap.add_argument("--ray", action="store_true", help="also run the large size on a local Ray cluster")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="trait-scale-"))
    print(f"scale rehearsal in {out}", flush=True)
    small = rehearse(out / "small", args.docs // 10, args)
    show(small, args.workers)
    large = rehearse(out / "large", args.docs, args)
    show(large, args.workers)
    print(f"10x input: wall {large['wall_s'] / small['wall_s']:.1f}x, CPU {large['cpu_s'] / small['cpu_s']:.1f}x, peak RSS largest process "
          f"{large['process_mb'] / small['process_mb']:.2f}x, tree {large['tree_mb'] / small['tree_mb']:.2f}x "
          f"(goal for RSS: ~1.0)")
    if args.ray:
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a throwaway local instance: no token in ~/.ray
        ctx = ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        try:  # the child's ray.init() joins this cluster through RAY_ADDRESS
            on_ray = run_select(large["config"], "scale-ray", ["select.executor.kind=ray"],
                                {"RAY_ADDRESS": ctx.address_info["address"]})
        finally:
            ray.shutdown()
        ids = selected_ids(out / "large" / "runs" / "scale-ray")
        print(f"ray: wall {on_ray['wall_s']:,.0f} s, peak RSS tree {on_ray['tree_mb']:,.0f} MB (the driver "
              f"only: Ray's workers are not its children); selection identical to local: "
              f"{sorted(ids) == sorted(large['ids'])} ({len(ids):,} docs; same order: {ids == large['ids']})")
        if sorted(ids) != sorted(large["ids"]):
            sys.exit(1)
