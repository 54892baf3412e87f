from trait.steps import Step, fingerprint, latest


def test_same_config_same_folder_and_skip(tmp_path):
    a = Step(tmp_path, "score", {"x": 1, "y": [1, 2]})
    b = Step(tmp_path, "score", {"y": [1, 2], "x": 1})
    assert a.path == b.path and not a.done
    a.start()
    assert not a.done  # started but not complete: never read as complete
    a.complete({"n": 3})
    assert b.done and b.summary() == {"n": 3}
    assert latest(tmp_path, "score") == a.path


def test_changed_setting_changes_step_and_dependants(tmp_path):
    up1, up2 = Step(tmp_path, "score", {"x": 1}), Step(tmp_path, "score", {"x": 2})
    down1, down2 = Step(tmp_path, "choose", {"k": 0.1}, [up1]), Step(tmp_path, "choose", {"k": 0.1}, [up2])
    assert up1.path != up2.path and down1.path != down2.path


def test_fingerprint_tracks_file_changes(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text("a\n")
    before = fingerprint([f])
    f.write_text("a\nb\n")
    assert fingerprint([f]) != before
