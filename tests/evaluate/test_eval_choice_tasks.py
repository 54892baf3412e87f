"""Multiple-choice and classification tasks through lm-eval's own ``multiple_choice`` scoring.

Two data sets per type. "known": the gold is always the same text (``blue``; the label ``Exact``, whose
verbalizer is ``exact match``), at a different position in every item and given as a letter, an index,
the choice text or the label name; a tiny model tuned to always answer with it must score 1.0, which it
only does if every gold reaches lm-eval as the right choice index. "balanced": every choice is gold
equally often, so a model whose pick does not depend on the question, as a random one's barely does,
scores chance (1/4, 1/3).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trait.evaluate.config import EvaluateConfig
from trait.evaluate.settings import EvalSettings
from trait.tasks import TaskSpec

COLOURS = ["red", "green", "blue", "black"]
LABELS = {"Exact": "exact match", "Substitute": "substitute", "Irrelevant": "irrelevant"}
WORDS = ["apple", "river", "candle", "violin", "harbor", "pencil"]


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _specs(d: Path) -> list[TaskSpec]:
    # blue at every position, its gold as a letter, an index, the text, a lowercase letter
    known_mc = [{"id": f"k{i}", "question": f"Colour of the {w}?", "choices": COLOURS[i:] + COLOURS[:i],
                 "answer": gold} for i, (w, gold) in enumerate(zip(WORDS, ["C", 1, "blue", "d"]))]
    known_fields = [{"id": f"f{i}", "question": f"Sky over the {w}?", **dict(zip(["opa", "opb", "opc"], opts)),
                     "cop": opts.index("blue")}
                    for i, (w, opts) in enumerate(zip(WORDS, (["blue", "red", "green"], ["red", "green", "blue"])))]
    known_cls = [{"id": f"c{i}", "query": w, "title": f"{w} deluxe", "label": "Exact"} for i, w in enumerate(WORDS)]
    balanced_mc = [{"id": f"b{i}", "question": f"Colour of the {w}?", "choices": COLOURS, "answer": "ABCD"[i % 4]}
                   for i, w in enumerate(WORDS[:4])]
    names = list(LABELS)
    balanced_cls = [{"id": f"d{i}", "query": w, "title": f"{w} deluxe", "label": names[i % 3]}
                    for i, w in enumerate(WORDS)]
    cls = {"type": "classification", "input_template": "Query: {query}\nProduct: {title}", "answer_field": "label",
           "labels": LABELS}
    return [TaskSpec(name="known_mc", type="multiple_choice", id_field="id", test=_jsonl(d / "known_mc.jsonl", known_mc)),
            TaskSpec(name="known_fields", type="multiple_choice", test=_jsonl(d / "known_fields.jsonl", known_fields),
                     choice_fields=["opa", "opb", "opc"], answer_field="cop"),
            TaskSpec(name="known_cls", test=_jsonl(d / "known_cls.jsonl", known_cls), **cls),
            TaskSpec(name="balanced_mc", type="multiple_choice", test=_jsonl(d / "balanced_mc.jsonl", balanced_mc)),
            TaskSpec(name="balanced_cls", test=_jsonl(d / "balanced_cls.jsonl", balanced_cls), **cls),
            TaskSpec(name="free_text", checker="f1", test=_jsonl(d / "free_text.jsonl", [
                {"question": f"Name the {w}.", "answer": f"the {w}"} for w in WORDS[:2]]))]


def _tune_on_gold(model: Path, specs: list[TaskSpec], out: Path) -> Path:
    """The model after a few AdamW steps on (prompt, gold choice text) of the known items."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trait.evaluate.items import eval_items, target_text
    from trait.evaluate.task_loss import encode

    tok = AutoTokenizer.from_pretrained(model)
    seqs = [encode(tok, p, 128, target_text(s, p)) for s in specs if s.name.startswith("known")
            for p in eval_items(s, "test", None, 0)]
    width = max(len(x) for x, _ in seqs)
    ids = torch.tensor([x + [0] * (width - len(x)) for x, _ in seqs])
    labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in seqs])
    mask = (torch.arange(width)[None] < torch.tensor([len(x) for x, _ in seqs])[:, None]).long()
    torch.manual_seed(0)
    m = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    for _ in range(25):
        m(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
    m.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def evaluated(tiny_model, tmp_path_factory):
    """Rows and items of the random tiny model and of the tuned one, over the six tasks."""
    import torch

    from trait.evaluate.per_item import read_items
    from trait.evaluate.results import as_dict, evaluate_model

    d = tmp_path_factory.mktemp("choice")
    specs = _specs(d)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only contend for the CPU
    try:
        tuned = _tune_on_gold(tiny_model, specs, d / "tuned")
        ev = EvaluateConfig(num_fewshot=0, limit=None, general_ability=False, bootstrap_iters=200, batch_size=32,
                            max_gen_tokens=8)
        out = {}
        for name, model in (("random", tiny_model), ("tuned", tuned)):
            s = EvalSettings(evaluate=ev, tasks=specs, base_model=str(model), run_dir=d / f"run_{name}")
            rows = evaluate_model(s, model, name, d / name)
            out[name] = {"rows": rows, "table": as_dict(rows)[name], "items": read_items(d / name / "items.jsonl"),
                         "dir": d / name}
    finally:
        torch.set_num_threads(threads)
    return out


def test_a_model_tuned_to_the_gold_text_scores_one(evaluated):
    t = evaluated["tuned"]["table"]
    for task in ("known_mc", "known_fields"):
        assert (t[task]["acc"]["value"], t[task]["acc_norm"]["value"]) == (1.0, 1.0)
    assert (t["known_cls"]["acc"]["value"], t["known_cls"]["macro_f1"]["value"]) == (1.0, 1.0)
    assert t["known_mc"]["acc"]["n"] == 4 and t["known_mc"]["acc"]["ci_method"] == "wilson"
    # the tuned model picks blue / exact match whatever the question: on balanced items, exactly chance
    assert t["balanced_mc"]["acc"]["value"] == pytest.approx(1 / 4)
    assert t["balanced_cls"]["acc"]["value"] == pytest.approx(1 / 3)
    # macro-F1 of a constant pick over three balanced labels: F1 1/2 on one label, 0 on two
    assert t["balanced_cls"]["macro_f1"]["value"] == pytest.approx(1 / 6)
    assert t["balanced_cls"]["macro_f1"]["ci_method"] == "bootstrap"


def test_a_random_model_scores_near_chance(evaluated):
    t = evaluated["random"]["table"]
    assert abs(t["balanced_mc"]["acc"]["value"] - 1 / 4) <= 0.25
    assert abs(t["balanced_cls"]["acc"]["value"] - 1 / 3) <= 1 / 3
    assert t["balanced_cls"]["macro_f1"]["value"] <= 0.5


def test_task_loss_is_the_gold_texts_nll_and_falls_with_tuning(evaluated):
    rand, tuned = evaluated["random"]["table"], evaluated["tuned"]["table"]
    for task in ("known_mc", "known_fields", "known_cls"):
        assert tuned[task]["task_loss"]["value"] < 0.5 * rand[task]["task_loss"]["value"]
    from trait.io import read_jsonl

    tokens = {r["id"]: r["tokens"] for r in read_jsonl(evaluated["tuned"]["dir"] / "task_loss" / "known_cls.jsonl")}
    assert set(tokens.values()) == {len(" exact match")}  # the byte-level tokens of the gold verbalizer


def test_samples_show_each_choice_and_the_pick(evaluated):
    from trait.io import read_jsonl

    samples = read_jsonl(evaluated["tuned"]["dir"] / "samples" / "known_cls.jsonl")
    assert all(s["choices"] == list(LABELS.values()) and s["predicted"] == "exact match" for s in samples)
    assert all(len(s["loglikelihoods"]) == 3 and s["acc"] == 1 and s["gold"] == "Exact" for s in samples)
    assert samples[0]["prompt"].startswith("Question: Query: ") and samples[0]["prompt"].endswith("\nAnswer:")
    mc = read_jsonl(evaluated["tuned"]["dir"] / "samples" / "known_fields.jsonl")
    assert [s["gold"] for s in mc] == ["A", "C"] and all(s["predicted"] == "blue" for s in mc)


def test_per_item_accuracy_feeds_the_paired_bootstrap(evaluated):
    from trait.evaluate.stats import paired_bootstrap

    tuned, rand = evaluated["tuned"]["items"], evaluated["random"]["items"]
    assert tuned[("known_mc", "acc")] == {f"k{i}": (1, 1) for i in range(4)}
    assert ("known_cls", "macro_f1") not in tuned  # no sum over items: no per-item rows
    p = paired_bootstrap(tuned[("known_cls", "acc")], rand[("known_cls", "acc")], iters=200)
    assert p.n_items == 6 and p.diff == 1.0 - evaluated["random"]["table"]["known_cls"]["acc"]["value"]


def test_new_metrics_flow_through_the_table_the_seed_join_and_the_report(evaluated):
    """acc / acc_norm / macro_f1 rows: the text table, two seeds of one arm joined (macro-F1 has no
    per-item values: the seeds' mean), the task averages and the report's view."""
    from trait.ablate.join import averages
    from trait.ablate.paired import REFERENCE, over_seeds, paired
    from trait.evaluate.results import format_table
    from trait.report.tables import ablation_view

    runs = [evaluated[m] for m in ("random", "tuned")]
    assert len(format_table(runs[0]["rows"]).splitlines()) == len(runs[0]["rows"]) + 1
    boot = {"iters": 100, "confidence": 0.95, "seed": 0}
    seeds = [[r | {"model": REFERENCE} for r in run["rows"]] for run in runs]
    joined = over_seeds(seeds, [run["items"] for run in runs], boot)
    by_key = {(r["task"], r["metric"]): r for r in joined}
    f1 = [run["table"]["balanced_cls"]["macro_f1"]["value"] for run in runs]
    assert by_key[("balanced_cls", "macro_f1")]["value"] == pytest.approx(sum(f1) / 2)
    acc = [run["table"]["known_cls"]["acc"]["value"] for run in runs]
    assert by_key[("known_cls", "acc")]["value"] == pytest.approx(sum(acc) / 2)  # per item over seeds
    rows = joined + [r | {"model": "base", "n_seeds": 1} for r in runs[0]["rows"]]
    rows += averages(rows)
    items = {REFERENCE: [run["items"] for run in runs], "base": [runs[0]["items"]]}
    pairs = paired(items, boot)
    assert {p["metric"] for p in pairs} == {"acc", "acc_norm", "exact_match", "f1", "task_loss"}  # not macro_f1
    view = ablation_view({"rows": rows, "paired": pairs, "confidence": 0.95,
                          "costs": {a: {"train_tokens": 0, "llm_calls": 0, "llm_cost_usd": 0.0} for a in items}})
    assert {"balanced_cls macro_f1", "known_mc acc_norm", "avg acc"} <= set(view["columns"]) | set(
        view.get("detail_columns", []))


def test_a_free_text_task_reports_token_f1_with_a_bootstrap_interval(evaluated):
    from trait.io import read_jsonl

    t = evaluated["random"]["table"]["free_text"]
    assert set(t) == {"exact_match", "f1", "task_loss"}
    assert t["exact_match"]["ci_method"] == "wilson" and t["f1"]["ci_method"] == "bootstrap"
    assert 0.0 <= t["f1"]["ci_low"] <= t["f1"]["value"] <= t["f1"]["ci_high"] <= 1.0
    samples = read_jsonl(evaluated["random"]["dir"] / "samples" / "free_text.jsonl")
    from trait.answers import token_f1

    assert [s["f1"] for s in samples] == [token_f1(s["extracted"], s["gold"]) for s in samples]
    assert set(evaluated["random"]["items"][("free_text", "f1")]) == {"free_text-test-00000", "free_text-test-00001"}


def test_generated_yaml_names_lm_evals_multiple_choice_and_runs_without_trait(evaluated, monkeypatch):
    import importlib.util
    import sys

    import yaml

    folder = evaluated["tuned"]["dir"] / "lmeval_tasks"
    text = (folder / "trait_balanced_cls.yaml").read_text()
    assert "!function" in text and "utils.macro_f1" in text
    cfg = yaml.load(text.replace("!function", ""), Loader=yaml.SafeLoader)
    assert (cfg["output_type"], cfg["doc_to_choice"], cfg["doc_to_target"]) == ("multiple_choice", "choices", "gold")
    assert [m["metric"] for m in cfg["metric_list"]] == ["acc", "f1"]  # lm-eval's f1 hands over (gold, pred)
    monkeypatch.setitem(sys.modules, "trait", None)  # a plain `lm_eval --include_path` may run without trait
    spec = importlib.util.spec_from_file_location("utils", folder / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    assert utils.macro_f1([(0, 0), (1, 1), (2, 0)]) == pytest.approx((2 / 3 + 1 + 0) / 3)
