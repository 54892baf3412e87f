"""Worker processes die with the process that started them.

A SIGKILLed ``trait select`` runs no cleanup: without this, datatrove's local pool workers and the
``multiprocess`` Manager it forks were re-parented to init and lived on, holding memory and able to
write into the step folder that the rerun resumes. Linux's ``PR_SET_PDEATHSIG`` has the kernel send
SIGKILL to a child when its parent dies; elsewhere these calls do nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
_installed = False
_parent = 0


def die_with_parent(expected_parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent exits; exit now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # a kernel that refuses: nothing better to do than carry on
    # The parent may have died between fork and prctl: then no signal will ever come.
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


def _before_fork() -> None:
    global _parent
    _parent = os.getpid()


def _after_fork_in_child() -> None:
    die_with_parent(_parent)


def children_die_with_this_process() -> None:
    """Every child this process forks from now on (pool workers, Manager servers) dies with it."""
    global _installed
    if not _installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _installed = True


def dying_with_this_process(argv: list[str]) -> list[str]:
    """``argv`` run through a launcher that sets PDEATHSIG and then execs it (the signal survives exec;
    a ``preexec_fn`` would do the same but is unsafe in a process with threads)."""
    return [sys.executable, "-m", "trait.procs", str(os.getpid()), *argv]


if __name__ == "__main__":
    die_with_parent(int(sys.argv[1]))
    os.execvp(sys.argv[2], sys.argv[2:])
