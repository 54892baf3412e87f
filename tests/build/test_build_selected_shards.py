"""The choose step's output is a folder of shards: build streams every shard, and replay leaves out
each selected document by its origin (file, line), even when its text no longer matches."""

from __future__ import annotations

from test_build_corpus import SEQ, fixed

from trait.build.corpus import CorpusSource, build_corpus
from trait.io import write_jsonl
from trait.records import Doc


def test_selected_shards_are_streamed_and_excluded_from_replay_by_origin(tiny_model, tmp_path):
    general = tmp_path / "general.jsonl"
    rows = [{"id": f"w{i}", "text": fixed(f"wiki{i}")} for i in range(10)]
    write_jsonl(general, rows)
    # the selected docs' texts differ from the corpus's (e.g. normalised): only their origin matches
    chosen = [Doc(id=r["id"], text=fixed(f"kept{i}"), source=str(general), line=i + 1)
              for i, r in enumerate(rows) if i in (1, 4, 7)]
    selected = tmp_path / "choose" / "selected"
    write_jsonl(selected / "00000.jsonl.gz", chosen[:2])
    write_jsonl(selected / "00001.jsonl.gz", chosen[2:])
    s = build_corpus([CorpusSource("selected", paths=[selected]),
                      CorpusSource("replay", paths=[general], exclude=[selected])], tiny_model, SEQ, 0,
                     tmp_path / "c")
    assert s["sources"]["selected"]["docs_available"] == 3  # both shards read
    assert s["sources"]["replay"]["excluded"] == 3 and s["sources"]["replay"]["docs_available"] == 7
