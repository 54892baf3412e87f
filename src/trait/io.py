"""Reading and writing records as jsonl, jsonl.gz and parquet through fsspec.

Bad input never disappears silently: with ``on_error="fail"`` the first bad record raises one
``BadInputError`` naming ``file:line``; with ``"skip"`` it is counted in ``ReadStats`` by reason,
with the first few locations kept for the run summary.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import fsspec
import orjson

from trait.errors import BadInputError
from trait.records import Doc

try:  # ISA-L's gzip: the same file format, ~3-10x faster to write than zlib (fsspec reads with it too)
    from isal import igzip as _gz
except ImportError:  # a platform without isal wheels: the standard library
    _gz = gzip  # type: ignore[assignment]

OnError = Literal["fail", "skip"]
MAX_EXAMPLES = 20


@dataclass
class ReadStats:
    """What a reader saw: records yielded and records skipped, by reason."""

    read: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def skip(self, reason: str, where: str, on_error: OnError) -> None:
        msg = f"{where}: {reason}"
        if on_error == "fail":
            raise BadInputError(msg)
        self.skipped[reason.split(" (")[0]] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(msg)

    def merge(self, other: ReadStats) -> None:
        self.read += other.read
        self.skipped.update(other.skipped)
        self.examples.extend(other.examples[: MAX_EXAMPLES - len(self.examples)])

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "skipped": dict(self.skipped), "skip_examples": self.examples}


def _is_parquet(path: str) -> bool:
    return str(path).endswith(".parquet")


def iter_rows(path: str | os.PathLike, *, on_error: OnError = "fail",
              stats: ReadStats | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_or_row_number, object)`` from a jsonl[.gz|.bz2|.zst] or parquet file (1-based)."""
    path = str(path)
    stats = stats if stats is not None else ReadStats()
    if _is_parquet(path):
        yield from _iter_parquet(path, stats)
        return
    try:  # fsspec decompresses .gz through ISA-L when isal is installed (a dependency), else zlib
        fh = fsspec.open(path, "rb", compression="infer").open()
    except FileNotFoundError:
        raise BadInputError(f"{path}: file not found") from None
    lineno = 0
    with fh:
        try:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    stats.skip(f"not valid UTF-8 (byte {e.start})", f"{path}:{lineno}", on_error)
                    continue
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    stats.skip(f"malformed JSON ({e.msg})", f"{path}:{lineno}", on_error)
                    continue
                if not isinstance(obj, dict):
                    stats.skip("not a JSON object", f"{path}:{lineno}", on_error)
                    continue
                stats.read += 1
                yield lineno, obj
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
            # A truncated stream cannot be resumed past: always an error, never a quiet short read.
            raise BadInputError(f"{path}:{lineno + 1}: compressed stream is truncated or corrupt ({e})") from None


def _iter_parquet(path: str, stats: ReadStats) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        with fsspec.open(path, "rb") as fh:
            pf = pq.ParquetFile(fh)
            row = 0
            for batch in pf.iter_batches(batch_size=4096):
                for obj in batch.to_pylist():
                    row += 1
                    stats.read += 1
                    yield row, obj
    except FileNotFoundError:
        raise BadInputError(f"{path}: file not found") from None


def iter_docs(paths: Iterable[str | os.PathLike], *, text_key: str = "text", id_key: str | None = "id",
              on_error: OnError = "skip", stats: ReadStats | None = None,
              min_chars: int = 1) -> Iterator[Doc]:
    """Documents from one or more files; empty or textless records are counted skips (or errors)."""
    stats = stats if stats is not None else ReadStats()
    for path in paths:
        path = str(path)
        name = Path(path).name
        for lineno, obj in iter_rows(path, on_error=on_error, stats=stats):
            where = f"{path}:{lineno}"
            text = obj.get(text_key)
            if text is None:
                stats.read -= 1
                stats.skip(f"missing text field '{text_key}'", where, on_error)
                continue
            if not isinstance(text, str):
                stats.read -= 1
                stats.skip(f"text field '{text_key}' is {type(text).__name__}, not a string", where, on_error)
                continue
            if len(text.strip()) < min_chars:
                stats.read -= 1
                stats.skip("empty document", where, "skip")  # empty docs are never fatal, only counted
                continue
            if _is_doc_record(obj):
                # The project's own Doc files (scores, selections) keep their original provenance.
                doc = Doc.from_dict(obj)
                doc.source, doc.line = doc.source or path, doc.line or lineno
                yield doc
                continue
            doc_id = obj.get(id_key) if id_key else None
            doc_id = str(doc_id) if doc_id is not None else f"{name}:{lineno}"
            meta = {k: v for k, v in obj.items() if k not in (text_key, id_key, "scores")}
            yield Doc(id=doc_id, text=text, source=path, line=lineno, meta=meta,
                      scores=dict(obj.get("scores") or {}))


def _is_doc_record(obj: dict[str, Any]) -> bool:
    return "scores" in obj and "source" in obj and "line" in obj and "id" in obj


def gzip_writer(fileobj: IO[bytes], level: int) -> IO[bytes]:
    """A gzip stream over ``fileobj`` (left open on close). ``level`` 1-9 as zlib's; ISA-L's 1-3 are
    its fast levels, so 1 stays 1 and anything above 3 becomes 3 (~8% larger than zlib's 6)."""
    if _gz is not gzip:
        level = min(level, 3)
    return _gz.GzipFile(fileobj=fileobj, mode="wb", mtime=0, compresslevel=level)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Write to ``path.tmp-<pid>`` then rename, so a crash never leaves a half file under the real name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    raw = open(tmp, "wb")  # noqa: SIM115 - closed below on both paths; the rename must follow the close
    try:
        fh: IO = gzip_writer(raw, 6) if path.suffix == ".gz" else raw
        if "b" not in mode:
            import io as _io

            fh = _io.TextIOWrapper(fh, encoding="utf-8")
        yield fh
        fh.close()
        raw.close()
        os.replace(tmp, path)
    except BaseException:
        raw.close()
        tmp.unlink(missing_ok=True)
        raise


def dumps(obj: Any) -> bytes:
    """One jsonl line (orjson handles dataclasses and numpy scalars)."""
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


def write_jsonl(path: str | os.PathLike, records: Iterable[Any]) -> int:
    """Atomically write records (dicts or objects with ``to_dict``) as jsonl or jsonl.gz; returns the count."""
    if _is_parquet(str(path)):
        return write_parquet(path, records)
    n = 0
    with atomic_open(path, "wb") as fh:
        for r in records:
            fh.write(dumps(r.to_dict() if hasattr(r, "to_dict") else r))
            n += 1
    return n


def write_parquet(path: str | os.PathLike, records: Iterable[Any]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Parquet cannot store an empty struct: empty dicts become nulls (read back as empty dicts).
    rows = [{k: (None if v == {} else v) for k, v in (r.to_dict() if hasattr(r, "to_dict") else r).items()}
            for r in records]
    with atomic_open(path, "wb") as fh:
        pq.write_table(pa.Table.from_pylist(rows), fh)
    return len(rows)


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All objects of a file the project wrote itself (errors are fatal: our own files must be clean)."""
    return [obj for _, obj in iter_rows(path, on_error="fail")]


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
                              | orjson.OPT_NON_STR_KEYS))


def read_json(path: str | os.PathLike) -> Any:
    return orjson.loads(Path(path).read_bytes())
