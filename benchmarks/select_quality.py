"""Selection quality of every domain scorer, on a planted mix and on hand-labelled general-corpus docs.

Seed = OpenStax math prose. Two measurements per scorer configuration, printed as ONE table:
1. planted mix: held-out OpenStax sections planted into the Wikipedia sample; positives = planted,
   negatives = Wikipedia articles labelled non-math (labelled-math articles are left out: they are
   neither). ROC-AUC, and precision/recall at the chosen size (keep_fraction x corpus).
2. general corpus: the Wikipedia sample alone, scored against examples/math/labels (is the article
   about mathematics?). ROC-AUC, precision at k = #positives and at k = 20.
The planted docs share the seed's style, so (1) flatters scorers that learn style; (2) is what a
user of a real general corpus gets (issue 7).

Every score is out-of-fold: the corpus is split in two halves, each scored by scorers trained (and
bootstrapped) on the other half, as a large corpus's docs are almost never in the training sample.

Run (about 5 minutes on 2 cores, most of it embedding ~2,300 docs once):
    HF_HUB_OFFLINE=1 python benchmarks/select_quality.py
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trait.io import iter_docs, write_json
from trait.select.bootstrap import train_selection
from trait.select.config import SelectConfig
from trait.select.precision import load_labels, ranking_metrics

DATA = ROOT / "examples" / "math" / "data"
LABELS = ROOT / "examples" / "math" / "labels" / "wiki_math_labels.jsonl"

# name -> select settings (method/ensemble/bootstrap); embedding/bootstrap knobs come from the CLI
CONFIGS: dict[str, dict[str, Any]] = {
    "random": {"method": "random"},
    "dsir": {"method": "dsir"},
    "fasttext (paper)": {"method": "fasttext"},
    "embedding logreg": {"method": "embedding"},
    "embedding centroid": {"method": "embedding", "embedding": {"head": "centroid"}},
    "fasttext +boot fasttext": {"method": "fasttext", "bootstrap": {"rounds": -1}},
    "fasttext +boot embedding": {"method": "fasttext", "bootstrap": {"rounds": -1, "scorer": "embedding"}},
    "embedding +boot embedding": {"method": "embedding", "bootstrap": {"rounds": -1}},
    "dsir +boot embedding": {"method": "dsir", "bootstrap": {"rounds": -1, "scorer": "embedding"}},
    "ensemble ft+emb": {"ensemble": ["fasttext", "embedding"]},
    "ensemble ft+emb +boot": {"ensemble": ["fasttext", "embedding"], "bootstrap": {"rounds": -1}},
}


def settings_for(spec: dict[str, Any], args: argparse.Namespace) -> SelectConfig:
    d: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("embedding", "bootstrap")}
    d["embedding"] = {"max_tokens": args.max_tokens, **spec.get("embedding", {})}
    boot = dict(spec.get("bootstrap", {}))
    if boot.get("rounds") == -1:
        boot["rounds"] = args.rounds
    d["bootstrap"] = {"top_fraction": args.top_fraction, "bottom_fraction": args.bottom_fraction, **boot}
    return SelectConfig.model_validate(d)


def out_of_fold(settings: SelectConfig, seed_texts: list[str], corpus: list[str], work: Path,
                seed: int) -> np.ndarray:
    """Scores of every corpus doc from scorers trained on the other half of the corpus."""
    fold = np.random.default_rng(seed).permutation(len(corpus)) % 2
    scores = np.empty(len(corpus))
    for k in (0, 1):
        train = [t for t, f in zip(corpus, fold) if f != k]
        trained = train_selection(settings, seed_texts, train, work / f"fold{k}", seed + k)
        inside = np.flatnonzero(fold == k)
        scores[inside] = trained.scorer.score([corpus[i] for i in inside])
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--plant", type=int, default=80, help="held-out seed docs planted into the corpus")
    ap.add_argument("--keep-fraction", type=float, default=0.05, help="chosen size = this x corpus")
    ap.add_argument("--max-tokens", type=int, default=256, help="embedding scorer truncation")
    ap.add_argument("--rounds", type=int, default=2, help="bootstrap rounds of the +boot rows")
    ap.add_argument("--top-fraction", type=float, default=0.03)
    ap.add_argument("--bottom-fraction", type=float, default=0.5)
    ap.add_argument("--drop-borderline", action="store_true", help="leave out borderline-labelled articles")
    ap.add_argument("--only", nargs="*", help="configuration names to run (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()

    wiki = list(iter_docs([args.data / "wikipedia" / "wiki_sample.jsonl.gz"]))
    seed_docs = list(iter_docs([args.data / "math_prose" / "openstax_math.jsonl.gz"]))
    labels = load_labels(args.labels)
    if args.drop_borderline:
        from trait.io import read_jsonl

        borderline = {str(r["id"]) for r in read_jsonl(args.labels) if r.get("borderline")}
        labels = {i: y for i, y in labels.items() if i not in borderline}
    missing = [d.id for d in wiki if d.id not in labels]
    wiki_y = np.array([labels.get(d.id, -1) for d in wiki])
    rng = random.Random(args.seed)
    order = list(range(len(seed_docs)))
    rng.shuffle(order)
    planted = [seed_docs[i].text for i in order[: args.plant]]
    seed_texts = [seed_docs[i].text for i in order[args.plant:]]
    wiki_texts = [d.text for d in wiki]
    mix = wiki_texts + planted
    mix_y = np.r_[np.where(wiki_y == 1, -1, wiki_y), np.ones(len(planted), dtype=int)]  # -1 = left out
    size = math.ceil(args.keep_fraction * len(mix))
    print(f"seed {len(seed_texts)} OpenStax docs; planted mix {len(wiki)} wiki + {len(planted)} planted "
          f"(chosen size {size}); labelled wiki {int((wiki_y >= 0).sum())} docs, {int((wiki_y == 1).sum())} "
          f"math{'' if not missing else f', {len(missing)} unlabelled'}", file=sys.stderr)

    rows = []
    names = args.only or list(CONFIGS)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            settings = settings_for(CONFIGS[name], args)
            t0 = time.perf_counter()
            s_mix = out_of_fold(settings, seed_texts, mix, Path(tmp) / name / "mix", args.seed)
            s_wiki = out_of_fold(settings, seed_texts, wiki_texts, Path(tmp) / name / "wiki", args.seed)
            secs = time.perf_counter() - t0
            keep = mix_y >= 0
            m = ranking_metrics(mix_y[keep], s_mix[keep], ks=())
            top = np.lexsort((np.arange(len(mix)), -s_mix))[:size]  # the chosen set, over the whole mix
            tp = int((mix_y[top] == 1).sum())
            lab = wiki_y >= 0
            g = ranking_metrics(wiki_y[lab], s_wiki[lab], ks=(20,))
            rows.append({"scorer": name, "mix_auc": m["roc_auc"], "mix_p": tp / size, "mix_r": tp / len(planted),
                         "wiki_auc": g["roc_auc"], "wiki_p_npos": g["precision_at_npos"],
                         "wiki_p20": g["precision_at_20"], "wiki_ap": g["average_precision"],
                         "seconds": secs})
            print(f"done {name} ({secs:.0f}s)", file=sys.stderr)
    n_pos = int((wiki_y == 1).sum())
    head = (f"{'scorer':<27} | {'mix AUC':>7} {'P@' + str(size):>6} {'R@' + str(size):>6} | "
            f"{'wiki AUC':>8} {'P@' + str(n_pos):>6} {'P@20':>6} {'AP':>6} | {'sec':>5}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['scorer']:<27} | {r['mix_auc']:7.3f} {r['mix_p']:6.3f} {r['mix_r']:6.3f} | "
              f"{r['wiki_auc']:8.3f} {r['wiki_p_npos']:6.3f} {r['wiki_p20']:6.3f} {r['wiki_ap']:6.3f} | "
              f"{r['seconds']:5.0f}")
    if args.json:
        write_json(args.json, {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows})


if __name__ == "__main__":
    main()
