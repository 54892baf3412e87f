"""Exact and MinHash near-duplicate removal (datatrove's MinHash stages, one task per shard)."""

from __future__ import annotations

import gzip
import json

import pytest

from trait.io import iter_docs, write_jsonl
from trait.records import Doc
from trait.select.config import DedupConfig, ExecutorConfig
from trait.select.dedup import ExactDedup, dedup_stages, lsh_params, normalize_text, run_stages
from trait.select.score import ShardWriter


@pytest.fixture(scope="module")
def texts(example_data) -> list[str]:
    with gzip.open(example_data / "wikipedia" / "wiki_sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line, _ in zip(fh, range(30))]


def test_exact_dedup_ignores_case_and_whitespace_only():
    d = ExactDedup()
    assert not d.is_duplicate("The cat sat.\n")
    assert d.is_duplicate("  the   CAT sat. ")
    assert not d.is_duplicate("The cat sat!")
    assert normalize_text("A\tB\n\nC") == "a b c"


def test_lsh_params_fit_budget_and_track_threshold():
    b, r = lsh_params(0.8, 128)
    assert b * r <= 128
    lo, hi = lsh_params(0.5, 128), lsh_params(0.95, 128)
    # a higher similarity threshold needs more rows per band (a stricter band match)
    assert hi[1] > r > lo[1]


def _dedup(tmp_path, docs: list[Doc], shards: int, minhash: bool = True, num_perm: int = 128):
    """Run the stages on the local executor over ``docs`` split into ``shards`` Doc shards; return
    the ids kept (in order), the ids dropped, and the work folder."""
    inputs = []
    for i in range(shards):
        inputs.append(str(tmp_path / "in" / f"{i:05d}.jsonl.gz"))
        write_jsonl(inputs[-1], docs[i::shards])
    work, out = tmp_path / "work", tmp_path / "out"
    cfg = DedupConfig(minhash=minhash, num_perm=num_perm)
    run_stages(ExecutorConfig(workers=1), dedup_stages(inputs, work, cfg, 1, [ShardWriter(str(out))]),
               work / "logs", "test")
    kept = [d.id for d in iter_docs(sorted(map(str, out.glob("*.jsonl.gz"))), on_error="fail")]
    dropped = [d.id for d in iter_docs(sorted(map(str, (work / "near_duplicates").glob("*.jsonl.gz"))),
                                       on_error="fail")]
    return kept, dropped, work


def test_minhash_drops_near_duplicates_across_shards_with_one_task_per_shard(tmp_path, texts):
    docs = [Doc(id=f"d{i}", text=t) for i, t in enumerate(texts)]
    base = texts[3]
    words = base.split()
    edited = " ".join(words[:len(words) // 2] + ["inserted", "phrase"] + words[len(words) // 2:])
    docs.insert(10, Doc(id="near3", text=edited))
    docs.insert(20, Doc(id="near3b", text=base + " Trailing sentence added here."))
    kept, dropped, work = _dedup(tmp_path, docs, shards=3)
    assert len(dropped) == 2 and set(dropped) < {"d3", "near3", "near3b"}
    assert sorted(kept + dropped) == sorted(d.id for d in docs)  # every doc once
    # as many signature and filter tasks as shards; one bucket task per LSH band; one cluster task
    bands, _ = lsh_params(0.8, 128)
    done = {stage: len(list((work / "logs" / stage / "completions").iterdir()))
            for stage in ("signatures", "buckets", "clusters", "filter")}
    assert done == {"signatures": 3, "buckets": bands, "clusters": 1, "filter": 3}


def test_minhash_rerun_redoes_nothing_and_off_keeps_everything(tmp_path, texts):
    docs = [Doc(id=f"d{i}", text=t) for i, t in enumerate(texts[:6])]
    docs.append(Doc(id="copy", text=texts[2]))
    kept, dropped, _ = _dedup(tmp_path / "a", docs, shards=2, num_perm=64)
    assert len(dropped) == 1 and len(kept) == 6
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "a" / "out").iterdir()}
    again, _, _ = _dedup(tmp_path / "a", docs, shards=2, num_perm=64)
    assert again == kept and {p: p.stat().st_mtime_ns for p in (tmp_path / "a" / "out").iterdir()} == before
    kept, dropped, _ = _dedup(tmp_path / "b", docs, shards=2, minhash=False)
    assert dropped == [] and sorted(kept) == sorted(d.id for d in docs)
