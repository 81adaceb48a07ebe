"""The first slice over the real stack: trained model, action server process, embedded exchange.

message → Rasa (in-process) → custom action (separate process, HTTP on loopback) → exchange (SQLite)
→ reply. The model is trained once per run by the test command and reused here.
"""

from __future__ import annotations

import pytest

from core.dialogue import InProcessRasa, Reply
from kejibang.settings import Settings
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import running_bot

pytestmark = [pytest.mark.model, pytest.mark.slow]


def _text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.mark.asyncio(loop_scope="module")
async def test_hello_then_a_colloquial_pig_need_returns_matched_experts(assistant: InProcessRasa):
    hello = await assistant.respond("villager-1", "你好")
    assert "科技帮" in _text(hello)
    assert any(b.payload == "/describe_need" for r in hello for b in r.buttons)

    read_back = await assistant.respond("villager-1", "我家猪这几天不吃食还发烧")
    assert "生猪养殖" in _text(read_back), _text(read_back)
    assert [b.payload for r in read_back for b in r.buttons][:2] == ["/affirm", "/deny"]

    posted = await assistant.respond("villager-1", "/affirm")
    text = _text(posted)
    assert "已经帮你发出去了" in text, text
    cards = [r.text for r in posted if r.text.startswith("👤")]
    assert len(cards) == 3, text
    assert all("💡" in card for card in cards)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_message_that_fits_nothing_gets_a_clear_chinese_answer(assistant: InProcessRasa):
    replies = await assistant.respond("villager-2", "帮我写首歌词嘛")
    text = _text(replies)
    assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert "已经帮你发出去了" not in text


async def _press(emulator, chat: int, message: dict, title: str) -> None:
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    emulator.user_presses(chat, message["message_id"], next(b["callback_data"] for b in buttons if b["text"] == title))


def _has(text: str):
    return lambda message: text in message.get("text", "")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_villager_on_telegram_registers_posts_a_need_and_gets_experts_by_pressing_buttons(
        assistant: InProcessRasa, monkeypatch):
    chat = 9001
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant):
        turns = 0
        for text, expect in (("我要注册", "第 1 步"), ("张德明", "第 2 步"), ("13881234567", "第 3 步"),
                             ("岳池县坪滩镇", "第 4 步")):
            emulator.user_sends(chat, text)
            turns += 1
            await emulator.wait_for_message(chat, _has(expect), timeout=20)
        role_question = emulator.sent(chat)[-1]
        await _press(emulator, chat, role_question, "农户")
        consent = await emulator.wait_for_message(chat, _has("同意吗"), timeout=20)
        await _press(emulator, chat, consent, "同意")
        turns += 2
        done = await emulator.wait_for_message(chat, _has("注册好了"), timeout=20)
        assert "138****4567" in done["text"] and "13881234567" not in done["text"]
        assert turns <= 6

        emulator.user_sends(chat, "我屋头的猪莫得精神 不吃食还发烧")
        read_back = await emulator.wait_for_message(chat, _has("我理解的是"), timeout=20)
        assert "生猪养殖" in read_back["text"]
        await _press(emulator, chat, read_back, "对，帮我找专家")
        await emulator.wait_for_message(chat, _has("已经帮你发出去了"), timeout=20)
        cards = [await emulator.wait_for_message(chat, _has("👤"), timeout=20) for _ in range(3)]
        assert all("💡" in card["text"] for card in cards)


@pytest.mark.asyncio(loop_scope="module")
async def test_asking_for_a_person_on_telegram_reaches_a_volunteer_who_answers_through_the_bot(
        assistant: InProcessRasa, stack_settings: Settings, monkeypatch):
    from store.database import store_database
    from store.roles import Roles

    villager, volunteer = 9101, 9102
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant) as application:
        code, _ = Roles(store_database(stack_settings.assistant_db)).issue("volunteer")
        emulator.user_sends(volunteer, f"/role {code}")
        await emulator.wait_for_message(volunteer, _has("授权成功"), timeout=20)

        emulator.user_sends(villager, "转人宫")
        ticket = await emulator.wait_for_message(villager, _has("案件号"), timeout=20)
        assert await application.bot_data["core"].desk.announce() == 1
        offer = await emulator.wait_for_message(volunteer, _has("有人需要帮忙"), timeout=20)
        await _press(emulator, volunteer, offer, offer["reply_markup"]["inline_keyboard"][0][0]["text"])
        await emulator.wait_for_message(villager, _has("志愿者已经接手"), timeout=20)
        emulator.user_sends(villager, "我家鸡一直咳")
        await emulator.wait_for_message(volunteer, _has("我家鸡一直咳"), timeout=20)
        assert "案件号" in ticket["text"]
