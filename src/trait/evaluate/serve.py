"""An OpenAI-compatible server over one arm's own model, for as long as that arm is evaluated.

With ``evaluate.backend: local-completions`` every arm has its own weights, so one ``base_url`` for
all arms would score one model under several names. ``evaluate.server`` picks who serves:
``external`` (your server at ``base_url``: one model, so only where one model is evaluated),
``transformers`` (``transformers serve``, needs ``pip install 'trait[serve]'``) or ``vllm``
(``vllm serve``, ``pip install 'trait[vllm]'``): the tool starts it on a free local port over the
arm's model folder, waits until it answers, and stops it when the arm is done.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from trait.errors import ConfigError, TraitError
from trait.evaluate.config import EvaluateConfig
from trait.procs import dying_with_this_process
from trait.ui import info


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _transformers(model: Path, port: int, device: str, dtype: str) -> list[str]:
    if not all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn")):
        raise ConfigError("evaluate.server: transformers needs FastAPI and Uvicorn: pip install 'trait[serve]'")
    cli = Path(sys.executable).with_name("transformers")
    exe = [str(cli)] if cli.exists() else [shutil.which("transformers") or "transformers"]
    return [*exe, "serve", str(model), "--host", "127.0.0.1", "--port", str(port), "--device", device,
            "--dtype", dtype]


def _vllm(model: Path, port: int, device: str, dtype: str) -> list[str]:
    exe = shutil.which("vllm")
    if exe is None:
        raise ConfigError("evaluate.server: vllm is not installed here: pip install 'trait[vllm]'")
    return [exe, "serve", str(model), "--host", "127.0.0.1", "--port", str(port), "--dtype", dtype,
            "--served-model-name", str(model)]


SERVERS: dict[str, Callable[[Path, int, str, str], list[str]]] = {"transformers": _transformers, "vllm": _vllm}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # our own loopback server
            return r.status == 200
    except OSError:
        return False


@contextmanager
def server(kind: str, model: Path, log_dir: Path, *, device: str = "cpu", dtype: str = "auto",
           start_timeout_s: float = 600.0) -> Iterator[str]:
    """A ``kind`` server (transformers / vllm) over ``model`` on a free local port, for the duration of
    the block; yields its base URL (``http://127.0.0.1:<port>/v1``)."""
    port = _free_port()
    cmd = SERVERS[kind](Path(model), port, device, dtype)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"server-{kind}.log"
    info(f"starting a {kind} server over {model} on port {port} (log: {log})")
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    with open(log, "ab") as fh:  # a killed run takes its server along
        proc = subprocess.Popen(dying_with_this_process(cmd), stdout=fh, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _answers(f"http://127.0.0.1:{port}/v1/models"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
                why = f"exited with code {proc.returncode}" if proc.poll() is not None else \
                    f"did not answer within {start_timeout_s:g} s"
                raise TraitError(f"the {kind} server over {model} {why}: {tail[0]} (see {log})")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def served(ev: EvaluateConfig, model: Path, log_dir: Path) -> Iterator[EvaluateConfig]:
    """``ev`` as it is (in-process ``hf``, or an external server), or pointed at a server over ``model``
    that lives for the duration of the block."""
    if ev.backend != "local-completions" or ev.server == "external":
        yield ev
        return
    try:
        with server(ev.server, model, log_dir, device=ev.device, dtype=ev.dtype,
                    start_timeout_s=ev.server_start_timeout_s) as url:
            yield ev.model_copy(update={"base_url": f"{url}/completions", "api_model": str(model)})
    except TraitError as e:
        raise TraitError(f"evaluate: {e}") from None
