"""Selection quality of every domain scorer, on a planted mix and on hand-labelled general-corpus docs.

Two domains share one general corpus (the Wikipedia sample): math (seed = OpenStax math prose, labels =
examples/math/labels) and medical (seed = MedQuAD, labels = examples/medical/labels). Per domain and
scorer configuration, two measurements, printed as one table per domain:
1. planted mix: held-out seed docs planted into the Wikipedia sample; positives = planted,
   negatives = Wikipedia articles labelled out-of-domain (labelled in-domain articles are left out:
   they are neither). ROC-AUC, and precision/recall at the chosen size (keep_fraction x corpus).
2. general corpus: the Wikipedia sample alone, scored against the domain's hand labels (is the article
   about mathematics / medicine?). ROC-AUC, precision at k = #positives and at k = 20.
The planted docs share the seed's style, so (1) flatters scorers that learn style; (2) is what a
user of a real general corpus gets (issue 7). A last table puts the general-corpus ROC-AUC of both
domains side by side: the default recipe must hold on both (issue 11).

Every score is out-of-fold: the corpus is split in two halves, each scored by scorers trained (and
bootstrapped) on the other half, as a large corpus's docs are almost never in the training sample.

Run (both domains, about 10 minutes on 2 cores, most of it embedding ~4,800 docs once):
    HF_HUB_OFFLINE=1 python benchmarks/select_quality.py
One domain: --domain medical; the example configs' settings: --rounds 1 --max-tokens 128.
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

from trait.io import iter_docs, read_jsonl, write_json
from trait.select.bootstrap import train_selection
from trait.select.config import SelectConfig
from trait.select.precision import load_labels, ranking_metrics

WIKI = ROOT / "examples" / "math" / "data" / "wikipedia" / "wiki_sample.jsonl.gz"
# domain -> (seed docs, hand labels of the Wikipedia sample)
DOMAINS: dict[str, tuple[Path, Path]] = {
    "math": (ROOT / "examples" / "math" / "data" / "math_prose" / "openstax_math.jsonl.gz",
             ROOT / "examples" / "math" / "labels" / "wiki_math_labels.jsonl"),
    "medical": (ROOT / "examples" / "medical" / "data" / "medquad" / "medquad_docs.jsonl.gz",
                ROOT / "examples" / "medical" / "labels" / "wiki_medical_labels.jsonl"),
}

# name -> select settings (method/ensemble/bootstrap); embedding/bootstrap knobs come from the CLI.
# Every row states its bootstrap rounds and scorer (0 when absent), so rows do not follow the tool's
# defaults; the default recipe (select/config.py) is the "embedding +boot embedding" row.
CONFIGS: dict[str, dict[str, Any]] = {
    "random": {"method": "random"},
    "dsir": {"method": "dsir"},
    "fasttext (paper)": {"method": "fasttext"},
    "embedding logreg": {"method": "embedding"},
    "embedding centroid": {"method": "embedding", "embedding": {"head": "centroid"}},
    "fasttext +boot fasttext": {"method": "fasttext", "bootstrap": {"rounds": -1, "scorer": "fasttext"}},
    "fasttext +boot embedding": {"method": "fasttext", "bootstrap": {"rounds": -1, "scorer": "embedding"}},
    "embedding +boot embedding": {"method": "embedding", "bootstrap": {"rounds": -1, "scorer": "embedding"}},
    "dsir +boot embedding": {"method": "dsir", "bootstrap": {"rounds": -1, "scorer": "embedding"}},
    "ensemble ft+emb": {"ensemble": ["fasttext", "embedding"]},
    "ensemble ft+emb +boot": {"ensemble": ["fasttext", "embedding"], "bootstrap": {"rounds": -1, "scorer": None}},
}


def settings_for(spec: dict[str, Any], args: argparse.Namespace) -> SelectConfig:
    d: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("embedding", "bootstrap")}
    d["embedding"] = {"max_tokens": args.max_tokens, **spec.get("embedding", {})}
    boot = {"rounds": 0, **spec.get("bootstrap", {})}
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


def measure_domain(domain: str, wiki: list, args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Every configuration's planted-mix and general-corpus metrics for one domain; prints its table."""
    seed_path, labels_path = DOMAINS[domain]
    seed_docs = list(iter_docs([seed_path]))
    labels = load_labels(labels_path)
    if args.drop_borderline:
        borderline = {str(r["id"]) for r in read_jsonl(labels_path) if r.get("borderline")}
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
    print(f"[{domain}] seed {len(seed_texts)} docs of {seed_path.name}; planted mix {len(wiki)} wiki + "
          f"{len(planted)} planted (chosen size {size}); labelled wiki {int((wiki_y >= 0).sum())} docs, "
          f"{int((wiki_y == 1).sum())} in-domain{'' if not missing else f', {len(missing)} unlabelled'}",
          file=sys.stderr)

    rows = []
    for name in args.only or list(CONFIGS):
        settings = settings_for(CONFIGS[name], args)
        t0 = time.perf_counter()
        s_mix = out_of_fold(settings, seed_texts, mix, tmp / domain / name / "mix", args.seed)
        s_wiki = out_of_fold(settings, seed_texts, wiki_texts, tmp / domain / name / "wiki", args.seed)
        secs = time.perf_counter() - t0
        keep = mix_y >= 0
        m = ranking_metrics(mix_y[keep], s_mix[keep], ks=())
        top = np.lexsort((np.arange(len(mix)), -s_mix))[:size]  # the chosen set, over the whole mix
        tp = int((mix_y[top] == 1).sum())
        lab = wiki_y >= 0
        g = ranking_metrics(wiki_y[lab], s_wiki[lab], ks=(20,))
        rows.append({"domain": domain, "scorer": name, "mix_auc": m["roc_auc"], "mix_p": tp / size,
                     "mix_r": tp / len(planted), "wiki_auc": g["roc_auc"], "wiki_p_npos": g["precision_at_npos"],
                     "wiki_p20": g["precision_at_20"], "wiki_ap": g["average_precision"], "seconds": secs})
        print(f"done {domain} / {name} ({secs:.0f}s)", file=sys.stderr)
    n_pos = int((wiki_y == 1).sum())
    head = (f"{domain + ' scorer':<27} | {'mix AUC':>7} {'P@' + str(size):>6} {'R@' + str(size):>6} | "
            f"{'wiki AUC':>8} {'P@' + str(n_pos):>6} {'P@20':>6} {'AP':>6} | {'sec':>5}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['scorer']:<27} | {r['mix_auc']:7.3f} {r['mix_p']:6.3f} {r['mix_r']:6.3f} | "
              f"{r['wiki_auc']:8.3f} {r['wiki_p_npos']:6.3f} {r['wiki_p20']:6.3f} {r['wiki_ap']:6.3f} | "
              f"{r['seconds']:5.0f}")
    print()
    return rows


def print_across(rows: list[dict[str, Any]], domains: list[str]) -> None:
    """General-corpus ROC-AUC of each configuration in every domain, and its worst domain."""
    auc = {(r["domain"], r["scorer"]): r["wiki_auc"] for r in rows}
    names = list(dict.fromkeys(r["scorer"] for r in rows))
    head = f"{'wiki ROC-AUC':<27} | " + " ".join(f"{d:>8}" for d in domains) + f" | {'worst':>6}"
    print(head)
    print("-" * len(head))
    for n in sorted(names, key=lambda n: -min(auc[d, n] for d in domains)):
        print(f"{n:<27} | " + " ".join(f"{auc[d, n]:8.3f}" for d in domains)
              + f" | {min(auc[d, n] for d in domains):6.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--domain", nargs="*", choices=list(DOMAINS), default=list(DOMAINS),
                    help="domains to measure (default: all)")
    ap.add_argument("--wiki", type=Path, default=WIKI, help="the general corpus both domains select from")
    ap.add_argument("--plant", type=int, default=80, help="held-out seed docs planted into the corpus")
    ap.add_argument("--keep-fraction", type=float, default=0.05, help="chosen size = this x corpus")
    ap.add_argument("--max-tokens", type=int, default=256, help="embedding scorer truncation")
    ap.add_argument("--rounds", type=int, default=2, help="bootstrap rounds of the +boot rows")
    ap.add_argument("--top-fraction", type=float, default=0.03)
    ap.add_argument("--bottom-fraction", type=float, default=0.5)
    ap.add_argument("--drop-borderline", action="store_true", help="leave out borderline-labelled articles")
    ap.add_argument("--only", nargs="*", choices=list(CONFIGS), help="configuration names to run (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()

    wiki = list(iter_docs([args.wiki]))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for domain in args.domain:
            rows += measure_domain(domain, wiki, args, Path(tmp))
    if len(args.domain) > 1:
        print_across(rows, args.domain)
    if args.json:
        write_json(args.json, {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows})


if __name__ == "__main__":
    main()
