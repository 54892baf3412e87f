"""A sqlite cache of LLM results keyed by ``ChatRequest.key`` (a hash of the full payload).

Why sqlite: one file, safe across threads and processes (WAL mode, a busy timeout), and every result
is committed as it arrives, so a run killed mid-way keeps everything that completed and a rerun sends
only the rest. Only successes are stored: failures are retried by the next run, never replayed.
Nothing secret is stored (payload hashes, texts, token counts, the model name); the token counts let a
resumed step account for calls an earlier process paid for.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

from trait.errors import TraitError
from trait.llm.base import ChatResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL
)"""
_CHUNK = 500  # keys per SELECT ... IN (...): well under sqlite's variable limit


def _locked(e: BaseException) -> bool:
    return isinstance(e, sqlite3.OperationalError) and "locked" in str(e)


# Two processes creating the same cache at once race on the switch to WAL, which sqlite answers with
# an immediate "database is locked" (the busy timeout does not cover it): retry briefly.
@retry(retry=retry_if_exception(_locked), stop=stop_after_delay(60), wait=wait_random(0.01, 0.2), reraise=True)
def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed row survives a process crash (not a power cut) and a
        # commit costs no fsync, so the cache is never the bottleneck of a fast server.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


class ResultCache:
    """``get_many`` / ``put`` over one sqlite file; one connection guarded by a lock (thread-safe)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = _open(self.path)
        except sqlite3.DatabaseError as e:
            raise TraitError(f"{self.path}: cannot open the LLM cache ({e})") from None

    def get_many(self, keys: Iterable[str]) -> dict[str, ChatResult]:
        """The cached results among ``keys`` (marked ``cached=True``)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, ChatResult] = {}
        with self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i:i + _CHUNK]
                rows = self._db.execute(
                    "SELECT key, text, prompt_tokens, completion_tokens, finish_reason FROM results "
                    f"WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
                for key, text, pt, ct, fr in rows:
                    out[key] = ChatResult(text=text, prompt_tokens=pt, completion_tokens=ct,
                                          finish_reason=fr, cached=True, key=key)
        return out

    def put(self, key: str, result: ChatResult, model: str = "") -> None:
        """Store one success and commit it now (autocommit): a crash right after keeps it."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, result.text, result.prompt_tokens, result.completion_tokens, result.finish_reason,
                 model, time.time()))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def keys(self) -> set[str]:
        with self._lock:
            return {k for (k,) in self._db.execute("SELECT key FROM results")}

    def close(self) -> None:
        with self._lock:
            self._db.close()
