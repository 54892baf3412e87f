"""Gather what a run produced (step summaries, samples, logs) into plain data for the page.

Only the steps of the run's last command are read (``<run>/last.json``, written by the step engine),
and only once complete: the report shows exactly the run that produced its table, never folders left
by earlier configs, and never half-written work.
"""

from __future__ import annotations

import glob
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trait.io import iter_docs, iter_rows, read_json
from trait.report import passages as samples
from trait.report import plots
from trait.report.fmt import num, pct
from trait.steps import last_steps, latest

MAX_HIST = 200_000
SNIPPET = 1500
KEPT_SHOWN, REJECTED_SHOWN = 3, 2  # synthetic passages shown with their checks


SELECT_KEYS = ("method", "docs_scored", "kept", "kept_before_dedup", "rule", "keep_fraction", "threshold",
               "tokens_kept.words", "tokens_kept.chars", "scores_read.skipped")
CLASSIFIER_KEYS = ("roc_auc", "precision", "recall", "f1", "n_train", "n_heldout")
JUDGE_KEYS = ("domain", "precision", "kept.ci95", "kept.judged", "kept.unanswered", "dropped.in_domain_rate",
              "dropped.ci95", "dropped.judged", "recall_estimate", "agreement_with_labels.accuracy",
              "agreement_with_labels.answered", "llm.model", "llm.calls", "llm.cache_hits")
SYNTH_KEYS = ("passages", "planned", "rejected", "rejection_rate", "agreement.first_try",
              "agreement.after_regeneration", "cross_task_fraction", "problems", "prompt_hash", "wall_s")
LLM_KEYS = ("backend", "model", "requests", "calls", "cache_hits", "sent", "failed", "failure_reasons",
            "retries", "prompt_tokens", "completion_tokens", "cost_usd")


def pick(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The named (dotted) keys of a summary that a reader needs first; the rest stays one click away."""
    out = {}
    for key in keys:
        node: Any = d
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            out[key] = node
    return out


def _output(step_dir: Path, name: str, default: str) -> Path:
    """A file the step declared (``config.json`` outputs)."""
    outputs = read_json(step_dir / "config.json").get("outputs") or {}
    return step_dir / outputs.get(name, default)


def _summary(run_dir: Path, stage: str) -> tuple[Path | None, dict[str, Any]]:
    path = latest(run_dir, stage)
    if path is None or not (path / "summary.json").exists():
        return path, {}
    return path, read_json(path / "summary.json")


def selection(run_dir: Path) -> dict[str, Any] | None:
    choose_dir, choose = _summary(run_dir, "choose")
    if not choose:
        return None
    _, classify = _summary(run_dir, "classify")
    classifier = classify.get("metrics") or choose.get("classifier", {}).get("metrics") or {}
    dropped = choose.get("dropped_by_reason", {})
    counts = pick(choose, SELECT_KEYS)
    out: dict[str, Any] = {"classifier": pick(classifier, CLASSIFIER_KEYS) if isinstance(classifier, dict) else {},
                           "all": choose,
                           "precision": choose.get("general_precision") or {}, "counts": counts,
                           "dropped": dropped, "plots": [], "kept_examples": [], "dropped_examples": []}
    _, judge = _summary(run_dir, "judge")
    out["judge"] = pick(judge, JUDGE_KEYS) if judge else {}
    settings = read_json(choose_dir / "config.json").get("config", {})
    score_dir = latest(run_dir, "score")
    if score_dir is not None:
        from trait.select.score import iter_scores  # score rows hold no text: not Doc files

        shards = sorted(glob.glob(str(score_dir / "scores" / "*.jsonl*")))
        scores = [d.scores for d in itertools.islice(iter_scores(shards), MAX_HIST)]
        for key, title, threshold in (("domain", "Domain score of the general corpus", choose.get("threshold")),
                                      ("quality", "Educational-quality score of the general corpus",
                                       settings.get("quality_min_score"))):
            values = [v[key] for v in scores if isinstance(v.get(key), (int, float))]
            if values:
                out["plots"].append(plots.histogram(values, title=title, xlabel=f"{key} score",
                                                    threshold=threshold))
    out["quality"] = _quality(settings, choose)
    selected = _output(choose_dir, "selected", "selected.jsonl.gz")
    if selected.exists():
        docs = sorted(itertools.islice(iter_docs([selected]), 2000), key=lambda d: -d.scores.get("domain", 0))
        out["kept_examples"] = [{"title": d.meta.get("title", d.id), "score": f"{d.scores.get('domain', 0):.3f}",
                                 "text": d.text[:SNIPPET]} for d in docs[:6]]
    dropped_samples = _output(choose_dir, "dropped_samples", "dropped_samples.json")
    if dropped_samples.exists():
        for reason, docs in read_json(dropped_samples).items():
            for d in docs[:3]:
                shown = ", ".join(f"{k} {num(v)}" for k, v in (d.get("scores") or {}).items())
                out["dropped_examples"].append({"title": d.get("title") or d.get("id"), "reason": reason,
                                                "scores": shown,
                                                "text": str(d.get("text") or d.get("snippet") or "")[:SNIPPET]})
    return out


def _quality(settings: dict[str, Any], choose: dict[str, Any]) -> str:
    """One sentence on the educational-quality filter: its cut, and how much it dropped."""
    scorer, cut = settings.get("quality_scorer"), settings.get("quality_min_score")
    if scorer in (None, "none") or not cut:
        return "No quality filter ran (select.quality.scorer=none or min_score=0): every document could be chosen."
    dropped, scored = choose.get("dropped_by_reason", {}).get("low_quality", 0), choose.get("docs_scored", 0)
    share = f" ({pct(dropped / scored)})" if scored else ""
    return (f"The quality filter ({scorer} scorer) drops documents scoring below {num(cut)}: it dropped "
            f"{num(dropped)} of {num(scored)} documents{share}" + (", shown below with their scores." if dropped
                                                                   else "."))


def synthesis(run_dir: Path) -> dict[str, Any] | None:
    path, s = _summary(run_dir, "synthesize")
    if not s:
        return None
    llm = s.get("llm", {})
    hinted, applied = s.get("trivially_true", []), samples.applied(s)
    kept, rejected = _output(path, "passages", "passages.jsonl"), _output(path, "rejected", "rejected.jsonl")
    counts = pick(s, SYNTH_KEYS)
    for key in ("rejection_rate", "agreement.first_try", "agreement.after_regeneration", "cross_task_fraction"):
        if key in counts:
            counts[key] = pct(counts[key])
    return {"counts": counts, "llm": pick(llm, LLM_KEYS), "all": s, "checks": samples.check_rates(s),
            "truncation": s.get("truncation"), "hinted": hinted,
            "kept": samples.kept(kept, KEPT_SHOWN, applied, hinted) if kept.exists() else [],
            "rejected": samples.rejected(rejected, REJECTED_SHOWN, applied, hinted) if rejected.exists() else []}


def domain(run_dir: Path, given: str | None) -> str | None:
    """The domain's name: as given, else from the ``domain`` section a step of the run hashed; never the
    placeholder a config that names no domain has."""
    from trait.domain import DomainConfig

    unnamed = DomainConfig.model_fields["name"].default
    if given and given != unnamed:
        return given
    for step in last_steps(run_dir):
        config = Path(step["path"]) / "config.json"
        found = _find_domain(read_json(config).get("config", {})) if config.exists() else None
        if found and found != unnamed:
            return found
    return None


def _find_domain(node: Any) -> str | None:
    if isinstance(node, dict):
        d = node.get("domain")
        if isinstance(d, dict) and isinstance(d.get("name"), str):
            return d["name"]
        return next((f for v in node.values() if (f := _find_domain(v))), None)
    return None


def decontamination(run_dir: Path) -> dict[str, Any] | None:
    """What the test-item check dropped at each place it runs, with a few examples: the evidence that
    no test item was trained on. Build sources are the same in every arm: the first build that reads
    one reports it."""
    places: dict[str, dict[str, Any]] = {}
    choose_dir, choose = _summary(run_dir, "choose")
    if choose and choose.get("decontamination", {}).get("enabled"):
        dropped = choose.get("dropped_by_reason", {}).get("contaminated", 0)
        samples = _output(choose_dir, "dropped_samples", "dropped_samples.json")
        places["selection (chosen docs)"] = {"checked": choose.get("kept", 0) + dropped, "dropped": dropped,
                                             "examples": read_json(samples).get("contaminated", [])
                                             if samples.exists() else []}
    for stage, label in (("synthesize", "synthesis (train problems)"),
                         ("task_data", "task data (train items)")):
        block = _summary(run_dir, stage)[1].get("decontamination")
        if block:
            places[label] = block
    for step in last_steps(run_dir):
        if step["stage"].startswith("build_") and (path := latest(run_dir, step["stage"])) is not None:
            for source, block in read_json(path / "summary.json").get("decontamination", {}).items():
                places.setdefault(f"build: {source}", block)
    if not places:
        return None
    rows = [{"place": k, "checked": num(v.get("checked", 0)), "dropped": num(v.get("dropped", 0)),
             "by_rule": ", ".join(f"{r} {num(n)}" for r, n in v.get("by_rule", {}).items())}
            for k, v in places.items()]
    examples = [{"title": f"{k}: {e.get('id') or e.get('where', '')} matches {e.get('matched_test_item')}"
                          f" ({e.get('rule', 'ngram')})", "shared": e.get("shared", ""),
                 "text": str(e.get("text", ""))[:SNIPPET]}
                for k, v in places.items() for e in v["examples"][:2]]
    return {"rows": rows, "examples": examples}


def loss_plots(run_dir: Path) -> list[str]:
    """One plot per trained model: the loss logs of the last command's train steps."""
    curves: dict[str, tuple[list[float], list[float]]] = {}
    train_dirs = [Path(s["path"]) for s in last_steps(run_dir) if s["stage"].startswith("train")]
    seeds = {d.name: read_json(d / "config.json")["config"].get("seed") for d in train_dirs
             if (d / "config.json").exists()}
    many = len(set(seeds.values())) > 1  # ablate.seeds: one curve per seed, named by it
    for f in sorted(f for d in train_dirs for f in glob.glob(str(d / "**" / "loss*.jsonl"), recursive=True)):
        rel = Path(f).relative_to(run_dir)
        seed = f" seed {seeds.get(rel.parts[0])}" if many else ""
        name = f"{rel.parts[0].rsplit('-', 1)[0]}{seed}/{Path(f).parent.name}"
        xs, ys = [], []
        for _, row in iter_rows(f):
            if "loss" in row and "step" in row:
                xs.append(row["step"])
                ys.append(row["loss"])
        if xs:
            curves[name] = (xs, ys)
    return [plots.loss_curves(curves, title="Training loss per stage")] if curves else []


def collect(run_dir: Path, domain_name: str | None = None) -> dict[str, Any]:
    run_dir = Path(run_dir)
    _, ablation = _summary(run_dir, "ablate")
    _, evaluation = _summary(run_dir, "evaluate")  # ``trait run``: the base model and TRAIT's, joined
    joined = ablation or evaluation
    eval_rows = [r for r in evaluation.get("rows", []) if r["task"] != "avg"] if evaluation else []
    steps = [(s["stage"], s["hash"], s.get("status", ""), Path(s["path"]).name) for s in last_steps(run_dir)]
    from trait.report.tables import ablation_view, results_view

    return {"run": run_dir.name, "run_dir": str(run_dir), "domain": domain(run_dir, domain_name),
            "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "selection": selection(run_dir), "synthesis": synthesis(run_dir),
            "decontamination": decontamination(run_dir),
            "build": joined.get("mixes") if joined else None,
            "training": joined.get("training") if joined else None, "loss_plots": loss_plots(run_dir),
            "checkpoints": joined.get("checkpoints") if joined else None,
            "ablation": ablation_view(ablation) if ablation else None,
            "verdict": ablation.get("verdict") if ablation else None,
            "results": results_view(eval_rows) if eval_rows else None,
            "steps": steps}
