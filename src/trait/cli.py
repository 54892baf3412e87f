"""``trait`` command line: one subcommand per stage, plus ``run``; every error is one line + exit 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from trait.errors import TraitError
from trait.ui import console

# Never wait on (or download from) a model hub: everything this tool loads is local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="TRAIT: task-oriented in-domain data augmentation for continual pre-training.")

ConfigArg = Annotated[Path, typer.Argument(help="YAML config file.")]
OverridesArg = Annotated[list[str] | None, typer.Argument(help="key=value overrides, e.g. select.keep_fraction=0.1")]


def _run_stage(fn: Callable, config: Path, overrides: list[str] | None):
    from trait.config import load_config

    try:
        cfg = load_config(config, overrides or [])
        step = fn(cfg)
    except TraitError as e:
        # escaped: a message quoting data or model output ("[gsm8k]", "[/]") is not rich markup
        console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: rerun the same command to resume[/yellow]")
        raise typer.Exit(130) from None
    console.print(f"[green]done:[/green] {step.stage} -> {step.path}", highlight=False)
    return step


def _stage_command(name: str, help_text: str):
    def command(config: ConfigArg, overrides: OverridesArg = None) -> None:
        from trait import pipeline

        _run_stage(getattr(pipeline, name), config, overrides)

    command.__doc__ = help_text
    app.command(name)(command)


_stage_command("select", "Select in-domain documents from the general corpus (score once, choose in seconds).")
_stage_command("synthesize", "Generate task-oriented passages with an LLM (cached; reruns never pay twice).")
_stage_command("build", "Build the stage-1 and stage-2 CPT corpora (tokenised and packed).")
_stage_command("train", "Continual pre-training: stage 1, then stage 2 from stage 1's weights.")
_stage_command("evaluate", "Evaluate the trained models on held-out task data and general text.")


@app.command("run")
def run_all(config: ConfigArg, overrides: OverridesArg = None) -> None:
    """The whole chain: select -> synthesize -> build -> train -> evaluate -> report."""
    from trait import pipeline

    step = _run_stage(pipeline.run, config, overrides)
    console.print(f"[green]report:[/green] {step.path.parent / 'report.html'}", highlight=False)


@app.command("ablate")
def ablate(config: ConfigArg, overrides: OverridesArg = None) -> None:
    """Every arm of the paper's comparison on the same budget, sharing common steps; one table."""
    from trait import pipeline

    step = _run_stage(pipeline.ablate, config, overrides)
    console.print(f"[green]report:[/green] {step.path.parent / 'report.html'}", highlight=False)


@app.command("report")
def report(run_dir: Annotated[Path, typer.Argument(help="A run folder: <runs_dir>/<run>.")],
           out: Annotated[Path | None, typer.Option(help="Output HTML file.")] = None) -> None:
    """Write one self-contained HTML report for a run."""
    from trait.report import write_report

    if not run_dir.is_dir():
        console.print(f"[red]error:[/red] {run_dir}: not a run folder", highlight=False)
        raise typer.Exit(2)
    console.print(f"[green]report:[/green] {write_report(run_dir, out)}", highlight=False)


@app.command("config-reference")
def config_reference() -> None:
    """Print every configuration key with its type, default and meaning (Markdown)."""
    from trait.configdoc import reference

    print(reference())


def main() -> None:  # pragma: no cover - console-script shim
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
