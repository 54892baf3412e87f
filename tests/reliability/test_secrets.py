"""The API key never lands on disk or on the console: select + synthesize over HTTP with the key in
the environment (and failures on purpose, so the failures file is written too), then the report;
every byte under the project folder and everything printed is searched for it."""

from __future__ import annotations

from reliability_kit import SECRET, cli, write_project

from trait.io import read_json
from trait.steps import latest
from trait.testing.openai_server import Behaviour, OpenAIServer


def test_api_key_is_in_no_file_and_no_output(tmp_path, example_data):
    behaviour = Behaviour(api_key=SECRET, fault_rates={"500": 0.3}, fault_attempts=99)
    with OpenAIServer(behaviour) as srv:
        config = write_project(tmp_path / "project", example_data, srv.url)
        outputs = [cli([cmd, config]) for cmd in ("select", "synthesize")]
        outputs.append(cli(["report", config.parent / "runs" / "r"]))
    assert [rc for rc, _ in outputs] == [0, 0, 0], outputs[-1][1][-2000:]
    assert srv.stats.unauthorized == 0 and srv.stats.faults["500"] > 0  # the key was sent, and used

    run = config.parent / "runs" / "r"
    synth = latest(run, "synthesize")
    assert read_json(synth / "summary.json")["llm"]["failed"] > 0
    expected = [run / "llm_cache.sqlite", synth / "llm_failures.jsonl", synth / "passages.jsonl", run / "report.html"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in expected)

    files = [p for p in config.parent.rglob("*") if p.is_file()]
    assert len(files) > 20  # data, steps, datatrove logs, sqlite (+ WAL), report
    leaks = [p for p in files if SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert not any(SECRET in out for _, out in outputs)
