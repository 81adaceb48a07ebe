"""`kejibang run`: start the whole assistant on the embedded default, saying what runs where.

Order: model (trained if its inputs changed) → embedded exchange (seeded with the sample content
when empty) → dialogue backend (the model and, in the same process, the custom actions) → the core
(kejibang/app.py) → every configured channel (Telegram, WeChat), or the terminal chat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp

from core.dialogue import DialogueBackend, RasaServer
from core.texts import Operator
from exchange.api import connected, warm
from kejibang import model
from kejibang.internal import MISSING, SECRET_VARIABLE
from kejibang.privacy import redact_logs
from kejibang.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)
WORKER_START_TIMEOUT = 180.0


class LaunchError(RuntimeError):
    """A start-up problem the operator can fix; the message says how."""


def configure_logging(level: str, path: Path | None = None) -> None:
    """One log format; library chatter (and httpx, whose request lines carry the bot token) kept out.
    ``path``: log to that file instead of the console (the terminal chat's screen is the chat's).

    Below DEBUG, Python warnings from the libraries are hidden too: the terminal chat is for villagers
    and township volunteers, not for deprecation notices.
    """
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True,
                        filename=path)
    redact_logs()  # phone numbers, labelled names and the bot token never reach a log line
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler", "rasa", "rasa_sdk", "tensorflow", "absl",
                  "jieba", "matplotlib", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if level != "DEBUG":
        # libraries re-insert their own warning filters on import, so silence the display itself
        warnings.showwarning = lambda *args, **kwargs: None
        os.environ.setdefault("PYTHONWARNINGS", "ignore")


def quiet_rasa_structlog(level: str) -> None:
    """Rasa's structured logger prints every policy decision unless configured (`rasa run` does); jieba
    sets its own logger to DEBUG on import."""
    import jieba
    import structlog

    threshold = logging.DEBUG if level == "DEBUG" else logging.WARNING
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(threshold))
    jieba.setLogLevel(threshold)


def process_environment(settings: Settings) -> dict[str, str]:
    """The environment handed to child processes and Rasa (endpoints.yml reads it)."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def prepare_exchange(settings: Settings) -> None:
    """Open (and migrate) the embedded exchange, kept open for the core and the actions, and seed it with the
    sample content when empty."""
    if settings.exchange_url:
        print(Operator.REMOTE_EXCHANGE.format(url=settings.exchange_url))
        return
    from exchange.importer import seed_sample

    service = connected(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)
    for report in seed_sample(service) if settings.seed_sample else []:
        print(Operator.SAMPLE_IMPORTED.format(kind=report.kind, created=report.created))
    print(Operator.EMBEDDED_EXCHANGE.format(database=settings.exchange_db))


def ensure_model(settings: Settings) -> Path:
    """The model for the current training data, trained first when needed."""
    started = time.perf_counter()
    path = model.train(settings.model_dir)
    print(Operator.MODEL_READY.format(path=path, seconds=time.perf_counter() - started))
    return path


async def rasa_servers(settings: Settings) -> DialogueBackend:
    """The Rasa servers of RASA_URL, each asked once which model it serves (a wrong token shows here).
    Their REST channel answers only with the internal secret, so production must have set one."""
    if not settings.internal_secret:
        raise LaunchError(MISSING)
    backend = RasaServer(settings.rasa_urls, settings.rasa_token, settings.internal_secret)
    for url, model_file in (await backend.status()).items():
        print(Operator.RASA_SERVER.format(url=url, model=model_file))
    return backend


async def in_process_rasa(settings: Settings, model_path: Path, wait: bool) -> DialogueBackend:
    """The trained model loaded in this process, conversations kept in KEJIBANG_TRACKER_DB.

    Without ``wait`` the model loads in the background: Telegram starts answering at once and
    messages that arrive meanwhile get a short "one moment" notice, then their reply.
    """
    from core.dialogue import InProcessRasa

    backend = InProcessRasa(model_path, settings.actions_url, settings.tracker_db, settings.internal_secret)
    quiet_rasa_structlog(settings.log_level)
    print(Operator.LOADING_MODEL, flush=True)
    loading = asyncio.create_task(_load(backend, settings))
    _BACKGROUND.add(loading)  # asyncio keeps only weak references to tasks
    loading.add_done_callback(_BACKGROUND.discard)
    if wait:
        await loading
    return backend


_BACKGROUND: set[asyncio.Task] = set()


async def _load(backend, settings: Settings) -> None:
    try:
        seconds = await backend.load()
    except Exception:
        log.exception("the model could not be loaded")
        raise
    print(Operator.MODEL_LOADED.format(seconds=seconds, tracker=settings.tracker_db), flush=True)


async def dialogue_backend(settings: Settings, model_path: Path | None, terminal: bool,
                           stack: AsyncExitStack) -> DialogueBackend:
    """The Rasa servers of RASA_URL (no model given), the workers of ``--workers N``, or the model in-process."""
    if model_path is None:
        servers = await rasa_servers(settings)
        stack.push_async_callback(servers.close)  # its HTTP session
        return servers
    if settings.workers > 1:
        return await stack.enter_async_context(dialogue_workers(settings, model_path))
    return await in_process_rasa(settings, model_path, wait=terminal)


@asynccontextmanager
async def dialogue_workers(settings: Settings, model_path: Path) -> AsyncIterator[RasaServer]:
    """``settings.workers`` worker processes (kejibang/worker.py), each person routed to one, ready before
    anyone is answered; stopped when the block ends. They and this process share a secret of this run."""
    secret = settings.internal_secret or secrets.token_urlsafe(32)
    ports = [free_port() for _ in range(settings.workers)]
    log_path = settings.var_dir / "workers.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**process_environment(settings), SECRET_VARIABLE: secret}
    print(Operator.LOADING_WORKERS.format(count=len(ports)), flush=True)
    started = time.perf_counter()
    with log_path.open("ab") as log_file:
        processes = [subprocess.Popen([sys.executable, "-m", "kejibang.worker", "--port", str(port),
                                       "--model", str(model_path)], cwd=PROJECT_ROOT, env=env,
                                      stdout=log_file, stderr=subprocess.STDOUT) for port in ports]
    backend = RasaServer([f"http://127.0.0.1:{port}" for port in ports], secret=secret, sticky=True)
    try:
        await _until_ready(processes, ports, log_path)
        print(Operator.WORKERS_READY.format(count=len(ports), seconds=time.perf_counter() - started,
                                            tracker=settings.tracker_db), flush=True)
        yield backend
    finally:
        await backend.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


async def _until_ready(processes: list[subprocess.Popen], ports: list[int], log_path: Path) -> None:
    """Wait until every worker answers /health; a worker that exits first is the operator's to read about."""
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    waiting = dict(zip(ports, processes, strict=True))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        while waiting:
            for port, process in list(waiting.items()):
                if process.poll() is not None:
                    raise LaunchError(Operator.WORKER_FAILED.format(log=log_path))
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as answer:
                        if answer.ok:
                            del waiting[port]
                except aiohttp.ClientError:
                    pass
            if time.monotonic() > deadline:
                raise LaunchError(Operator.WORKERS_NOT_READY.format(seconds=WORKER_START_TIMEOUT, log=log_path))
            await asyncio.sleep(0.5)


def free_port() -> int:
    """A loopback port nobody listens on now (the system's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def serve(settings: Settings, model_path: Path | None, terminal: bool) -> None:
    """Reach the dialogue backend, build the core once and serve it on every configured channel (the
    terminal chat when no messaging app is configured, or when asked)."""
    from kejibang.app import build_core

    warming = asyncio.create_task(asyncio.to_thread(warm, connected(
        settings.exchange_url, settings.exchange_api_key, settings.exchange_db)))  # beside the model's load
    async with AsyncExitStack() as stack:
        core = build_core(settings, await dialogue_backend(settings, model_path, terminal, stack))
        await warming
        async with core.running(), AsyncExitStack() as channels:
            for serving in channel_servers(settings, terminal):
                await channels.enter_async_context(serving(core))
            if terminal:
                from channels.terminal import chat

                await chat(core)
            else:
                print(Operator.PRESS_CTRL_C, flush=True)
                await asyncio.Event().wait()


def channel_servers(settings: Settings, terminal: bool) -> list:
    """The messaging apps to serve: each one whose settings are complete (none with the terminal chat)."""
    if terminal:
        return []
    servers = []
    if settings.telegram_token:
        from channels.telegram import serving as telegram

        servers.append(telegram)
    if settings.wechat_configured:
        from channels.wechat import serving as wechat

        servers.append(wechat)
    return servers


def channel_names(settings: Settings) -> list[str]:
    """The messaging apps whose settings are complete, as the start-up lines name them."""
    return [name for name, configured in ((Operator.BOT.format(app="Telegram"), bool(settings.telegram_token)),
                                          (Operator.OFFICIAL_ACCOUNT, settings.wechat_configured)) if configured]


TERMINAL_LOG = "kejibang.log"  # under KEJIBANG_VAR_DIR: the terminal chat keeps its screen for the chat


def run(settings: Settings, *, terminal: bool | None = None) -> None:
    """Start everything; the terminal chat when no messaging app is configured (or when asked).

    With RASA_URL the model and the custom actions belong to the Rasa servers and their action server
    (the production profile, deploy/): only the exchange and the adapter start here.
    """
    use_terminal = terminal if terminal is not None else not channel_names(settings)
    log_file = settings.var_dir / TERMINAL_LOG if use_terminal else None
    configure_logging(settings.log_level, log_file)
    process_environment(settings)
    model_path = None if settings.rasa_urls else ensure_model(settings)
    prepare_exchange(settings)
    names = Operator.TERMINAL_CHAT if use_terminal else "、".join(channel_names(settings))
    print(Operator.FRONT_ENDS.format(names=names), flush=True)
    if log_file is not None:
        print(Operator.LOG_FILE.format(path=log_file), flush=True)
    asyncio.run(serve(settings, model_path, use_terminal))
