"""`kejibang bench wechat`: WeChat latency, from the signed POST of a message to the customer-service call
that answers it, and throughput, through the WeChat emulator.

The stack is the one ``kejibang run`` starts (the trained model and the custom actions in-process, the
embedded exchange on SQLite), with the WeChat channel serving its callback on loopback. Why measure it apart from Telegram: WeChat's POST is acknowledged at once
and the answer goes out later through the customer-service API, so the path (inbox, a background turn, the
access token, the API call) is not Telegram's. Simulated users each send the e2e conversations and wait for
the answer before the next message, 1 and 10 at once. Latency runs from just before the POST to the arrival
of the first customer-service message to that user, as the emulator timed it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bench.e2e import DRAIN_SECONDS, conversations, run_level
from bench.report import save, table
from kejibang.launcher import free_port

if TYPE_CHECKING:
    from tests.support.wechat_emulator import WeChatEmulator

CONCURRENCY = (1, 10)
TURN_TIMEOUT_SECONDS = 60.0


def openid(chat: int) -> str:
    """A simulated follower's openid (28 characters, as WeChat's are)."""
    return f"oBench{chat:022d}"


def first_reply_at(emulator: WeChatEmulator, user: str, after: int) -> float | None:
    """When the first customer-service message to ``user`` from the ``after``-th message on arrived."""
    return next((at for message, at in zip(emulator.sent[after:], emulator.sent_at[after:], strict=True)
                 if message["touser"] == user), None)


def sent_to(emulator: WeChatEmulator, user: str) -> int:
    """How many customer-service messages ``user`` got so far."""
    return sum(message["touser"] == user for message in emulator.sent)


async def more_came(emulator: WeChatEmulator, user: str) -> bool:
    """Whether another message reached ``user`` within ``DRAIN_SECONDS``."""
    before = sent_to(emulator, user)
    try:
        await emulator.wait_for(lambda: sent_to(emulator, user) > before, timeout=DRAIN_SECONDS)
    except asyncio.TimeoutError:
        return False
    return True


async def turn(emulator: WeChatEmulator, user: str, text: str) -> float | None:
    """One message and its whole answer: milliseconds to the first reply, None when none came."""
    after, started = len(emulator.sent), time.perf_counter()
    await emulator.user_sends(user, text)
    try:
        await emulator.wait_for(lambda: first_reply_at(emulator, user, after) is not None,
                                timeout=TURN_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return None
    replied = first_reply_at(emulator, user, after)
    while await more_came(emulator, user):  # the turn's further replies: expert cards, articles, pictures
        pass
    return None if replied is None else (replied - started) * 1000


async def one_user(emulator: WeChatEmulator, chat: int, script: list[str], latencies: list[float],
                   lost: list[str]) -> int:
    """Send each message after the previous answer arrived; returns how many messages were sent."""
    user = openid(chat)
    for text in script:
        latency = await turn(emulator, user, text)
        if latency is None:
            lost.append(f"{user}: {text}")
        else:
            latencies.append(latency)
    return len(script)


@asynccontextmanager
async def running_wechat() -> AsyncIterator[WeChatEmulator]:
    """The stack as ``kejibang run`` starts it, in a temporary folder (the tests' ``local_stack``: the seeded
    embedded exchange, the model and the custom actions in this process), with the WeChat channel served on a
    loopback port and pointed at the emulator."""
    from channels.wechat import serving
    from kejibang import launcher
    from kejibang.app import build_core
    from kejibang.settings import PROJECT_ROOT

    sys.path.insert(0, str(PROJECT_ROOT))  # the emulator is test infrastructure, kept under tests/support
    from tests.support.model_stack import loaded_assistant, local_stack
    from tests.support.running_bot import environment
    from tests.support.wechat_emulator import WeChatEmulator

    launcher.configure_logging("WARNING")
    launcher.quiet_rasa_structlog("WARNING")
    port = free_port()
    with tempfile.TemporaryDirectory() as var, local_stack(Path(var)) as local:
        backend = await loaded_assistant(local)
        async with WeChatEmulator(f"http://127.0.0.1:{port}/wechat") as emulator, \
                environment(emulator.settings(port)) as settings, serving(build_core(settings, backend)):
            yield emulator


async def bench() -> list[dict]:
    """Start the stack and measure each concurrency level (after one warm-up conversation)."""
    async with running_wechat() as emulator:
        await run_level(emulator, 1, conversations()[:1], one_user)
        return [await run_level(emulator, users, conversations(), one_user) for users in CONCURRENCY]


def main() -> list[dict]:
    """Run, print the table, save bench/results/wechat.json."""
    rows = asyncio.run(bench())
    columns = ("users", "messages", "p50_ms", "p95_ms", "msgs_per_s", "lost")
    print(table(["users", "messages", "p50 ms", "p95 ms", "msgs/s", "lost"],
                [[row[column] for column in columns] for row in rows]))
    print(f"Saved: {save('wechat', {'levels': rows})}")
    return rows
