"""Versioned steps: a step's output folder is named by a hash of its settings and its inputs.

``runs/<run>/<stage>-<hash>/`` holds ``config.json`` (what produced it), the stage's outputs and a
``SUCCESS`` marker written last. An unchanged step is found complete and skipped; a changed setting
gives a new hash, and since a step's hash includes its inputs' hashes, everything downstream re-runs
too (the marin pattern). Work inside an unfinished folder is kept, so a stage can resume from it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from trait import __version__
from trait.cputime import CPUMeter
from trait.errors import TraitError
from trait.io import fingerprint, read_json, write_json  # noqa: F401 - fingerprint re-exported
from trait.schema import is_hashed
from trait.ui import info

SUCCESS = "SUCCESS"
TIMING = "timing.json"  # wall and CPU seconds of the attempt that completed the step


def canonical(obj: Any) -> Any:
    """A JSON-able, order-stable form of configs (pydantic models become plain dicts)."""
    if isinstance(obj, BaseModel):  # speed-only knobs (``schema.knob``) never count
        cls = type(obj)
        return {k: canonical(getattr(obj, k)) for k in sorted(cls.model_fields) if is_hashed(cls, k)}
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def config_hash(obj: Any, length: int = 10) -> str:
    return hashlib.sha256(orjson.dumps(canonical(obj), option=orjson.OPT_SORT_KEYS)).hexdigest()[:length]


@dataclass
class Step:
    """One versioned unit of work: settings + the steps it reads -> a folder named by their hash.

    ``outputs`` names the files (or folders) the step writes, relative to its folder; readers ask the
    step for them (``step.file("selected")``) instead of spelling file names themselves.
    """

    run_dir: Path
    stage: str
    config: Any
    deps: Sequence[Step] = field(default_factory=tuple)
    outputs: Mapping[str, str] = field(default_factory=dict)
    status: str = field(default="planned", compare=False)  # planned -> reused | ran

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self.deps = tuple(self.deps)
        self.hash = config_hash({"stage": self.stage, "config": self.config,
                                 "deps": [d.hash for d in self.deps], "version": _code_version()})

    @property
    def path(self) -> Path:
        return self.run_dir / f"{self.stage}-{self.hash}"

    @property
    def done(self) -> bool:
        return (self.path / SUCCESS).exists()

    def file(self, name: str) -> Path:
        """A declared output of this step."""
        if name not in self.outputs:
            raise TraitError(f"step {self.stage} declares no output {name!r} (has: {', '.join(self.outputs)})")
        return self.path / self.outputs[name]

    def run(self, work: Callable[[Path], dict[str, Any]]) -> Step:
        """The one place a step runs: skip it if done, else start, ``work(folder)`` -> summary, complete.
        The run folder is locked meanwhile, so two processes never write one step."""
        with run_lock(self.run_dir):
            touched.append(self)
            if self.done:
                self.status = "reused"
                info(f"{self.stage}: up to date ({self.path})")
                return self
            with CPUMeter() as meter:
                summary = work(self.start())
            if _main_rank():  # under ``accelerate launch`` every rank works, rank 0 marks it done
                write_json(self.path / TIMING, {"wall_s": round(meter.wall_s, 2), "cpu_s": round(meter.cpu_s, 2)})
                self.complete(summary)
            self.status = "ran"
        return self

    def start(self) -> Path:
        """Create the folder and record what produces it (kept if a previous attempt left work there)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / "config.json", {"stage": self.stage, "hash": self.hash,
                                               "config": canonical(self.config), "outputs": dict(self.outputs),
                                               "deps": [d.ref() for d in self.deps]})
        return self.path

    def complete(self, summary: dict[str, Any]) -> None:
        """Write the summary, then the marker: a folder without the marker is never read as complete."""
        write_json(self.path / "summary.json", summary)
        (self.path / SUCCESS).write_text(__version__ + "\n")

    def summary(self) -> dict[str, Any]:
        if not self.done:
            raise TraitError(f"step {self.stage} ({self.path}) has not completed: run it first")
        return read_json(self.path / "summary.json")

    def timing(self) -> dict[str, float]:
        """Wall and CPU seconds of the attempt that completed this step ({} for a step completed before
        timing was recorded). CPU counts this process and every process it started on this machine
        (``trait.cputime``); Slurm or Ray workers run elsewhere and are not in it."""
        path = self.path / TIMING
        return read_json(path) if path.exists() else {}

    def ref(self) -> dict[str, Any]:
        return {"stage": self.stage, "hash": self.hash, "path": str(self.path)}

    def record(self) -> dict[str, Any]:
        """What a graph or ``last.json`` lists of this step: where it is, what it read, whether it ran."""
        return self.ref() | {"deps": [d.hash for d in self.deps], "status": self.status}

    def walk(self) -> list[Step]:
        """This step and every step it reads, transitively, dependencies first (each once)."""
        seen: dict[str, Step] = {}

        def visit(step: Step) -> None:
            if step.hash in seen:
                return
            for d in step.deps:
                visit(d)
            seen[step.hash] = step

        visit(self)
        return list(seen.values())

    def graph(self) -> list[dict[str, Any]]:
        """The records of ``walk()``: what a graph or ``last.json`` lists."""
        return [s.record() for s in self.walk()]


touched: list[Step] = []  # every step this process ran or reused, in order (see ``command``)
LAST = "last.json"


@contextmanager
def command(run_dir: str | Path) -> Iterator[None]:
    """One user command: the run folder is locked throughout, and ``<run>/last.json`` then lists
    exactly the steps the command ran or reused (what ``trait report`` shows, and nothing else)."""
    with run_lock(run_dir):
        start = len(touched)
        yield
        steps = list({s.hash: s for s in touched[start:]}.values())
        write_json(Path(run_dir) / LAST, {"steps": [s.record() for s in steps]})


def last_steps(run_dir: str | Path) -> list[dict[str, Any]]:
    """The steps of the run's last command (empty before any command completed)."""
    p = Path(run_dir) / LAST
    return read_json(p)["steps"] if p.exists() else []


def latest(run_dir: str | Path, stage: str) -> Path | None:
    """The folder of the step of ``stage`` in the run's last command, if it completed."""
    found = [Path(s["path"]) for s in last_steps(run_dir) if s["stage"] == stage]
    return found[-1] if found and (found[-1] / SUCCESS).exists() else None


def cost_of(steps: Sequence[Step]) -> dict[str, float]:
    """Wall and CPU seconds of ``steps`` and everything they read, each step counted once."""
    timings = [s.timing() for s in {s.hash: s for root in steps for s in root.walk()}.values()]
    return {k: round(sum(t.get(k, 0.0) for t in timings), 1) for k in ("wall_s", "cpu_s")}


def _main_rank() -> bool:
    return os.environ.get("RANK", "0") == "0"


def _code_version() -> str:
    # Only the major.minor of the package: patch releases must not invalidate every cached run.
    return ".".join(__version__.split(".")[:2])


# ---- one writer per run folder ----------------------------------------------------------------------

class RunBusyError(TraitError):
    """Another process holds the run folder."""


_held: dict[str, Any] = {}  # run folder -> open lock file: re-entrant within a process


@contextmanager
def run_lock(run_dir: str | Path) -> Iterator[None]:
    """Hold ``<run>/.lock`` (an OS file lock): a second process refuses with one line naming the
    holder. The kernel drops the lock when its holder dies, so a killed run's lock is simply taken."""
    key = str(Path(run_dir).resolve())
    if key in _held or not _main_rank():  # the ranks of one distributed job are one writer
        yield
        return
    try:
        import fcntl
    except ImportError:  # no POSIX locks (Windows): run unguarded
        yield
        return
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    fh = open(Path(run_dir) / ".lock", "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise RunBusyError(f"{run_dir}: run folder in use by {holder}; wait for it to finish or stop it "
                           "(the lock of a killed process is taken over)") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()} (trait {' '.join(sys.argv[1:2])}, since {time.strftime('%H:%M:%S')})\n")
    fh.flush()
    _held[key] = fh
    try:
        yield
    finally:
        del _held[key]
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
