"""Find processes left behind: every process a test starts inherits a tag in its environment, and a
tagged process that is no longer a descendant of the test runner was orphaned (its parent died
without taking it along)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

TAG_ENV = "TRAIT_TEST_PROCESS_TAG"


def new_tag() -> str:
    return uuid.uuid4().hex


def tagged(tag: str) -> list[int]:
    """Pids (other than this one) whose environment holds ``TAG_ENV=tag`` (Linux /proc; else [])."""
    needle = f"{TAG_ENV}={tag}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(pid)
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return sorted(found)


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def orphans(tag: str) -> list[str]:
    """Tagged processes that are not descendants of this process: ``'pid cmdline'`` each."""
    out = []
    for pid in tagged(tag):
        p = pid
        while p > 1 and p != os.getpid():
            p = _parent(p)
        if p != os.getpid():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out.append(f"{pid} {cmd.strip()[:200]}")
    return out
