"""`kejibang bench capacity`: what ONE Rasa server of the production profile sustains, and its memory.

The profile runs for real (tests/support/production_stack.py, as deploy/ runs it): one
`kejibang rasa serve` process with Rasa's SQL tracker store on PostgreSQL and the Redis lock store,
the action server as its own process, the exchange and the assistant's store on PostgreSQL. Simulated
people send through the bot's own client (RasaServer), each waiting for the answer before the next
message and starting a new conversation after the last (hello, a colloquial need from the dev set, a
typed yes that posts the need and matches experts: every turn kind the assistant does most), at
several concurrency levels for LEVEL_SECONDS each. Per level: messages/s, p50/p95 message → reply,
the Rasa server's and the action server's peak resident memory, and what the databases saw per
message (PostgreSQL commits, rows written and read over the three databases; Redis commands), which is
what the capacity note in deploy/README.md scales to the peak load.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path

import redis
import sqlalchemy

from bench.e2e import conversations
from bench.report import cpu_seconds, percentile, resident_mb, save, table

CONCURRENCY = (1, 4, 16, 32)
LEVEL_SECONDS = 30.0
RSS_EVERY_SECONDS = 0.5


def _postgres_counters(admin: sqlalchemy.engine.Engine, names: list[str]) -> dict[str, int]:
    """Cumulative commits and rows written / read of the given databases (pg_stat_database)."""
    query = sqlalchemy.text(
        "SELECT sum(xact_commit), sum(tup_inserted + tup_updated + tup_deleted), sum(tup_fetched) "
        "FROM pg_stat_database WHERE datname = ANY(:names)")
    with admin.connect() as connection:
        commits, written, read = connection.execute(query, {"names": names}).one()
    return {"commits": int(commits), "rows_written": int(written), "rows_read": int(read)}


def _redis_commands(client: redis.Redis) -> int:
    return int(client.info("stats")["total_commands_processed"])


async def _peak_rss(pids: dict[str, int], peaks: dict[str, float], stop: asyncio.Event) -> None:
    """Keep the highest resident memory seen per process until ``stop`` is set."""
    while not stop.is_set():
        for name, pid in pids.items():
            peaks[name] = max(peaks.get(name, 0.0), resident_mb(pid))
        await asyncio.sleep(RSS_EVERY_SECONDS)


async def _person(backend, name: str, first: int, deadline: float, latencies: list[float],
                  errors: list[str]) -> int:
    """Conversation after conversation (each from its own sender) until the deadline; returns how many
    messages were answered."""
    scripts = conversations()
    answered = 0
    for round_ in itertools.count():
        for text in scripts[(first + round_) % len(scripts)]:
            if time.monotonic() >= deadline:
                return answered
            started = time.perf_counter()
            try:
                await backend.respond(f"{name}-{round_}", text)
            except Exception as error:  # a failed turn is counted, the load goes on
                errors.append(f"{name}: {error!r}")
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            answered += 1


def _counters(stack, admin: sqlalchemy.engine.Engine, red: redis.Redis) -> dict[str, float]:
    """Every cumulative counter a level divides by its messages: CPU of both servers, PostgreSQL, Redis."""
    return {"rasa_cpu_ms": cpu_seconds(stack.rasa_pids[0]) * 1000, "actions_cpu_ms": cpu_seconds(stack.actions_pid) * 1000,
            **_postgres_counters(admin, list(stack.databases.values())), "redis_cmds": _redis_commands(red)}


async def _level(stack, label: str, people: int, seconds: float, admin: sqlalchemy.engine.Engine,
                 red: redis.Redis) -> dict:
    """``people`` at once for ``seconds``; what the servers did and what the databases saw, per message."""
    backend = stack.backend()
    latencies: list[float] = []
    errors: list[str] = []
    peaks: dict[str, float] = {}
    stop = asyncio.Event()
    sampler = asyncio.create_task(_peak_rss({"rasa": stack.rasa_pids[0], "actions": stack.actions_pid}, peaks, stop))
    before, started = _counters(stack, admin, red), time.monotonic()
    counts = await asyncio.gather(*(
        _person(backend, f"{label}-{person}", person, started + seconds, latencies, errors)
        for person in range(people)))
    elapsed = time.monotonic() - started
    stop.set()
    await sampler
    await backend.close()
    await asyncio.sleep(1.5)  # PostgreSQL publishes a backend's counters at most once a second
    after, messages = _counters(stack, admin, red), max(sum(counts), 1)
    return {"people": people, "messages": sum(counts), "msgs_per_s": sum(counts) / elapsed,
            "p50_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95), "errors": len(errors),
            "rasa_rss_mb": peaks["rasa"], "actions_rss_mb": peaks["actions"],
            **{f"{name}_per_msg": (after[name] - before[name]) / messages for name in before}}


def _tracker_footprint(stack, messages: int) -> dict:
    """Rows and bytes (table and indexes) the tracker store keeps per message."""
    from tests.support.databases import database_url

    engine = sqlalchemy.create_engine(database_url(stack.databases["tracker"]))
    try:
        with engine.connect() as connection:
            rows, size = connection.execute(sqlalchemy.text(
                "SELECT count(*), pg_total_relation_size('events') FROM events")).one()
    finally:
        engine.dispose()
    return {"events_per_msg": rows / max(messages, 1), "bytes_per_msg": size / max(messages, 1)}


async def _measure(stack, admin: sqlalchemy.engine.Engine, red: redis.Redis) -> list[dict]:
    await _level(stack, "warm", 4, 10.0, admin, red)  # warm-up: the first matches build the matcher's index
    return [await _level(stack, f"cap{people}", people, LEVEL_SECONDS, admin, red) for people in CONCURRENCY]


def bench() -> dict:
    """Start the profile with one Rasa server in a temporary folder and measure every level."""
    from kejibang import launcher
    from kejibang.settings import PROJECT_ROOT

    sys.path.insert(0, str(PROJECT_ROOT))  # the stack is test infrastructure, kept under tests/support
    from tests.support.databases import POSTGRES_ADMIN_URL
    from tests.support.production_stack import REDIS_HOST, REDIS_PORT, production_stack

    launcher.configure_logging("WARNING")
    admin, red = sqlalchemy.create_engine(POSTGRES_ADMIN_URL), redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    try:
        with tempfile.TemporaryDirectory() as work, production_stack(Path(work), servers=1) as stack:
            idle = {"rasa_rss_mb": resident_mb(stack.rasa_pids[0]), "actions_rss_mb": resident_mb(stack.actions_pid)}
            rows = asyncio.run(_measure(stack, admin, red))
            tracker = _tracker_footprint(stack, sum(r["messages"] for r in rows))
    finally:
        admin.dispose()
        red.close()
    return {"levels": rows, "idle": idle, "tracker": tracker}


def main() -> dict:
    """Run, print the tables, save bench/results/capacity.json."""
    figures = bench()
    print(table(["people", "messages", "msgs/s", "p50 ms", "p95 ms", "errors", "Rasa RSS MB", "actions RSS MB",
                 "Rasa CPU ms/msg", "actions CPU ms/msg", "PG commits/msg", "PG rows written/msg", "PG rows read/msg", "Redis cmds/msg"],
                [list(r.values()) for r in figures["levels"]]))
    print(f"空载常驻内存：Rasa {figures['idle']['rasa_rss_mb']:.0f} MB，动作服务器 {figures['idle']['actions_rss_mb']:.0f} MB；"
          f"对话记录每条消息 {figures['tracker']['events_per_msg']:.1f} 个事件、{figures['tracker']['bytes_per_msg']:.0f} 字节")
    print(f"保存：{save('capacity', figures)}")
    return figures
