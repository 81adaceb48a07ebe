"""Experts in the loop, end to end through the Telegram Bot API emulator with three chats (a farmer, an
expert and a second expert) over the whole stack: trained model, action server, embedded exchange.

The expert desk's clock is moved by the test (``tick(now=...)``), never by waiting.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from common.clock import utcnow
from exchange.service import ExchangeService
from kejibang.settings import Settings
from store.database import store_database
from store.roles import Roles
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import running_bot

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
EXPERT, SECOND = 9301, 9302  # the same two expert chats, linked to whichever experts each need ranks first
PHONE = re.compile(r"1[3-9]\d{9}|\d{3}\*{4}\d{4}")


def _has(text: str):
    return lambda message: text in message.get("text", "")


def _buttons(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}


async def _press(emulator: BotApiEmulator, chat: int, message: dict, title: str) -> None:
    emulator.user_presses(chat, message["message_id"], _buttons(message)[title])


async def _post_need(emulator: BotApiEmulator, application, farmer: int, text: str) -> list[tuple[dict, str]]:
    """The farmer describes a need and confirms it; returns the expert cards with their expert ids."""
    emulator.user_sends(farmer, text)
    read_back = await emulator.wait_for_message(farmer, _has("我理解的是"), timeout=20)
    await _press(emulator, farmer, read_back, "对，帮我找专家")
    await emulator.wait_for_message(farmer, _has("已经帮你发出去了"), timeout=20)
    cards = [await emulator.wait_for_message(farmer, _has("👤"), timeout=20) for _ in range(3)]
    book = application.bot_data["core"].payloads
    payloads = [book.payload(_buttons(card)["联系TA"]) for card in cards]
    ids = [json.loads(payload[payload.index("{"):])["expert_id"] for payload in payloads]
    return list(zip(cards, ids, strict=True))


async def _link(emulator: BotApiEmulator, settings: Settings, chat: int, expert_id: str) -> None:
    """An operator issues an expert code; the expert sends it to the bot from their own chat."""
    code, _ = Roles(store_database(settings.assistant_db)).issue("expert", expert_id=expert_id)
    emulator.user_sends(chat, f"/role {code}")
    await emulator.wait_for_message(chat, _has("科技专家"), timeout=20)


def _exchange(settings: Settings) -> ExchangeService:
    return ExchangeService(settings.exchange_db)


async def test_an_expert_accepts_in_their_chat_and_the_two_talk_through_the_bot_until_it_is_solved(
        assistant, stack_settings: Settings):
    farmer = 9311
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant) as application:
        cards = await _post_need(emulator, application, farmer, "我屋头的猪莫得精神 不吃食还发烧")
        (card, expert_id), _ = cards[0], cards[1]
        await _link(emulator, stack_settings, EXPERT, expert_id)
        sent_photo = emulator.user_sends_photo(farmer)["message"]["photo"][-1]["file_id"]
        await emulator.wait_for_message(farmer, _has("已附在你的需求"), timeout=10)
        await _press(emulator, farmer, card, "联系TA")
        sent = await emulator.wait_for_message(farmer, _has("案件号"), timeout=20)
        assert "TA 接受后" in sent["text"]

        assert (await application.bot_data["core"].experts.tick())["delivered"] == 1
        photo = await emulator.wait_for_message(EXPERT, lambda m: "photo" in m, timeout=10)
        assert photo["photo"][-1]["file_id"] == sent_photo, "the expert sees the farmer's own photo"
        offer = await emulator.wait_for_message(EXPERT, _has("新的求助"), timeout=10)
        assert "不吃食还发烧" in offer["text"] and "生猪" in offer["text"]
        assert not PHONE.search(offer["text"]), "the farmer never agreed to share a contact"
        assert set(_buttons(offer)) == {"接受", "转给同行", "暂不方便"}
        await _press(emulator, EXPERT, offer, "接受")
        accepted = await emulator.wait_for_message(farmer, _has("接受了你的需求"), timeout=10)
        await emulator.wait_for_message(EXPERT, _has("你已接受"), timeout=10)

        emulator.user_sends(farmer, "今天还是不吃，体温40度")
        relayed = await emulator.wait_for_message(EXPERT, _has("体温40度"), timeout=10)
        assert relayed["text"].startswith("#")
        emulator.user_sends(EXPERT, "先把它单独关开，多喂水，我明天过来看")
        answer = await emulator.wait_for_message(farmer, _has("单独关开"), timeout=10)
        assert answer["text"].startswith("专家")

        need_id = sent_need(emulator, farmer)
        assert _exchange(stack_settings).get_need(need_id)["status"] == "contacted"
        await _press(emulator, farmer, accepted, "结束对话")
        question = await emulator.wait_for_message(farmer, _has("解决了吗"), timeout=10)
        await _press(emulator, farmer, question, "解决了")
        await emulator.wait_for_message(farmer, _has("谢谢反馈"), timeout=10)
        await emulator.wait_for_message(EXPERT, _has("问题解决了"), timeout=10)
        assert _exchange(stack_settings).get_need(need_id)["status"] == "resolved"


def sent_need(emulator: BotApiEmulator, farmer: int) -> str:
    """The need id the bot told the farmer (编号 n-…)."""
    posted = next(m for m in emulator.sent(farmer) if "已经帮你发出去了" in m.get("text", ""))
    return re.search(r"n-[0-9a-f]{12}", posted["text"]).group(0)


async def test_a_decline_hands_the_need_to_the_next_expert_and_a_paused_expert_gets_nothing(
        assistant, stack_settings: Settings):
    farmer = 9321
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant) as application:
        cards = await _post_need(emulator, application, farmer, "猪儿咳嗽 喘气 耳朵发紫咋个办")
        (card, first), (second_card, second), (third_card, third) = cards
        await _link(emulator, stack_settings, EXPERT, first)
        await _link(emulator, stack_settings, SECOND, second)
        await _press(emulator, farmer, card, "联系TA")
        await emulator.wait_for_message(farmer, _has("案件号"), timeout=20)
        await application.bot_data["core"].experts.tick()
        offer = await emulator.wait_for_message(EXPERT, _has("新的求助"), timeout=10)
        await _press(emulator, EXPERT, offer, "暂不方便")
        await emulator.wait_for_message(EXPERT, _has("已转给其他专家"), timeout=10)
        moved = await emulator.wait_for_message(farmer, _has("已转给专家"), timeout=10)
        assert second_card["text"].split("｜")[0].lstrip("👤 ") in moved["text"]
        handed = await emulator.wait_for_message(SECOND, _has("新的求助"), timeout=10)
        assert "咳嗽" in handed["text"]

        emulator.user_sends(SECOND, "/mine")
        mine = await emulator.wait_for_message(SECOND, _has("手上的需求"), timeout=10)
        assert "待回复" in mine["text"] and "咳嗽" in mine["text"]

        await _link(emulator, stack_settings, EXPERT, third)
        emulator.user_sends(EXPERT, "/pause")
        await emulator.wait_for_message(EXPERT, _has("已暂停"), timeout=10)
        await _press(emulator, farmer, third_card, "联系TA")
        refused = await emulator.wait_for_message(farmer, _has("暂时不接新的需求"), timeout=20)
        assert "换一批专家" in _buttons(refused)
        assert (await application.bot_data["core"].experts.tick())["delivered"] == 0
        emulator.user_sends(EXPERT, "/resume")
        await emulator.wait_for_message(EXPERT, _has("已恢复"), timeout=10)


async def test_an_unanswered_offer_is_reminded_then_re_matched_and_the_farmer_is_followed_up(
        assistant, stack_settings: Settings):
    farmer = 9331
    async with BotApiEmulator() as emulator, running_bot(emulator, assistant) as application:
        desk = application.bot_data["core"].experts
        cards = await _post_need(emulator, application, farmer, "母猪产后不吃东西 还拉稀")
        (card, first), (_, second) = cards[0], cards[1]
        await _link(emulator, stack_settings, EXPERT, first)
        await _link(emulator, stack_settings, SECOND, second)
        await _press(emulator, farmer, card, "联系TA")
        await emulator.wait_for_message(farmer, _has("案件号"), timeout=20)
        start = utcnow()
        assert (await desk.tick(start))["delivered"] >= 1
        await emulator.wait_for_message(EXPERT, _has("新的求助"), timeout=10)

        assert (await desk.tick(start + timedelta(hours=1)))["reminded"] == 0
        assert (await desk.tick(start + timedelta(hours=13)))["reminded"] >= 1
        await emulator.wait_for_message(EXPERT, _has("提醒"), timeout=10)
        assert (await desk.tick(start + timedelta(hours=25)))["timed_out"] >= 1
        await emulator.wait_for_message(EXPERT, _has("超时"), timeout=10)
        await emulator.wait_for_message(farmer, _has("一直没回复"), timeout=10)
        offer = await emulator.wait_for_message(SECOND, _has("新的求助"), timeout=10)
        await _press(emulator, SECOND, offer, "接受")
        await emulator.wait_for_message(farmer, _has("接受了你的需求"), timeout=10)

        later = start + timedelta(hours=25, days=3, minutes=1)
        assert (await desk.tick(later))["followed_up"] >= 1
        question = await emulator.wait_for_message(farmer, _has("解决了吗"), timeout=10)
        assert set(_buttons(question)) == {"解决了", "还没有", "没联系上"}
        await _press(emulator, farmer, question, "没联系上")
        volunteer = await emulator.wait_for_message(farmer, _has("志愿者"), timeout=10)
        assert "案件号" in volunteer["text"]
        assert (await desk.tick(start + timedelta(days=7, minutes=1)))["summaries"] >= 2
        summary = await emulator.wait_for_message(SECOND, _has("本周小结"), timeout=10)
        assert "收到" in summary["text"] and "已解决" in summary["text"]
