"""Farmers' first messages through the real stack: Telegram (Bot API emulator) → Rasa with the sentence
encoder → actions → exchange. Whatever surrounds a question, the farmer gets it read back, never a menu."""

from __future__ import annotations

import pytest

from core.dialogue import InProcessRasa
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import running_bot

pytestmark = [pytest.mark.model, pytest.mark.slow]
READ_BACK = "我理解的是"


def _has(text: str):
    return lambda message: text in message.get("text", "")


def _button_titles(message: dict) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_question_after_a_greeting_and_questions_wrapped_in_politeness_are_read_back(
        assistant: InProcessRasa):
    chat = 9201
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant):
        emulator.user_sends(chat, "老师你好")
        hello = await emulator.wait_for_message(chat, _has("科技帮"), timeout=20)
        assert READ_BACK not in hello["text"]

        emulator.user_sends(chat, "请问老师 我家辣椒叶子卷起来了是啥原因 谢谢")
        read_back = await emulator.wait_for_message(chat, _has(READ_BACK), timeout=20)
        assert "对象：辣椒" in read_back["text"] and "蔬菜种植" in read_back["text"], read_back["text"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("chat", "question", "subject"), [
    (9211, "蚜虫用什么药效果好", None),
    (9212, "多菌灵和磷酸二氢钾可以混用吗", None),
    (9213, "我家母猪发烧", "对象：母猪"),
    (9214, "洋芋啥时候种合适", "对象：洋芋（马铃薯）"),
    (9215, "我们这里那个油才开了花不结籽 是不是缺啥子", "对象：油才（油菜）"),  # typed by sound, still read
])
async def test_pest_drug_and_planting_questions_get_the_read_back(assistant: InProcessRasa, chat: int,
                                                                  question: str, subject: str | None):
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant):
        emulator.user_sends(chat, question)
        read_back = await emulator.wait_for_message(chat, _has(READ_BACK), timeout=20)
        assert "对象：家母" not in read_back["text"]
        if subject:
            assert subject in read_back["text"], read_back["text"]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_photo_asking_what_disease_gets_the_crop_question_then_the_read_back(assistant: InProcessRasa):
    chat = 9221
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant):
        emulator.user_sends_photo(chat, caption="这是什么病？")
        question = await emulator.wait_for_message(chat, _has("庄稼还是牲畜"), timeout=20)
        assert READ_BACK not in question["text"]
        assert "蔬菜种植" in _button_titles(question) and "生猪养殖" in _button_titles(question)

        emulator.user_sends(chat, "番茄")
        read_back = await emulator.wait_for_message(chat, _has(READ_BACK), timeout=20)
        assert "对象：番茄" in read_back["text"] and "这是什么病" in read_back["text"], read_back["text"]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_photo_with_no_words_is_asked_about_and_a_domain_button_leads_to_the_read_back(
        assistant: InProcessRasa):
    chat = 9222
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant):
        emulator.user_sends_photo(chat)
        question = await emulator.wait_for_message(chat, _has("庄稼还是牲畜"), timeout=20)
        payload = next(b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row
                       if b["text"] == "果树种植")
        emulator.user_presses(chat, question["message_id"], payload)
        read_back = await emulator.wait_for_message(chat, _has(READ_BACK), timeout=20)
        assert "果树种植" in read_back["text"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("chat", "wording"), [
    (9231, "我的问题发出去没有"), (9232, "上次问的那个有人回没得"), (9233, "专家咋个还没联系我"),
])
async def test_three_status_wordings_get_the_status(assistant: InProcessRasa, chat: int, wording: str):
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant):
        emulator.user_sends(chat, wording)
        reply = await emulator.wait_for_message(chat, lambda m: bool(m.get("text")), timeout=20)
        assert READ_BACK not in reply["text"]
        assert "你还没有发过需求" in reply["text"], reply["text"]
