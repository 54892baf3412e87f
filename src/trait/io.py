"""Reading and writing records as jsonl (plain, .gz, .bz2, .xz, .zst), parquet and text through fsspec.

Bad input never disappears silently: with ``on_error="fail"`` the first bad record raises one
``BadInputError`` naming ``file:line``; with ``"skip"`` it is counted in ``ReadStats`` by reason,
with the first few locations kept for the run summary. A corpus none of whose records is usable is
explained by ``ReadStats.why_unusable`` (how many records, which field was missing, which it has).
"""

from __future__ import annotations

import gzip
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from trait.corpus import (
    CorpusFile,
    CorpusItem,
    expand_paths,
    fingerprint,  # noqa: F401 - re-exported
    iter_lines,
    open_binary,
    resolve,
)
from trait.errors import BadInputError
from trait.records import Doc

try:  # ISA-L's gzip: the same file format, ~3-10x faster to write than zlib (fsspec reads with it too)
    from isal import igzip as _gz
except ImportError:  # a platform without isal wheels: the standard library
    _gz = gzip  # type: ignore[assignment]

OnError = Literal["fail", "skip"]
MAX_EXAMPLES = 20
DOC_COLUMNS = ("id", "source", "line", "meta", "scores")  # the project's own Doc files keep them all


@dataclass
class ReadStats:
    """What a reader saw: records yielded and records skipped, by reason; the files read, with sizes."""

    read: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0  # JSON objects / rows seen, usable or not
    missing: Counter = field(default_factory=Counter)  # (text key, the entry that set it or None) -> records
    missing_example: list[str] | None = None  # the fields of the first record without its text key
    _fields: Iterable[str] = field(default=(), repr=False)  # of the record just read (parquet: all columns)

    def skip(self, reason: str, where: str, on_error: OnError) -> None:
        msg = f"{where}: {reason}"
        if on_error == "fail":
            raise BadInputError(msg)
        self.skipped[reason.split(" (")[0]] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(msg)

    def merge(self, other: ReadStats) -> None:
        self.read += other.read
        self.records += other.records
        self.skipped.update(other.skipped)
        self.missing.update(other.missing)
        self.examples.extend(other.examples[: MAX_EXAMPLES - len(self.examples)])
        self.files.extend(other.files)
        self.missing_example = self.missing_example or other.missing_example

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "skipped": dict(self.skipped), "skip_examples": self.examples,
                "files": self.files}

    def why_unusable(self, setting: str) -> str:
        """Why ``setting`` (e.g. ``data.seed_corpus``) gave no usable document, as one message tail:
        ``0 of 652 records have the field 'content' (data.text_key); the first record has: id, text``."""
        if not self.records:
            return f"no records in {len(self.files)} file(s)"
        if self.missing:
            (key, origin), n = self.missing.most_common(1)[0]
            source = f"text_key of {origin}" if origin else f"{setting.rsplit('.', 1)[0]}.text_key"
            which = "the first record" if n == self.records else "the first record without it"
            return (f"{self.records - n} of {self.records} records have the field '{key}' ({source}); "
                    f"{which} has: {', '.join(self.missing_example or []) or 'no fields'}")
        skipped = f" (skipped: {dict(self.skipped)})" if self.skipped else ""
        return f"{self.read} of {self.records} records are usable{skipped}"

    def saw(self, fields: Iterable[str]) -> None:
        """One record read (the reader yields it next), with these fields."""
        self.records += 1
        self.read += 1
        self._fields = fields

    def lacks(self, key: str, origin: str | None) -> None:
        """The record just read has no ``key`` (set by the entry ``origin``, or the default)."""
        self.missing[(key, origin)] += 1
        if self.missing_example is None:
            self.missing_example = list(self._fields)


def _is_parquet(path: str) -> bool:
    return str(path).endswith(".parquet")


def iter_rows(path: str | os.PathLike, *, on_error: OnError = "fail", stats: ReadStats | None = None,
              format: str | None = None, columns: Iterable[str] | None = None,
              ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_or_row_number, object)`` from one jsonl[.gz|.bz2|.xz|.zst], parquet or text file
    (1-based). ``columns``: for parquet, the only columns worth reading (those present are read)."""
    path = str(path)
    stats = stats if stats is not None else ReadStats()
    format = format or ("parquet" if _is_parquet(path) else "jsonl")
    if format == "parquet":
        yield from _iter_parquet(path, stats, columns)
        return
    lines = iter_lines(path, stats.files)
    yield from (_text_row if format == "text" else _json_rows)(path, lines, stats, on_error)



def iter_rows_of(pattern: str | os.PathLike, *, on_error: OnError = "fail", stats: ReadStats | None = None,
                 ) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
    """Rows of every file a path, glob or folder names, read as one file: ``(file, line, n, object)``,
    ``n`` numbering the lines across the files in order (``n == line`` for a single file)."""
    offset = 0
    for path in expand_paths(pattern):
        lineno = 0
        for lineno, obj in iter_rows(path, on_error=on_error, stats=stats):
            yield path, lineno, offset + lineno, obj
        offset += lineno

def _json_rows(path: str, lines: Iterable[tuple[int, bytes]], stats: ReadStats,
               on_error: OnError) -> Iterator[tuple[int, dict[str, Any]]]:
    for lineno, raw in lines:
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
        stats.saw(obj)
        yield lineno, obj


def _text_row(path: str, lines: Iterable[tuple[int, bytes]], stats: ReadStats,
              on_error: OnError) -> Iterator[tuple[int, dict[str, Any]]]:
    """A text file is one document (``text``), numbered as line 1."""
    data = b"".join(raw for _, raw in lines)
    try:
        obj = {"text": data.decode("utf-8")}
    except UnicodeDecodeError as e:
        stats.skip(f"not valid UTF-8 (byte {e.start})", f"{path}:1", on_error)
        return
    stats.saw(obj)
    yield 1, obj


def _iter_parquet(path: str, stats: ReadStats,
                  columns: Iterable[str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq
    from pyarrow.lib import ArrowException

    with open_binary(path, stats.files, decompress=False) as fh:
        try:
            pf = pq.ParquetFile(fh)
        except (ArrowException, OSError) as e:  # not a parquet file, or a damaged footer
            raise BadInputError(f"{path}: not a readable parquet file ({e})") from None
        names = pf.schema_arrow.names
        wanted = None if columns is None else [c for c in names if c in set(columns)]
        row = 0
        for batch in pf.iter_batches(batch_size=4096, columns=wanted):
            for obj in batch.to_pylist():
                row += 1
                stats.saw(names)
                yield row, obj


def iter_docs(paths: Iterable[CorpusItem], *, text_key: str = "text", id_key: str | None = "id",
              on_error: OnError = "skip", stats: ReadStats | None = None,
              min_chars: int = 1) -> Iterator[Doc]:
    """Documents from files, globs, folders or corpus entries (whose own keys override ``text_key`` and
    ``id_key``); empty or textless records are counted skips (or errors)."""
    stats = stats if stats is not None else ReadStats()
    for f in resolve(paths, text_key, id_key):
        yield from _file_docs(f, stats, on_error, min_chars)


def _file_docs(f: CorpusFile, stats: ReadStats, on_error: OnError, min_chars: int) -> Iterator[Doc]:
    path, text_key, id_key = f.path, f.text_key, f.id_key
    name = Path(path).name
    columns = {text_key, *([id_key] if id_key else []), *DOC_COLUMNS}
    for lineno, obj in iter_rows(path, on_error=on_error, stats=stats, format=f.format, columns=columns):
        where = f"{path}:{lineno}"
        text = obj.get(text_key)
        if text is None:
            stats.read -= 1
            stats.lacks(text_key, f.origin)
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

