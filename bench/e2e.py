"""`kejibang bench e2e`: message → reply latency and throughput through the Telegram Bot API emulator.

The whole stack runs for real: python-telegram-bot polling the emulator on loopback, the trained
model in-process, the action server as its own process, the embedded exchange on SQLite. Simulated
users each send a short conversation (hello, a need from the dev set, a confirmation) and wait for
each answer before the next message, at 1, 10 and 50 concurrent users. Latency is the emulator's
delivery of the update to the bot's first reply; throughput counts messages over wall time (each user
waits 50 ms after a turn's last reply, so it slightly understates what the bot can do).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.report import RESULTS, percentile, resident_mb, save, table

if TYPE_CHECKING:
    from tests.support.bot_api_emulator import BotApiEmulator

CONCURRENCY = (1, 10, 50)
ROUNDS = {1: 10, 10: 3, 50: 1}
DRAIN_SECONDS = 0.05
DEV = Path(__file__).resolve().parent / "data" / "needs_dev.jsonl"
CHATS = itertools.count(700_000)  # every simulated user of every level is a different person (rate limits are per person)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def conversations() -> list[list[str]]:
    """Hello, a colloquial need, and a typed yes: one conversation per dev-set need."""
    needs = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [["你好", need, "对的"] for need in needs]


async def one_user(emulator, chat: int, script: list[str], latencies: list[float], lost: list[str]) -> int:
    """Send each message after the previous answer arrived; returns how many messages were sent."""
    for text in script:
        update_id = emulator.user_sends(chat, text)["update_id"]
        try:
            await emulator.wait_until(lambda uid=update_id: emulator.reply_latency(uid) is not None, timeout=60)
        except TimeoutError:
            lost.append(f"{chat}: {text}")
            continue
        latencies.append(emulator.reply_latency(update_id) * 1000)
        while True:  # the rest of this turn's replies (expert cards, articles) follow within milliseconds
            try:
                await emulator.wait_for_message(chat, timeout=DRAIN_SECONDS)
            except TimeoutError:
                break
    return len(script)


async def run_level(emulator, users: int, scripts: list[list[str]]) -> dict:
    """One concurrency level: every user runs ROUNDS[users] conversations."""
    latencies: list[float] = []
    lost: list[str] = []
    started = time.perf_counter()
    counts = await asyncio.gather(*(
        one_user(emulator, next(CHATS), [m for r in range(ROUNDS[users])
                                                        for m in scripts[(u * ROUNDS[users] + r) % len(scripts)]],
                 latencies, lost)
        for u in range(users)))
    elapsed = time.perf_counter() - started
    return {"users": users, "messages": sum(counts), "p50_ms": percentile(latencies, 0.5),
            "p95_ms": percentile(latencies, 0.95), "msgs_per_s": sum(counts) / elapsed, "lost": len(lost),
            "rss_mb": resident_mb()}


@dataclass
class Stack:
    """The running stack: the emulator users send through, and the action server's process id."""

    emulator: BotApiEmulator
    action_server_pid: int


@asynccontextmanager
async def running_stack() -> AsyncIterator[Stack]:
    """The whole stack in a temporary folder, as ``kejibang run`` starts it in Telegram mode: the embedded
    exchange, the action server process, the model loaded in-process, and the Telegram channel polling the
    Bot API emulator (simulated users send through it)."""
    from core.dialogue import InProcessRasa
    from kejibang import launcher, model
    from kejibang.settings import PROJECT_ROOT, Settings

    sys.path.insert(0, str(PROJECT_ROOT))  # the emulator is test infrastructure, kept under tests/support
    from tests.support.bot_api_emulator import BotApiEmulator
    from tests.support.running_bot import running_bot

    with tempfile.TemporaryDirectory() as var:
        os.environ.update({"KEJIBANG_VAR_DIR": var, "KEJIBANG_ACTIONS_PORT": str(free_port())})
        os.environ.pop("KEJIBANG_ACTIONS_URL", None)
        settings = Settings.from_env()
        launcher.configure_logging("WARNING")
        launcher.process_environment(settings)
        launcher.prepare_exchange(settings)
        actions = launcher.start_action_server(settings, Path(var) / "actions.log")
        try:
            backend = InProcessRasa(model.train(settings.model_dir), settings.actions_url, settings.tracker_db)
            launcher.quiet_rasa_structlog("WARNING")
            await backend.load()
            async with BotApiEmulator() as emulator, running_bot(emulator, backend):
                yield Stack(emulator, actions.pid)
        finally:
            actions.terminate()
            actions.wait(timeout=10)


async def bench() -> list[dict]:
    """Start the stack and measure every concurrency level."""
    async with running_stack() as stack:
        emulator = stack.emulator
        await run_level(emulator, 1, conversations()[:1])  # warm-up
        return [await run_level(emulator, users, conversations()) for users in CONCURRENCY]


def plot(rows: list[dict]) -> Path:
    """Latency (p50, p95) and throughput against concurrent users, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(9, 3.5), dpi=100)
    users = [r["users"] for r in rows]
    left.plot(users, [r["p50_ms"] for r in rows], marker="o", label="p50")
    left.plot(users, [r["p95_ms"] for r in rows], marker="o", label="p95")
    left.set(xlabel="concurrent users", ylabel="message → reply (ms)", xscale="log")
    left.legend()
    right.plot(users, [r["msgs_per_s"] for r in rows], marker="o")
    right.set(xlabel="concurrent users", ylabel="messages / s", xscale="log")
    figure.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "e2e.png"
    figure.savefig(path)
    return path


def main() -> list[dict]:
    """Run, print the table, save bench/results/e2e.json and e2e.png."""
    rows = asyncio.run(bench())
    print(table(["users", "messages", "p50 ms", "p95 ms", "msgs/s", "lost", "RSS MB"], [list(r.values()) for r in rows]))
    print(f"保存：{save('e2e', {'levels': rows})}，{plot(rows)}")
    return rows
