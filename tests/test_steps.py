import subprocess
import sys
import textwrap

import pytest

from trait.build.config import BuildConfig
from trait.errors import TraitError
from trait.steps import (
    RunBusyError,
    Step,
    canonical,
    command,
    cost_of,
    fingerprint,
    last_steps,
    latest,
    run_lock,
)


def test_same_config_same_folder_and_skip(tmp_path):
    a = Step(tmp_path, "score", {"x": 1, "y": [1, 2]})
    b = Step(tmp_path, "score", {"y": [1, 2], "x": 1})
    assert a.path == b.path and not a.done
    a.start()
    assert not a.done  # started but not complete: never read as complete
    a.complete({"n": 3})
    assert b.done and b.summary() == {"n": 3}


def test_run_skips_a_done_step_and_reruns_an_unfinished_one(tmp_path):
    calls = []

    def work(out):
        calls.append(out)
        (out / "x.txt").write_text("x")
        return {"n": len(calls)}

    step = Step(tmp_path, "s", {"a": 1}, outputs={"x": "x.txt"})
    step.start()  # an earlier attempt that died before completing
    assert step.run(work).status == "ran" and step.summary() == {"n": 1}
    again = Step(tmp_path, "s", {"a": 1}, outputs={"x": "x.txt"}).run(work)
    assert again.status == "reused" and len(calls) == 1 and again.file("x").read_text() == "x"
    with pytest.raises(TraitError, match="declares no output 'y'"):
        again.file("y")


def test_a_step_records_its_wall_and_cpu_time_and_a_graph_counts_each_step_once(tmp_path):
    def busy(out):  # CPU in this process and in a child it waits for: both count
        sum(i * i for i in range(300_000))
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
        return {}

    a = Step(tmp_path, "a", {}).run(busy)
    b = Step(tmp_path, "b", {}, deps=[a]).run(lambda out: {})
    c = Step(tmp_path, "c", {}, deps=[a]).run(lambda out: {})
    t = a.timing()
    assert t["cpu_s"] > 0.05 and t["wall_s"] > 0.05  # the child's loop alone is ~0.1 s of CPU
    assert b.summary() == {} and set(b.timing()) == {"wall_s", "cpu_s"}  # the summary is the stage's own
    both = cost_of([b, c])  # a is read by both, counted once
    assert both["cpu_s"] == pytest.approx(round(t["cpu_s"] + b.timing()["cpu_s"] + c.timing()["cpu_s"], 1),
                                          abs=0.11)
    assert Step(tmp_path, "old", {}).timing() == {}  # a step completed without timing (older runs)


def test_a_failing_step_is_never_complete(tmp_path):
    def boom(out):
        raise RuntimeError("crash")

    step = Step(tmp_path, "s", {})
    with pytest.raises(RuntimeError):
        step.run(boom)
    assert not step.done
    with pytest.raises(TraitError, match="has not completed"):
        step.summary()


def test_changed_setting_changes_step_and_dependants(tmp_path):
    up1, up2 = Step(tmp_path, "score", {"x": 1}), Step(tmp_path, "score", {"x": 2})
    down1, down2 = Step(tmp_path, "choose", {"k": 0.1}, [up1]), Step(tmp_path, "choose", {"k": 0.1}, [up2])
    assert up1.path != up2.path and down1.path != down2.path


def test_knobs_never_count_in_a_hash():
    plain, fast = BuildConfig(), BuildConfig(num_proc=8)
    assert canonical(plain) == canonical(fast) and "num_proc" not in canonical(plain)
    assert canonical(BuildConfig(seq_len=64)) != canonical(plain)


def test_command_records_exactly_its_steps(tmp_path):
    old = Step(tmp_path, "train", {"v": 1}).run(lambda out: {})
    with command(tmp_path):
        a = Step(tmp_path, "score", {"v": 2}).run(lambda out: {})
        b = Step(tmp_path, "train", {"v": 2}, deps=[a]).run(lambda out: {})
    steps = last_steps(tmp_path)
    assert [s["hash"] for s in steps] == [a.hash, b.hash]  # the earlier config's train step is not there
    assert steps[1]["deps"] == [a.hash] and {s["status"] for s in steps} == {"ran"}
    assert latest(tmp_path, "train") == b.path != old.path
    assert [g["hash"] for g in b.graph()] == [a.hash, b.hash]


HOLD = textwrap.dedent("""
    import sys, time
    from trait.steps import run_lock
    with run_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_a_second_process_refuses_with_the_holders_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunBusyError, match=f"in use by pid {holder.pid} "), run_lock(tmp_path):
            pass
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, the kernel drops the lock
        holder.wait()
    # a killed holder's lock is taken over at once, and it is re-entrant within one process
    with run_lock(tmp_path), run_lock(tmp_path):
        pass


def test_fingerprint_tracks_file_changes(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text("a\n")
    before = fingerprint([f])
    f.write_text("a\nb\n")
    assert fingerprint([f]) != before
