"""The README's commands are the ones that run: CI runs its test command, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _commands() -> dict[str, str]:
    """The indented command under each 'Demo —' / 'Tests —' paragraph of the Set-up section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"^(Demo|Tests) — .*?\n\n    (.+)$", text, flags=re.MULTILINE)
    return dict(found)


def test_ci_runs_the_readme_test_command_verbatim():
    commands = _commands()
    assert set(commands) == {"Demo", "Tests"}
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands["Tests"] in ci.splitlines()
    assert "python3 -m venv .venv" in ci and "--system-site-packages" not in ci  # a fresh machine each run


def test_both_commands_install_from_the_pinned_constraints():
    pins = {line.split("==")[0].lower() for line in (REPO / "constraints.txt").read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    for command in _commands().values():
        assert "-c constraints.txt" in command
    assert {"torch", "transformers", "datatrove", "lm_eval", "sentence-transformers", "numpy"} <= pins
