"""Nobody let in: phone numbers kept out of the dialogue and the logs, the bot token out of the logs,
conversations deleted after the retention period, and a per-person message limit in the core."""

from __future__ import annotations

import io
import logging
import os
from datetime import timedelta

import pytest
import sqlalchemy
from click.testing import CliRunner
from rasa_sdk.executor import CollectingDispatcher

from actions.registration import ValidateRegistrationForm
from common.clock import utcnow
from core.assistant import Assistant
from core.dialogue import Reply
from core.rate_limit import RateLimit, Verdict
from core.retention import purge_old
from core.texts import Farmer
from desks.volunteers import Desk
from kejibang.privacy import ERASE_CONVERSATION, RedactingFilter, mask_phones, redact
from kejibang.settings import Settings
from store.handoffs import Handoffs
from store.roles import Roles
from store.voice_notes import VoiceNotes
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.model_stack import loaded_assistant, local_stack
from tests.support.reliability import RecordingOutbound
from tests.support.running_bot import running_bot
from tests.test_actions_need import tracker
from tests.test_telegram_adapter import ScriptedDialogue

TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
PHONE = "13881234567"


@pytest.mark.parametrize("typed,seen", [
    ("13881234567", "138****4567"),
    ("我电话是 139 8123 4567 白天打", "我电话是 139****4567 白天打"),
    ("+86-13881234567", "138****4567"),
    ("１３８８１２３４５６７", "138****4567"),
    ("订单 12345678901234 和 12345678901", "订单 12345678901234 和 12345678901"),  # not mobiles: left alone
])
def test_mobile_numbers_are_masked_however_they_are_typed(typed, seen):
    assert mask_phones(typed)[0] == seen


def test_log_lines_lose_phones_labelled_names_and_the_bot_token():
    line = redact(f"POST /bot{TOKEN}/sendMessage {{'first_name': '张德明', 'text': '13881234567'}} person_name: 李秀英")
    assert TOKEN not in line and "13881234567" not in line and "德明" not in line and "秀英" not in line
    assert "138****4567" in line and "张**" in line


def test_the_filter_rewrites_messages_and_tracebacks_before_any_handler_writes_them():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.privacy")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("user 13881234567 broke it")
        except ValueError:
            logger.exception("failed for %s at %s", "13981234567", f"/bot{TOKEN}/getMe")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError" in written and "139****4567" in written
    assert "13881234567" not in written and "13981234567" not in written and TOKEN not in written


@pytest.mark.asyncio
async def test_the_dialogue_gets_the_phone_masked_and_registration_still_gets_the_real_number(wired):
    dialogue = ScriptedDialogue()
    assistant = Assistant(dialogue, accounts=wired.accounts)
    await assistant.on_text("user-1", "我的号码是 138 8123 4567")
    assert dialogue.received == [("user-1", "我的号码是 138****4567")]
    assert wired.accounts.kept_phone("user-1") == "13881234567"

    form, dispatcher = ValidateRegistrationForm(), CollectingDispatcher()
    assert await form.validate_phone("我的号码是 138****4567", dispatcher, tracker("x"), {}) == {"phone": "138****4567"}
    assert await form.validate_phone("139****4567", dispatcher, tracker("x"), {}) == {"phone": None}, \
        "a masked number that is not the one kept is no answer"
    assert dispatcher.messages[-1]["response"] == "utter_invalid_phone"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_counts_a_sliding_window_and_warns_once():
    clock = Clock()
    limit = RateLimit(3, 60, clock)
    assert [limit.admit("a") for _ in range(5)] == [Verdict.PASS] * 3 + [Verdict.WARN, Verdict.DROP]
    assert limit.admit("b") is Verdict.PASS, "per person"
    clock.now += 60
    assert limit.admit("a") is Verdict.PASS


@pytest.mark.asyncio
async def test_a_flood_is_told_once_and_kept_from_the_dialogue_and_staff_only_keep_their_own_commands(wired):
    clock, dialogue = Clock(), ScriptedDialogue()
    roles = Roles(wired.db)
    desk = Desk(roles, Handoffs(wired.db), RecordingOutbound())
    assistant = Assistant(dialogue, desk, rate_limit=RateLimit(5, 60, clock))
    replies = [await assistant.on_text("telegram:1", f"第{i}句") for i in range(8)]
    assert [r[0].text for r in replies[:5]] == [f"收到：第{i}句" for i in range(5)]
    assert replies[5][0].text == Farmer.SLOW_DOWN.format(messages=5, seconds=60) and replies[6:] == [[], []]
    assert len(dialogue.received) == 5

    code, _ = roles.issue("volunteer")
    roles.redeem("telegram:2", code)
    for _ in range(8):
        assert "待处理" in (await assistant.on_text("telegram:2", "/queue"))[0].text, "a volunteer's own command"
    assert [(await assistant.on_text("telegram:2", f"第{i}句")) for i in range(7)][5:] == [
        [Reply(Farmer.SLOW_DOWN.format(messages=5, seconds=60))], []], "anything else counts like anyone's"
    clock.now += 61
    assert (await assistant.on_text("telegram:1", "好了"))[0].text == "收到：好了"


def _tracker_db_with_events(url: str, ages_in_days: list[float]) -> None:
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                                   "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                                   "action_name VARCHAR(255), data TEXT)")
        for age in ages_in_days:
            connection.execute(sqlalchemy.text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                                               "VALUES ('telegram:1', 'user', :at, '{}')"),
                               {"at": (utcnow() - timedelta(days=age)).timestamp()})
    engine.dispose()


def _events(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT COUNT(*) FROM events").scalar()
    engine.dispose()
    return found


def test_conversations_older_than_the_retention_period_are_deleted(monkeypatch, tmp_path):
    from kejibang.cli import main

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEJIBANG_RETENTION_DAYS", "30")
    _tracker_db_with_events(url, [400, 31, 29, 1, 0])
    assert purge_old(Settings.from_env()).events == 2
    assert _events(url) == 3
    result = CliRunner().invoke(main, ["admin", "purge", "--days", "7"])
    assert result.exit_code == 0 and "对话记录 1 条" in result.output, result.output
    assert _events(url) == 2


def _has(text: str):
    return lambda message: text in message.get("text", "")


async def _press(emulator: BotApiEmulator, chat: int, message: dict, title: str) -> None:
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    emulator.user_presses(chat, message["message_id"], next(b["callback_data"] for b in buttons if b["text"] == title))


async def _register_on_telegram(emulator: BotApiEmulator, chat: int) -> None:
    """The five answers of the registration form, as a villager gives them."""
    for text, expect in (("我要注册", "第 1 步"), ("张德明", "第 2 步"), (PHONE, "第 3 步"), ("岳池县坪滩镇", "第 4 步")):
        emulator.user_sends(chat, text)
        await emulator.wait_for_message(chat, _has(expect), timeout=30)
    await _press(emulator, chat, emulator.sent(chat)[-1], "农户")
    await _press(emulator, chat, await emulator.wait_for_message(chat, _has("同意吗"), timeout=30), "同意")
    await emulator.wait_for_message(chat, _has("注册好了"), timeout=30)


def _everything_in(url: str, table: str) -> str:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"SELECT * FROM {table}").all()
    engine.dispose()
    return "\n".join(" ".join(map(str, row)) for row in rows)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.asyncio
async def test_after_a_registration_neither_the_logs_nor_the_tracker_store_hold_the_phone_or_the_token(tmp_path):
    """The whole stack (trained model with the custom actions in-process, Telegram adapter), logging at DEBUG,
    where python-telegram-bot logs every update it fetches and every request URL (with the token in it)."""
    from kejibang.launcher import configure_logging

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    logs = io.StringIO()
    try:
        configure_logging("DEBUG")
        for handler in root.handlers:
            handler.setStream(logs)
        with local_stack(tmp_path) as settings:
            assistant = await loaded_assistant(settings)
            async with BotApiEmulator(token=TOKEN) as emulator, running_bot(emulator, assistant):
                await _register_on_telegram(emulator, 9301)
            written = {"bot log (the actions' included)": logs.getvalue(),
                       "tracker store": _everything_in(settings.tracker_db, "events")}
            registered = _everything_in(settings.exchange_db, "users")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    assert PHONE in registered, "the registration went through, with the real number"
    assert "138****4567" in written["tracker store"] and "138****4567" in written["bot log (the actions' included)"], \
        "the number did reach both places, masked (python-telegram-bot logs every update it fetches)"
    hits = {place: text.count(PHONE) + text.count(TOKEN) for place, text in written.items()}
    assert hits == {place: 0 for place in written}, hits


@pytest.mark.asyncio
async def test_the_terminal_chat_keeps_the_phone_out_of_the_dialogue_too(monkeypatch, tmp_path):
    from channels.terminal import chat
    from kejibang.app import build_core
    from store.accounts import Accounts
    from store.database import store_database

    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    typed, dialogue, printed = [PHONE], ScriptedDialogue(), []

    def read(prompt: str) -> str:
        if not typed:
            raise EOFError
        return typed.pop()

    await chat(build_core(Settings.from_env(), dialogue), read=read, write=printed.append)
    assert dialogue.received == [("terminal", "138****4567")]
    assert Accounts(store_database(Settings.from_env().assistant_db)).kept_phone("terminal") == PHONE


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.asyncio
async def test_deleting_my_data_erases_the_person_from_the_exchange_the_store_and_the_tracker_store(tmp_path):
    from store.accounts import Accounts
    from store.database import store_database

    chat = 9302
    with local_stack(tmp_path) as settings:
        assistant = await loaded_assistant(settings)
        async with BotApiEmulator(token=TOKEN) as emulator, running_bot(emulator, assistant):
            await _register_on_telegram(emulator, chat)
            emulator.user_sends(chat, "请把我的个人资料彻底删除")
            question = await emulator.wait_for_message(chat, _has("确定要删除"), timeout=30)
            await _press(emulator, chat, question, "确定删除")
            await emulator.wait_for_message(chat, _has("已经删除"), timeout=30)
        left = {"exchange users": _everything_in(settings.exchange_db, "users").count(PHONE),
                "tracker events": _everything_in(settings.tracker_db, "events").count(f"telegram:{chat}"),
                "store accounts": int(Accounts(store_database(settings.assistant_db)).user_of(f"telegram:{chat}")
                                      is not None)}
    assert left == {place: 0 for place in left}, left


class ErasingDialogue:
    """Answers like the action server after a data deletion: the chats whose conversations go."""

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        return [Reply("资料已删除。"), Reply("", custom={ERASE_CONVERSATION: [user_id, "telegram:77"]})]


@pytest.mark.asyncio
async def test_a_deletion_takes_the_persons_voice_recordings_and_nobody_elses(tmp_path):
    voices = VoiceNotes(tmp_path / "voice")
    for chat in ("wechat:oFARMER", "telegram:77", "wechat:oNEIGHBOUR"):
        voices.keep(chat, "6203", b"#!AMR\n")
    assistant = Assistant(ErasingDialogue(), voices=voices)
    replies = await assistant.on_text("wechat:oFARMER", "删除我的资料")
    assert [r.text for r in replies] == ["资料已删除。"]
    assert voices.forget("wechat:oFARMER") == 0 and voices.forget("telegram:77") == 0, "both linked chats erased"
    assert voices.forget("wechat:oNEIGHBOUR") == 1
    assert not any("oFARMER" in str(p) for p in (tmp_path / "voice").rglob("*")), "no chat id in a file name"


def test_voice_recordings_older_than_the_retention_period_are_purged(tmp_path, monkeypatch):
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEJIBANG_RETENTION_DAYS", "30")
    voices = VoiceNotes(tmp_path / "voice")
    old, new = voices.keep("wechat:oA", "1", b"old"), voices.keep("wechat:oA", "2", b"new")
    past = (utcnow() - timedelta(days=31)).timestamp()
    os.utime(old, (past, past))
    assert purge_old(Settings.from_env()).recordings == 1
    assert not old.exists() and new.exists()


def test_the_terminal_chat_writes_its_log_lines_to_a_file_not_over_the_chat(tmp_path, capfd):
    """A villager chatting in the terminal sees the assistant's replies, not log lines in between; the log
    (masked as everywhere) is in KEJIBANG_VAR_DIR/kejibang.log."""
    from kejibang.launcher import TERMINAL_LOG, configure_logging

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        configure_logging("INFO", tmp_path / TERMINAL_LOG)
        logging.getLogger("core.retention").info("retention: 0 conversation events deleted, 13881234567")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    screen = capfd.readouterr()
    assert "retention" not in screen.out + screen.err
    written = (tmp_path / TERMINAL_LOG).read_text(encoding="utf-8")
    assert "retention: 0 conversation events deleted" in written and "13881234567" not in written
