"""Corpora as users have them (issue 13): every compression fsspec infers, globs and folders (local
and fsspec URLs), per-corpus fields, parquet column projection, and errors that say what is wrong."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from trait.config import config_from_dict
from trait.corpus import CorpusEntry, expand_paths, fingerprint, path_identity
from trait.errors import BadInputError, ConfigError
from trait.io import ReadStats, iter_docs, iter_rows
from trait.tasks import TaskSpec, load_problems

ROWS = [{"id": f"d{i}", "text": f"document {i}: " + "words " * (i % 7 + 1), "url": f"u{i}"} for i in range(3000)]
PAYLOAD = b"".join(json.dumps(r).encode() + b"\n" for r in ROWS)
COMPRESS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _ids(paths, **kw) -> list[str]:
    return [d.id for d in iter_docs(paths, **kw)]


@pytest.mark.parametrize("ext", COMPRESS)
def test_each_compression_reads_line_by_line(tmp_path, ext):
    p = tmp_path / f"c.jsonl.{ext}"
    p.write_bytes(COMPRESS[ext](PAYLOAD))
    assert _ids([p]) == [r["id"] for r in ROWS]


@pytest.mark.parametrize("ext", COMPRESS)
def test_each_truncated_compression_is_an_error_not_a_short_read(tmp_path, ext):
    data = COMPRESS[ext](PAYLOAD)
    p = tmp_path / f"t.jsonl.{ext}"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match=rf"t\.jsonl\.{ext}:\d+: compressed stream is truncated or corrupt"):
        list(iter_docs([p]))


@pytest.mark.parametrize("ext", COMPRESS)
def test_each_corrupt_compression_is_an_error(tmp_path, ext):
    data = bytearray(COMPRESS[ext](PAYLOAD))
    mid = len(data) // 2
    data[mid:mid + 64] = bytes(64)  # zeroed bytes inside the stream
    p = tmp_path / f"x.jsonl.{ext}"
    p.write_bytes(bytes(data))
    # (gzip may first yield garbled lines, counted as bad JSON: its CRC is checked at the end)
    with pytest.raises(BadInputError, match="compressed stream is truncated or corrupt"):
        list(iter_docs([p]))


def test_bad_json_inside_a_zst_file_is_bad_json_not_corruption(tmp_path):
    p = tmp_path / "bad.jsonl.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(b'{"text": "a"}\n{"text": \n{"text": "c"}\n'))
    with pytest.raises(BadInputError, match=r"bad\.jsonl\.zst:2: malformed JSON"):
        list(iter_docs([p], on_error="fail"))
    stats = ReadStats()
    assert len(list(iter_docs([p], stats=stats))) == 2 and stats.skipped == {"malformed JSON": 1}


def test_zst_of_several_frames_and_a_streamed_frame(tmp_path):
    """zstd files are often concatenated frames (pzstd, sharded writers), or streamed without a size."""
    half = len(PAYLOAD) // 2
    cut = PAYLOAD.index(b"\n", half) + 1
    z = zstandard.ZstdCompressor()
    (tmp_path / "frames.jsonl.zst").write_bytes(z.compress(PAYLOAD[:cut]) + z.compress(PAYLOAD[cut:]))
    with open(tmp_path / "stream.jsonl.zst", "wb") as fh, z.stream_writer(fh) as w:
        w.write(PAYLOAD)
    for name in ("frames.jsonl.zst", "stream.jsonl.zst"):
        assert _ids([tmp_path / name]) == [r["id"] for r in ROWS]


def _shards(folder, names, rows=ROWS[:10]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per = len(rows) // len(names)
    for i, name in enumerate(names):
        part = rows[i * per:(i + 1) * per] if i < len(names) - 1 else rows[i * per:]
        (folder / name).write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in part))


def test_globs_and_folders_expand_sorted(tmp_path):
    _shards(tmp_path / "cc", ["b.jsonl", "a.jsonl", "c.jsonl"])
    (tmp_path / "cc" / "README.md").write_text("not data")
    (tmp_path / "cc" / ".hidden.jsonl").write_text("{}")
    (tmp_path / "cc" / "_SUCCESS.jsonl").write_text("")
    want = [str(tmp_path / "cc" / n) for n in ("a.jsonl", "b.jsonl", "c.jsonl")]
    assert expand_paths(f"{tmp_path}/cc/[abc].jsonl") == want
    assert expand_paths(tmp_path / "cc") == want  # a folder: its data files, hidden and marker files left out
    assert expand_paths(f"{tmp_path}/cc/") == want
    ids = _ids([tmp_path / "cc"])
    assert sorted(ids) == [r["id"] for r in ROWS[:10]] and len(ids) == 10


def test_a_pattern_that_matches_nothing_is_one_error(tmp_path):
    with pytest.raises(BadInputError, match=r"p-\*\.parquet: no file matches this pattern"):
        list(iter_docs([tmp_path / "p-*.parquet"]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="empty: folder has no data files"):
        list(iter_docs([tmp_path / "empty"]))
    # and a fingerprint (computed before any reading) records it rather than failing
    assert fingerprint([str(tmp_path / "p-*.parquet")]) == [{"path": str(tmp_path / "p-*.parquet"), "missing": True}]


def test_a_file_whose_name_looks_like_a_pattern_is_read_as_itself(tmp_path):
    _shards(tmp_path, ["a[1].jsonl"])
    assert len(_ids([tmp_path / "a[1].jsonl"])) == 10


@pytest.fixture
def memory_fs():
    fs = fsspec.filesystem("memory")
    yield fs
    fs.rm("/trait-test", recursive=True)


def test_fsspec_urls_glob_and_keep_their_protocol(memory_fs):
    fs = memory_fs
    for i in (1, 0):
        fs.pipe(f"/trait-test/cc/part-{i}.jsonl.gz", gzip.compress(b"".join(
            json.dumps(r).encode() + b"\n" for r in ROWS[i * 5:(i + 1) * 5])))
    files = expand_paths("memory://trait-test/cc/*.jsonl.gz")
    assert files == ["memory:///trait-test/cc/part-0.jsonl.gz", "memory:///trait-test/cc/part-1.jsonl.gz"]
    assert expand_paths("memory://trait-test/cc/") == files
    docs = list(iter_docs(["memory://trait-test/cc/*.jsonl.gz"]))
    assert [d.id for d in docs] == [r["id"] for r in ROWS[:10]] and docs[0].source == files[0]
    fp = fingerprint(["memory://trait-test/cc/*.jsonl.gz"])
    assert [f["path"] for f in fp] == files and all(f["size"] > 0 for f in fp)


def test_fingerprint_lists_each_file_with_its_size_and_an_entrys_fields(tmp_path):
    _shards(tmp_path / "cc", ["a.jsonl", "b.jsonl"])
    fp = fingerprint([f"{tmp_path}/cc/*.jsonl"])
    assert [f["path"] for f in fp] == [str(tmp_path / "cc" / "a.jsonl"), str(tmp_path / "cc" / "b.jsonl")]
    assert all(f["size"] > 0 and f["mtime_ns"] for f in fp)
    # a plain path (the shorthand) keeps the fingerprint it always had
    assert fingerprint([str(tmp_path / "cc" / "a.jsonl")]) == fp[:1]
    assert path_identity(str(tmp_path / "cc" / "a.jsonl")) == fp[0] and path_identity(f"{tmp_path}/cc/") == fp
    entry = CorpusEntry(path=f"{tmp_path}/cc/*.jsonl", text_key="content")
    assert [f["text_key"] for f in fingerprint([entry])] == ["content", "content"]


def test_an_entrys_own_fields_override_the_defaults(tmp_path):
    rows = [{"content": f"text {i}", "url": f"https://x/{i}"} for i in range(4)]
    (tmp_path / "cc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _shards(tmp_path, ["seed.jsonl"])
    entry = CorpusEntry(path=str(tmp_path / "cc.jsonl"), text_key="content", id_key="url")
    docs = list(iter_docs([tmp_path / "seed.jsonl", entry], text_key="text", id_key="id"))
    assert [d.id for d in docs] == [r["id"] for r in ROWS[:10]] + [r["url"] for r in rows]
    assert docs[-1].text == "text 3"


def test_parquet_reads_only_the_columns_it_needs(tmp_path):
    rows = [{"text": f"t{i}", "id": f"p{i}", "url": f"u{i}", "blob": "x" * 100} for i in range(10)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "p.parquet")
    rows_read = [obj for _, obj in iter_rows(tmp_path / "p.parquet", columns={"text", "id"})]
    assert rows_read == [{"text": r["text"], "id": r["id"]} for r in rows]
    docs = list(iter_docs([tmp_path / "p.parquet"]))
    assert [d.id for d in docs] == [r["id"] for r in rows] and docs[0].meta == {}


def test_text_files_are_one_document_each(tmp_path):
    (tmp_path / "notes").mkdir()
    for i in range(3):
        (tmp_path / "notes" / f"n{i}.txt").write_text(f"Note {i}.\n\nSecond paragraph.\n")
    docs = list(iter_docs([tmp_path / "notes"], text_key="content"))  # data.text_key does not apply
    assert [d.id for d in docs] == ["n0.txt:1", "n1.txt:1", "n2.txt:1"]
    assert docs[1].text == "Note 1.\n\nSecond paragraph.\n"
    md = CorpusEntry(path=str(tmp_path / "notes" / "*.txt"), format="text")
    assert len(list(iter_docs([md]))) == 3


def test_no_usable_document_says_why(tmp_path):
    _shards(tmp_path, ["seed.jsonl"])
    stats = ReadStats()
    assert not list(iter_docs([tmp_path / "seed.jsonl"], text_key="content", stats=stats))
    assert stats.why_unusable("data.seed_corpus") == (
        "0 of 10 records have the field 'content' (data.text_key); the first record has: id, text, url")
    entry = CorpusEntry(path=str(tmp_path / "seed.jsonl"), text_key="body")
    stats = ReadStats()
    list(iter_docs([entry], stats=stats))
    assert f"(text_key of {tmp_path / 'seed.jsonl'})" in stats.why_unusable("data.seed_corpus")
    pq.write_table(pa.Table.from_pylist(ROWS[:5]), tmp_path / "p.parquet")
    stats = ReadStats()
    list(iter_docs([tmp_path / "p.parquet"], text_key="content", stats=stats))
    assert stats.why_unusable("data.general_corpus").endswith("the first record has: id, text, url")
    (tmp_path / "body.jsonl").write_text('{"body": "b", "title": "t"}\n')
    stats = ReadStats()
    assert len(list(iter_docs([tmp_path / "seed.jsonl", tmp_path / "body.jsonl"], stats=stats))) == 10
    assert stats.why_unusable("data.seed_corpus") == (
        "10 of 11 records have the field 'text' (data.text_key); the first record without it has: body, title")
    (tmp_path / "empty.jsonl").write_text("")
    stats = ReadStats()
    list(iter_docs([tmp_path / "empty.jsonl"], stats=stats))
    assert stats.why_unusable("data.seed_corpus") == "no records in 1 file(s)"


def test_read_stats_list_the_files_read_with_sizes(tmp_path):
    _shards(tmp_path / "cc", ["a.jsonl", "b.jsonl"])
    stats = ReadStats()
    list(iter_docs([tmp_path / "cc"], stats=stats))
    assert stats.to_dict()["files"] == [
        {"path": str(p), "size": p.stat().st_size} for p in sorted((tmp_path / "cc").iterdir())]


def test_config_takes_paths_and_entries(tmp_path):
    cfg = config_from_dict({"data": {"seed_corpus": ["seed.jsonl.gz"], "general_corpus": [
        "cc/*.parquet", {"path": "dolma/", "text_key": "content", "id_key": "url"}]}}, base_dir=tmp_path)
    assert cfg.data.seed_corpus == [str(tmp_path / "seed.jsonl.gz")]  # the shorthand stays a plain path
    entry = cfg.data.general_corpus[1]
    assert isinstance(entry, CorpusEntry) and entry.path == str(tmp_path / "dolma")
    assert (entry.text_key, entry.id_key, entry.format) == ("content", "url", None)
    with pytest.raises(ConfigError, match=r"data\.general_corpus\.0\.entry\.txt_key: unknown key"):
        config_from_dict({"data": {"seed_corpus": ["s"], "general_corpus": [{"path": "x", "txt_key": "t"}]}})


def test_a_glob_of_task_files_reads_as_one_file(tmp_path):
    for name, lo in (("b.jsonl", 3), ("a.jsonl", 0)):
        (tmp_path / name).write_text("".join(json.dumps({"question": f"q{i}", "answer": i}) + "\n"
                                             for i in range(lo, lo + 3)))
    spec = TaskSpec(name="t", train=f"{tmp_path}/*.jsonl")
    problems = load_problems(spec, "train")
    assert [p.input for p in problems] == [f"q{i}" for i in range(6)]
    assert len({p.id for p in problems}) == 6 and problems[3].source.endswith("b.jsonl")
    assert load_problems(TaskSpec(name="t", train=str(tmp_path / "a.jsonl")), "train")[0].id == problems[0].id
