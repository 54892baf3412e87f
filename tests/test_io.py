import gzip

import pytest

from trait.errors import BadInputError
from trait.io import ReadStats, iter_docs, read_jsonl, write_jsonl
from trait.records import Doc


def test_roundtrip_jsonl_gz_and_parquet(tmp_path):
    docs = [Doc(id=str(i), text=f"doc {i}", scores={"domain": i / 10}) for i in range(5)]
    for name in ("a.jsonl", "a.jsonl.gz", "a.parquet"):
        assert write_jsonl(tmp_path / name, docs) == 5
        back = list(iter_docs([tmp_path / name]))
        assert [d.id for d in back] == [str(i) for i in range(5)]
        assert back[3].scores == {"domain": 0.3}
        assert back[0].source.endswith(name) and back[0].line == 1


def test_bad_lines_are_counted_with_location(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'{"id": 1, "text": "good one"}\n{not json}\n{"id": 3, "text": "caf\xe9"}\n'
                  b'{"id": 4}\n{"id": 5, "text": "   "}\n{"id": 6, "text": 7}\n[1, 2]\n{"id": 8, "text": "ok"}\n')
    stats = ReadStats()
    docs = list(iter_docs([p], stats=stats))
    assert [d.id for d in docs] == ["1", "8"]
    assert stats.read == 2
    assert stats.skipped == {"malformed JSON": 1, "not valid UTF-8": 1, "missing text field 'text'": 1,
                             "empty document": 1, "text field 'text' is int, not a string": 1,
                             "not a JSON object": 1}
    assert f"{p}:2: malformed JSON" in stats.examples[0]


def test_fail_mode_stops_at_first_bad_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'{"text": "a"}\n{"text": "b"\n')
    with pytest.raises(BadInputError, match=r"bad\.jsonl:2: malformed JSON"):
        list(iter_docs([p], on_error="fail"))


def test_truncated_gzip_is_an_error_not_a_short_read(tmp_path):
    p = tmp_path / "t.jsonl.gz"
    payload = b"".join(b'{"text": "line %d with some words"}\n' % i for i in range(2000))
    data = gzip.compress(payload)
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match="truncated or corrupt"):
        list(iter_docs([p]))


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(BadInputError, match="file not found"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    def boom():
        yield {"a": 1}
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        write_jsonl(tmp_path / "out.jsonl", boom())
    assert list(tmp_path.iterdir()) == []
