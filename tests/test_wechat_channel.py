"""The WeChat channel against the WeChat emulator on loopback (signed XML in, customer-service calls out),
on a core built by the composition root; the dialogue is the scripted one of the Telegram tests, so these
need no model. The journeys with the trained model are in test_wechat_journeys.py."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
import pytest_asyncio

from channels.wechat import MENU, serving
from core.dialogue import Reply
from core.pushes import PUSH
from core.texts import Farmer, Volunteer
from kejibang.app import build_core
from store.database import store_database
from store.handoffs import Handoffs
from store.roles import Roles
from tests.conftest import free_port
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import environment, running_telegram, telegram_settings
from tests.support.wechat_emulator import TINY_AMR, WeChatEmulator
from tests.test_telegram_adapter import ScriptedDialogue

FARMER = "oFarmer0000000000000000001"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters, as WeChat makes them


async def _serve(tmp_path: Path, aes_key: str = "", extra: dict | None = None):
    """The WeChat channel on a fresh core (and the settings of ``extra``) until the generator is closed."""
    port = free_port()
    async with WeChatEmulator(f"http://127.0.0.1:{port}/wechat", aes_key=aes_key) as emulator:
        values = {"KEJIBANG_VAR_DIR": str(tmp_path), **emulator.settings(port), **(extra or {})}
        async with environment(values) as settings:
            dialogue = ScriptedDialogue()
            core = build_core(settings, dialogue)
            async with serving(core):
                yield emulator, dialogue, core


@pytest_asyncio.fixture
async def wechat(tmp_path):
    async for running in _serve(tmp_path):
        yield running


@pytest.mark.asyncio
async def test_the_url_check_echoes_only_to_a_request_signed_with_our_token(wechat):
    emulator, _, _ = wechat
    assert await emulator.verify_url("echo-1234") == (200, "echo-1234")
    assert (await emulator.verify_url("echo-1234", good=False))[0] == 403


@pytest.mark.asyncio
async def test_a_forged_message_is_refused_and_never_reaches_the_dialogue(wechat):
    emulator, dialogue, _ = wechat
    forged = await emulator.deliver({"ToUserName": "gh", "FromUserName": FARMER, "CreateTime": 1,
                                     "MsgType": "text", "Content": "/delete_my_data", "MsgId": 1}, good=False)
    assert forged.status == 403
    await asyncio.sleep(0.2)
    assert dialogue.received == [] and emulator.sent == []


@pytest.mark.asyncio
async def test_a_message_wechat_retries_is_acknowledged_each_time_and_answered_once(wechat):
    emulator, dialogue, _ = wechat
    first = await emulator.user_sends(FARMER, "猪不吃食")
    assert (first.status, first.text) == (200, "success")
    assert await emulator.wait_for_text(FARMER, "收到：猪不吃食")
    for _ in range(3):
        again = await emulator.retry(first)
        assert (again.status, again.text) == (200, "success")
    await asyncio.sleep(0.3)
    assert emulator.texts(FARMER) == ["收到：猪不吃食"]
    assert dialogue.received == [(f"wechat:{FARMER}", "猪不吃食")]


@pytest.mark.asyncio
async def test_following_greets_with_numbered_choices_and_a_number_picks_one(wechat):
    emulator, dialogue, _ = wechat
    await emulator.user_follows(FARMER)
    hello = await emulator.wait_for_text(FARMER, "你好！")
    assert hello == "你好！\n回复数字：\n1. 说说我的问题\n2. 长按钮"
    await emulator.user_sends(FARMER, "2")
    picked = await emulator.wait_for_text(FARMER, "收到：/inform")
    assert picked == '收到：/inform{"township":"四川省广安市岳池县坪滩镇"}'
    await emulator.user_sends(FARMER, "2")  # the last message offered no choices: a number is just words
    assert await emulator.wait_for_text(FARMER, "收到：2")


@pytest.mark.asyncio
async def test_the_menu_is_set_at_start_and_a_click_sends_its_payload(wechat):
    emulator, dialogue, _ = wechat
    assert [b["key"] for b in emulator.menus[-1]["button"]] == [key for _, key in MENU]
    await emulator.user_clicks(FARMER, "/describe_need")
    assert await emulator.wait_for_text(FARMER, "收到：/describe_need")


@pytest.mark.asyncio
async def test_a_photo_joins_the_need_and_a_voice_message_is_acknowledged_and_kept(wechat, tmp_path):
    emulator, dialogue, _ = wechat
    await emulator.user_sends_image(FARMER)
    assert await emulator.wait_for_text(FARMER, Farmer.PHOTO_RECEIVED)
    assert await emulator.wait_for_text(FARMER, f"收到：{Farmer.PHOTO_AS_QUESTION}")
    await emulator.user_sends_voice(FARMER)
    heard = await emulator.wait_for_text(FARMER, Farmer.VOICE_RECEIVED)
    assert f"1. {Farmer.TYPE_INSTEAD}" in heard and f"2. {Farmer.ASK_VOLUNTEER}" in heard
    assert [path.read_bytes() for path in (tmp_path / "voice").glob("*/*.amr")] == [TINY_AMR]


@pytest.mark.asyncio
async def test_a_shared_location_names_the_city(wechat):
    emulator, _, _ = wechat
    await emulator.user_sends_location(FARMER, 30.54, 106.44)
    assert "广安" in await emulator.wait_for_text(FARMER, "收到位置")


@pytest.mark.asyncio
async def test_an_expired_access_token_is_fetched_again_and_the_reply_still_arrives(wechat):
    emulator, _, _ = wechat
    await emulator.user_sends(FARMER, "第一句")
    await emulator.wait_for_text(FARMER, "收到：第一句")
    emulator.expire_tokens()
    await emulator.user_sends(FARMER, "第二句")
    assert await emulator.wait_for_text(FARMER, "收到：第二句")
    assert len(emulator.tokens_issued) == 2


@pytest.mark.asyncio
async def test_a_long_reply_arrives_in_pieces_wechat_accepts_with_nothing_lost(wechat):
    emulator, _, _ = wechat
    await emulator.user_sends(FARMER, "长回复")
    await emulator.wait_for(lambda: "第119行" in "".join(emulator.texts(FARMER)))
    pieces = emulator.texts(FARMER)
    assert len(pieces) > 1 and all(len(piece) <= 600 for piece in pieces)
    assert "\n".join(pieces) == "\n".join(f"第{i}行" + "字" * 90 for i in range(120))


@pytest.mark.asyncio
async def test_past_the_48_hour_window_a_message_is_kept_and_told_when_the_person_writes_again(wechat):
    emulator, _, core = wechat
    emulator.outside_window.add(FARMER)
    await core.router.send(f"wechat:{FARMER}", [Reply("志愿者：明天上午来看看")])
    assert emulator.texts(FARMER) == []
    emulator.outside_window.clear()
    await emulator.user_sends(FARMER, "在吗")
    await emulator.wait_for_text(FARMER, "收到：在吗")
    assert emulator.texts(FARMER) == ["志愿者：明天上午来看看", "收到：在吗"]


@pytest.mark.asyncio
async def test_volunteers_hear_once_per_episode_of_a_person_past_the_window_who_then_gets_everything(wechat):
    emulator, _, core = wechat
    volunteer = "oVolunteer0000000000000001"
    code, _ = Roles(store_database(core.settings.assistant_db)).issue("volunteer")
    await emulator.user_sends(volunteer, f"/role {code}")
    await emulator.wait_for_text(volunteer, "授权成功")
    emulator.outside_window.add(FARMER)
    await core.router.send(f"wechat:{FARMER}", [Reply("本周科普：柑橘冬季清园", custom={PUSH: True})])
    assert not [text for text in emulator.texts(volunteer) if FARMER in text], "a missed 科普 push alarms nobody"
    kept = ["志愿者：明天上午来看看", "志愿者：记得把鸡隔开", "志愿者：有事再找我"]
    for text in kept:
        await core.router.send(f"wechat:{FARMER}", [Reply(text)])
    told = [text for text in emulator.texts(volunteer) if FARMER in text]
    assert told == [Volunteer.UNREACHABLE.format(person=f"wechat:{FARMER}", case="", count=1)]
    emulator.outside_window.clear()
    await emulator.user_sends(FARMER, "在吗")
    await emulator.wait_for_text(FARMER, "收到：在吗")
    assert emulator.texts(FARMER) == ["本周科普：柑橘冬季清园", *kept, "收到：在吗"]
    emulator.outside_window.add(FARMER)  # a new episode is news again
    await core.router.send(f"wechat:{FARMER}", [Reply("志愿者：还在吗")])
    assert len([text for text in emulator.texts(volunteer) if FARMER in text]) == 2


@pytest.mark.asyncio
async def test_a_chair_on_wechat_gets_a_township_qr_and_a_villager_who_scans_it_registers_there(wechat):
    emulator, dialogue, core = wechat
    chair, villager = "oChair00000000000000000001", "oVillager000000000000000001"
    code, _ = Roles(store_database(core.settings.assistant_db)).issue("chair", "511621102")
    await emulator.user_sends(chair, f"/role {code}")
    await emulator.wait_for_text(chair, "授权成功")
    await emulator.user_sends(chair, "/invite")
    invitation = await emulator.wait_for_text(chair, "邀请链接")
    scene = emulator.scenes[-1]["action_info"]["scene"]["scene_str"]
    assert emulator.scenes[-1]["action_name"] == "QR_LIMIT_STR_SCENE" and scene.startswith("inv-")
    assert f"http://weixin.qq.com/q/{scene}" in invitation
    await emulator.wait_for(lambda: any(m["msgtype"] == "image" and m["touser"] == chair for m in emulator.sent))

    await emulator.user_follows(villager, scene=scene)
    assert "科协邀请来的" in await emulator.wait_for_text(villager, "欢迎")
    await emulator.wait_for_text(villager, "收到：/register")
    assert (f"wechat:{villager}", '/register{"township":"四川省广安市岳池县坪滩镇"}') in dialogue.received


@pytest.mark.asyncio
async def test_safe_mode_takes_encrypted_messages_only_and_answers_them(tmp_path):
    async for emulator, dialogue, _ in _serve(tmp_path, aes_key=AES_KEY):
        posted = await emulator.user_sends(FARMER, "鸡不下蛋了")
        assert posted.params["encrypt_type"] == "aes" and "鸡不下蛋了" not in posted.body
        assert await emulator.wait_for_text(FARMER, "收到：鸡不下蛋了")
        emulator.crypto = None  # the same account posting in plain mode: refused, as a forgery would be
        assert (await emulator.user_sends(FARMER, "明文")).status == 403
        assert [text for _, text in dialogue.received] == ["鸡不下蛋了"]


@pytest.mark.asyncio
async def test_a_volunteer_on_telegram_serves_a_farmer_on_wechat_through_one_core(tmp_path):
    volunteer = 7701
    port = free_port()
    async with WeChatEmulator(f"http://127.0.0.1:{port}/wechat") as wechat, BotApiEmulator() as telegram:
        values = {"KEJIBANG_VAR_DIR": str(tmp_path), **wechat.settings(port), **telegram_settings(telegram)}
        async with environment(values) as settings:
            core = build_core(settings, ScriptedDialogue())
            async with serving(core), running_telegram(core):
                db = store_database(settings.assistant_db)
                code, _ = Roles(db).issue("volunteer")
                telegram.user_sends(volunteer, f"/role {code}")
                await telegram.wait_for_message(volunteer, lambda m: "授权成功" in m.get("text", ""))
                number = Handoffs(db).open_case(f"wechat:{FARMER}", "asked", "鸡一直咳").number
                telegram.user_sends(volunteer, f"/claim {number}")
                assert await wechat.wait_for_text(FARMER, "志愿者已经接手")
                await wechat.user_sends(FARMER, "我家鸡一直咳")
                await telegram.wait_for_message(volunteer, lambda m: "我家鸡一直咳" in m.get("text", ""))
                telegram.user_sends(volunteer, "喂点土霉素试试")
                assert await wechat.wait_for_text(FARMER, "志愿者：喂点土霉素试试")
                telegram.user_sends(volunteer, f"/done {number} 已处理")
                done = await wechat.wait_for_text(FARMER, "结束这次服务")
                assert "1. 解决了" in done
