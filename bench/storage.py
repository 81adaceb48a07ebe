"""`kejibang bench storage`: the reference exchange's database at the regional exchange's size.

Imports 250 k experts through the real import path (every line validated, chunks by id), then fills
the database to 3.45 M users and 254 k needs, and times the reads the assistant makes on every turn
(a user, a user's needs, a township's funnel) against that database. SQLite by default;
KEJIBANG_EXCHANGE_DB names another database (PostgreSQL in production).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.matching import SAMPLE, _jsonl
from bench.report import percentile, save, table
from common.clock import utcnow
from exchange.importer import import_file
from exchange.models import Need, User
from exchange.service import ExchangeService

EXPERTS = 250_000
USERS = 3_450_000
NEEDS = 254_000
BATCH = 50_000
QUERIES = 300
TOWNSHIPS = ("511621102", "511621103", "511802106", "510182107", "513434102")


def synthetic_expert_file(path: Path, count: int) -> Path:
    """``count`` expert records derived from the sample (new ids, the sample's texts and places)."""
    sample = _jsonl(SAMPLE / "experts.jsonl")
    with path.open("w", encoding="utf-8") as stream:
        for i in range(count):
            record = dict(sample[i % len(sample)], id=f"s-{i:06d}")
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def fill(service: ExchangeService, model, count: int, row) -> float:
    """Insert ``count`` rows in batches with core inserts; seconds taken."""
    started = time.perf_counter()
    with service.db.engine.begin() as connection:
        for start in range(0, count, BATCH):
            connection.execute(insert(model), [row(i) for i in range(start, min(count, start + BATCH))])
    return time.perf_counter() - started


def _user(i: int) -> dict:
    return {"id": f"u-b{i:010d}", "name": "测试用户", "phone": f"138{i % 10**8:08d}", "role": "农户",
            "township": "", "township_code": TOWNSHIPS[i % len(TOWNSHIPS)], "share_contact": False,
            "consent_purpose": "", "consent_scope": "", "created_at": utcnow() - timedelta(days=i % 700),
            "updated_at": utcnow()}


def _need(i: int) -> dict:
    return {"id": f"n-b{i:010d}", "user_id": f"u-b{(i * 13) % USERS:010d}", "text": "猪不吃食", "region": "",
            "township_code": TOWNSHIPS[i % len(TOWNSHIPS)], "domains": ["pig"], "status": "matched",
            "created_at": utcnow() - timedelta(days=i % 700), "matched_at": utcnow() - timedelta(days=i % 700)}


def timed(call, arguments: list) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``call`` over the arguments."""
    latencies = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        latencies.append((time.perf_counter() - started) * 1000)
    return percentile(latencies, 0.5), percentile(latencies, 0.95)


def main() -> dict:
    """Run every stage, print the table, save bench/results/storage.json."""
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("KEJIBANG_EXCHANGE_DB") or f"sqlite:///{folder}/exchange.db"
        service = ExchangeService(url)
        experts = synthetic_expert_file(Path(folder) / "experts.jsonl", EXPERTS)
        started = time.perf_counter()
        report = import_file(service, "experts", experts, show_progress=False)
        figures = {"import_250k_experts_s": time.perf_counter() - started, "imported": report.created}
        figures["fill_3_45m_users_s"] = fill(service, User, USERS, _user)
        figures["fill_254k_needs_s"] = fill(service, Need, NEEDS, _need)
        user_ids = [f"u-b{rng.randrange(USERS):010d}" for _ in range(QUERIES)]
        figures["get_user_ms"] = timed(service.get_user, user_ids)
        figures["list_needs_ms"] = timed(service.list_needs, user_ids)
        figures["township_stats_ms"] = timed(lambda code: service.township_stats(code, 2), list(TOWNSHIPS) * 4)
        with service.db.transaction() as session:
            figures["users"] = session.execute(select(func.count()).select_from(User)).scalar_one()
            figures["needs"] = session.execute(select(func.count()).select_from(Need)).scalar_one()
        figures["database"] = url.split(":")[0]
        service.close()
    rows = [["import 250 k experts (validated, by id)", f"{figures['import_250k_experts_s']:.1f} s"],
            ["insert 3.45 M users", f"{figures['fill_3_45m_users_s']:.1f} s"],
            ["insert 254 k needs", f"{figures['fill_254k_needs_s']:.1f} s"],
            ["get user p50 / p95", "{:.2f} / {:.2f} ms".format(*figures["get_user_ms"])],
            ["a user's needs p50 / p95", "{:.2f} / {:.2f} ms".format(*figures["list_needs_ms"])],
            ["township funnel (2 weeks) p50 / p95", "{:.1f} / {:.1f} ms".format(*figures["township_stats_ms"])],
            ["rows", f"{figures['users']} users, {figures['needs']} needs"]]
    print(table(["stage", "result"], rows))
    print(f"保存：{save('storage', figures)}")
    return figures
