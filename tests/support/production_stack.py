"""A throwaway production profile on loopback, for the production test and the capacity bench.

What deploy/ runs, minus systemd and nginx: fresh PostgreSQL databases (Rasa's tracker store, the
assistant's store, the exchange seeded with the sample content), a Redis key prefix of its own for
the lock store, the action server, and N Rasa servers started by `kejibang rasa serve` exactly as the
``kejibang-rasa@`` unit starts them. The servers load the model in parallel (each takes ~30 s and
~1 GB). Everything is stopped and dropped when the block ends.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import requests

from core.dialogue import RasaServer
from kejibang import launcher
from kejibang.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port
from tests.support.action_server import start_action_server
from tests.support.databases import create_database, drop_database

RASA_START_TIMEOUT = 300.0
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 1
ROLES = ("tracker", "store", "exchange")
# as deploy/kejibang.env.example tunes each Rasa server: one thread (processes use the cores), few connections
SERVER_TUNING = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1",
                 "OMP_NUM_THREADS": "1", "SQL_POOL_SIZE": "5", "SQL_MAX_OVERFLOW": "5"}


@dataclass(frozen=True)
class Stack:
    """A running production profile: where its Rasa servers listen, and what runs underneath."""

    urls: tuple[str, ...]
    token: str
    rasa_pids: tuple[int, ...]
    actions_url: str
    actions_pid: int
    databases: dict[str, str]  # role (tracker, store, exchange) → database name

    def backend(self) -> RasaServer:
        """The bot's own client for these servers (round-robin per message)."""
        return RasaServer(self.urls, self.token)


def _environment(workdir: Path, databases: dict[str, str], token: str) -> dict[str, str]:
    """What deploy/kejibang.env.example sets, pointed at this stack's databases and ports (and locks of its own)."""
    actions_port = free_port()
    return {
        "KEJIBANG_VAR_DIR": str(workdir),
        "KEJIBANG_ACTIONS_PORT": str(actions_port),
        "KEJIBANG_ACTIONS_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "KEJIBANG_TRACKER_DB": databases["tracker"],
        "KEJIBANG_DB": databases["store"],
        "KEJIBANG_EXCHANGE_DB": databases["exchange"],
        "KEJIBANG_EXCHANGE_URL": "",
        "KEJIBANG_SEED_SAMPLE": "1",
        "RASA_TOKEN": token,
        "KEJIBANG_INTERNAL_SECRET": secrets.token_hex(16),  # only the bot may call the REST channel and actions
        "RASA_LOCK_REDIS_HOST": REDIS_HOST,
        "RASA_LOCK_REDIS_PORT": str(REDIS_PORT),
        "RASA_LOCK_REDIS_DB": str(REDIS_DB),
        "RASA_LOCK_REDIS_PASSWORD": "",
        "RASA_LOCK_KEY_PREFIX": "kjb" + uuid.uuid4().hex[:10],
        "RASA_TELEMETRY_ENABLED": "false",
        **SERVER_TUNING,
    }


@contextmanager
def _databases() -> Iterator[dict[str, str]]:
    """One fresh PostgreSQL database per role, dropped afterwards."""
    names = {role: f"kejibang_{role}_{uuid.uuid4().hex[:8]}" for role in ROLES}
    try:
        yield {role: create_database(name) for role, name in names.items()}
    finally:
        for name in names.values():
            drop_database(name)


@contextmanager
def _process(command: list[str], log_path: Path) -> Iterator[subprocess.Popen]:
    """A child process of the project with its output in a log file, terminated at the end."""
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                                   stdout=log_file, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_serving(url: str, token: str, process: subprocess.Popen, log_path: Path) -> None:
    """Block until the server answers /status (model loaded); fail with its log when it died or hung."""
    deadline = time.monotonic() + RASA_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Rasa server {url} exited: {log_path.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{url}/status", params={"token": token}, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Rasa server {url} not ready in {RASA_START_TIMEOUT:.0f} s, see {log_path}")


def _rasa_command(port: int) -> list[str]:
    """`kejibang rasa serve`, as the ``kejibang-rasa@PORT`` unit runs it."""
    return [sys.executable, "-m", "kejibang.cli", "rasa", "serve", "--port", str(port)]


@contextmanager
def production_stack(workdir: Path, servers: int) -> Iterator[Stack]:
    """Start the profile with ``servers`` Rasa servers; stop it and drop its databases at the end."""
    token = secrets.token_hex(16)
    with _databases() as databases, mock.patch.dict(os.environ, _environment(workdir, databases, token)), \
            ExitStack() as processes:
        settings = Settings.from_env()
        launcher.process_environment(settings)
        logs = {port: workdir / f"rasa-{port}.log" for port in (free_port() for _ in range(servers))}
        rasa = {port: processes.enter_context(_process(_rasa_command(port), log)) for port, log in logs.items()}
        launcher.prepare_exchange(settings)  # while the servers load the model
        actions = start_action_server(settings, workdir / "actions.log")
        processes.callback(_stop, actions)
        urls = tuple(f"http://127.0.0.1:{port}" for port in rasa)
        for url, (port, process) in zip(urls, rasa.items(), strict=True):
            _wait_until_serving(url, token, process, logs[port])
        yield Stack(urls, token, tuple(process.pid for process in rasa.values()), settings.actions_url, actions.pid,
                    {role: url.rsplit("/", 1)[1] for role, url in databases.items()})
