"""Fault injection: people register, post needs and give feedback while the exchange is killed and
restarted, answers 5xx, answers too slowly (the write arrives after the client gave up), has its SQLite
database locked, while the action server is down, and while the bot is killed in the middle of an update.

Nothing a person was told was received may be missing from the exchange at the end (lost = 0), and
nothing may be there twice (duplicates = 0). The figures are printed.

Why this shape: the custom actions run in-process (what Rasa would run for each message; the model is
not what is under test) behind the real channel-neutral core, against the reference exchange over real
HTTP on loopback, served from a thread that is stopped and started again on the same port. The bot-kill
faults go through the real Telegram application and the Bot API emulator, and restart the application.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.handoff import ActionRecordFeedback
from actions.need import ActionPostNeed
from actions.registration import ActionRegisterUser, ValidateRegistrationForm
from channels.telegram import replay_unfinished
from core.assistant import Assistant
from core.dialogue import RasaUnavailable, Reply
from core.outbox import OutboxWorker
from core.texts import Farmer
from exchange.client import ExchangeClient
from exchange.models import Feedback, Need, User
from tests.conftest import API_KEY, ServerThread
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.figures import report
from tests.support.reliability import RecordingOutbound, SickService
from tests.support.running_bot import running_bot

KILLED, FAILING, SLOW, LOCKED, ACTIONS_DOWN = "exchange killed", "exchange 5xx", "exchange slow", "database locked", \
    "action server down"
BOT_KILLED_BEFORE, BOT_KILLED_AFTER = "bot killed before the action", "bot killed after the action"
READ_TIMEOUT, SLOW_BY, LOCKED_FOR = 0.4, 1.0, 1.2
# one fault (or none) per person and step; twelve people
REGISTER = (KILLED, FAILING, SLOW, LOCKED, ACTIONS_DOWN, BOT_KILLED_BEFORE, KILLED, None, FAILING, SLOW, KILLED, None)
POST = (KILLED, SLOW, FAILING, LOCKED, ACTIONS_DOWN, BOT_KILLED_AFTER, KILLED, None, KILLED, FAILING, SLOW, None)
FEEDBACK = (KILLED, FAILING, SLOW, LOCKED, ACTIONS_DOWN, BOT_KILLED_AFTER, None, None, None, None, None, None)
TOLD_RECEIVED = {"register": {"utter_registered", "utter_registration_queued", "utter_already_registered"},
                 "post": {"utter_need_posted", "utter_no_experts", "utter_need_queued"},
                 "feedback": {"utter_feedback_thanks"}}


@dataclass(frozen=True)
class Person:
    chat: int
    name: str
    phone: str
    need: str

    @property
    def sender(self) -> str:
        return f"telegram:{self.chat}"


NAMES = ("张德明", "李秀英", "王建国", "刘桂兰", "陈志强", "杨淑芬", "赵永福", "黄玉梅", "周国华", "吴春燕", "徐长青", "孙丽华")
PEOPLE = tuple(Person(5100 + i, name, f"1398123{4560 + i}", f"{'猪牛羊鸡鸭鹅'[i % 6]}这几天不吃食还拉稀，第{i}群")
               for i, name in enumerate(NAMES))


def _tracker(sender_id: str, slots: dict) -> Tracker:
    return Tracker(sender_id, slots, {"text": "", "intent": {"name": "affirm", "confidence": 1.0}, "entities": []},
                   [], False, None, {}, "action_listen")


class ActionsAsDialogue:
    """Stands in for Rasa and its action server: each message runs the custom action Rasa would run for it
    (``注册 NAME PHONE`` — the phone arrives masked by the core —, ``需求 TEXT``, ``反馈``), and the first
    response is the reply. ``down``: the action server cannot be reached, so no action runs. ``hold``: the
    turn stops before or after its action, where the test then kills the bot."""

    def __init__(self) -> None:
        self.down = False
        self.hold: str | None = None
        self.held: asyncio.Task | None = None
        self.entered = asyncio.Event()

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        if self.down:
            raise RasaUnavailable("the action server refused the connection")
        if self.hold == "before":
            await self._stop_here()
        verb, _, rest = text.partition(" ")
        dispatcher = CollectingDispatcher()
        route: Callable[[CollectingDispatcher, str, str], Awaitable[None]] = {
            "注册": _register, "需求": _post, "反馈": _feedback}[verb]
        await route(dispatcher, user_id, rest)
        if self.hold == "after":
            await self._stop_here()
        return [Reply(dispatcher.messages[0]["response"])]

    async def _stop_here(self) -> None:
        self.held = asyncio.current_task()
        self.entered.set()
        await asyncio.Event().wait()


async def _register(dispatcher: CollectingDispatcher, sender_id: str, said: str) -> None:
    name, masked = said.split()
    filled = await ValidateRegistrationForm().validate_phone(masked, dispatcher, _tracker(sender_id, {}), {})
    if filled["phone"] is None:
        return
    slots = {"person_name": name, "phone": filled["phone"], "township": "四川省广安市岳池县坪滩镇", "user_role": "农户",
             "share_contact": True}
    await ActionRegisterUser().run(dispatcher, _tracker(sender_id, slots), {})


async def _post(dispatcher: CollectingDispatcher, sender_id: str, said: str) -> None:
    await ActionPostNeed().run(dispatcher, _tracker(sender_id, {"need_text": said}), {})


async def _feedback(dispatcher: CollectingDispatcher, sender_id: str, said: str) -> None:
    need_ids = await services.in_store(lambda s: s.accounts.needs_of(sender_id))
    slots = {"need_id": need_ids[0] if need_ids else None, "verdict": "helpful"}
    await ActionRecordFeedback().run(dispatcher, _tracker(sender_id, slots), {})


@contextmanager
def locked(database: Path, seconds: float) -> Iterator[None]:
    """Another process holds the exchange's SQLite write lock for ``seconds``."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(seconds, holder.execute, ("ROLLBACK",))
    release.start()
    try:
        yield
    finally:
        release.join()
        holder.close()


class Lab:
    """Everything the faults are injected into, and what was told and done."""

    def __init__(self, server: ServerThread, sick: SickService, emulator: BotApiEmulator, wired: dict) -> None:
        self.server, self.sick, self.emulator = server, sick, emulator
        self.dialogue = ActionsAsDialogue()
        self.assistant = Assistant(self.dialogue, accounts=wired.accounts)
        self.worker = OutboxWorker(wired.outbox, wired.accounts, services.exchange(), RecordingOutbound())
        self.faults: Counter[str] = Counter()
        self.told: list[tuple[str, Person]] = []
        self.asked_to_resend = self.replayed = self.delivered_later = 0

    def kill_exchange(self) -> None:
        self.server.stop()

    def revive_exchange(self) -> None:
        self.server = ServerThread(self.sick, port=self.server.port).start()

    @asynccontextmanager
    async def fault(self, kind: str | None) -> AsyncIterator[None]:
        """The exchange-side fault ``kind`` for the duration of the block."""
        if kind == KILLED:
            self.kill_exchange()
        self.sick.mode = {FAILING: "failing", SLOW: "slow"}.get(kind, "well")
        self.dialogue.down = kind == ACTIONS_DOWN
        try:
            if kind == LOCKED:
                with locked(Path(self.sick.service.db.engine.url.database), LOCKED_FOR):
                    yield
            else:
                yield
        finally:
            self.sick.mode, self.dialogue.down = "well", False
            if kind == KILLED:
                self.revive_exchange()
            if kind == SLOW:  # the writes the client gave up on arrive now, before anything else happens
                await asyncio.sleep(SLOW_BY)

    async def step(self, step: str, person: Person, kind: str | None, text: str) -> None:
        """``person`` says ``text`` with the fault ``kind``; a person asked to send it again does."""
        self.faults.update([kind] if kind else [])
        if kind in (BOT_KILLED_BEFORE, BOT_KILLED_AFTER):
            reply = await self._through_a_killed_bot(person, text, "before" if kind == BOT_KILLED_BEFORE else "after")
        else:
            async with self.fault(kind):
                reply = await self._say(person, text)
            if reply == Farmer.BROKEN:
                self.asked_to_resend += 1
                reply = await self._say(person, text)
        if reply in TOLD_RECEIVED[step]:
            self.told.append((step, person))

    async def _say(self, person: Person, text: str) -> str:
        return (await self.assistant.on_text(person.sender, text))[0].text

    async def _through_a_killed_bot(self, person: Person, text: str, where: str) -> str:
        """The message goes to the real Telegram application, which is killed mid-update and restarted."""
        self.dialogue.hold, self.dialogue.entered = where, asyncio.Event()
        async with running_bot(self.emulator, self.dialogue):
            self.emulator.user_sends(person.chat, text)
            await asyncio.wait_for(self.dialogue.entered.wait(), 20)
            self.dialogue.held.cancel()
        self.dialogue.hold = None
        async with running_bot(self.emulator, self.dialogue) as application:
            self.replayed += await replay_unfinished(application)
            return (await self.emulator.wait_for_message(person.chat, timeout=20))["text"]

    async def drain(self, *, killed_midway: bool = False) -> None:
        """Worker passes until the outbox is empty; ``killed_midway``: one pass meets a dead exchange first."""
        if killed_midway:
            self.faults.update([KILLED])
            self.kill_exchange()
            assert (await self.worker.deliver_due()).blocked
            self.revive_exchange()
        for _ in range(5):
            delivered = await self.worker.deliver_due()
            self.delivered_later += delivered.delivered
            if not await asyncio.to_thread(self.worker.outbox.pending):
                return
        raise AssertionError("the outbox did not empty")


def _arrived(service, step: str, person: Person) -> int:
    with service.db.transaction() as session:
        if step == "register":
            return session.query(User).filter(User.phone == person.phone).count()
        need = session.query(Need).filter(Need.text == person.need)
        if step == "post":
            return need.count()
        return session.query(Feedback).filter(Feedback.need_id.in_([n.id for n in need])).count()


@pytest.fixture
def lab_parts(wired, sqlite_service, monkeypatch, tmp_path) -> Iterator[tuple[ServerThread, SickService]]:
    """The exchange served over HTTP, with a client that gives up quickly; the bot on the same store."""
    sick = SickService(sqlite_service)
    sick.delay = SLOW_BY
    server = ServerThread(sick).start()
    client = ExchangeClient(server.url, API_KEY, read_timeout=READ_TIMEOUT, retry_delays=(0.05,))
    monkeypatch.setattr(services, "exchange", lambda: client)
    monkeypatch.setattr(services, "CALL_TIMEOUT", 3.0)
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))  # build_application opens the wired store
    monkeypatch.setenv("KEJIBANG_EXCHANGE_URL", server.url)
    monkeypatch.setenv("KEJIBANG_EXCHANGE_API_KEY", API_KEY)
    yield server, sick
    client.close()


@pytest.mark.asyncio
async def test_nothing_told_received_is_lost_or_duplicated_under_injected_faults(lab_parts, wired, sqlite_service,
                                                                                 request):
    started = time.perf_counter()
    async with BotApiEmulator() as emulator:
        lab = Lab(*lab_parts, emulator, wired)
        for person, fault in zip(PEOPLE, REGISTER, strict=True):
            await lab.step("register", person, fault, f"注册 {person.name} {person.phone}")
        for person, fault in zip(PEOPLE, POST, strict=True):
            await lab.step("post", person, fault, f"需求 {person.need}")
        await lab.drain(killed_midway=True)
        for person, fault in zip(PEOPLE, FEEDBACK, strict=True):
            await lab.step("feedback", person, fault, "反馈")
        await lab.drain()
        lab.server.stop()

    arrived = {(step, person): _arrived(sqlite_service, step, person) for step, person in lab.told}
    lost = [key for key, copies in arrived.items() if copies == 0]
    duplicated = [key for key, copies in arrived.items() if copies > 1]
    report(request.config, "fault injection", {
        **lab.faults, "faults in all": sum(lab.faults.values()), "people": len(PEOPLE),
        "writes told received": len(lab.told), "arrived": sum(1 for c in arrived.values() if c), "lost": len(lost),
        "duplicates": len(duplicated), "delivered later by the outbox": lab.delivered_later,
        "asked to resend": lab.asked_to_resend, "updates replayed after a kill": lab.replayed,
        "seconds": round(time.perf_counter() - started, 1)})
    assert sum(lab.faults.values()) >= 20
    assert len(lab.told) == 3 * len(PEOPLE), "every registration, need and feedback was acknowledged"
    assert lost == [] and duplicated == []
    assert lab.delivered_later > 0 and lab.replayed == 3
