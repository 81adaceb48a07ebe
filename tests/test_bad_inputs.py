"""Ten thousand hostile and broken messages through the real Telegram adapter: nothing breaks, nothing is written.

Why: a villager's phone, a joker or a modified client can send anything (see tests/support/bad_inputs.py).
Every message must get a reply (a polite refusal counts), no exception may escape, every message the bot
sends must be one Telegram accepts (the Bot API emulator refuses what Telegram refuses), and nothing in
the corpus may register anyone, post a need, open a handoff case or grant a role.

The whole corpus goes through build_application, the Assistant, the volunteers' desk and the chairs'
commands with the dialogue replaced by a read-back stand-in (no NLU: the model answers about ten
messages a second on two cores, so 10,000 would take a quarter of an hour). The first thousand plain
texts of the corpus, which are what reaches the model, then go through the real trained model and
action server, one new person each: two misunderstandings in a row are handed to a volunteer by
design, which is a write, so no one in that run sends two texts.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pytest
import sqlalchemy
from telegram.ext import Application

from core.assistant import MAX_INPUT_CHARS, Assistant
from core.dialogue import Button, DialogueBackend, InProcessRasa, Reply
from desks.commands import command_of
from exchange.people import ROLES, mainland_mobile
from kejibang.settings import Settings
from store.database import store_database
from store.roles import Roles
from tests.support.bad_inputs import SIZE, BadInput, corpus
from tests.support.bot_api_emulator import BotApiEmulator, RefusedCall
from tests.support.figures import report
from tests.support.running_bot import running_bot

BULK_USERS = 500
BULK_PROCESSES = 2
BULK_CONCURRENCY = 8
MODEL_MESSAGES = 1_000
MODEL_CONCURRENCY = 6
VOLUNTEER, CHAIR, FIRST_USER = 7_000_001, 7_000_002, 8_000_000
CHAIR_TOWNSHIP = "511621102"  # 岳池县坪滩镇
WRITE_TABLES = {"exchange": ("users", "needs"),
                "store": ("accounts", "handoff_cases", "roles", "subscriptions", "invite_uses")}
Plan = dict[int, list[BadInput]]


class ReadBack:
    """The dialogue's stand-in for the bulk run: the user's words read back, as the need read-back does.

    The text also rides in a button payload, so user text reaches every rendering path (chunks, keyboards,
    callback ids) without TensorFlow in the loop.
    """

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        said = f'/deny{{"said":"{text[:200]}"}}'
        return [Reply(f"我理解的是：\n情况：{text}\n对吗？",
                      buttons=(Button("对，帮我找专家", "/affirm"), Button("不对，我重新说", said)))]


def _text_first(items: list[BadInput]) -> list[BadInput]:
    """A forged button press needs a bot message to press on, so a person's first input is a text."""
    first_text = next(i for i, item in enumerate(items) if item.kind == "text")
    return [items[first_text], *items[:first_text], *items[first_text + 1:]]


def _staff_chat(text: str) -> int | None:
    """The volunteer or chair whose own command this is, as the adapter hands it on (…@this_bot too)."""
    name, _, bot = text.split(" ", 1)[0].partition("@")
    command = command_of(name) if bot in ("", "kejibang_test_bot") else None
    role = command.exempt_role if command and command.name == name else None
    return {"volunteer": VOLUNTEER, "chair": CHAIR}.get(role or "")


def bulk_plan(items: list[BadInput]) -> Plan:
    """A volunteer's and a chair's own commands go to them, with garbage arguments (it reaches their parsers,
    and staff are never limited for their own commands); the rest of the corpus is spread over many people,
    each within the per-person budget (anything over it is, rightly, left unanswered)."""
    plan: defaultdict[int, list[BadInput]] = defaultdict(list)
    for index, item in enumerate(items):
        staff = _staff_chat(item.content) if item.category == "command" else None
        plan[staff or FIRST_USER + index % BULK_USERS].append(item)
    return {chat: _text_first(inputs) for chat, inputs in plan.items()}


def model_plan(items: list[BadInput]) -> Plan:
    """The first plain texts the front end hands to the dialogue (within the length limit, not a command),
    one person each: commands, deep links and button data never reach the model, and the bulk run already
    sends them through the same adapter."""
    texts = [item for item in items if item.kind == "text" and len(item.content) <= MAX_INPUT_CHARS
             and not item.content.startswith("/")]
    return {FIRST_USER + number: [item] for number, item in enumerate(texts[:MODEL_MESSAGES], start=1)}


class Counted:
    """The dialogue backend, counting the messages that reach it."""

    def __init__(self, backend: DialogueBackend) -> None:
        self.backend = backend
        self.calls = 0

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        self.calls += 1
        return await self.backend.respond(user_id, text, metadata)


def grant_roles(settings: Settings) -> None:
    """A volunteer and a chair, by one-time codes as an operator issues them (before the write baseline)."""
    roles = Roles(store_database(settings.assistant_db))
    for chat, role, township in ((VOLUNTEER, "volunteer", ""), (CHAIR, "chair", CHAIR_TOWNSHIP)):
        code, _ = roles.issue(role, township)
        assert roles.redeem(f"telegram:{chat}", code) is not None


def write_counts(settings: Settings) -> dict[str, int]:
    """Rows of every table a write action would grow: exchange users and needs, cases, roles, links."""
    counts = {}
    for url, store in ((settings.exchange_db, "exchange"), (settings.assistant_db, "store")):
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            for table in WRITE_TABLES[store]:
                counts[table] = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
        engine.dispose()
    return counts


async def deliver(emulator: BotApiEmulator, assistant: Assistant, chat: int, item: BadInput, timeout: float) -> bool:
    """Send one input and wait for its whole answer; False when nothing came back in time."""
    if item.kind == "callback":
        query = emulator.user_sends_callback(chat, emulator.sent(chat)[-1]["message_id"], item.content)

        def answered() -> bool:
            return emulator.answered(query)
    else:
        before = emulator.sent_count(chat)
        emulator.user_sends(chat, item.content)

        def answered() -> bool:
            return emulator.sent_count(chat) > before
    try:
        await emulator.wait_until(answered, timeout)
    except TimeoutError:
        return False
    async with assistant.turn(f"telegram:{chat}"):  # the turn's later replies are out once it is ours
        return True


async def push(emulator: BotApiEmulator, application: Application, plan: Plan, concurrency: int,
               timeout: float) -> list[BadInput]:
    """Every person's inputs in order, ``concurrency`` people at a time; returns the unanswered inputs."""
    assistant = application.bot_data["core"].assistant
    gate = asyncio.Semaphore(concurrency)
    unanswered: list[BadInput] = []

    async def person(chat: int, items: list[BadInput]) -> None:
        async with gate:
            for item in items:
                if not await deliver(emulator, assistant, chat, item, timeout):
                    unanswered.append(item)

    await asyncio.gather(*(person(chat, items) for chat, items in plan.items()))
    return unanswered


@dataclass
class Run:
    """What pushing a plan through the bot gave, with every failure kept for the assertion messages."""

    messages: int
    people: int
    dialogue: int
    crashes: list[str]
    unanswered: list[BadInput]
    refused: list[RefusedCall]
    writes: dict[str, int]
    seconds: float

    @classmethod
    def merged(cls, runs: list[Run], seconds: float) -> Run:
        """Runs of separate processes as one."""
        return cls(sum(r.messages for r in runs), sum(r.people for r in runs), sum(r.dialogue for r in runs),
                   [c for r in runs for c in r.crashes], [u for r in runs for u in r.unanswered],
                   [f for r in runs for f in r.refused],
                   {table: sum(r.writes[table] for r in runs) for table in runs[0].writes}, seconds)

    def figures(self) -> dict[str, object]:
        return {"messages": self.messages, "people": self.people, "reached the dialogue": self.dialogue,
                "crashes": len(self.crashes), "unanswered": len(self.unanswered),
                "rendering errors": len(self.refused), "writes": sum(self.writes.values()),
                "seconds": round(self.seconds, 1)}

    def check(self) -> None:
        """Zero of everything that must be zero, showing the first examples when not."""
        assert not self.crashes, self.crashes[:3]
        assert not self.unanswered, [(item.category, item.content[:200]) for item in self.unanswered[:5]]
        assert not self.refused, self.refused[:5]
        assert not any(self.writes.values()), self.writes


class Crashes(logging.Handler):
    """Every logged exception (the adapter's error handler and the Assistant's apology both log one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.seen.append(f"{record.name}: {self.format(record)}")  # the message and its traceback


async def run_corpus(backend: DialogueBackend, settings: Settings, plan: Plan, concurrency: int,
                     timeout: float) -> Run:
    """Push ``plan`` through the bot; the write baseline is taken after the roles are granted."""
    crashes, counted = Crashes(), Counted(backend)
    logging.getLogger().addHandler(crashes)
    try:
        async with BotApiEmulator() as emulator, running_bot(emulator, counted) as application:
            grant_roles(settings)
            before = write_counts(settings)
            started = time.perf_counter()
            unanswered = await push(emulator, application, plan, concurrency, timeout)
            seconds = time.perf_counter() - started
            after = write_counts(settings)
    finally:
        logging.getLogger().removeHandler(crashes)
    return Run(sum(map(len, plan.values())), len(plan), counted.calls, crashes.seen, unanswered, emulator.refused,
               {table: after[table] - before[table] for table in after}, seconds)


def bulk_share(part: int, var_dir: str) -> Run:
    """One process's share of the bulk run, every BULK_PROCESSES-th person: the run is CPU-bound in one
    event loop, and the machine has two cores. Each share has its own bot, emulator and databases."""
    os.environ["KEJIBANG_VAR_DIR"] = var_dir
    plan = bulk_plan(corpus())
    share = {chat: items for number, (chat, items) in enumerate(plan.items()) if number % BULK_PROCESSES == part}
    return asyncio.run(run_corpus(ReadBack(), Settings.from_env(), share, BULK_CONCURRENCY, 10.0))


def _would_register(text: str) -> bool:
    """/onboard NAME PHONE [ROLE] with a real phone and role: a chair's real request, not garbage."""
    name, *args = text.split()
    return name == "/onboard" and len(args) >= 2 and bool(mainland_mobile(args[1])) and (
        len(args) < 3 or args[2] in ROLES)


def test_the_corpus_is_large_deterministic_and_never_a_real_request() -> None:
    items = corpus()
    assert len(items) == SIZE >= 10_000 and items == corpus()
    texts = [item.content for item in items if item.kind == "text"]
    assert max(map(len, texts)) >= 10_000 and any("\x00" in text for text in texts)
    assert any("\u202e" in text for text in texts) and any("<script>" in text for text in texts)
    assert any(text.startswith("/start tk-") for text in texts) and any(text.startswith("/claim ") for text in texts)
    assert not any(map(_would_register, texts))
    assert not any(word in text for text in texts for word in ("人工", "志愿者", "订阅", "注册"))


def test_ten_thousand_bad_inputs_through_the_adapter(tmp_path, request):
    started = time.perf_counter()
    # spawned, not forked: earlier tests may have left TensorFlow's threads in this process
    with ProcessPoolExecutor(BULK_PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = list(pool.map(bulk_share, range(BULK_PROCESSES), [str(tmp_path / f"share{n}") for n in range(BULK_PROCESSES)]))
    run = Run.merged(runs, time.perf_counter() - started)
    report(request.config, "bad inputs, read-back dialogue", run.figures())
    run.check()


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_a_thousand_bad_inputs_through_the_trained_model(assistant: InProcessRasa, stack_settings: Settings,
                                                              request):
    run = await run_corpus(assistant, stack_settings, model_plan(corpus()), MODEL_CONCURRENCY, 60.0)
    report(request.config, "bad inputs, trained model", run.figures())
    run.check()
    assert run.dialogue >= MODEL_MESSAGES
