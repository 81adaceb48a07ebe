"""`kejibang bench e2e`: message → reply latency, throughput, CPU and memory through the Bot API emulator.

The whole stack runs for real, as ``kejibang run`` starts it in Telegram mode: python-telegram-bot polling
the emulator on loopback, the trained model with the custom actions in-process (or in N worker processes,
``--workers N``), the embedded exchange on SQLite. Simulated users each send a short conversation (hello,
a need from the dev set, a confirmation) and wait for each answer before the next message, at 1, 10 and 50
concurrent users, on one worker and on one per core. Latency is the emulator's delivery of the update to
the bot's first reply; throughput counts messages over wall time (each user waits 50 ms after a turn's
last reply, so it slightly understates what the bot can do); CPU per turn and resident memory add up the
bot's process and its workers'. The emulator and the simulated users run on an event loop in a thread of
their own, and that thread's CPU is not counted: it is the test's cost, not the bot's (it shares the bot's
interpreter lock, as Telegram's servers would not; its memory, a few MB, is in the bot's figure).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bench.report import RESULTS, cpu_seconds, percentile, resident_mb, save, table

if TYPE_CHECKING:
    from tests.support.bot_api_emulator import BotApiEmulator

CONCURRENCY = (1, 10, 50)
ROUNDS = {1: 10, 10: 3, 50: 1}
DRAIN_SECONDS = 0.05
DEV = Path(__file__).resolve().parent / "data" / "needs_dev.jsonl"
CHATS = itertools.count(700_000)  # every simulated user of every level is a different person (rate limits are per person)


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


async def run_level(emulator, users: int, scripts: list[list[str]],
                    user: Callable[..., Awaitable[int]] = one_user) -> dict:
    """One concurrency level: every user runs ROUNDS[users] conversations (``user`` plays one of them on the
    emulator's app: another channel's bench brings its own)."""
    latencies: list[float] = []
    lost: list[str] = []
    rounds = ROUNDS.get(users, 1)
    started = time.perf_counter()
    counts = await asyncio.gather(*(
        user(emulator, next(CHATS), [m for r in range(rounds) for m in scripts[(u * rounds + r) % len(scripts)]],
             latencies, lost)
        for u in range(users)))
    elapsed = time.perf_counter() - started
    return {"users": users, "messages": sum(counts), "p50_ms": percentile(latencies, 0.5),
            "p95_ms": percentile(latencies, 0.95), "msgs_per_s": sum(counts) / elapsed, "lost": len(lost)}


T = TypeVar("T")  # what a coroutine run on the users' loop returns


class UsersLoop:
    """An event loop in a thread of its own, for the emulator and the simulated users: the bot reaches them
    only over loopback HTTP, as it would reach Telegram, and their CPU is told apart from the bot's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="simulated-users", daemon=True)
        self._thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the users' loop and wait for it from the bot's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def cpu_seconds(self) -> float:
        """CPU time the users' thread has used so far."""
        return cpu_seconds(f"self/task/{self._thread.native_id}")

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


@contextmanager
def users_loop() -> Iterator[UsersLoop]:
    users = UsersLoop()
    try:
        yield users
    finally:
        users.close()


@dataclass
class Stack:
    """The running stack: the emulator users send through, the dialogue's worker processes (none when the
    model runs in the bot's own process) and how long the dialogue took to be ready."""

    emulator: BotApiEmulator
    workers: tuple[int, ...]
    load_s: float
    users: UsersLoop

    def cpu_seconds(self) -> float:
        """CPU time used so far by the bot and its workers (not by the emulator and the users)."""
        return cpu_seconds() - self.users.cpu_seconds() + sum(cpu_seconds(pid) for pid in self.workers)

    def resident_mb(self) -> float:
        """Resident memory of the bot and its workers."""
        return resident_mb() + sum(resident_mb(pid) for pid in self.workers)


@asynccontextmanager
async def running_stack(workers: int = 1) -> AsyncIterator[Stack]:
    """The whole stack in a temporary folder, as ``kejibang run --workers N`` starts it in Telegram mode: the
    seeded embedded exchange, the dialogue (the model and the actions in-process, or N workers), and the
    Telegram channel polling the Bot API emulator (simulated users send through it)."""
    from kejibang import launcher, model
    from kejibang.settings import PROJECT_ROOT

    sys.path.insert(0, str(PROJECT_ROOT))  # the emulator is test infrastructure, kept under tests/support
    from tests.support.model_stack import local_stack
    from tests.support.running_bot import running_bot

    launcher.configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as var, local_stack(Path(var)) as local:
        settings = replace(local, workers=workers)
        async with AsyncExitStack() as dialogue:
            started = time.perf_counter()
            backend = await launcher.dialogue_backend(settings, model.train(settings.model_dir), True, dialogue)
            load_s = time.perf_counter() - started
            with users_loop() as users:
                emulator = await users.run(started_emulator())
                try:
                    async with running_bot(emulator, backend):
                        yield Stack(emulator, children(), load_s, users)
                finally:
                    await users.run(emulator.stop())


async def started_emulator() -> BotApiEmulator:
    """The Bot API emulator, made and started on the running loop (the users' loop, where it is used)."""
    from tests.support.bot_api_emulator import BotApiEmulator

    emulator = BotApiEmulator()
    await emulator.start()
    return emulator


def children() -> tuple[int, ...]:
    """The process ids of this process's children (the dialogue workers)."""
    found: list[int] = []
    for listing in Path("/proc/self/task").glob("*/children"):
        found += [int(pid) for pid in listing.read_text().split()]
    return tuple(found)


async def measured_level(stack: Stack, users: int, scripts: list[list[str]]) -> dict:
    """One concurrency level with the CPU it cost per message and the memory held at its end."""
    cpu = stack.cpu_seconds()
    row = await stack.users.run(run_level(stack.emulator, users, scripts))
    return {**row, "cpu_ms_per_turn": (stack.cpu_seconds() - cpu) * 1000 / max(row["messages"], 1),
            "rss_mb": stack.resident_mb()}


async def bench(workers: int) -> dict:
    """Every concurrency level on one stack of ``workers`` dialogue workers (after one warm-up conversation
    per worker: each loads its own caches)."""
    async with running_stack(workers) as stack:
        await stack.users.run(run_level(stack.emulator, 2 * workers, conversations()[:2 * workers]))  # warm-up
        levels = [await measured_level(stack, users, conversations()) for users in CONCURRENCY]
        return {"workers": workers, "load_s": stack.load_s, "levels": levels}


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


def summary(runs: list[dict]) -> list[list[object]]:
    """Per worker count: the model's load, p95 at 10 people over p50 at 1, and messages/s against one worker."""
    base = {row["users"]: row["msgs_per_s"] for row in runs[0]["levels"]}
    rows = []
    for run in runs:
        by_users = {row["users"]: row for row in run["levels"]}
        rows.append([run["workers"], run["load_s"], by_users[10]["p95_ms"] / by_users[1]["p50_ms"],
                     *(by_users[users]["msgs_per_s"] / base[users] for users in (10, 50))])
    return rows


def bench_apart(workers: int) -> dict:
    """``bench(workers)`` in a process of its own: a stack that loaded the model in-process keeps its memory
    after it stops, and the next stack's resident memory would count it."""
    script = f"import asyncio, json; from bench.e2e import bench; print(json.dumps(asyncio.run(bench({workers}))))"
    ran = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent,
                         stdout=subprocess.PIPE, check=True, text=True)
    *progress, figures = ran.stdout.strip().splitlines()
    print("\n".join(progress), flush=True)
    return json.loads(figures)


def main(workers: tuple[int, ...] = (1, os.cpu_count() or 1)) -> list[dict]:
    """Run on each worker count, print the tables, save bench/results/e2e.json and e2e.png."""
    runs = [bench_apart(count) for count in dict.fromkeys(workers)]
    columns = ("users", "messages", "p50_ms", "p95_ms", "msgs_per_s", "cpu_ms_per_turn", "rss_mb", "lost")
    print(table(["workers", "users", "messages", "p50 ms", "p95 ms", "msgs/s", "CPU ms/turn", "RSS MB", "lost"],
                [[run["workers"], *(row[c] for c in columns)] for run in runs for row in run["levels"]]))
    print(table(["workers", "ready after s", "p95@10 / p50@1", "msgs/s vs 1 worker @10", "@50"], summary(runs)))
    print(f"保存：{save('e2e', {'runs': runs})}，{plot(runs[0]['levels'])}")
    return runs
