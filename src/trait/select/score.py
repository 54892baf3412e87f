"""Scoring the general corpus as one streaming datatrove pipeline.

reader (trait.io.iter_docs: project bad-input rules, file:line provenance) -> domain scores in
batches -> quality scores -> datatrove JsonlWriter. Each task writes ``scores/<rank>.jsonl.gz``: one
row per document with its ``id``, ``source`` file, ``line`` (or parquet row) and ``scores``, but no
text (a copy of the text would double the corpus on disk); ``iter_scores`` reads them back, and the
choose step joins them to the corpus by (file, line). Memory is flat in the corpus size: documents
stream through, only one batch is held at a time.

The same pipeline runs on datatrove's local, Slurm or Ray executor (``select.executor``). Datatrove
marks each finished task in ``datatrove/completions/``; a rerun redoes only unfinished tasks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from glob import glob
from itertools import islice
from pathlib import Path
from typing import IO, Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.readers.base import BaseReader
from datatrove.pipeline.writers.jsonl import JsonlWriter
from loguru import logger

from trait.corpus import CorpusItem, resolve
from trait.errors import BadInputError, TraitError
from trait.io import OnError, ReadStats, dumps, gzip_writer, iter_docs, iter_rows, read_json, write_json
from trait.procs import die_with_parent
from trait.records import Doc
from trait.ui import progress

SHARD_GLOB = "*.jsonl.gz"


def _route_trait_errors(record: dict[str, Any]) -> None:
    """Datatrove logs a failed task's exception with a traceback on stderr, then re-raises it. A
    ``TraitError`` is already one clear line that the CLI prints, so its record is demoted to DEBUG:
    it still reaches the task's log file (datatrove logs DEBUG there), never the console."""
    exc = record["exception"]
    if exc is not None and isinstance(exc.value, TraitError) and record["level"].no >= 40:
        record["level"] = type(record["level"])("DEBUG", 10, record["level"].icon)


# At import, so every process that unpickles this pipeline (forkserver pool, Ray workers) has it too.
logger.configure(patcher=_route_trait_errors)


def _in_pool_worker() -> bool:
    import multiprocess  # datatrove's local executor pool (workers > 1)

    return multiprocess.parent_process() is not None


class CorpusReader(BaseReader):
    """Datatrove reader over ``trait.io.iter_docs``: skips are counted by reason (or one file:line
    error with ``on_error="fail"``) and saved per task to ``<stats_dir>/<rank>.json``."""

    name = "📖 trait corpus"

    def __init__(self, paths: Sequence[CorpusItem], stats_dir: str, *, text_key: str = "text",
                 id_key: str | None = "id", on_error: OnError = "skip") -> None:
        super().__init__(text_key=text_key, id_key=id_key or "id")
        # Globs and folders expand once, here: every task shards the same sorted list of files.
        self.paths, self.stats_dir = resolve(paths, text_key, id_key), stats_dir
        self.trait_id_key, self.on_error = id_key, on_error

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        if _in_pool_worker():  # forked by datatrove's forkserver: die with it
            die_with_parent()
        stats = ReadStats()
        for f in self.paths[rank::world_size]:  # by file: a file is read by exactly one task
            for doc in iter_docs([f], text_key=self.text_key, id_key=self.trait_id_key,
                                 on_error=self.on_error, stats=stats):
                self.stat_update("documents")
                # ``file``: the file read (a Doc file's ``source`` is where its docs first came from)
                yield Document(text=doc.text, id=doc.id, metadata={
                    "source": doc.source, "line": doc.line, "meta": doc.meta, "scores": doc.scores,
                    "file": f.path})
        for reason, n in stats.skipped.items():
            self.stat_update(f"skipped: {reason}", value=n)
        write_json(Path(self.stats_dir) / f"{rank:05d}.json", stats.to_dict())


def _batches(data: DocumentsPipeline, size: int) -> Iterator[list[Document]]:
    it = iter(data or ())
    while batch := list(islice(it, size)):
        yield batch


class BatchScoreStep(PipelineStep):
    """Adds ``metadata["scores"][key]`` to every document, scoring ``batch_size`` texts per call.

    The scorer is loaded inside ``run`` (in the worker), so only its name and folder travel to
    Slurm/Ray workers. With ``progress_dir`` the running count is saved every ~2 s for the
    main process's progress bar, and finally with ``done: true``.
    """

    type = "🔢 - SCORER"
    key = "score"

    def __init__(self, batch_size: int = 1000, progress_dir: str | None = None) -> None:
        super().__init__()
        self.batch_size, self.progress_dir = batch_size, progress_dir

    def load(self) -> Any:
        raise NotImplementedError

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        scorer, n, last = self.load(), 0, time.monotonic()
        for batch in _batches(data, self.batch_size):
            with self.track_time("batch"):
                values = scorer.score([d.text for d in batch])
            for doc, value in zip(batch, values):
                doc.metadata["scores"][self.key] = float(value)
            n += len(batch)
            self.stat_update("scored", value=len(batch))
            yield from batch
            if self.progress_dir and time.monotonic() - last > 2:
                write_json(Path(self.progress_dir) / f"{rank:05d}.json", {"scored": n, "done": False})
                last = time.monotonic()
        if self.progress_dir:
            write_json(Path(self.progress_dir) / f"{rank:05d}.json", {"scored": n, "done": True})


class DomainScoreStep(BatchScoreStep):
    name = "🎯 domain score"
    key = "domain"

    def __init__(self, method: str, model_dir: str, batch_size: int = 1000, progress_dir: str | None = None):
        super().__init__(batch_size, progress_dir)
        self.method, self.model_dir = method, model_dir

    def load(self) -> Any:
        from trait.select.scorer import load_scorer

        return load_scorer(self.method, Path(self.model_dir))


class QualityScoreStep(BatchScoreStep):
    name = "🎓 quality score"
    key = "quality"

    def __init__(self, kind: str, model_dir: str | None = None, batch_size: int = 1000):
        super().__init__(batch_size)
        self.kind, self.model_dir = kind, model_dir

    def load(self) -> Any:
        from trait.select.quality import load_quality

        return load_quality(self.kind, Path(self.model_dir) if self.model_dir else None)


def _doc_record(self: Any, document: Document) -> dict[str, Any]:
    """Datatrove Document -> the project's Doc row (what ``trait.io.iter_docs`` reads back)."""
    md = document.metadata
    return {"id": document.id, "text": document.text, "source": md["source"], "line": md["line"],
            "meta": md["meta"], "scores": md["scores"]}


def _score_record(self: Any, document: Document) -> dict[str, Any]:
    """Datatrove Document -> a score row: the file it was read from, its line there as the reader
    numbers it, its id and scores (no text, no meta)."""
    md = document.metadata
    return {"id": document.id, "source": md["file"], "line": md["line"], "scores": md["scores"]}


def iter_scores(paths: Sequence[str]) -> Iterator[Doc]:
    """The rows of score shards as ``Doc``s without text (id, source, line, scores), in shard order."""
    for path in paths:
        for lineno, row in iter_rows(path, on_error="fail"):
            try:
                yield Doc(id=row["id"], text="", source=row["source"], line=int(row["line"]),
                          scores=dict(row["scores"] or {}))
            except (KeyError, TypeError, ValueError) as e:
                raise BadInputError(f"{path}:{lineno}: not a score row ({type(e).__name__}: {e})") from None


class ShardWriter(JsonlWriter):
    """Datatrove's JsonlWriter, gzip at level 1 (ISA-L's where installed) instead of fsspec's default 9.

    Score shards are intermediate files read once or twice by the choose step; at level 9 the
    compression alone took about half of the whole pipeline's time (profiled), at level 1 writing
    is ~5x faster for files ~25% larger.
    """

    name = "🐿 trait shards"

    def __init__(self, output_folder: str, compresslevel: int = 1, text: bool = True) -> None:
        super().__init__(output_folder, output_filename="${rank}.jsonl.gz", compression=None,
                         adapter=_doc_record if text else _score_record)
        self.compresslevel = compresslevel
        self._gz: dict[str, IO[bytes]] = {}

    def _write(self, document: dict, file_handler: IO, filename: str) -> None:
        gz = self._gz.get(filename)
        if gz is None:
            gz = self._gz[filename] = gzip_writer(file_handler, self.compresslevel)
        gz.write(dumps(document))

    def close(self) -> None:
        for gz in self._gz.values():
            gz.close()  # flushes the gzip trailer; the file itself is closed by the output manager
        self._gz.clear()
        super().close()


def build_pipeline(paths: Sequence[str], out_dir: Path, *, method: str, model_dir: Path,
                   quality: str = "none", quality_dir: Path | None = None, batch_size: int = 1000,
                   text_key: str = "text", id_key: str | None = "id",
                   on_error: OnError = "skip") -> list[PipelineStep]:
    """The scoring pipeline; outputs go under ``out_dir`` (scores/, read_stats/, progress/)."""
    steps: list[PipelineStep] = [
        CorpusReader(paths, str(out_dir / "read_stats"), text_key=text_key, id_key=id_key, on_error=on_error),
        DomainScoreStep(method, str(model_dir), batch_size, str(out_dir / "progress")),
    ]
    if quality != "none":
        steps.append(QualityScoreStep(quality, str(quality_dir) if quality_dir else None, batch_size))
    steps.append(ShardWriter(str(out_dir / "scores"), text=False))
    return steps


def make_executor(ex: Any, pipeline: list[PipelineStep], logging_dir: Path, job_name: str = "trait-score",
                  tasks: int | None = None):
    """The datatrove executor ``select.executor`` names (Slurm and Ray imported only when chosen);
    ``tasks`` overrides ``ex.tasks`` (the choose step's stages have their own task counts)."""
    common = {"tasks": tasks or ex.tasks, "workers": ex.workers, "logging_dir": str(logging_dir)}
    if ex.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        from trait.procs import children_die_with_this_process

        children_die_with_this_process()  # a killed run leaves no worker or Manager behind
        return LocalPipelineExecutor(pipeline, **common)
    if ex.kind == "slurm":
        if not ex.slurm_partition:
            raise TraitError("select.executor.kind=slurm needs select.executor.slurm_partition")
        from datatrove.executor import SlurmPipelineExecutor

        return SlurmPipelineExecutor(pipeline, time=ex.slurm_time, partition=ex.slurm_partition,
                                     cpus_per_task=ex.slurm_cpus_per_task, mem_per_cpu_gb=ex.slurm_mem_per_cpu_gb,
                                     job_name=job_name, env_command=ex.slurm_env_command, **common)
    if ex.kind == "ray":
        try:
            import ray  # noqa: F401
            from datatrove.executor.ray import RayPipelineExecutor
        except ImportError:
            raise TraitError("select.executor.kind=ray needs Ray: pip install 'trait[ray]' "
                             "(or ray[data]), or use select.executor.kind=local") from None
        return RayPipelineExecutor(pipeline, cpus_per_task=ex.ray_cpus_per_task,
                                   mem_per_cpu_gb=ex.ray_mem_per_cpu_gb, **common)
    raise TraitError(f"select.executor.kind: unknown executor {ex.kind!r} (local, slurm, ray)")


@contextmanager
def _progress_bar(progress_dir: Path) -> Iterator[None]:
    """Show the scored-doc count of all tasks (they report through small files: works for any executor)."""
    stop = threading.Event()

    def watch() -> None:
        with progress() as bar:
            task = bar.add_task("score: documents", total=None)
            while not stop.wait(0.5):
                bar.update(task, completed=_count(progress_dir))
            bar.update(task, completed=_count(progress_dir))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def _count(progress_dir: Path) -> int:
    total = 0
    for p in glob(str(progress_dir / "*.json")):
        try:
            total += int(read_json(p)["scored"])
        except (OSError, ValueError, KeyError):
            pass  # a file being replaced right now: counted on the next poll
    return total


def run_pipeline(executor: Any, out_dir: Path, bar: bool = True) -> bool:
    """Run (or resume) the executor; True when every task is complete.

    Local and Ray block until done; Slurm returns after submitting the job array, so the step is
    completed by a later run once the jobs have finished.
    """
    if executor.get_incomplete_ranks(skip_completed=True):
        blocking = type(executor).__name__ != "SlurmPipelineExecutor"
        with _progress_bar(out_dir / "progress") if blocking and bar else nullcontext():
            try:
                if type(executor).__name__ == "RayPipelineExecutor":
                    import ray

                    if not ray.is_initialized():
                        ray.init()
                executor.run()
            except FileNotFoundError as e:
                if "sbatch" in str(e):
                    raise TraitError("select.executor.kind=slurm: 'sbatch' not found (is this a Slurm "
                                     "login node?)") from None
                raise
    return not executor.get_incomplete_ranks(skip_completed=True)


def collect_summary(out_dir: Path) -> dict[str, Any]:
    """Docs read, scored and skipped (by reason, with the first locations) over all tasks."""
    stats = ReadStats()
    for p in sorted(glob(str(out_dir / "read_stats" / "*.json"))):
        d = read_json(p)
        other = ReadStats(read=d["read"], examples=d["skip_examples"], files=d.get("files", []))
        other.skipped.update(d["skipped"])
        stats.merge(other)
    scored = sum(read_json(p)["scored"] for p in glob(str(out_dir / "progress" / "*.json")))
    shards = sorted(glob(str(out_dir / "scores" / SHARD_GLOB)))
    return {"docs_read": stats.read, "docs_scored": scored, "docs_skipped": sum(stats.skipped.values()),
            "skipped": dict(stats.skipped), "skip_examples": stats.examples, "shards": len(shards),
            "files": sorted(stats.files, key=lambda f: f["path"])}


def score_shards(out_dir: Path) -> list[str]:
    return sorted(glob(str(Path(out_dir) / "scores" / SHARD_GLOB)))
