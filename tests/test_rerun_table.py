"""Every key of the config reference: change it, and exactly these steps re-run (no more: wasted hours;
no fewer: a stale result). The expected sets are written here by hand, from what each step reads;
they are not computed by the code under test. ``pipeline.plan`` builds the steps ``trait ablate``
would run without running any, and a step "re-runs" when its folder (its hash) changes.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from trait.config import TraitConfig, config_from_dict
from trait.pipeline import plan

TRAINED = ["cpt_seed", "cpt_selected", "synthetic_only", "cpt_task_data", "trait_two_stage", "trait_one_stage"]
ARMS = ["base", *TRAINED]


def chain(*arms: str, build: bool = True, train: bool = True) -> set[str]:
    """The named arms' steps from the first one given (build, train or eval), and the join."""
    out = {"ablate"}
    for a in arms:
        out |= {f"eval_{a}"} | ({f"train_{a}"} if train else set()) | ({f"build_{a}"} if build else set())
    return out


EVALS = chain(*ARMS, build=False, train=False)
TRAINS = chain(*TRAINED, build=False)
ALL_ARMS_BUILT = chain(*TRAINED)
CHOOSE_ON = {"choose"} | ALL_ARMS_BUILT  # every trained arm reads the selection (replay excludes it)
SCORE_ON = {"score"} | CHOOSE_ON
CLASSIFY_ON = {"classify"} | SCORE_ON
SYNTH_ON = {"synthesize"} | chain("synthetic_only", "trait_two_stage", "trait_one_stage")
TASK_DATA_ON = {"task_data"} | chain("cpt_task_data")  # the control arm: tasks' train items as text
EVERYTHING = CLASSIFY_ON | SYNTH_ON | EVALS | TASK_DATA_ON
NOTHING: set[str] = set()

# key -> (new value, steps that must re-run)
TABLE: dict[str, tuple[object, set[str]]] = {
    "run": ("other", EVERYTHING),
    "runs_dir": ("elsewhere", EVERYTHING),
    "seed": (7, EVERYTHING - {"task_data"}),
    "data.seed_corpus": (["seed2.jsonl"], CLASSIFY_ON),
    "data.seed_corpus.0.path": ("seed2.jsonl", CLASSIFY_ON),
    "data.seed_corpus.0.text_key": ("body", CLASSIFY_ON),
    "data.seed_corpus.0.id_key": ("url", CLASSIFY_ON),
    "data.seed_corpus.0.format": ("jsonl", CLASSIFY_ON),
    "data.general_corpus": (["general2.jsonl"], CLASSIFY_ON),
    "data.replay_corpus": (["general2.jsonl"], ALL_ARMS_BUILT),
    "data.heldout_general": (["general2.jsonl"], EVALS),
    "data.text_key": ("body", EVERYTHING - {"synthesize", "task_data"}),
    "data.id_key": ("url", EVERYTHING - {"synthesize", "task_data"}),
    "data.on_bad_record": ("fail", EVERYTHING),
    "tasks": ([], None),  # no task at all: synthesis cannot be planned (checked below)
    "tasks.0.name": ("gsm", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.description": ("Word problems.", SYNTH_ON | EVALS),
    "tasks.0.train": ("gsm_train2.jsonl", SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.test": ("gsm_test2.jsonl", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),  # every test split is
    # decontaminated against: selected docs, every build source, synthesis problems, the task data
    "tasks.0.split_field": ("split", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.train_values": (["tr"], CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.test_values": (["te"], CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.holdout_fraction": (0.5, CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.group_field": ("question", None),  # needs holdout_fraction: checked below
    "tasks.0.id_field": ("uid", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.input_field": ("q", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.answer_field": ("a", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.answer_format": ("plain", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.solution_field": ("sol", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.checker": ("exact", SYNTH_ON | EVALS),
    "tasks.0.eval_only": (True, None),  # the only task: nothing left to synthesize from (checked below)
    # task types: what a problem is (its input, choices, gold) changes for every reader of the task
    "tasks.0.input_template": ("Q: {question}", CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON),
    "tasks.0.type": ("multiple_choice", None),  # gsm8k answers are generate-only: checked below
    "tasks.0.choices_field": ("opts", None),  # multiple_choice keys: checked below
    "tasks.0.choice_fields": (["a", "b"], None),
    "tasks.0.labels": (["yes", "no"], None),  # a classification key: checked below
    "select.method": ("dsir", CLASSIFY_ON),
    "select.ensemble": (["dsir"], CLASSIFY_ON),
    "select.threshold": (0.5, None),  # needs keep_fraction unset: checked below
    "select.keep_fraction": (0.2, CHOOSE_ON),
    "select.labels": ("labels.jsonl", CHOOSE_ON),
    "select.quality.scorer": ("none", SCORE_ON),
    "select.quality.min_score": (0.3, CHOOSE_ON),
    "select.quality.labels": ("labels.jsonl", NOTHING),  # read only by scorer=model
    "select.quality.label_key": ("y", NOTHING),
    "select.quality.label_max": (9.0, NOTHING),
    "select.quality.heldout_fraction": (0.3, NOTHING),
    "select.executor.kind": ("ray", NOTHING),
    "select.executor.tasks": (4, SCORE_ON),
    "select.executor.workers": (4, NOTHING),
    "select.executor.batch_size": (10, NOTHING),
    "select.executor.slurm_partition": ("cpu", NOTHING),
    "select.executor.slurm_time": ("01:00:00", NOTHING),
    "select.executor.slurm_cpus_per_task": (4, NOTHING),
    "select.executor.slurm_mem_per_cpu_gb": (4.0, NOTHING),
    "select.executor.slurm_env_command": ("source venv/bin/activate", NOTHING),
    "select.executor.ray_cpus_per_task": (2, NOTHING),
    "select.executor.ray_mem_per_cpu_gb": (4.0, NOTHING),
    "select.dedup.exact": (False, CHOOSE_ON),
    "select.dedup.minhash": (False, CHOOSE_ON),
    "select.dedup.minhash_threshold": (0.9, CHOOSE_ON),
    "select.dedup.num_perm": (64, CHOOSE_ON),
    "select.dedup.ngram": (3, CHOOSE_ON),
    # the test-item check of the selection, every build source, synthesis problems and the task data
    "decontaminate.enabled": (False, CHOOSE_ON | SYNTH_ON | TASK_DATA_ON),
    "decontaminate.ngram": (8, CHOOSE_ON | SYNTH_ON | TASK_DATA_ON),
    "decontaminate.min_words": (4, CHOOSE_ON | SYNTH_ON | TASK_DATA_ON),
    "decontaminate.exact_short": (False, CHOOSE_ON | SYNTH_ON | TASK_DATA_ON),
    # the fastText method reads only its classifier section: another method's settings change nothing
    "select.embedding.model": ("sentence-transformers/all-MiniLM-L6-v2", NOTHING),
    "select.embedding.head": ("centroid", NOTHING),
    "select.embedding.max_tokens": (64, NOTHING),
    "select.embedding.max_chars": (500, NOTHING),
    "select.embedding.batch_size": (8, NOTHING),
    "select.embedding.c": (2.0, NOTHING),
    "select.embedding.heldout_fraction": (0.3, NOTHING),
    "select.embedding.cache_size": (10, NOTHING),
    "select.classifier.dim": (16, CLASSIFY_ON),
    "select.classifier.epoch": (3, CLASSIFY_ON),
    "select.classifier.lr": (0.1, CLASSIFY_ON),
    "select.classifier.word_ngrams": (1, CLASSIFY_ON),
    "select.classifier.min_count": (1, CLASSIFY_ON),
    "select.classifier.bucket": (10_000, CLASSIFY_ON),
    "select.classifier.heldout_fraction": (0.3, CLASSIFY_ON),
    "select.classifier.max_seed_docs": (5, CLASSIFY_ON),
    "select.classifier.max_chars": (500, CLASSIFY_ON),
    "select.bootstrap.rounds": (1, CLASSIFY_ON),
    # bootstrapping is off (rounds 0): its other settings change nothing
    "select.bootstrap.scorer": ("dsir", NOTHING),
    "select.bootstrap.top_fraction": (0.1, NOTHING),
    "select.bootstrap.bottom_fraction": (0.3, NOTHING),
    "select.bootstrap.max_negatives": (10, NOTHING),
    "select.bootstrap.folds": (3, NOTHING),
    "select.bootstrap.sample_size": (50, NOTHING),
    "select.bootstrap.include_seed": (True, NOTHING),
    "select.judge.enabled": (True, None),  # needs a domain: checked below
    "select.judge.domain": ("maths", NOTHING),  # the judge is off
    "select.judge.sample": (5, NOTHING),
    "select.judge.max_chars": (300, NOTHING),
    "llm.backend": ("openai", SYNTH_ON),
    "llm.model": ("other-model", SYNTH_ON),
    "llm.base_url": ("http://127.0.0.1:9/v1", SYNTH_ON),
    "llm.api_key_env": ("OTHER_KEY", NOTHING),
    "llm.http_client": ("openai", NOTHING),
    "llm.temperature": (0.2, SYNTH_ON),
    "llm.top_p": (0.5, SYNTH_ON),
    "llm.max_tokens": (64, SYNTH_ON),
    "llm.concurrency": (2, NOTHING),
    "llm.timeout_s": (5.0, NOTHING),
    "llm.max_retries": (1, NOTHING),
    "llm.backoff_s": (0.1, NOTHING),
    "llm.backoff_max_s": (1.0, NOTHING),
    "llm.requests_per_minute": (60.0, NOTHING),
    "llm.tokens_per_minute": (6000.0, NOTHING),
    "llm.batch_size": (2, NOTHING),
    "llm.device": ("cpu", SYNTH_ON),
    "llm.dtype": ("float32", SYNTH_ON),
    "llm.prices_per_million": ({"input": 1.0, "output": 2.0}, NOTHING),
    "synthesize.problems_per_passage": (2, SYNTH_ON),
    "synthesize.uses_per_problem": (2, SYNTH_ON),
    "synthesize.max_passages": (3, SYNTH_ON),
    "synthesize.gold_hints": ("answer", SYNTH_ON),
    "synthesize.max_regenerations": (0, SYNTH_ON),
    "synthesize.min_paragraph_words": (3, SYNTH_ON),
    "synthesize.min_enlightenment_words": (3, SYNTH_ON),
    "synthesize.chunk_passages": (2, NOTHING),
    "synthesize.rejected_sample": (3, SYNTH_ON),
    "synthesize.prompts": ({"system": "Be brief."}, SYNTH_ON),
    "build.mode": ("one_stage", NOTHING),  # picks the arm `trait run` trains; the ablation runs both
    "build.seq_len": (64, ALL_ARMS_BUILT),
    "build.stage1_tokens": (999, ALL_ARMS_BUILT),
    "build.stage2_tokens": (999, ALL_ARMS_BUILT),
    "build.stage1_replay_fraction": (0.3, chain("cpt_seed", "cpt_selected", "trait_two_stage", "trait_one_stage")),
    "build.stage2_replay_fraction": (0.3, chain("synthetic_only", "cpt_task_data", "trait_two_stage",
                                                "trait_one_stage")),
    "build.stage1_seed_fraction": (0.5, chain("cpt_selected", "trait_two_stage", "trait_one_stage")),
    "build.max_epochs": (2.0, ALL_ARMS_BUILT),
    "build.replay_sample_rate": (0.5, ALL_ARMS_BUILT),
    "build.separator_token": ("<sep>", ALL_ARMS_BUILT),
    "build.num_proc": (2, NOTHING),
    "train.base_model": ("tiny-random", ALL_ARMS_BUILT | EVALS),
    "train.batch_size": (2, TRAINS),
    "train.grad_accum": (2, TRAINS),
    "train.bf16": (True, TRAINS),
    "train.save_steps": (5, NOTHING),
    "train.save_total_limit": (1, NOTHING),
    "train.logging_steps": (5, NOTHING),
    "train.max_grad_norm": (0.5, TRAINS),
    "train.gradient_checkpointing": (True, NOTHING),
    "train.dataloader_workers": (2, NOTHING),
    **{f"train.stage1.{k}": (v, TRAINS) for k, v in (("learning_rate", 1e-3), ("epochs", 2.0), ("max_steps", 3),
                                                     ("warmup_ratio", 0.1), ("lr_scheduler", "linear"),
                                                     ("weight_decay", 0.1))},
    **{f"train.stage2.{k}": (v, chain("trait_two_stage", build=False))
       for k, v in (("learning_rate", 1e-3), ("epochs", 2.0), ("max_steps", 3), ("warmup_ratio", 0.1),
                    ("lr_scheduler", "linear"), ("weight_decay", 0.1))},
    **{f"evaluate.{k}": (v, EVALS) for k, v in (
        ("num_fewshot", 1), ("fewshot_pool", 8), ("limit", 3), ("max_gen_tokens", 8), ("task_loss_limit", 3),
        ("perplexity_max_docs", 2), ("perplexity_context", 64), ("perplexity_stride", 8),
        ("perplexity_max_tokens_per_doc", 64), ("max_length", 64), ("bootstrap_iters", 10), ("confidence", 0.9),
        ("device", "cuda"), ("dtype", "bfloat16"), ("general_ability", False), ("task_loss", False),
        ("downstream", False))},
    "evaluate.backend": ("local-completions", None),  # needs base_url too: checked below
    "evaluate.base_url": ("http://127.0.0.1:9/v1/completions", EVALS),
    "evaluate.api_model": ("m", EVALS),
    "evaluate.batch_size": (1, NOTHING),
    "evaluate.task_limits": ({"gsm8k": 2}, EVALS),
    "evaluate.lmeval_builtin": ({"gsm8k": "gsm8k"}, EVALS),
    "evaluate.server": ("transformers", EVALS),
    "evaluate.server_start_timeout_s": (60.0, NOTHING),
    "ablate.arms": (ARMS[:-1], {"ablate"}),  # trait_one_stage dropped: only the join is new
    "ablate.custom_arms": ([{"name": "mine", "stages": [{"mix": {"seed": None}}]}], chain("mine")),
    # a second training seed: every trained arm once more (plan names `<step>@<seed>`), and the join
    "ablate.seeds": ([0, 1], {f"{step}_{a}@1" for a in TRAINED for step in ("build", "train", "eval")} | {"ablate"}),
    "synthesize.max_repeated_trigram_share": (0.5, SYNTH_ON),
    "synthesize.min_problems_mentioned": (2, SYNTH_ON),
    "synthesize.min_kept_fraction": (0.5, SYNTH_ON),  # checked before the step completes: a new verdict
    "synthesize.verifier.enabled": (True, SYNTH_ON),
    "synthesize.verifier.model": ("judge", NOTHING),  # the verifier is off
    "synthesize.verifier.max_tokens": (4, NOTHING),
    # every synthesis prompt names the domain (the judge's question too, when it is on: tested in select)
    "domain.name": ("contract law", SYNTH_ON),
    "domain.description": ("Leases and sales.", SYNTH_ON),
    "synthesize.mode": ("passage", SYNTH_ON),
}
# Keys of items in lists: checked through one arm of their own (the table's last entry adds it).
CUSTOM = {"name": "mine", "description": "", "stages": [{"name": "cpt", "tokens": "total", "mix": {"seed": None},
                                                          "schedule": "stage1"}]}
ARM_TABLE: dict[str, tuple[object, set[str]]] = {
    "ablate.custom_arms.0.name": ("yours", chain("yours")),  # renamed: new steps
    "ablate.custom_arms.0.description": ("My arm.", {"ablate"}),
    "ablate.custom_arms.0.stages": ([], {"eval_mine", "ablate"}),  # no stage: the base model, renamed
    "ablate.custom_arms.0.stages.0.name": ("only", chain("mine")),
    "ablate.custom_arms.0.stages.0.tokens": (500, chain("mine")),
    "ablate.custom_arms.0.stages.0.mix": ({"seed": 0.5, "synthetic": None}, chain("mine")),
    "ablate.custom_arms.0.stages.0.schedule": ("stage2", chain("mine", build=False)),
}


def _write(root: Path) -> None:
    for name in ("seed.jsonl", "seed2.jsonl", "general.jsonl", "general2.jsonl", "heldout.jsonl",
                 "labels.jsonl", "gsm_train.jsonl", "gsm_train2.jsonl", "gsm_test.jsonl", "gsm_test2.jsonl"):
        (root / name).write_text(f'{{"id": "{name}", "text": "some text", "question": "q", "answer": 1}}\n')


def _base(root: Path) -> dict:
    return {"run": "r", "runs_dir": "runs",
            "data": {"seed_corpus": [{"path": "seed.jsonl"}], "general_corpus": ["general.jsonl"],
                     "heldout_general": ["heldout.jsonl"]},
            "tasks": [{"name": "gsm8k", "train": "gsm_train.jsonl", "test": "gsm_test.jsonl",
                       "answer_format": "gsm8k"}],
            # the rows below assume fastText without bootstrapping (no longer the default recipe)
            "select": {"method": "fasttext"},
            "train": {"base_model": "smollm2-135m"}}


def _set(data: dict, key: str, value: object) -> None:
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _changed(root: Path, base: dict, key: str, value: object) -> set[str]:
    import copy

    before = {k: s.path for k, s in plan(config_from_dict(base, base_dir=root)).items()}
    data = copy.deepcopy(base)
    _set(data, key, value)
    after = {k: s.path for k, s in plan(config_from_dict(data, base_dir=root)).items()}
    return {k for k in after if before.get(k) != after[k]}  # new or changed; a dropped step runs no more


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key of the reference, list items as ``.0``."""
    keys = []
    for name, field in model.model_fields.items():
        sub = next((a for a in (field.annotation, *_args(field.annotation))
                    if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub is None:
            keys.append(prefix + name)
            continue
        if typing.get_origin(field.annotation) is list or any(typing.get_origin(a) is list
                                                              for a in typing.get_args(field.annotation)):
            keys.append(prefix + name)
            keys += _leaf_keys(sub, f"{prefix}{name}.0.")
        else:
            keys += _leaf_keys(sub, f"{prefix}{name}.")
    return keys


def _args(annotation) -> list:
    out = []
    for a in typing.get_args(annotation):
        out += [a, *_args(a)]
    return out


def test_the_table_covers_every_key_of_the_config_reference():
    # A corpus entry has the same fields in every data list: the seed corpus's stand for all of them.
    same_model = {k for k in _leaf_keys(TraitConfig) if k.startswith(("data.general_corpus.0.",
                                                                       "data.replay_corpus.0.",
                                                                       "data.heldout_general.0."))}
    assert set(_leaf_keys(TraitConfig)) - same_model - set(TABLE) - set(ARM_TABLE) == set()


@pytest.mark.parametrize("key", sorted(k for k, (_, want) in TABLE.items() if want is not None))
def test_changing_a_key_reruns_exactly_these_steps(tmp_path, key):
    _write(tmp_path)
    value, want = TABLE[key]
    assert _changed(tmp_path, _base(tmp_path), key, value) == want


@pytest.mark.parametrize("key", sorted(ARM_TABLE))
def test_changing_a_custom_arm_reruns_only_that_arm(tmp_path, key):
    _write(tmp_path)
    base = _base(tmp_path)
    base["ablate"] = {"custom_arms": [CUSTOM]}
    base["train"]["stage2"] = {"learning_rate": 1e-3}  # the two schedules differ
    value, want = ARM_TABLE[key]
    assert _changed(tmp_path, base, key, value) == want


def test_keys_that_need_another_key_or_remove_synthesis(tmp_path):
    _write(tmp_path)
    base = _base(tmp_path)
    base["evaluate"] = {"base_url": "http://127.0.0.1:9/v1/completions"}
    assert _changed(tmp_path, base, "evaluate.backend", "local-completions") == EVALS
    base["select"] = {"judge": {"domain": "mathematics"}}
    assert _changed(tmp_path, base, "select.judge.enabled", True) == {"judge"}  # nothing downstream reads it
    assert _changed(tmp_path, base, "select", {"threshold": 0.5, "keep_fraction": None}) == CHOOSE_ON
    base["tasks"][0]["holdout_fraction"] = 0.5
    grouped = _changed(tmp_path, base, "tasks.0.group_field", "question")
    assert grouped == CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON
    from trait.errors import ConfigError

    for key, value in (("tasks", []), ("tasks.0.eval_only", True)):  # nothing left to synthesize from
        import copy

        data = copy.deepcopy(_base(tmp_path))
        _set(data, key, value)
        with pytest.raises(ConfigError, match="no task with a train split"):
            plan(config_from_dict(data, base_dir=tmp_path))


def test_a_data_file_edit_reruns_what_reads_it(tmp_path):
    _write(tmp_path)
    before = {k: s.path for k, s in plan(config_from_dict(_base(tmp_path), base_dir=tmp_path)).items()}
    (tmp_path / "heldout.jsonl").write_text('{"id": "h", "text": "other text, longer"}\n')
    after = {k: s.path for k, s in plan(config_from_dict(_base(tmp_path), base_dir=tmp_path)).items()}
    assert {k for k in before if before[k] != after[k]} == EVALS


def test_seeds_the_first_seed_is_the_run_without_seeds(tmp_path):
    """`ablate.seeds: [seed]` is the plain run; a third seed adds that seed's steps only; the base arm
    is never trained, so evaluated once."""
    _write(tmp_path)
    assert _changed(tmp_path, _base(tmp_path), "ablate.seeds", [0]) == NOTHING
    base = _base(tmp_path)
    base["ablate"] = {"seeds": [0, 1]}
    assert _changed(tmp_path, base, "ablate.seeds", [0, 1, 2]) == (
        {f"{step}_{a}@2" for a in TRAINED for step in ("build", "train", "eval")} | {"ablate"})
    steps = plan(config_from_dict(base, base_dir=tmp_path))
    assert "eval_base" in steps and not any(k.startswith("eval_base@") for k in steps)
    assert steps["train_cpt_seed"].config["seed"] == 0 and steps["train_cpt_seed@1"].config["seed"] == 1
    assert steps["eval_cpt_seed"].config["seed"] == steps["eval_cpt_seed@1"].config["seed"] == 0  # same items


@pytest.mark.parametrize(("task", "key", "value"), [
    ({}, "type", "classification"),
    ({"type": "multiple_choice"}, "choices_field", "opts"),
    ({"type": "multiple_choice"}, "choice_fields", ["a", "b"]),
    ({"type": "classification"}, "labels", {"yes": "Yes.", "no": "No."})])
def test_task_type_keys_rerun_every_reader_of_the_task(tmp_path, task, key, value):
    _write(tmp_path)
    base = _base(tmp_path)
    base["tasks"][0] = {k: v for k, v in base["tasks"][0].items() if k != "answer_format"} | task
    assert _changed(tmp_path, base, f"tasks.0.{key}", value) == CHOOSE_ON | SYNTH_ON | EVALS | TASK_DATA_ON
