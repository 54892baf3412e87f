"""Exact and MinHash near-duplicate removal (datatrove's MinHash stages run in-process)."""

from __future__ import annotations

import gzip
import json

import pytest

from trait.records import Doc
from trait.select.dedup import ExactDedup, lsh_params, minhash_dedup, normalize_text


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


def test_minhash_drops_near_duplicates_keeps_distinct(tmp_path, texts):
    docs = [Doc(id=f"d{i}", text=t) for i, t in enumerate(texts)]
    base = texts[3]
    words = base.split()
    edited = " ".join(words[:len(words) // 2] + ["inserted", "phrase"] + words[len(words) // 2:])
    docs.insert(10, Doc(id="near3", text=edited))
    docs.insert(20, Doc(id="near3b", text=base + " Trailing sentence added here."))
    out = list(minhash_dedup(lambda: iter(docs), tmp_path / "mh", threshold=0.8, num_perm=128, ngram=5))
    assert [d.id for d, _ in out] == [d.id for d in docs]  # every doc reported once, in order
    dropped = {d.id for d, dup in out if dup}
    assert len(dropped) == 2 and dropped < {"d3", "near3", "near3b"}
    assert not (tmp_path / "mh").exists()  # work files cleaned up


def test_minhash_with_nothing_to_remove_and_empty_input(tmp_path, texts):
    docs = [Doc(id=f"d{i}", text=t) for i, t in enumerate(texts[:5])]
    assert [dup for _, dup in minhash_dedup(lambda: iter(docs), tmp_path / "a", threshold=0.8,
                                            num_perm=64, ngram=5)] == [False] * 5
    assert list(minhash_dedup(lambda: iter([]), tmp_path / "b", threshold=0.8, num_perm=64, ngram=5)) == []
