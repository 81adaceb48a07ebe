"""The inbox: an update is answered once even when Telegram delivers it twice across a restart, and an
update the bot was stopped in the middle of is answered at the next start (real python-telegram-bot
against the Bot API emulator; a scripted dialogue)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from channels.telegram import replay_unfinished
from common.clock import utcnow
from core.dialogue import Reply
from store.database import store_database
from store.inbox import Inbox
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import running_bot
from tests.test_telegram_adapter import CHAT, ScriptedDialogue


class StuckOnce(ScriptedDialogue):
    """Hangs on its first message, as a turn does when the bot is killed in the middle of it."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck: asyncio.Task | None = None
        self.entered = asyncio.Event()

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        if self.stuck is None:
            self.stuck = asyncio.current_task()
            self.entered.set()
            await asyncio.Event().wait()
        return await super().respond(user_id, text, metadata)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def inbox(request, tmp_path) -> Inbox:
    """On SQLite and PostgreSQL: a re-delivered key must fail its insert there and leave no broken transaction."""
    url = f"sqlite:///{tmp_path / 'assistant.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return Inbox(store_database(url))


def test_an_update_is_taken_once_then_once_more_after_a_stop_and_never_a_third_time(inbox):
    assert inbox.receive("telegram:1", "telegram:42", {"update_id": 1})
    assert not inbox.receive("telegram:1", "telegram:42", {"update_id": 1}), "a re-delivery"
    assert inbox.to_replay("telegram") == [{"update_id": 1}]
    assert inbox.receive("telegram:1", "telegram:42", {"update_id": 1}), "the second chance"
    assert inbox.to_replay("telegram") == [], "cut off again: given up, or it would bring the bot down forever"
    assert not inbox.receive("telegram:1", "telegram:42", {"update_id": 1})


def test_a_processed_update_keeps_its_key_but_not_its_content_until_the_retention_purge(inbox):
    inbox.receive("telegram:2", "telegram:42", {"update_id": 2, "message": {"text": "13881234567"}})
    inbox.processed("telegram:2")
    with inbox.db.transaction() as session:
        from store.models import InboxEntry

        assert session.get(InboxEntry, "telegram:2").payload is None
    assert inbox.to_replay("telegram") == [] and not inbox.receive("telegram:2", "telegram:42", {})
    assert inbox.purge(utcnow() - timedelta(days=1)) == 0
    assert inbox.purge(utcnow() + timedelta(seconds=1)) == 1


@pytest.mark.asyncio
async def test_an_update_cut_off_by_a_stop_is_answered_after_the_restart_and_a_redelivery_is_not(monkeypatch,
                                                                                                tmp_path):
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    dialogue = StuckOnce()
    async with BotApiEmulator() as emulator:
        async with running_bot(emulator, dialogue):
            update = emulator.user_sends(CHAT, "鸡不下蛋了")
            await asyncio.wait_for(dialogue.entered.wait(), 10)
            dialogue.stuck.cancel()  # the bot dies in the middle of the turn
        assert emulator.sent(CHAT) == [], "nothing was answered before the stop"

        async with running_bot(emulator, dialogue) as application:
            assert await replay_unfinished(application) == 1
            assert (await emulator.wait_for_message(CHAT))["text"] == "收到：鸡不下蛋了"
            emulator.inject_duplicate(update)  # Telegram delivers it once more, to the new process
            emulator.user_sends(CHAT, "在吗")
            assert (await emulator.wait_for_message(CHAT))["text"] == "收到：在吗"
        assert [text for _, text in dialogue.received] == ["鸡不下蛋了", "在吗"]
        assert [m["text"] for m in emulator.sent(CHAT)] == ["收到：鸡不下蛋了", "收到：在吗"]
