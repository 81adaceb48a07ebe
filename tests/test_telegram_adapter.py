"""The Telegram adapter with the real python-telegram-bot against the Bot API emulator on loopback.

The dialogue backend here is a small scripted one (the adapter's contract is the DialogueBackend
interface, so these tests need no TensorFlow); the full journeys with the trained model are in
test_telegram_journeys.py.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from channels.rendering import chunks
from channels.telegram import MAX_MESSAGE, build_application
from core.dialogue import Button, Reply
from kejibang.app import build_core
from kejibang.settings import Settings
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import running_bot

CHAT = 4242


class ScriptedDialogue:
    """Answers by rule and records what reached it (what Rasa would have received)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        self.received.append((user_id, text))
        if text == "/greet":
            return [Reply("你好！", buttons=(Button("说说我的问题", "/describe_need"),
                                            Button("长按钮", '/inform{"township":"四川省广安市岳池县坪滩镇"}')))]
        if text == "慢回复":
            await asyncio.sleep(0.8)
        if text == "长回复":
            return [Reply("\n".join(f"第{i}行" + "字" * 90 for i in range(120)))]
        return [Reply(f"收到：{text}")]


@pytest_asyncio.fixture
async def bot(monkeypatch, tmp_path):
    dialogue = ScriptedDialogue()
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    async with BotApiEmulator() as emulator, running_bot(emulator, dialogue):
        yield emulator, dialogue


@pytest.mark.asyncio
async def test_start_greets_with_buttons_and_a_long_payload_survives_the_64_byte_limit(bot):
    emulator, dialogue = bot
    emulator.user_sends(CHAT, "/start")
    hello = await emulator.wait_for_message(CHAT)
    assert hello["text"] == "你好！"
    buttons = [row[0] for row in hello["reply_markup"]["inline_keyboard"]]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    emulator.user_presses(CHAT, hello["message_id"], buttons[1]["callback_data"])
    answer = await emulator.wait_for_message(CHAT)
    assert answer["text"] == '收到：/inform{"township":"四川省广安市岳池县坪滩镇"}'
    assert emulator.answered_callbacks, "every pressed button is answered"


@pytest.mark.asyncio
async def test_typing_is_shown_while_an_answer_is_slow_and_not_before_a_quick_one(bot):
    emulator, _ = bot
    emulator.user_sends(CHAT, "快回复")
    await emulator.wait_for_message(CHAT)
    assert emulator.chat_actions(CHAT) == []
    emulator.user_sends(CHAT, "慢回复")
    assert (await emulator.wait_for_message(CHAT))["text"] == "收到：慢回复"
    assert emulator.chat_actions(CHAT) == ["typing"]


@pytest.mark.asyncio
async def test_user_text_with_markup_characters_is_sent_back_without_rendering_errors(bot):
    emulator, _ = bot
    hostile = "<b>猪</b> *拉稀* [链接](http://x) _咋整_ `代码` &amp;"
    emulator.user_sends(CHAT, hostile)
    assert (await emulator.wait_for_message(CHAT))["text"] == f"收到：{hostile}"


@pytest.mark.asyncio
async def test_a_long_reply_is_split_into_messages_telegram_accepts(bot):
    emulator, _ = bot
    emulator.user_sends(CHAT, "长回复")
    first = await emulator.wait_for_message(CHAT)
    second = await emulator.wait_for_message(CHAT)
    assert len(first["text"]) <= 4096 and second["text"].startswith("第")


@pytest.mark.asyncio
async def test_an_oversized_message_never_reaches_the_dialogue(bot):
    emulator, dialogue = bot
    emulator.user_sends(CHAT, "猪" * 2500)
    reply = await emulator.wait_for_message(CHAT)
    assert "太长" in reply["text"]
    assert dialogue.received == []


@pytest.mark.asyncio
async def test_a_voice_message_is_acknowledged_with_choices_never_dropped(bot):
    emulator, dialogue = bot
    emulator.user_sends_voice(CHAT)
    reply = await emulator.wait_for_message(CHAT)
    assert "语音" in reply["text"]
    titles = [row[0]["text"] for row in reply["reply_markup"]["inline_keyboard"]]
    assert titles == ["我打字说", "找志愿者"]


@pytest.mark.asyncio
async def test_a_shared_location_places_the_user_in_their_city_and_outside_sichuan_says_so(bot, tmp_path):
    from store.database import store_database
    from store.places import SharedPlaces

    emulator, dialogue = bot
    emulator.user_sends_location(CHAT, 30.47, 106.64)
    reply = await emulator.wait_for_message(CHAT)
    assert "广安市" in reply["text"]
    places = SharedPlaces(store_database(f"sqlite:///{tmp_path / 'assistant.db'}"))
    assert places.recent(f"telegram:{CHAT}") == "四川省广安市"
    emulator.user_sends_location(CHAT, 39.9, 116.4)
    assert "不在四川省内" in (await emulator.wait_for_message(CHAT))["text"]
    assert dialogue.received == [], "a location is never sent to the dialogue as text"


@pytest.mark.asyncio
async def test_a_photo_waits_for_the_need_and_a_caption_is_read_as_text(bot):
    emulator, dialogue = bot
    emulator.user_sends_photo(CHAT, caption="叶子上全是黄斑")
    first = await emulator.wait_for_message(CHAT)
    assert "照片" in first["text"] and "附在需求上" in first["text"]
    assert (await emulator.wait_for_message(CHAT))["text"] == "收到：叶子上全是黄斑"


@pytest.mark.asyncio
async def test_pressing_a_button_sends_its_payload_to_the_dialogue(bot):
    emulator, dialogue = bot
    emulator.user_sends(CHAT, "/start")
    hello = await emulator.wait_for_message(CHAT)
    real = hello["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    emulator.user_presses(CHAT, hello["message_id"], real)
    await emulator.wait_for_message(CHAT)
    assert dialogue.received[-1] == (f"telegram:{CHAT}", "/describe_need")


@pytest.mark.asyncio
async def test_an_unknown_command_gets_an_answer_not_silence(bot):
    emulator, dialogue = bot
    emulator.user_sends(CHAT, "/affirm")
    assert "不认识" in (await emulator.wait_for_message(CHAT))["text"]
    assert dialogue.received == []


@pytest.mark.asyncio
async def test_group_chats_are_ignored(bot):
    emulator, dialogue = bot
    emulator.user_sends(-100, "你好", chat_type="group", user_id=7)
    emulator.user_sends(CHAT, "在吗")
    await emulator.wait_for_message(CHAT)
    assert [t for _, t in dialogue.received] == ["在吗"]


def test_forged_or_purged_button_ids_map_to_nothing_and_ids_survive_a_restart(tmp_path):
    from datetime import timedelta

    from store.buttons import ButtonPayloads
    from store.database import store_database

    db = store_database(f"sqlite:///{tmp_path / 'buttons.db'}")
    key, other = ButtonPayloads(db).short_ids(['/inform{"township":"四川省广安市岳池县坪滩镇"}', "/deny"])
    assert len(key.encode()) <= 64
    restarted = ButtonPayloads(db, cache=1)
    assert restarted.payload(key) == '/inform{"township":"四川省广安市岳池县坪滩镇"}'
    assert restarted.payload(other) == "/deny", "every button of one message is kept"
    assert ButtonPayloads(db).short_ids(["/deny", "/deny"]) == [other, other], "a repeat stores nothing new"
    assert restarted.payload("' OR 1=1 --") is None and restarted.payload("x" * 500) is None
    assert restarted.purge(keep=timedelta(seconds=-1)) == 2
    assert ButtonPayloads(db).payload(key) is None, "a purged id has expired"


def test_chunks_keep_every_character():
    text = "\n".join("行" * 1500 for _ in range(7))
    parts = chunks(text, MAX_MESSAGE)
    assert all(len(p) <= 4000 for p in parts)
    assert "\n".join(parts) == text


@pytest.mark.asyncio
async def test_webhook_mode_answers_updates_and_refuses_requests_without_the_secret(monkeypatch, tmp_path):
    import aiohttp

    from channels.telegram import WEBHOOK_PATH, start_updates
    from tests.conftest import free_port

    dialogue, port = ScriptedDialogue(), free_port()
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    async with BotApiEmulator() as emulator:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", emulator.token)
        monkeypatch.setenv("TELEGRAM_API_URL", emulator.url)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", f"http://127.0.0.1:{port}/{WEBHOOK_PATH}")
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret-token")
        monkeypatch.setenv("KEJIBANG_WEBHOOK_PORT", str(port))
        application = build_application(build_core(Settings.from_env(), dialogue))
        async with application:
            await application.start()
            assert (await start_updates(application, Settings.from_env())).startswith("webhook")
            emulator.user_sends(CHAT, "网店莫得人买")
            assert (await emulator.wait_for_message(CHAT))["text"] == "收到：网店莫得人买"
            forged = {"update_id": 999999, "message": {"message_id": 1, "date": 0, "text": "/delete_my_data",
                                                       "chat": {"id": CHAT, "type": "private"},
                                                       "from": {"id": CHAT, "is_bot": False, "first_name": "x"}}}
            async with aiohttp.ClientSession() as session:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                    async with session.post(f"http://127.0.0.1:{port}/{WEBHOOK_PATH}", json=forged,
                                            headers=headers) as response:
                        assert response.status == 403
            assert [t for _, t in dialogue.received] == ["网店莫得人买"]
            await application.updater.stop()
            await application.stop()


class SlowFirstDialogue(ScriptedDialogue):
    """The first message takes longer than the second, as a long Rasa turn would."""

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        import asyncio

        if text == "第一句":
            await asyncio.sleep(0.3)
        return await super().respond(user_id, text, metadata)


@pytest.mark.asyncio
async def test_two_quick_messages_are_answered_in_order_and_a_redelivered_update_once(monkeypatch, tmp_path):
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    dialogue = SlowFirstDialogue()
    async with BotApiEmulator() as emulator, running_bot(emulator, dialogue):
        first = emulator.user_sends(CHAT, "第一句")
        emulator.user_sends(CHAT, "第二句")
        replies = [(await emulator.wait_for_message(CHAT))["text"] for _ in range(2)]
        assert replies == ["收到：第一句", "收到：第二句"]
        emulator.inject_duplicate(first)
        emulator.user_sends(CHAT, "第三句")
        assert (await emulator.wait_for_message(CHAT))["text"] == "收到：第三句"
        assert [t for _, t in dialogue.received] == ["第一句", "第二句", "第三句"]


class LoadingDialogue(ScriptedDialogue):
    """A backend still loading its model: replies wait until ``loaded`` is set."""

    def __init__(self) -> None:
        import asyncio

        super().__init__()
        self.loaded = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.loaded.is_set()

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        await self.loaded.wait()
        return await super().respond(user_id, text, metadata)


@pytest.mark.asyncio
async def test_a_message_during_model_loading_gets_a_wait_notice_then_its_answer(monkeypatch, tmp_path):
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    dialogue = LoadingDialogue()
    async with BotApiEmulator() as emulator, running_bot(emulator, dialogue):
        emulator.user_sends(CHAT, "在吗")
        notice = await emulator.wait_for_message(CHAT)
        assert "马上回复你" in notice["text"]
        dialogue.loaded.set()
        assert (await emulator.wait_for_message(CHAT))["text"] == "收到：在吗"
        emulator.user_sends(CHAT, "还在吗")
        assert (await emulator.wait_for_message(CHAT))["text"] == "收到：还在吗", "no notice once loaded"
