"""Corpora as users have them: a path, glob, folder or fsspec URL, optionally with its own fields,
in jsonl (plain, .gz, .bz2, .xz, .zst), parquet or text files.

A corpus list in the config holds plain paths (``data/seed.jsonl.gz``) or entries
(``{path: "cc/*.parquet", text_key: content, id_key: url}``); an entry's keys override
``data.text_key`` / ``data.id_key`` for its files only. ``resolve`` turns such a list into one
``CorpusFile`` per file: globs and folders expand in sorted order (keeping the URL's protocol), and a
pattern that matches nothing is one ``BadInputError``. ``iter_lines`` reads any of them line by line,
and a damaged compressed stream is a ``file:line`` error, never a quiet short read.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Annotated, Any, Literal

import fsspec
from fsspec.utils import infer_compression
from pydantic import Discriminator, Field, Tag

from trait.errors import BadInputError
from trait.schema import DataPath, Section

Format = Literal["jsonl", "parquet", "text"]
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst")
# What a folder contributes: data files only, so a README or a _SUCCESS marker beside the shards is ignored.
DATA_SUFFIXES = tuple(s + c for s in (".jsonl", ".json", ".txt") for c in ("", *COMPRESSIONS)) + (".parquet",)
_MAGIC = re.compile(r"[*?\[]")
_HTTP_MAGIC = re.compile(r"[*\[]")  # '?' starts an http query string, not a pattern
try:
    from isal.igzip_lib import IsalError
except ImportError:  # no isal: fsspec reads gzip with zlib
    IsalError = zlib.error  # type: ignore[assignment,misc]
# What a damaged compressed stream raises (bz2: a plain OSError). io.UnsupportedOperation, also an
# OSError, is a bug, never reported as corruption.
CORRUPT = (EOFError, OSError, zlib.error, lzma.LZMAError, IsalError)


class CorpusEntry(Section):
    """A corpus with its own fields, as an item of any data.*_corpus list or data.heldout_general.

    A plain path in those lists stands for ``{path: ...}``: it uses data.text_key and data.id_key.
    """

    path: DataPath = Field(description="File, glob (`cc/*.parquet`), folder or fsspec URL.")
    text_key: str | None = Field(None, description="Field holding the text in these files (unset: data.text_key).")
    id_key: str | None = Field(None, description="Field holding the id in these files (unset: data.id_key).")
    format: Format | None = Field(
        None, description="jsonl (also .json), parquet, or text (a whole file is one document); "
                          "unset: from the file name.")


def _item_kind(value: Any) -> str:
    return "path" if isinstance(value, str) else "entry"


# A config's corpus item: a plain path stays a string (so hashes of existing configs stay the same),
# a mapping becomes a CorpusEntry; the tag keeps a typo's error to the entry's own key.
CorpusPath = Annotated[Annotated[CorpusEntry, Tag("entry")] | Annotated[DataPath, Tag("path")],
                       Discriminator(_item_kind)]


@dataclass(frozen=True)
class CorpusFile:
    """One file to read, with the fields that apply to it (``origin``: the entry that set them)."""

    path: str
    format: Format
    text_key: str
    id_key: str | None
    origin: str | None = None  # the entry's pattern when the entry set text_key, else None


CorpusItem = str | os.PathLike | CorpusEntry | CorpusFile


def infer_format(path: str) -> Format:
    name = path.split("?")[0].lower()
    for c in COMPRESSIONS:
        name = name.removesuffix(c)
    if name.endswith(".parquet"):
        return "parquet"
    return "text" if name.endswith(".txt") else "jsonl"


def _is_pattern(path: str, root: str) -> bool:
    magic = (_HTTP_MAGIC if path.startswith(("http://", "https://")) else _MAGIC).search(path)
    # A local file whose name holds '[' is read as itself, not as a pattern.
    return bool(magic) and not ("://" not in path and os.path.isfile(root))


def _is_folder(path: str, fs: Any, root: str) -> bool:
    if path.endswith("/"):
        return True
    if path.startswith(("http://", "https://")):
        return False  # listing an http "folder" means scraping a page: only with a trailing '/'
    try:
        return bool(fs.isdir(root))
    except (OSError, ValueError, NotImplementedError):
        return False


def list_files(path: str) -> list[tuple[str, dict[str, Any]]]:
    """``(path, info)`` of every file ``path`` names, sorted; a plain file path is returned unchecked
    (reading it reports a missing file) with an empty info."""
    path = str(path)
    fs, root = fsspec.core.url_to_fs(path)
    if _is_pattern(path, root):
        found = {p: i for p, i in fs.glob(root, detail=True).items() if i.get("type") != "directory"}
        what = "no file matches this pattern"
    elif _is_folder(path, fs, root):
        found = {p: i for p, i in fs.find(root, detail=True).items() if _is_data_file(p)}
        what = f"folder has no data files ({', '.join(DATA_SUFFIXES)})"
    else:
        return [(path, {})]
    if not found:
        raise BadInputError(f"{path}: {what}")
    remote = "://" in path
    return [(fs.unstrip_protocol(p) if remote else p, found[p]) for p in sorted(found)]


def _is_data_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return not name.startswith((".", "_")) and name.lower().endswith(DATA_SUFFIXES)


def expand_paths(path: str | os.PathLike) -> list[str]:
    """The files a path, glob, folder or URL names, in sorted order."""
    return [p for p, _ in list_files(str(path))]


def resolve(items: Iterable[CorpusItem], text_key: str = "text", id_key: str | None = "id") -> list[CorpusFile]:
    """One ``CorpusFile`` per file, in order; an entry's own keys override the defaults."""
    out: list[CorpusFile] = []
    for item in items:
        if isinstance(item, CorpusFile):
            out.append(item)
            continue
        entry = item if isinstance(item, CorpusEntry) else None
        pattern = entry.path if entry else str(item)
        tk = entry.text_key if entry and entry.text_key else text_key
        ik = entry.id_key if entry and entry.id_key else id_key
        origin = pattern if entry and entry.text_key else None
        for path in expand_paths(pattern):
            fmt = entry.format if entry and entry.format else infer_format(path)
            # A text file is one document: its keys are ours, not the user's.
            keys = ("text", None, None) if fmt == "text" else (tk, ik, origin)
            out.append(CorpusFile(path, fmt, *keys))
    return out


def _identity(path: str, info: dict[str, Any]) -> dict[str, Any]:
    """What says a file changed: size and mtime locally; size and etag (or mtime) where a store has them."""
    if "://" not in path:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {"path": path, "missing": True}
        return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if not info:
        try:
            fs, root = fsspec.core.url_to_fs(path)
            info = fs.info(root)
        except Exception:  # noqa: BLE001 - offline or no such object: reading it will say which
            return {"path": path}
    out = {"path": path, "size": info.get("size")}
    for key in ("ETag", "etag", "md5Hash", "blob_id", "LastModified", "mtime", "last_modified"):
        if info.get(key) is not None:
            out[key.lower()] = str(info[key])
            break
    return out


def fingerprint(items: Iterable[CorpusItem]) -> list[dict[str, Any]]:
    """Identify input files by path, size and mtime, so editing a data file re-runs what read it.
    Globs and folders count as the files they match now; an entry's own fields are part of it."""
    out = []
    for item in items:
        pattern = item.path if isinstance(item, (CorpusEntry, CorpusFile)) else str(item)
        try:
            files = list_files(pattern)
        except BadInputError:
            files = []
        except Exception:  # noqa: BLE001 - a listing that needs the network: reading reports it
            files = [(pattern, {})]
        fields = item.model_dump(exclude={"path"}, exclude_none=True) if isinstance(item, CorpusEntry) else {}
        if not files:
            out.append({"path": pattern, "missing": True, **fields})
        out.extend(_identity(p, info) | fields for p, info in files)
    return out



def path_identity(path: CorpusItem) -> dict[str, Any] | list[dict[str, Any]]:
    """The fingerprint of one path setting: one file's record (as it always was), or the list of the
    files a glob or folder matches."""
    fp = fingerprint([path])
    return fp[0] if len(fp) == 1 else fp

def describe(items: Iterable[CorpusItem]) -> str:
    """The patterns of a corpus list, for messages."""
    return ", ".join(item.path if isinstance(item, (CorpusEntry, CorpusFile)) else str(item) for item in items)


# ---- reading files line by line -----------------------------------------------------------------

def open_binary(path: str, files: list[dict[str, Any]], *, decompress: bool = True) -> IO[bytes]:
    """``path`` opened for reading (decompressed as its name says, line-iterable); its path and size
    are appended to ``files`` for the run summary. A missing file is one ``BadInputError``."""
    compression = infer_compression(path) if decompress else None
    try:
        of = fsspec.open(path, "rb", compression=None if compression == "zstd" else compression)
        fh = of.open()
    except FileNotFoundError:
        raise BadInputError(f"{path}: file not found") from None
    except (PermissionError, IsADirectoryError) as e:
        raise BadInputError(f"{path}: cannot open ({e.strerror or e})") from None
    files.append({"path": path, "size": _size(of)})
    if compression == "zstd":  # fsspec's zstd stream cannot iterate lines and hides truncation
        return io.BufferedReader(ZstdReader(fh), buffer_size=1 << 20)  # type: ignore[return-value]
    return fh


def _size(of: Any) -> int | None:
    try:
        return int(of.fs.size(of.path))
    except Exception:  # noqa: BLE001 - a store that cannot say: the path alone names the file
        return None


def iter_lines(path: str, files: list[dict[str, Any]]) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of a possibly compressed file (1-based)."""
    compressed = infer_compression(path) is not None
    lineno = 0
    with open_binary(path, files) as fh:
        it = iter(fh)
        while True:
            try:
                raw = next(it)
            except StopIteration:
                return
            except io.UnsupportedOperation:
                raise
            except CORRUPT as e:
                what = "compressed stream is truncated or corrupt" if compressed else "read error"
                raise BadInputError(f"{path}:{lineno + 1}: {what} ({e or type(e).__name__})") from None
            lineno += 1
            yield lineno, raw


class ZstdReader(io.RawIOBase):
    """Decompress zstd frames one after another. Input that ends inside a frame raises ``EOFError``,
    as gzip, bz2 and xz do (zstandard's own stream reader returns a quiet short read there)."""

    CHUNK = 1 << 17  # compressed bytes per read: jsonl inflates ~5-10x

    def __init__(self, fh: IO[bytes]) -> None:
        import zstandard

        self._fh, self._dctx, self._error = fh, zstandard.ZstdDecompressor(), zstandard.ZstdError
        self._dobj: Any = None
        self._out, self._pending = memoryview(b""), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while not self._out:
            chunk, self._pending = self._pending or self._fh.read(self.CHUNK), b""
            if not chunk:
                if self._dobj is not None and not self._dobj.eof:
                    raise EOFError("the input ends inside a zstd frame")
                return 0
            if self._dobj is None or self._dobj.eof:  # the next frame
                self._dobj = self._dctx.decompressobj()
            try:
                self._out = memoryview(self._dobj.decompress(chunk))
            except self._error as e:
                raise OSError(f"zstd: {e}") from None
            if self._dobj.eof:
                self._pending = self._dobj.unused_data
        n = min(len(buf), len(self._out))
        buf[:n], self._out = self._out[:n], self._out[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()
