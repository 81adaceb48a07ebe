"""The production profile's action server (`python -m kejibang.action_server`, as deploy/'s systemd unit runs
it) started as a child process on loopback for the tests that need one; `kejibang run` runs the actions
in-process and starts none."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

from kejibang.launcher import process_environment
from kejibang.settings import PROJECT_ROOT, Settings

START_TIMEOUT = 120.0


def start_action_server(settings: Settings, log_path: Path) -> subprocess.Popen:
    """The server on ``settings.actions_port``, with the environment's internal secret; waits for /health."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kejibang.action_server", "--actions", "actions",
               "--port", str(settings.actions_port)]
    env = {**process_environment(settings), "SANIC_HOST": "127.0.0.1"}  # rasa-sdk has no --interface flag
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the action server stopped; see {log_path}")
        try:
            if requests.get(f"http://127.0.0.1:{settings.actions_port}/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"the action server was not ready in {START_TIMEOUT:.0f} s; see {log_path}")
