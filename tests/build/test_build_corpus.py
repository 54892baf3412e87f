"""build_corpus with the tiny byte-level tokenizer (1 token per byte + 1 separator per doc)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_from_disk

from trait.build.corpus import CorpusSource, build_corpus
from trait.errors import TraitError
from trait.io import write_jsonl
from trait.records import Doc

SEQ = 16


def fixed(tag: str, n: int = SEQ - 1) -> str:
    """A text of exactly ``n`` bytes, so with its separator one doc fills one block."""
    return (tag + "." * n)[:n]


def blocks(summary: dict) -> list[list[int]]:
    return [list(map(int, b)) for b in load_from_disk(summary["dataset"])["input_ids"]]


def decoded(tiny_model: Path, summary: dict) -> list[str]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    return [tok.decode(b[:-1]) for b in blocks(summary)]


def test_packs_every_token_into_full_blocks(tiny_model, tmp_path):
    texts = [fixed(f"doc{i}") for i in range(12)]
    s = build_corpus([CorpusSource("a", texts=texts)], tiny_model, SEQ, 0, tmp_path / "c")
    assert s["blocks"] == 12 and s["tokens"] == 12 * SEQ and s["dropped_tokens"] == 0
    assert all(len(b) == SEQ and b[-1] == s["separator_id"] for b in blocks(s))
    assert sorted(decoded(tiny_model, s)) == sorted(texts)


def test_budgets_are_met_exactly_and_reported(tiny_model, tmp_path):
    a = [fixed(f"a{i}", 20) for i in range(30)]  # 630 tokens
    g = [fixed(f"g{i}", 40) for i in range(30)]  # 1230 tokens
    s = build_corpus([CorpusSource("a", texts=a), CorpusSource("g", texts=g, fraction=0.25)],
                     tiny_model, SEQ, 0, tmp_path / "c", total_tokens=400)
    src = s["sources"]
    assert s["tokens_selected"] == 400
    assert src["g"]["tokens"] == 100 and src["a"]["tokens"] == 300
    assert src["a"]["tokens_available"] == 630 and src["a"]["short_by"] == 0
    assert s["blocks"] == 400 // SEQ and s["dropped_tokens"] == 400 - s["blocks"] * SEQ


def test_same_seed_same_corpus_other_seed_other_order(tiny_model, tmp_path):
    srcs = [CorpusSource("a", texts=[fixed(f"a{i}") for i in range(20)]),
            CorpusSource("b", texts=[fixed(f"b{i}") for i in range(20)], tokens=10 * SEQ)]
    one = build_corpus(srcs, tiny_model, SEQ, 7, tmp_path / "x", total_tokens=25 * SEQ)
    two = build_corpus(srcs, tiny_model, SEQ, 7, tmp_path / "y", total_tokens=25 * SEQ)
    other = build_corpus(srcs, tiny_model, SEQ, 8, tmp_path / "z", total_tokens=25 * SEQ)
    assert blocks(one) == blocks(two)
    assert blocks(one) != blocks(other)
    assert other["sources"]["b"]["tokens"] == one["sources"]["b"]["tokens"] == 10 * SEQ


def test_short_source_is_repeated_up_to_max_epochs_then_reported(tiny_model, tmp_path):
    texts = [fixed(f"s{i}") for i in range(4)]  # 64 tokens
    s = build_corpus([CorpusSource("s", texts=texts, tokens=160, max_epochs=2)], tiny_model, SEQ, 0,
                     tmp_path / "c")
    r = s["sources"]["s"]
    assert r["tokens"] == 128 and r["short_by"] == 32 and r["epochs"] == 2.0
    assert any("short by 32" in w for w in s["warnings"])
    assert sorted(decoded(tiny_model, s)) == sorted(texts * 2)


def test_replay_excludes_selected_docs_and_counts_bad_records(tiny_model, tmp_path):
    general = tmp_path / "general.jsonl"
    rows = [{"id": f"w{i}", "text": fixed(f"wiki{i}")} for i in range(10)]
    write_jsonl(general, rows)
    with open(general, "ab") as fh:
        fh.write(b'{"id": "broken", "text": \n')  # malformed line: skipped and counted
    chosen = [Doc(id=r["id"], text=r["text"], source=str(general), line=i + 1, scores={"domain": 0.9})
              for i, r in enumerate(rows) if i in (1, 4, 7)]
    write_jsonl(tmp_path / "selected.jsonl.gz", chosen)
    s = build_corpus([CorpusSource("replay", paths=[general], exclude=[tmp_path / "selected.jsonl.gz"])],
                     tiny_model, SEQ, 0, tmp_path / "c")
    r = s["sources"]["replay"]
    assert r["excluded"] == 3 and r["docs_available"] == 7
    assert r["skipped"] == {"malformed JSON": 1}
    assert not {d.text for d in chosen} & set(decoded(tiny_model, s))


def test_unchanged_call_reuses_saved_corpus(tiny_model, tmp_path):
    src = [CorpusSource("a", texts=[fixed(f"a{i}") for i in range(6)])]
    first = build_corpus(src, tiny_model, SEQ, 0, tmp_path / "c")
    stamp = (tmp_path / "c" / "corpus.json").stat().st_mtime_ns
    assert build_corpus(src, tiny_model, SEQ, 0, tmp_path / "c") == first
    assert (tmp_path / "c" / "corpus.json").stat().st_mtime_ns == stamp
    changed = build_corpus(src, tiny_model, SEQ, 1, tmp_path / "c")
    assert changed["key"] != first["key"]


def test_bad_inputs_are_one_clear_error(tiny_model, tmp_path):
    with pytest.raises(TraitError, match="separator_token"):
        build_corpus([CorpusSource("a", texts=["x" * 40])], tiny_model, SEQ, 0, tmp_path / "c",
                     separator_token="<|nope|>")
    with pytest.raises(TraitError, match="one block"):
        build_corpus([CorpusSource("a", texts=["tiny"])], tiny_model, SEQ, 0, tmp_path / "d")
    with pytest.raises(TraitError, match="either paths or texts"):
        CorpusSource("a")
    with pytest.raises(TraitError, match="file not found"):
        build_corpus([CorpusSource("a", paths=[tmp_path / "missing.jsonl"])], tiny_model, SEQ, 0,
                     tmp_path / "e")


def test_separator_that_is_also_the_unknown_token(tiny_model, tmp_path):
    """SmolLM2's <|endoftext|> is both its end-of-text and its unknown token: still a valid separator."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.unk_token = "<|endoftext|>"
    tok.eos_token = "<|im_end|>"
    tok.save_pretrained(tmp_path / "tok")
    s = build_corpus([CorpusSource("a", texts=[fixed("x")] * 2)], tmp_path / "tok", SEQ, 0, tmp_path / "c",
                     separator_token="<|endoftext|>")
    assert s["separator_id"] == 0 and all(b[-1] == 0 for b in blocks(s))


def test_a_changed_test_split_refilters_the_cached_tokens(tiny_model, tmp_path):
    """The token cache is keyed by the test files too: a new test item drops the doc that holds it."""
    from trait.contamination import Decontamination, DecontaminationConfig
    from trait.tasks import TaskSpec

    test = tmp_path / "test.jsonl"
    test.write_text('{"question": "What is the capital of the small country in the story?", "answer": "x"}\n')
    d = Decontamination(DecontaminationConfig(), (TaskSpec(name="held", test=str(test)),))
    leak = "Notes: a train packs 40 crates of 12 oranges and unloads 3 crates at every one of its stations."
    src = CorpusSource("seed", texts=[fixed("clean"), leak], decontaminate=d)
    cache = tmp_path / "cache"
    first = build_corpus([src], tiny_model, SEQ, 0, tmp_path / "a", cache_dir=cache)["sources"]["seed"]
    assert first["docs_available"] == 2 and first["decontamination"]["dropped"] == 0
    with open(test, "a") as fh:
        question = leak.removeprefix("Notes: ") + " How many are left?"
        fh.write(json.dumps({"question": question, "answer": "x"}) + "\n")
    again = build_corpus([src], tiny_model, SEQ, 0, tmp_path / "b", cache_dir=cache)["sources"]["seed"]
    assert again["docs_available"] == 1 and again["decontamination"]["by_test_task"] == {"held": 1}
    assert again["decontamination"]["examples"][0]["where"] == "text 1"
