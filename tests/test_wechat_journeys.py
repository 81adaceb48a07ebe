"""WeChat journeys over the whole stack (trained model, action server, embedded exchange), with Telegram
beside it on the same core: a villager registers and posts a need on WeChat; a volunteer on Telegram takes
the WeChat villager's case; an expert on Telegram accepts a WeChat farmer's need. WeChat and Telegram are
both emulated on loopback; everything else is the product."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from channels.wechat import WeChatChannel, serving
from kejibang.app import Core, build_core
from kejibang.settings import Settings
from store.database import store_database
from store.roles import Roles
from tests.conftest import free_port
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import environment, running_telegram, telegram_settings
from tests.support.wechat_emulator import WeChatEmulator

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
TIMEOUT = 30.0


@asynccontextmanager
async def two_apps(assistant) -> AsyncIterator[tuple[WeChatEmulator, BotApiEmulator, Core, WeChatChannel]]:
    """One core on the module's stack, served on WeChat and Telegram, each app emulated."""
    port = free_port()
    async with WeChatEmulator(f"http://127.0.0.1:{port}/wechat") as wechat, BotApiEmulator() as telegram, \
            environment({**wechat.settings(port), **telegram_settings(telegram)}) as settings:
        core = build_core(settings, assistant)
        async with serving(core) as channel, running_telegram(core):
            yield wechat, telegram, core, channel


async def say(wechat: WeChatEmulator, openid: str, text: str, expect: str) -> str:
    """The person writes on WeChat; the first answer after it that contains ``expect``."""
    before = len(wechat.texts(openid))
    await wechat.user_sends(openid, text)
    return await wechat.wait_for_text(openid, expect, TIMEOUT, after=before)


def number_of(text: str, title: str) -> str:
    """The number a WeChat user types for the choice titled ``title``."""
    return re.search(rf"^(\d+)\. {re.escape(title)}$", text, re.MULTILINE).group(1)


def _has(text: str):
    return lambda message: text in message.get("text", "")


async def _press(telegram: BotApiEmulator, chat: int, message: dict, title: str) -> None:
    buttons = {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}
    telegram.user_presses(chat, message["message_id"], buttons[title])


async def post_need(wechat: WeChatEmulator, openid: str, text: str) -> str:
    """The farmer describes a need and confirms it by number; returns the answer with the experts."""
    read_back = await say(wechat, openid, text, "我理解的是")
    assert "生猪养殖" in read_back
    posted = await say(wechat, openid, number_of(read_back, "对，帮我找专家"), "已经帮你发出去了")
    await wechat.wait_for(lambda: sum("👤" in t for t in wechat.texts(openid)) >= 3, TIMEOUT)
    return posted


async def test_a_villager_on_wechat_registers_and_posts_a_need_by_typing_numbers(assistant):
    villager = "oVillagerJourney0000000001"
    async with two_apps(assistant) as (wechat, _, _, _):
        await wechat.user_follows(villager)
        assert "科技帮" in await wechat.wait_for_text(villager, "科技帮", TIMEOUT)
        for text, expect in (("我要注册", "第 1 步"), ("张德明", "第 2 步"), ("13881234567", "第 3 步")):
            await say(wechat, villager, text, expect)
        role = await say(wechat, villager, "岳池县坪滩镇", "第 4 步")
        consent = await say(wechat, villager, number_of(role, "农户"), "同意吗")
        done = await say(wechat, villager, number_of(consent, "同意"), "注册好了")
        assert "138****4567" in done and "13881234567" not in "".join(wechat.texts(villager))

        await post_need(wechat, villager, "我屋头的猪莫得精神 不吃食还发烧")
        cards = [t for t in wechat.texts(villager) if t.startswith("👤")]
        assert len(cards) == 3 and all("💡" in card and "联系TA" in card for card in cards)


async def test_a_volunteer_on_telegram_takes_a_wechat_villagers_case_and_they_talk_both_ways(
        assistant, stack_settings: Settings):
    villager, volunteer = "oVillagerHandoff00000000001", 9501
    async with two_apps(assistant) as (wechat, telegram, core, _):
        code, _ = Roles(store_database(stack_settings.assistant_db)).issue("volunteer")
        telegram.user_sends(volunteer, f"/role {code}")
        await telegram.wait_for_message(volunteer, _has("授权成功"), timeout=TIMEOUT)

        assert "案件号" in await say(wechat, villager, "转人宫", "案件号")
        assert await core.desk.announce() == 1
        offer = await telegram.wait_for_message(volunteer, _has("有人需要帮忙"), timeout=TIMEOUT)
        await _press(telegram, volunteer, offer, offer["reply_markup"]["inline_keyboard"][0][0]["text"])
        await wechat.wait_for_text(villager, "志愿者已经接手", TIMEOUT)

        await wechat.user_sends(villager, "我家鸡一直咳")
        await telegram.wait_for_message(volunteer, _has("我家鸡一直咳"), timeout=TIMEOUT)
        telegram.user_sends(volunteer, "先把咳的鸡隔开，明天我打电话给你")
        assert await wechat.wait_for_text(villager, "志愿者：先把咳的鸡隔开", TIMEOUT)


async def test_an_expert_on_telegram_accepts_a_wechat_farmers_need_and_they_talk_through_the_core(
        assistant, stack_settings: Settings):
    farmer, expert = "oFarmerExpert0000000000001", 9601
    async with two_apps(assistant) as (wechat, telegram, core, channel):
        posted = await post_need(wechat, farmer, "我家猪这几天不吃食还发烧")
        assert "已经帮你发出去了" in posted
        contact = next(b.payload for b in channel.offered(f"wechat:{farmer}") if b.title == "联系TA")
        expert_id = json.loads(contact[contact.index("{"):])["expert_id"]
        code, _ = Roles(store_database(stack_settings.assistant_db)).issue("expert", expert_id=expert_id)
        telegram.user_sends(expert, f"/role {code}")
        await telegram.wait_for_message(expert, _has("科技专家"), timeout=TIMEOUT)

        cards = [t for t in wechat.texts(farmer) if t.startswith("👤")]
        first_contact = number_of(cards[0], "联系TA")
        assert "案件号" in await say(wechat, farmer, first_contact, "案件号")
        assert (await core.experts.tick())["delivered"] == 1
        offer = await telegram.wait_for_message(expert, _has("新的求助"), timeout=TIMEOUT)
        assert "不吃食还发烧" in offer["text"]
        await _press(telegram, expert, offer, "接受")
        assert await wechat.wait_for_text(farmer, "接受了你的需求", TIMEOUT)

        await wechat.user_sends(farmer, "今天还是不吃，体温40度")
        await telegram.wait_for_message(expert, _has("体温40度"), timeout=TIMEOUT)
        telegram.user_sends(expert, "先把它单独关开，多喂水")
        assert (await wechat.wait_for_text(farmer, "单独关开", TIMEOUT)).startswith("专家")
