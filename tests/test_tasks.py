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
