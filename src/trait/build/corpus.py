"""Tokenise, budget, mix, shuffle and pack text sources into one training corpus on disk.

Every step goes through ``datasets`` and its on-disk Arrow cache, so a corpus larger than memory
streams: documents are written by a generator, tokenised by ``map`` (batched, cached under an
explicit fingerprint, so a rerun reuses the tokens), sampled by token budget, shuffled with the
seed and packed into ``seq_len`` blocks. Only token counts (one integer per document) live in RAM.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trait.build.budget import Want, allocate, choose_docs
from trait.contamination import ContaminationLog, Decontamination
from trait.corpus import CorpusEntry
from trait.errors import TraitError
from trait.io import ReadStats, iter_docs, read_json, write_json
from trait.steps import config_hash, fingerprint
from trait.ui import info


@dataclass(frozen=True)
class CorpusSource:
    """One named input of a corpus and its budget: ``tokens`` (absolute), ``fraction`` (of the total),
    or neither (share what is left, in proportion to the tokens the source has)."""

    name: str
    paths: tuple[str | CorpusEntry, ...] = ()  # files, globs, folders or entries with their own keys
    texts: tuple[str, ...] | None = None
    tokens: int | None = None
    fraction: float | None = None
    max_epochs: float = 1.0
    text_key: str = "text"
    id_key: str | None = "id"
    exclude: tuple[str, ...] = field(default=(), metadata={"doc": "files whose docs must not be used"})
    sample_rate: float = 1.0
    sample_seed: int = 0
    on_bad_record: str = "skip"
    decontaminate: Decontamination | None = None  # drops docs holding a test item

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(p if isinstance(p, CorpusEntry) else str(p) for p in self.paths))
        object.__setattr__(self, "exclude", tuple(str(p) for p in self.exclude))
        if self.texts is not None:
            object.__setattr__(self, "texts", tuple(self.texts))
        where = f"corpus source {self.name!r}"
        if not self.name:
            raise TraitError("corpus source: empty name")
        if (self.texts is None) == (not self.paths):
            raise TraitError(f"{where}: give either paths or texts")
        if self.tokens is not None and self.fraction is not None:
            raise TraitError(f"{where}: give a token budget or a fraction, not both")
        if self.tokens is not None and self.tokens < 0:
            raise TraitError(f"{where}: tokens must be >= 0 (got {self.tokens})")
        if self.fraction is not None and not 0 <= self.fraction <= 1:
            raise TraitError(f"{where}: fraction must be in [0, 1] (got {self.fraction})")
        if self.max_epochs < 1:
            raise TraitError(f"{where}: max_epochs must be >= 1 (got {self.max_epochs})")
        if not 0 < self.sample_rate <= 1:
            raise TraitError(f"{where}: sample_rate must be in (0, 1] (got {self.sample_rate})")

    def identity(self) -> dict[str, Any]:
        """What the tokenised cache of this source depends on (not its budget)."""
        d = {k: v for k, v in asdict(self).items() if k not in ("tokens", "fraction", "max_epochs")}
        d["files"] = fingerprint(self.paths + self.exclude)
        # the test splits it is checked against: a changed test file re-tokenises
        d["decontaminate"] = self.decontaminate.identity() if self.decontaminate else None
        if self.texts is not None:
            d["texts"] = hashlib.sha256("\x00".join(self.texts).encode()).hexdigest()
        return d


def build_corpus(sources: Sequence[CorpusSource], tokenizer_path: str | Path, seq_len: int, seed: int,
                 out_dir: str | Path, *, total_tokens: int | None = None, cache_dir: str | Path | None = None,
                 num_proc: int = 1, separator_token: str | None = None) -> dict[str, Any]:
    """Build ``out_dir/dataset`` (packed ``input_ids`` blocks, ``save_to_disk``) and return its summary.

    The summary (also ``out_dir/corpus.json``) lists, per source, the tokens available, requested
    and used, the epochs that implies, any shortfall and every skipped or excluded record. An
    unchanged call returns the saved summary without touching the data again.
    """
    from transformers import AutoTokenizer

    out_dir = Path(out_dir)
    cache_dir = Path(cache_dir) if cache_dir else out_dir / "cache"
    names = [s.name for s in sources]
    if not sources or len(set(names)) != len(names):
        raise TraitError(f"corpus: need at least one source and unique names (got {names})")
    tok_id = _tokenizer_id(tokenizer_path)
    key = config_hash({"sources": [asdict(s) | s.identity() for s in sources], "tokenizer": tok_id,
                       "seq_len": seq_len, "seed": seed, "total": total_tokens, "sep": separator_token})
    summary_path, dataset_dir = out_dir / "corpus.json", out_dir / "dataset"
    if summary_path.exists() and dataset_dir.exists() and read_json(summary_path).get("key") == key:
        return read_json(summary_path)

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_path))
    sep_id = _separator_id(tokenizer, separator_token, tokenizer_path)
    tokenised = [_tokenise(s, tokenizer, sep_id, tok_id, cache_dir, num_proc) for s in sources]
    lengths = [np.asarray(ds.data.column("n_tokens").to_numpy(), dtype=np.int64) for ds, _ in tokenised]
    wants = [Want(s.name, int(n.sum()), s.tokens, s.fraction, s.max_epochs) for s, n in zip(sources, lengths)]
    requested, granted = allocate(wants, total_tokens)

    parts, report, warnings = [], {}, []
    for s, (ds, read), n, req, take in zip(sources, tokenised, lengths, requested, granted):
        rows, partial = choose_docs(n, take, seed=_sub_seed(seed, s.name))
        if len(rows):
            parts.append(ds.select(rows))
        if partial is not None:
            parts.append(_truncated(ds, *partial, sep_id))
        avail = int(n.sum())
        report[s.name] = {"docs_available": len(n), "tokens_available": avail, "requested": req,
                          "tokens": take, "docs": int(len(rows) + (partial is not None)),
                          "epochs": round(take / avail, 3) if avail else 0.0,
                          "short_by": req - take, "truncated_last_doc": partial is not None, **read}
        if req > take:
            msg = (f"source {s.name}: has {avail} tokens, {req} requested; using {take} "
                   f"(max_epochs={s.max_epochs}), short by {req - take}")
            warnings.append(msg)
            info(f"[yellow]warning:[/yellow] {msg}")
        if take > avail:
            warnings.append(f"source {s.name}: repeated {take / avail:.2f} epochs to meet its budget")
    if not parts:
        raise TraitError(f"corpus {out_dir}: every source is empty, nothing to train on")
    blocks = _pack(parts, seq_len, seed, out_dir, num_proc)
    used = sum(r["tokens"] for r in report.values())
    n_blocks = len(blocks)
    packed = n_blocks * seq_len
    if n_blocks == 0:
        raise TraitError(f"corpus {out_dir}: {used} tokens do not fill one block of seq_len={seq_len}")
    for r in report.values():
        r["share"] = round(r["tokens"] / used, 4) if used else 0.0
    _save_atomic(blocks, dataset_dir)
    summary = {"key": key, "dataset": str(dataset_dir), "seq_len": seq_len, "seed": seed,
               "tokenizer": str(tokenizer_path), "separator_id": sep_id, "total_requested": total_tokens,
               "tokens_selected": used, "blocks": n_blocks, "tokens": packed,
               "dropped_tokens": used - packed, "sources": report, "warnings": warnings}
    write_json(summary_path, summary)
    mix = ", ".join(f"{k} {v['tokens']}" for k, v in report.items())
    info(f"corpus {out_dir.name}: {n_blocks} blocks x {seq_len} = {packed} tokens ({mix})")
    return summary


# ---- tokenising -------------------------------------------------------------------------------------

def _tokenizer_id(path: str | Path) -> str:
    """A content hash of the tokenizer files: the token cache is valid only for the same tokenizer."""
    h = hashlib.sha256()
    files = sorted(p for p in Path(path).glob("*") if p.name.startswith(("tokenizer", "special_tokens",
                                                                          "vocab", "merges")))
    if not files:
        raise TraitError(f"tokenizer {path}: no tokenizer files in the folder")
    for p in files:
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


def _separator_id(tokenizer: Any, token: str | None, path: str | Path) -> int:
    if token is None:
        if tokenizer.eos_token_id is None:
            raise TraitError(f"tokenizer {path}: has no EOS token; set build.separator_token")
        return int(tokenizer.eos_token_id)
    # Look the token up in the vocabulary: comparing with unk_token_id would reject a real token that
    # doubles as the unknown token (SmolLM2's <|endoftext|> is both, id 0).
    tid = tokenizer.get_vocab().get(token)
    if tid is None:
        raise TraitError(f"build.separator_token: {token!r} is not a token of {path}")
    return int(tid)


def _sub_seed(seed: int, name: str) -> int:
    return int(config_hash({"seed": seed, "source": name}), 16) % (2**32)


def _tokenise(src: CorpusSource, tokenizer: Any, sep_id: int, tok_id: str, cache_dir: Path,
              num_proc: int) -> tuple[Any, dict[str, Any]]:
    """Documents -> Arrow (streamed by a generator) -> token ids + counts (batched map), both cached."""
    from datasets import Dataset, Features, Value

    key = config_hash({"source": src.identity()})
    stats_path = cache_dir / "stats" / f"{src.name}-{key}.json"
    from datasets.exceptions import DatasetGenerationError

    try:
        raw = Dataset.from_generator(
            _gen_texts, features=Features({"text": Value("string")}), cache_dir=str(cache_dir / "raw"),
            fingerprint=f"docs-{key}", gen_kwargs={"src": src, "stats_path": str(stats_path)})
    except DatasetGenerationError as e:
        if isinstance(e.__cause__, TraitError):  # our one-line error, raised inside the generator
            raise e.__cause__ from None
        raise
    except ValueError as e:
        if "corresponds to no data" not in str(e):
            raise
        # Every document was excluded, sampled out or skipped: an empty source, reported as such.
        empty = Dataset.from_dict({"input_ids": [], "n_tokens": []},
                                  features=Features({"input_ids": [Value("int32")], "n_tokens": Value("int32")}))
        return empty, read_json(stats_path) if stats_path.exists() else {}
    stats = read_json(stats_path) if stats_path.exists() else {}
    procs = num_proc if num_proc > 1 and len(raw) >= 2 * num_proc else None
    ds = raw.map(_tokenise_batch, batched=True, batch_size=500, remove_columns=["text"], num_proc=procs,
                 fn_kwargs={"tokenizer": tokenizer, "sep_id": sep_id},
                 features=Features({"input_ids": [Value("int32")], "n_tokens": Value("int32")}),
                 new_fingerprint=f"tok-{key}-{tok_id}-{sep_id}", desc=f"tokenise {src.name}")
    return ds, stats


def _tokenise_batch(batch: dict[str, list], tokenizer: Any, sep_id: int) -> dict[str, list]:
    ids = tokenizer(batch["text"], add_special_tokens=False)["input_ids"]
    ids = [x + [sep_id] for x in ids]
    return {"input_ids": ids, "n_tokens": [len(x) for x in ids]}


def _gen_texts(src: CorpusSource, stats_path: str):
    """Yield the texts of a source, minus excluded docs, the hash-sampled-out share and docs holding a test
    item; the counts of what was read, skipped, excluded, sampled out and dropped as contaminated (with
    examples) are saved beside the cache for the summary."""
    log = src.decontaminate.log() if src.decontaminate else None
    if src.texts is not None:
        for i, t in enumerate(src.texts):
            if log is None or log.clean(t, where=f"text {i}"):
                yield {"text": t}
        write_json(stats_path, {"read": len(src.texts), "skipped": {}, "excluded": 0, "sampled_out": 0}
                   | _contamination(log))
        return
    ex_places, ex_hashes = _exclusions(src.exclude)
    stats, excluded, sampled_out = ReadStats(), 0, 0
    for doc in iter_docs(src.paths, text_key=src.text_key, id_key=src.id_key,
                         on_error=src.on_bad_record, stats=stats):  # type: ignore[arg-type]
        if (doc.source, doc.line) in ex_places or _text_hash(doc.text) in ex_hashes:
            excluded += 1
            continue
        if src.sample_rate < 1 and _unit_hash(src.sample_seed, doc.id) >= src.sample_rate:
            sampled_out += 1
            continue
        if log is not None and not log.clean(doc.text, id=doc.id, where=f"{doc.source}:{doc.line}"):
            continue
        yield {"text": doc.text}
    write_json(stats_path, stats.to_dict() | {"excluded": excluded, "sampled_out": sampled_out}
               | _contamination(log))


def _contamination(log: ContaminationLog | None) -> dict[str, Any]:
    return {} if log is None else {"decontamination": log.summary()}


def _exclusions(paths: Sequence[str]) -> tuple[set[tuple[str, int]], set[bytes]]:
    """Docs named in ``paths`` (e.g. the selected docs: a folder of shards, streamed), by their origin
    (file, line) and by content."""
    places, hashes = set(), set()
    for doc in iter_docs(paths, on_error="fail"):
        places.add(_origin(doc))
        hashes.add(_text_hash(doc.text))
    return places, hashes


def _origin(doc: Any) -> tuple[str, int]:
    # A selected doc (a Doc record, one per line of the choose step's shards) keeps where it came from
    # in its own ``source``/``line``; iter_docs reads those back as the Doc's fields, not as ``meta``.
    return str(doc.source), int(doc.line or 0)


def _text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _unit_hash(seed: int, doc_id: str) -> float:
    h = hashlib.blake2b(f"{seed}:{doc_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def _truncated(ds: Any, row: int, n: int, sep_id: int) -> Any:
    """The first ``n`` tokens of one document (ending in the separator), to meet a budget exactly."""
    from datasets import Dataset

    ids = list(ds[row]["input_ids"][: max(n - 1, 0)]) + [sep_id]
    return Dataset.from_dict({"input_ids": [ids], "n_tokens": [len(ids)]}, features=ds.features)


# ---- packing ----------------------------------------------------------------------------------------

def _pack(parts: list[Any], seq_len: int, seed: int, out_dir: Path, num_proc: int) -> Any:
    """Shuffle documents across sources, then cut the token stream into ``seq_len`` blocks."""
    from datasets import Features, Value, concatenate_datasets

    work = out_dir / ".work"  # scratch of this build only: never reused, so a stale plan cannot leak in
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    docs = concatenate_datasets(parts).shuffle(seed=seed, keep_in_memory=True).flatten_indices(
        cache_file_name=str(work / "docs.arrow"))
    procs = num_proc if num_proc > 1 and len(docs) >= 4 * num_proc else None
    blocks = docs.with_format("arrow").map(
        _pack_batch, batched=True, batch_size=2000, fn_kwargs={"seq_len": seq_len},
        remove_columns=docs.column_names, num_proc=procs, load_from_cache_file=False,
        features=Features({"input_ids": [Value("int32")]}), cache_file_name=str(work / "blocks.arrow"),
        desc="pack")
    return blocks.with_format(None).shuffle(seed=seed + 1, keep_in_memory=True)


def _pack_batch(batch: Any, seq_len: int) -> Any:
    """Arrow in, Arrow out: flatten the token lists and cut them into rows without copying to Python."""
    import pyarrow as pa

    chunks = [c.flatten() for c in batch.column("input_ids").chunks]
    flat = pa.concat_arrays(chunks) if chunks else pa.array([], pa.int32())
    n = len(flat) // seq_len
    offsets = pa.array(np.arange(0, n * seq_len + 1, seq_len, dtype=np.int32))
    return pa.table({"input_ids": pa.ListArray.from_arrays(offsets, flat.slice(0, n * seq_len))})


def _save_atomic(ds: Any, target: Path) -> None:
    """save_to_disk into a temp folder, then rename: a crash never leaves a half dataset as ``dataset``."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ds.save_to_disk(str(tmp))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    shutil.rmtree(target.parent / ".work", ignore_errors=True)
