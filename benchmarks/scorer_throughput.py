"""Throughput of each domain scorer of the recommended recipe, each against an anchor measured in the
same run, interleaved (median of ``--runs``): docs/s/core and projected core-hours per billion docs.

    python benchmarks/scorer_throughput.py [--runs 3] [--dsir-docs 800] [--embed-docs 64] [--pool 150]

* DSIR scoring (``DSIRScorer.score``, batches of 1,000 as the scoring pipeline calls it) against the
  reference ``data-selection`` package's hashed n-gram featurizer (``pip install data-selection``):
  its ``get_ngram_counts`` (WordPunct tokens, sha256 buckets) and ``np.dot`` with the log-ratio, one
  document at a time, as its ``HashedNgramDSIR`` computes importance weights. Same 10k buckets, same
  unigram+bigram features, same texts (``--dsir-docs`` Wikipedia articles, the sample tiled when more than 1,602).
* Embedding scoring on CPU (``EmbeddingScorer.score``, default settings, in-memory cache off so every
  run embeds) against a plain ``SentenceTransformer.encode`` loop over the same texts, same model
  and batch size, with the model's own truncation. ``--embed-docs`` distinct Wikipedia articles.
* One bootstrap round of the recommended recipe (the math example: ``method: dsir`` +
  ``bootstrap: {rounds: 1, scorer: embedding}``) on a pool of ``--pool`` Wikipedia articles: DSIR
  cross-fitted on the pool, pseudo-labels, the embedding scorer trained on them. Its anchor is the
  work the round cannot avoid done plainly: one ``SentenceTransformer.encode`` of as many docs as the
  round trains the embedding scorer on (the DSIR fits, which featurise the seed once per fold, are
  what the round adds on top; about a third of its time at the defaults). The round runs once per
  selection on a sample of ``bootstrap.sample_size`` docs (default 20,000), not on the corpus, so
  its cost is projected for that sample instead of per billion docs.

Torch runs on one thread and every figure comes from this process's CPU time, so docs/s is docs/s/core
and stays comparable when other work shares the machine (wall-clock ratios are printed too).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from select_throughput import DATA, interleaved  # benchmarks/ is no package: import by path

BILLION = 1e9


def texts_of(path: Path) -> list[str]:
    from trait.io import iter_docs

    return [d.text for d in iter_docs([path])]


def dsir_pair(seed: list[str], wiki: list[str], n_docs: int, out: Path) -> dict:
    import numpy as np
    from data_selection.hashed_ngram_dsir import get_ngram_counts

    from trait.select.baselines import DSIRScorer

    ours = DSIRScorer()
    ours.fit(seed, wiki[: len(seed)], out / "dsir", seed=0)
    texts, params = (wiki * (n_docs // len(wiki) + 1))[:n_docs], ours.params

    def ours_score() -> None:
        for i in range(0, len(texts), 1000):
            ours.score(texts[i:i + 1000])

    def reference() -> None:
        for t in texts:
            counts = get_ngram_counts(t[: params.max_chars], n=params.max_ngram, num_buckets=params.num_buckets)
            np.dot(ours.log_ratio, counts)

    return {"n": len(texts), "ours": ("DSIR (DSIRScorer.score)", ours_score),
            "anchor": ("data-selection get_ngram_counts + dot", reference)}


def embedding_pair(seed: list[str], wiki: list[str], n_docs: int, out: Path) -> dict:
    from trait.select.config import EmbeddingConfig
    from trait.select.embedding import EmbeddingScorer

    cfg = EmbeddingConfig(cache_size=0)  # no cache: every run embeds every text
    scorer = EmbeddingScorer(cfg)
    scorer.fit(seed[:40], wiki[-40:], out / "embedding", seed=0)  # a real head, off the timed texts
    texts, model = wiki[:n_docs], scorer.encoder.model

    def plain() -> None:
        model.encode(texts, batch_size=cfg.batch_size, show_progress_bar=False, convert_to_numpy=True)

    return {"n": len(texts), "ours": ("embedding CPU (EmbeddingScorer.score)", lambda: scorer.score(texts)),
            "anchor": ("plain SentenceTransformer.encode", plain)}


def bootstrap_pair(seed: list[str], wiki: list[str], pool_size: int, out: Path) -> dict:
    from trait.select.bootstrap import bootstrap
    from trait.select.config import SelectConfig
    from trait.select.embedding import get_encoder

    settings = SelectConfig(method="dsir", bootstrap={"rounds": 1, "scorer": "embedding"},
                            embedding={"cache_size": 0})
    b, pool = settings.bootstrap, wiki[:pool_size]
    # the docs the round trains the embedding scorer on: its top and (capped) bottom pseudo-labels
    n_embed = math.ceil(b.top_fraction * len(pool)) + min(math.floor(b.bottom_fraction * len(pool)),
                                                          b.max_negatives or len(pool))
    e = settings.embedding
    model = get_encoder(e.model, e.max_tokens, e.max_chars, e.batch_size, e.cache_size).model

    def plain() -> None:
        model.encode(pool[:n_embed], batch_size=e.batch_size, show_progress_bar=False, convert_to_numpy=True)

    return {"n": len(pool), "sample": b.sample_size,
            "ours": ("bootstrap round (DSIR -> embedding)",
                     lambda: bootstrap("dsir", settings, seed, pool, out / "bootstrap", seed=0)),
            "anchor": (f"plain encode of the {n_embed} docs it trains on", plain)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="Interleaved timed runs (the median counts).")
    # Defaults keep the run near 3 minutes of CPU; raise them on an idle machine for tighter figures.
    ap.add_argument("--dsir-docs", type=int, default=800, help="Articles DSIR scores (tiled past 1,602).")
    ap.add_argument("--embed-docs", type=int, default=64, help="Distinct articles embedded (at most 1,602).")
    ap.add_argument("--pool", type=int, default=150, help="Articles in the bootstrap pool (at most 1,602).")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="trait-scorers-"))
    import torch

    torch.set_num_threads(1)  # one core: CPU seconds = core seconds
    try:
        import data_selection  # noqa: F401
    except ImportError:
        sys.exit("scorer_throughput: the DSIR anchor needs the reference package: pip install data-selection")
    seed = texts_of(DATA / "math_prose" / "openstax_math.jsonl.gz")
    wiki = texts_of(DATA / "wikipedia" / "wiki_sample.jsonl.gz")
    pairs = [dsir_pair(seed, wiki, args.dsir_docs, out), embedding_pair(seed, wiki, args.embed_docs, out),
             bootstrap_pair(seed, wiki, args.pool, out)]
    variants = {p[side][0]: p[side][1] for p in pairs for side in ("ours", "anchor")}
    results, load = interleaved(variants, args.runs)
    print(f"\nmedian of {args.runs} interleaved runs, torch on 1 thread; "
          f"1-min load average {min(load):.2f}..{max(load):.2f}")
    print(f"{'scorer':48s} {'docs':>6s} {'cpu s':>8s} {'docs/s/core':>12s} {'core-h / 1B docs':>17s} "
          f"{'vs anchor':>10s}")
    for p in pairs:
        (name, _), (anchor, _) = p["ours"], p["anchor"]
        for k in (name, anchor):
            cpu = results[k][1]
            rate = p["n"] / cpu
            ratio = f"{results[anchor][1] / cpu:.2f}x" if k == name else ""
            per = p.get("sample", BILLION)  # the bootstrap round: per run on its sample
            hours = f"{per / rate / 3600:17,.2f}" + (" *" if "sample" in p else "")
            print(f"{k:48s} {p['n']:6d} {cpu:8.2f} {rate:12.1f} {hours} {ratio:>10s}")
        print(f"{'':48s} wall-clock ratio {results[anchor][0] / results[name][0]:.2f}x")
    print("* bootstrap round: docs/s/core counts pool docs; its core-hours are for one round on the default "
          "bootstrap.sample_size (20,000 docs), projected linearly, paid once per selection, not per "
          "corpus document.")


if __name__ == "__main__":
    main()
