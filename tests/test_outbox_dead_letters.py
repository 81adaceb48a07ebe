"""Issue #12 C: one bad write no longer blocks the whole outbox.

The worker used to go oldest first and stop at the first write the exchange could not take, so a single
write the exchange answered with a 500 every time (a need with a 210-character region on PostgreSQL) held up
every other person's writes for ever. Now each person's line is delivered on its own, in order; a refusal (4xx)
or an unreadable answer goes to the dead letters with the reason, the person is told in plain words, and
``kejibang admin outbox [--retry ID]`` lists and retries them. Exchange and store on SQLite and on PostgreSQL,
the exchange in-process and over HTTP.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from click.testing import CliRunner

from core.outbox import OutboxWorker
from core.texts import Farmer
from exchange.errors import ExchangeUnavailable, InputRejected
from exchange.models import Need
from kejibang.cli import main
from store.accounts import Accounts
from store.database import store_database
from store.erasure import forget_person
from store.outbox import Outbox, Retry, Write
from tests.support.figures import report
from tests.support.reliability import RecordingOutbound

POISON = {"text": "猪不吃食还发烧", "region": "四川省" + "岳" * 207}
WRITERS = 20


@pytest.fixture
def store_url(request, storage_service, tmp_path) -> str:
    """The assistant's store on the same kind of database as the exchange under test."""
    if storage_service.db.engine.dialect.name == "sqlite":
        return f"sqlite:///{tmp_path / 'assistant.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def outbox(store_url) -> Outbox:
    return Outbox(store_database(store_url))


def _need(outbox: Outbox, sender: str, body: dict, key: str) -> None:
    outbox.enqueue(sender, Write.CREATE_NEED, [body, key, 5], key)


def _arrived(service, texts: list[str]) -> int:
    with service.db.transaction() as session:
        return session.query(Need).filter(Need.text.in_(texts)).count()


class Timed(RecordingOutbound):
    """What the worker told whom, and when (seconds since ``start``)."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.perf_counter()
        self.at: dict[str, float] = {}

    async def send(self, sender_id: str, replies) -> None:
        await super().send(sender_id, replies)
        self.at.setdefault(sender_id, time.perf_counter() - self.start)


@pytest.mark.asyncio
async def test_a_poison_write_among_twenty_people_is_dead_lettered_and_holds_nobody_up(
        exchange, storage_service, outbox, store_url, request):
    _need(outbox, "telegram:poison", POISON, "k-poison")
    _need(outbox, "telegram:poison", {"text": "母猪产后不吃食"}, "k-poison-next")  # waits behind the poison
    texts = [f"第{n}户：鸡不下蛋，冠子发紫" for n in range(WRITERS)]
    for n, text in enumerate(texts):
        _need(outbox, f"telegram:{1000 + n}", {"text": text, "region": "岳池县坪滩镇"}, f"k-{n}")
    storage_service.match_preview("鸡不下蛋")  # the matcher is built before the clock starts
    told = Timed()
    worker = OutboxWorker(outbox, Accounts(store_database(store_url)), exchange, told)

    result = await worker.deliver_due()
    took = time.perf_counter() - told.start

    assert (result.delivered, result.refused, result.failed) == (WRITERS + 1, 1, 0)
    assert _arrived(storage_service, texts) == WRITERS
    assert outbox.pending() == [], "nothing is left waiting: not the poison, not anyone behind it"
    [dead] = outbox.dead_letters()
    assert (dead.command, dead.code, dead.sender_id) == ("create_need", "region_too_long", "telegram:poison")
    first, then = told.to("telegram:poison")
    assert first.startswith("😥 你之前的需求平台没有收下：地区太长了") and then.startswith("✅")
    report(request.config, f"poison among writers [{request.node.callspec.id}]", {
        "writers": WRITERS, "arrived": _arrived(storage_service, texts), "dead-lettered": len(outbox.dead_letters()),
        "passes": 1, "pass s": round(took, 2), "last writer told s": round(max(told.at.values()), 2)})


class Faulty:
    """The embedded exchange, except for the writes whose text names a fault: slow then failing (5xx), or
    answered with something that is not a need."""

    def __init__(self, service, slow: float = 0.0) -> None:
        self.service, self.slow, self.calls = service, slow, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)

    def create_need(self, data: dict, *args: Any) -> Any:
        self.calls.append(data["text"])
        if data["text"].startswith("卡住"):
            time.sleep(self.slow)
            raise ExchangeUnavailable("server_error", "科技交易平台暂时出错了")
        if data["text"].startswith("乱码"):
            return {"unexpected": True}
        return self.service.create_need(data, *args)


@pytest.fixture
def wired_outbox(tmp_path) -> tuple[Outbox, Accounts]:
    db = store_database(f"sqlite:///{tmp_path / 'assistant.db'}")
    return Outbox(db), Accounts(db)


@pytest.mark.asyncio
async def test_a_write_that_keeps_failing_holds_up_only_its_own_persons_line(wired_outbox, sqlite_service):
    outbox, accounts = wired_outbox
    _need(outbox, "telegram:sick", {"text": "卡住：猪咳嗽"}, "k-sick")
    _need(outbox, "telegram:sick", {"text": "猪咳嗽好了吗"}, "k-sick-next")
    others = [f"第{n}户：稻飞虱" for n in range(5)]
    for n, text in enumerate(others):
        _need(outbox, f"telegram:{n}", {"text": text}, f"k-{n}")
    sqlite_service.match_preview("稻飞虱")
    faulty, told = Faulty(sqlite_service, slow=1.5), Timed()
    worker = OutboxWorker(outbox, accounts, faulty, told)

    result = await worker.deliver_due()

    assert (result.delivered, result.refused, result.failed, result.blocked) == (5, 0, 1, False)
    assert max(told.at[f"telegram:{n}"] for n in range(5)) < 1.5, "nobody waited for the failing write"
    assert [i.key for i in outbox.pending()] == ["k-sick", "k-sick-next"], "its person's line keeps its order"
    assert "猪咳嗽好了吗" not in faulty.calls and outbox.dead_letters() == [], "a 5xx is retried, not dead-lettered"


@pytest.mark.asyncio
async def test_a_slow_line_carries_on_while_the_next_pass_serves_everyone_else(wired_outbox, sqlite_service):
    outbox, accounts = wired_outbox
    _need(outbox, "telegram:sick", {"text": "卡住：鸭子瘫了"}, "k-sick")
    sqlite_service.match_preview("鸭子")
    worker = OutboxWorker(outbox, accounts, Faulty(sqlite_service, slow=1.0), Timed())
    first = await worker.deliver_due(wait=0.2)
    _need(outbox, "telegram:late", {"text": "鸭子不下蛋"}, "k-late")
    second = await worker.deliver_due(wait=0.5)
    assert (first.delivered, first.failed) == (0, 0), "the slow line was still going when the pass ended"
    assert (second.delivered, second.failed) == (1, 0), "the next pass served the newcomer, not the slow line again"
    await asyncio.sleep(1.2)
    assert [i.key for i in outbox.pending()] == ["k-sick"]


@pytest.mark.asyncio
async def test_an_answer_that_cannot_be_read_is_dead_lettered_and_the_person_told(wired_outbox, sqlite_service):
    outbox, accounts = wired_outbox
    _need(outbox, "telegram:7", {"text": "乱码：果树流胶"}, "k-garbled")
    worker = OutboxWorker(outbox, accounts, Faulty(sqlite_service), RecordingOutbound())
    result = await worker.deliver_due()
    assert (result.delivered, result.refused) == (0, 1)
    [dead] = outbox.dead_letters()
    assert dead.code == "malformed_reply"
    assert worker.outbound.to("telegram:7") == [Farmer.WRITE_STUCK.format(what="需求")]
    assert (await worker.deliver_due()).refused == 0, "a dead letter is not tried again"


class RefusingOnce:
    """An exchange that refuses the first registration it gets (as if a rule had been wrong), then takes them."""

    def __init__(self, service) -> None:
        self.service, self.refused = service, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)

    def register_user(self, data: dict, idempotency_key: str | None = None) -> dict:
        if not self.refused:
            self.refused = True
            raise InputRejected("invalid_township", "没有找到这个乡镇")
        return self.service.register_user(data, idempotency_key)


def test_the_operator_lists_dead_letters_and_retries_one(tmp_path, sqlite_service):
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    outbox, accounts = Outbox(store_database(url)), Accounts(store_database(url))
    body = {"name": "刘大爷", "role": "农户", "township": "岳池县坪滩镇",
            "consent": {"purpose": "注册", "scope": "姓名", "share_contact": False}}
    outbox.enqueue("telegram:42", Write.REGISTER_USER, [body, "register:telegram:42"], "register:telegram:42")
    worker = OutboxWorker(outbox, accounts, RefusingOnce(sqlite_service), RecordingOutbound())
    assert asyncio.run(worker.deliver_due()).refused == 1
    [dead] = outbox.dead_letters()
    env = {"KEJIBANG_DB": url}

    listed = CliRunner().invoke(main, ["admin", "outbox"], env=env)
    assert listed.exit_code == 0, listed.output
    assert f"#{dead.id}" in listed.output and "register_user" in listed.output and "invalid_township" in listed.output
    retried = CliRunner().invoke(main, ["admin", "outbox", "--retry", str(dead.id)], env=env)
    assert retried.exit_code == 0 and "已放回待发队列" in retried.output
    assert [i.id for i in outbox.pending()] == [dead.id], "back in its old place in its person's line"
    assert CliRunner().invoke(main, ["admin", "outbox", "--retry", "999999"], env=env).exit_code == 1

    assert asyncio.run(worker.deliver_due()).delivered == 1
    assert sqlite_service.get_user(accounts.user_of("telegram:42"))["name"] == "刘大爷"
    assert outbox.dead_letters() == [] and outbox.retry(dead.id) is Retry.MISSING


@pytest.mark.asyncio
async def test_erasing_a_person_takes_their_dead_letters_too(wired_outbox, sqlite_service):
    outbox, accounts = wired_outbox
    _need(outbox, "telegram:9", POISON, "k-9")
    await OutboxWorker(outbox, accounts, sqlite_service, RecordingOutbound()).deliver_due()
    assert len(outbox.dead_letters()) == 1
    forget_person(outbox.db, "telegram:9")
    assert outbox.dead_letters() == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_store_url(request, tmp_path) -> str:
    """An empty database for the assistant's store, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old-assistant.db'}"
    return request.getfixturevalue("postgres_url")


def test_writes_the_old_worker_had_rejected_become_dead_letters_on_upgrade(empty_store_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from common.database import open_engine
    from store.database import MIGRATIONS

    engine = open_engine(empty_store_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        connection.execute(text(
            "INSERT INTO outbox (idempotency_key, sender_id, method, arguments, status, attempts, last_error, created_at)"
            " VALUES ('k-old', 'telegram:5', 'create_need', '[]', 'rejected', 1, 'empty_need', CURRENT_TIMESTAMP)"))
    engine.dispose()
    outbox = Outbox(store_database(empty_store_url))
    [dead] = outbox.dead_letters()
    assert (dead.sender_id, dead.code, dead.emptied) == ("telegram:5", "empty_need", True)
    assert outbox.retry(dead.id) is Retry.EMPTIED and outbox.pending() == []
