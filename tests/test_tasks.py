import json

import pytest

from trait.config import load_config
from trait.errors import BadInputError
from trait.tasks import TaskSpec, load_problems


@pytest.fixture(scope="module")
def tasks(example_data):
    return {t.name: t for t in load_config(example_data.parent / "config.yaml").tasks}


def test_gsm8k_answers_and_solutions(tasks):
    probs = load_problems(tasks["gsm8k"], "test")
    assert len(probs) == 1319
    assert probs[0].id == "gsm8k-test-00000" and probs[0].answer == "18"
    assert "<<" not in probs[0].solution and "####" not in probs[0].solution


def test_svamp_hash_split_is_disjoint_and_stable(tasks):
    train, test = load_problems(tasks["svamp"], "train"), load_problems(tasks["svamp"], "test")
    assert len(train) + len(test) == 1000 and 200 < len(test) < 400
    assert not {p.id for p in train} & {p.id for p in test}
    assert test[0].answer.replace(".", "").isdigit()
    assert [p.id for p in load_problems(tasks["svamp"], "test")] == [p.id for p in test]


def test_svamp_is_split_by_story_so_no_test_item_shares_a_13gram_with_train(tasks):
    from trait.contamination import ContaminationIndex

    svamp = tasks["svamp"]
    assert svamp.group_field == "question"
    train, test = load_problems(svamp, "train"), load_problems(svamp, "test")
    index = ContaminationIndex(n=13)
    index.add_problems(train)
    assert [p.id for p in test if index.match(p.input)] == []  # split by item id: 107 of 297 did
    by_id = {p.id: "train" for p in train} | {p.id: "test" for p in test}
    assert by_id["chal-506"] == by_id["chal-647"]  # one story (the Buckingham palace visitors), one split
    ungrouped = svamp.model_copy(update={"group_field": None})
    assert {p.id for p in load_problems(ungrouped, "test")} != {p.id for p in test}


def test_group_split_keeps_linked_items_together_and_needs_a_holdout_fraction(tmp_path):
    p = tmp_path / "t.jsonl"
    story = "Ann has 3 red apples and 4 green apples in a basket on the kitchen table at home"
    rows = [{"id": f"a{i}", "question": story.replace("3", str(i)) + f" variant {i}?", "answer": 1}
            for i in range(12)]
    rows += [{"id": f"b{i}", "question": f"Unrelated item number {i}?", "answer": 1} for i in range(40)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = TaskSpec(name="t", train=str(p), id_field="id", holdout_fraction=0.5, group_field="question")
    test = {q.id for q in load_problems(spec, "test")}
    a_ids = {f"a{i}" for i in range(12)}
    assert a_ids <= test or not a_ids & test  # the variants share 13-grams past the number: one group
    assert 0 < len(test) < len(rows)
    with pytest.raises(ValueError, match="group_field splits by holdout_fraction"):
        TaskSpec(name="t", train=str(p), group_field="question")


def test_mawps_split_field(tasks):
    assert len(load_problems(tasks["mawps"], "test")) == 238
    assert len(load_problems(tasks["mawps"], "train")) == 1898 + 237


def test_missing_answer_field_names_file_line(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text('{"question": "1+1?", "answer": "2"}\n{"question": "2+2?"}\n')
    spec = TaskSpec(name="t", train=str(p))
    with pytest.raises(BadInputError, match=r"t\.jsonl:2: task t: missing answer field 'answer'"):
        load_problems(spec, "train")


def test_task_needs_a_file():
    with pytest.raises(ValueError):
        TaskSpec(name="x")


def test_split_file_is_where_each_split_is_read(tasks, tmp_path):
    gsm8k, svamp, mawps = tasks["gsm8k"], tasks["svamp"], tasks["mawps"]
    assert (gsm8k.split_file("train"), gsm8k.split_file("test")) == (gsm8k.train, gsm8k.test)
    assert gsm8k.files == [gsm8k.train, gsm8k.test]
    for one_file in (svamp, mawps):  # split by hash / by field: both splits read the one file
        assert one_file.split_file("train") == one_file.split_file("test") == one_file.train
        assert one_file.files == [one_file.train]
    p = tmp_path / "t.jsonl"
    p.write_text('{"question": "1+1?", "answer": "2"}\n')
    train_only = TaskSpec(name="t", train=str(p))
    assert train_only.split_file("test") is None and train_only.files == [str(p)]
    assert load_problems(train_only, "test") == []  # no test split: nothing, not an error about the train file
    test_only_one_file = TaskSpec(name="u", test=str(p), holdout_fraction=0.0)
    assert test_only_one_file.split_file("train") == str(p)
    assert [q.answer for q in load_problems(test_only_one_file, "train")] == ["2"]


# --- task types and multi-field inputs --------------------------------------------------------------


def _jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_input_template_renders_several_fields(tmp_path):
    rows = [{"query": "usb cable", "title": "Cable 1m", "bullets": None, "cats": ["Electronics", "Cables"],
             "answer": "yes"}]
    spec = TaskSpec(name="t", train=_jsonl(tmp_path / "t.jsonl", rows),
                    input_template="Query: {query}\nProduct: {title} ({cats})\n{bullets}")
    (p,) = load_problems(spec, "train")
    assert p.input == "Query: usb cable\nProduct: Cable 1m (Electronics, Cables)"  # null: empty, list: joined
    assert p.kind == "generate" and p.choices is None and p.answer == "yes"


def test_template_field_missing_from_a_record_is_file_line_and_a_typo_is_a_config_error(tmp_path):
    from trait.errors import ConfigError
    from trait.io import ReadStats

    path = _jsonl(tmp_path / "t.jsonl", [{"query": "a", "title": "A", "answer": 1}, {"query": "b", "answer": 2}])
    spec = TaskSpec(name="t", train=path, input_template="{query} / {title}")
    with pytest.raises(BadInputError, match=r"t\.jsonl:2: task t: record has no field 'title'"):
        load_problems(spec, "train")
    stats = ReadStats()
    assert [p.input for p in load_problems(spec, "train", on_error="skip", stats=stats)] == ["a / A"]
    assert sum(stats.skipped.values()) == 1
    typo = TaskSpec(name="t", train=path, input_template="{qurey} / {title}")
    for on_error in ("fail", "skip"):
        with pytest.raises(ConfigError, match=r"task t: input_template names field 'qurey', which no record of "):
            load_problems(typo, "train", on_error=on_error)
    for bad in ("{query", "{0}", "{}", "{query.x}", "{query:>5}", "no field at all"):
        with pytest.raises(ValueError, match="task 't': input_template"):
            TaskSpec(name="t", train=path, input_template=bad)


def test_multiple_choice_gold_as_letter_index_or_text(tmp_path):
    choices = ["2", "4", "6", "8"]
    rows = [{"q": "1+1?", "c": choices, "gold": "A"}, {"q": "2+2?", "c": choices, "gold": 1},
            {"q": "3+3?", "c": choices, "gold": "6"}, {"q": "4+4?", "c": choices, "gold": "d"}]
    spec = TaskSpec(name="mc", type="multiple_choice", test=_jsonl(tmp_path / "mc.jsonl", rows), input_field="q",
                    choices_field="c", answer_field="gold")
    probs = load_problems(spec, "test")
    assert [p.answer for p in probs] == ["A", "B", "C", "D"]  # "6" is the text (numeric choices mean themselves)
    assert all(p.kind == "multiple_choice" and p.choices == choices for p in probs)


def test_multiple_choice_from_several_fields_and_bad_records(tmp_path):
    from trait.io import ReadStats

    rows = [{"question": "Q1", "opa": "x", "opb": "y", "opc": "z", "cop": 2},
            {"question": "Q2", "opa": "x", "opb": "y", "opc": None, "cop": 0},
            {"question": "Q3", "opa": "x", "opb": "y", "opc": "z", "cop": "E"},
            {"question": "Q4", "opa": "x", "opb": "y", "opc": "z", "cop": 3}]
    path = _jsonl(tmp_path / "mc.jsonl", rows)
    spec = TaskSpec(name="mc", type="multiple_choice", train=path, choice_fields=["opa", "opb", "opc"],
                    answer_field="cop")
    with pytest.raises(BadInputError, match=r"mc\.jsonl:2: task mc: missing choice field 'opc'"):
        load_problems(spec, "train")
    stats = ReadStats()
    (p,) = load_problems(spec, "train", on_error="skip", stats=stats)
    assert (p.input, p.choices, p.answer) == ("Q1", ["x", "y", "z"], "C")
    assert any("gold 'E' is no letter (A-C)" in e for e in stats.examples)
    assert any("gold 3 is no letter" in e and "mc.jsonl:4" in e for e in stats.examples)
    no_list = TaskSpec(name="mc", type="multiple_choice", train=path, answer_field="cop")  # default field 'choices'
    with pytest.raises(BadInputError, match=r"mc\.jsonl:1: task mc: choices field 'choices' is not a list"):
        load_problems(no_list, "train")


def test_classification_labels_from_config_or_train_split(tmp_path, capsys):
    rows = [{"text": f"item {i}", "label": lab} for i, lab in enumerate(["Exact", "Irrelevant", "exact", "Substitute"])]
    train = _jsonl(tmp_path / "train.jsonl", rows)
    test = _jsonl(tmp_path / "test.jsonl", [{"text": "x", "label": "exact match"}, {"text": "y", "label": "Other"}])
    spec = TaskSpec(name="esci", type="classification", train=train, test=test, input_field="text",
                    answer_field="label", labels={"Exact": "exact match", "Substitute": "substitute",
                                                  "Irrelevant": "irrelevant"})
    probs = load_problems(spec, "train")
    assert [p.answer for p in probs] == ["Exact", "Irrelevant", "Exact", "Substitute"]  # a name, case-insensitively
    assert probs[0].kind == "classification" and probs[0].choices == ["Exact", "Substitute", "Irrelevant"]
    with pytest.raises(BadInputError, match=r"test\.jsonl:2: task esci: label 'Other' is not one of: Exact, "):
        load_problems(spec, "test")  # line 1's gold is the verbalizer of Exact: accepted
    read = TaskSpec(name="esci2", type="classification", train=train, input_field="text", answer_field="label")
    assert [p.answer for p in load_problems(read, "train")] == ["Exact", "Irrelevant", "Exact", "Substitute"]
    assert load_problems(read, "train")[0].choices == ["Exact", "Irrelevant", "Substitute"]  # case variants: one label
    assert "task esci2: labels read from the train split (sorted): Exact, Irrelevant, Substitute" in capsys.readouterr().err
    one = TaskSpec(name="one", type="classification", train=_jsonl(tmp_path / "one.jsonl", rows[:1]),
                   input_field="text", answer_field="label")
    with pytest.raises(BadInputError, match="has 1 distinct value"):
        load_problems(one, "train")


def test_type_keys_are_checked_against_the_type(tmp_path):
    path = _jsonl(tmp_path / "t.jsonl", [{"question": "q", "answer": "a"}])
    for kw, msg in (({"labels": ["a", "b"]}, "labels are for type classification"),
                    ({"choice_fields": ["a", "b"]}, "are for type multiple_choice"),
                    ({"type": "classification", "labels": ["a", "a"]}, "distinct names"),
                    ({"type": "classification", "labels": ["a"]}, "at least two distinct names"),
                    ({"type": "classification", "labels": {"a": "yes", "b": "Yes"}}, "distinct, non-empty verbalizer"),
                    ({"type": "multiple_choice", "answer_field": None}, "needs answer_field"),
                    ({"type": "multiple_choice", "answer_format": "gsm8k"}, "is for generate tasks"),
                    ({"type": "multiple_choice", "choices_field": "c", "choice_fields": ["a", "b"]}, "not both")):
        with pytest.raises(ValueError, match=msg):
            TaskSpec(name="t", train=path, **kw)
    assert TaskSpec(name="t", train=path, checker="f1").checker == "f1"


def test_yaml_boolean_labels_are_refused_with_the_fix(tmp_path):
    from trait.config import load_config
    from trait.errors import ConfigError

    (tmp_path / "c.yaml").write_text("data: {seed_corpus: [s.jsonl], general_corpus: [g.jsonl]}\n"
                                     "tasks:\n  - {name: q, type: classification, train: t.jsonl, "
                                     "labels: [yes, no, maybe]}\n")
    with pytest.raises(ConfigError, match="read by YAML as a boolean; quote it"):
        load_config(tmp_path / "c.yaml")
