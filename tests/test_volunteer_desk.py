"""Volunteers take over through the bot: role codes, the queue, claim, relay both ways, close.

Real python-telegram-bot against the Bot API emulator, real assistant store (SQLite); the dialogue
backend is scripted (the journey with the trained model is in test_end_to_end.py).
"""

from __future__ import annotations

import pytest
import pytest_asyncio

from desks.volunteers import case_number
from kejibang.settings import Settings
from store.database import store_database
from store.handoffs import Handoffs
from store.roles import Roles
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.running_bot import running_bot
from tests.test_telegram_adapter import ScriptedDialogue

VILLAGER, VOLUNTEER, STRANGER, GROUP = 5001, 5002, 5003, -100777


@pytest_asyncio.fixture
async def desk_bot(monkeypatch, tmp_path):
    dialogue = ScriptedDialogue()
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEJIBANG_VOLUNTEER_CHAT", f"telegram:{GROUP}")
    db = store_database(Settings.from_env().assistant_db)
    async with BotApiEmulator() as emulator, running_bot(emulator, dialogue) as application:
        yield emulator, dialogue, application.bot_data["core"].desk, Roles(db), Handoffs(db)


async def _say(emulator, chat: int, text: str, expect: str = "") -> dict:
    emulator.user_sends(chat, text)
    return await emulator.wait_for_message(chat, lambda m: expect in m.get("text", ""))


@pytest.mark.asyncio
async def test_nobody_gets_a_role_by_chatting_and_a_code_works_once(desk_bot):
    emulator, _, _, roles, _ = desk_bot
    assert "只有科普志愿者" in (await _say(emulator, STRANGER, "/queue"))["text"]
    code, _ = roles.issue("volunteer")
    assert "授权成功" in (await _say(emulator, VOLUNTEER, f"/role {code}"))["text"]
    assert "不对" in (await _say(emulator, STRANGER, f"/role {code}"))["text"], "a code works once"
    assert "没有待处理" in (await _say(emulator, VOLUNTEER, "/queue"))["text"]
    actions = [action for _, _, action, _ in roles.audit_log()]
    assert "became_volunteer" in actions and "role_code_refused" in actions


@pytest.mark.asyncio
async def test_a_case_is_announced_claimed_relayed_both_ways_and_closed(desk_bot):
    emulator, dialogue, desk, roles, handoffs = desk_bot
    code, _ = roles.issue("volunteer")
    await _say(emulator, VOLUNTEER, f"/role {code}")
    emulator.user_sends(GROUP, "大家好", chat_type="group", user_id=VOLUNTEER)

    ticket = handoffs.open_case(f"telegram:{VILLAGER}", "request_human", "猪不吃食 想找个真人问")
    assert await desk.announce() == 1
    announcement = await emulator.wait_for_message(GROUP, lambda m: "有人需要帮忙" in m.get("text", ""))
    assert f"#{ticket.number}" in announcement["text"]
    assert await desk.announce() == 0, "announced once until the reminder time"
    emulator.user_sends(GROUP, "/queue@kejibang_test_bot", chat_type="group", user_id=VOLUNTEER)
    in_group = await emulator.wait_for_message(GROUP, lambda m: "待处理" in m.get("text", ""))
    assert f"#{ticket.number}" in in_group["text"], "commands addressed to the bot work in the group"

    waiting = await _say(emulator, VILLAGER, "还要等好久", "志愿者还没接手")
    assert str(ticket.number) in waiting["text"]
    queue = await _say(emulator, VOLUNTEER, "/queue", "待处理")
    assert "还要等好久" not in queue["text"], "the user's words go only to the volunteer who claims the case"

    button = queue["reply_markup"]["inline_keyboard"][0][0]
    emulator.user_presses(VOLUNTEER, queue["message_id"], button["callback_data"])
    await emulator.wait_for_message(VOLUNTEER, lambda m: "你已接手" in m.get("text", ""))
    briefing = await emulator.wait_for_message(VOLUNTEER, lambda m: "用户最近说" in m.get("text", ""))
    assert "还要等好久" in briefing["text"]
    await emulator.wait_for_message(VILLAGER, lambda m: "志愿者已经接手" in m.get("text", ""))

    emulator.user_sends(VILLAGER, "猪耳朵发紫了")
    relayed = await emulator.wait_for_message(VOLUNTEER, lambda m: "猪耳朵发紫了" in m.get("text", ""))
    assert relayed["text"] == f"#{ticket.number} 用户：猪耳朵发紫了"
    emulator.user_sends(VOLUNTEER, "先隔离病猪，我马上联系兽医")
    answer = await emulator.wait_for_message(VILLAGER, lambda m: "隔离" in m.get("text", ""))
    assert answer["text"] == "志愿者：先隔离病猪，我马上联系兽医"
    assert [t for _, t in dialogue.received] == [], "the assistant stays quiet during a handoff"

    await _say(emulator, VOLUNTEER, f"/done {ticket.number} 已联系兽医上门", "已关闭")
    feedback = await emulator.wait_for_message(VILLAGER, lambda m: "问题解决了吗" in m.get("text", ""))
    assert [b[0]["text"] for b in feedback["reply_markup"]["inline_keyboard"]] == ["解决了", "还没有", "没联系上"]
    emulator.user_sends(VILLAGER, "谢谢")
    await emulator.wait_for_message(VILLAGER, lambda m: m.get("text") == "收到：谢谢")


@pytest.mark.asyncio
async def test_the_group_sees_a_masked_summary_and_only_the_claimer_hears_the_users_words(desk_bot):
    emulator, _, desk, roles, handoffs = desk_bot
    code, _ = roles.issue("volunteer")
    await _say(emulator, VOLUNTEER, f"/role {code}", "授权成功")
    emulator.user_sends(GROUP, "大家好", chat_type="group", user_id=VOLUNTEER)
    ticket = handoffs.open_case(f"telegram:{VILLAGER}", "request_human", "猪不吃食 电话13881234567", "生猪养殖")
    await _say(emulator, VILLAGER, "我家在坪滩镇三组，王秀英", "志愿者还没接手")
    assert await desk.announce() == 1
    announcement = await emulator.wait_for_message(GROUP, lambda m: "有人需要帮忙" in m.get("text", ""))
    assert f"#{ticket.number}" in announcement["text"] and "【生猪养殖】" in announcement["text"]
    assert "138****4567" in announcement["text"] and "13881234567" not in announcement["text"]
    assert "王秀英" not in announcement["text"], "no raw recent words in the group"

    emulator.user_sends(GROUP, "/queue", chat_type="group", user_id=VOLUNTEER)
    listed = await emulator.wait_for_message(GROUP, lambda m: "待处理" in m.get("text", ""))
    assert "王秀英" not in listed["text"] and "13881234567" not in listed["text"]
    button = announcement["reply_markup"]["inline_keyboard"][0][0]
    emulator.user_presses(GROUP, announcement["message_id"], button["callback_data"], user_id=VOLUNTEER)
    await emulator.wait_for_message(GROUP, lambda m: "你已接手" in m.get("text", ""))
    briefing = await emulator.wait_for_message(VOLUNTEER, lambda m: "用户最近说" in m.get("text", ""))
    assert "王秀英" in briefing["text"], "the claimer gets the words in their private chat"
    assert not any("王秀英" in m.get("text", "") for m in emulator.sent(GROUP))


@pytest.mark.asyncio
@pytest.mark.parametrize("command", ["/onboard_confirm", "/accept 1", "/onboard 王秀英 13881234567", "/mine",
                                     "/role abc", "/start", "/cancel", "/whatever"])
async def test_in_the_group_every_other_command_is_refused_with_a_note(desk_bot, command):
    emulator, dialogue, _, roles, _ = desk_bot
    code, _ = roles.issue("chair", "511621102")
    await _say(emulator, VOLUNTEER, f"/role {code}", "授权成功")
    emulator.user_sends(GROUP, command, chat_type="group", user_id=VOLUNTEER)
    refused = await emulator.wait_for_message(GROUP)
    assert refused["text"] == "这个命令不能在群里用，请私聊我。"
    assert dialogue.received == [] and emulator.sent_count(GROUP) == 1


@pytest.mark.asyncio
async def test_in_the_group_help_lists_the_groups_commands_and_other_bots_commands_are_left_alone(desk_bot):
    emulator, dialogue, _, _, _ = desk_bot
    emulator.user_sends(GROUP, "/help@kejibang_test_bot", chat_type="group", user_id=VOLUNTEER)
    help_text = (await emulator.wait_for_message(GROUP))["text"]
    assert all(name in help_text for name in ("/queue", "/claim", "/done", "私聊"))
    emulator.user_sends(GROUP, "/accept@some_other_bot", chat_type="group", user_id=VOLUNTEER)
    emulator.user_sends(GROUP, "/queue", chat_type="group", user_id=STRANGER)
    await emulator.wait_for_message(GROUP, lambda m: "只有科普志愿者" in m.get("text", ""))
    assert emulator.sent_count(GROUP) == 2 and dialogue.received == []


@pytest.mark.asyncio
async def test_a_volunteers_own_notices_wait_for_their_private_chat_not_the_group(desk_bot):
    from store.notices import Notices

    emulator, _, _, roles, _ = desk_bot
    code, _ = roles.issue("volunteer")
    await _say(emulator, VOLUNTEER, f"/role {code}", "授权成功")
    Notices(store_database(Settings.from_env().assistant_db)).leave(f"telegram:{VOLUNTEER}", "有人想用你的手机号登记")
    emulator.user_sends(GROUP, "/queue", chat_type="group", user_id=VOLUNTEER)
    await emulator.wait_for_message(GROUP, lambda m: "没有待处理" in m.get("text", ""))
    assert not any("手机号" in m.get("text", "") for m in emulator.sent(GROUP))
    await _say(emulator, VOLUNTEER, "/queue", "手机号")


@pytest.mark.asyncio
async def test_a_user_can_leave_the_queue_and_a_stranger_cannot_close_cases(desk_bot):
    emulator, dialogue, _, roles, handoffs = desk_bot
    ticket = handoffs.open_case(f"telegram:{VILLAGER}", "two_fallbacks", "")
    assert "只有科普志愿者" in (await _say(emulator, STRANGER, f"/done {ticket.number}"))["text"]
    assert "已取消人工服务" in (await _say(emulator, VILLAGER, "/cancel"))["text"]
    assert handoffs.active_case_of(f"telegram:{VILLAGER}") is None


@pytest.mark.asyncio
async def test_a_chair_invites_villagers_who_arrive_with_their_township_and_sees_the_funnel(desk_bot):
    emulator, dialogue, _, roles, _ = desk_bot
    chair, villager = 5101, 5102
    assert "只有乡镇科协主席" in (await _say(emulator, chair, "/invite"))["text"]
    code, _ = roles.issue("chair", "511621102")
    await _say(emulator, chair, f"/role {code}", "授权成功")
    emulator.user_sends(chair, "/invite")
    invitation = await emulator.wait_for_message(chair, lambda m: "photo" in m)
    assert "四川省广安市岳池县坪滩镇" in invitation["caption"]
    link = next(word for word in invitation["caption"].split() if word.startswith("https://t.me/"))
    payload = link.split("start=")[1]
    assert emulator.file_content(invitation["photo"][-1]["file_id"]).startswith(b"\x89PNG")

    emulator.user_sends(villager, f"/start {payload}")
    welcome = await emulator.wait_for_message(villager, lambda m: "邀请来的" in m.get("text", ""))
    assert "坪滩镇" in welcome["text"]
    await emulator.wait_for_message(villager, lambda m: m.get("text", "").startswith("收到：/register"))
    assert dialogue.received[-1] == (f"telegram:{villager}", '/register{"township":"四川省广安市岳池县坪滩镇"}')

    emulator.user_sends(chair, "/stats")
    funnel = await emulator.wait_for_message(chair, lambda m: "本周" in m.get("text", ""))
    assert "邀请：1 / 0" in funnel["text"]
    chart = await emulator.wait_for_message(chair, lambda m: "photo" in m)
    assert emulator.file_content(chart["photo"][-1]["file_id"]).startswith(b"\x89PNG")
    assert "create_invite" in [action for _, _, action, _ in roles.audit_log()]


@pytest.mark.asyncio
async def test_a_chair_registers_a_villager_with_consent_who_later_takes_the_account_over(desk_bot):
    emulator, dialogue, _, roles, _ = desk_bot
    chair, villager, stranger = 5201, 5202, 5203
    code, _ = roles.issue("chair", "511621102")
    await _say(emulator, chair, f"/role {code}", "授权成功")
    assert "用法" in (await _say(emulator, chair, "/onboard 王秀英 12345"))["text"]
    consent = await _say(emulator, chair, "/onboard 王秀英 13881234567 农户", "同意了吗")
    assert "删除" in consent["text"], "the villager hears the purpose and that deletion is possible"
    button = consent["reply_markup"]["inline_keyboard"][0][0]
    emulator.user_presses(chair, consent["message_id"], button["callback_data"])
    done = await emulator.wait_for_message(chair, lambda m: "登记好了" in m.get("text", ""))
    assert "138****4567" in done["text"] and "13881234567" not in done["text"]
    handover = done["text"].split("/start ")[1].strip()

    await _say(emulator, villager, f"/start {handover}", "最后 4 位")
    await _say(emulator, villager, "4567", "确认好了")
    await emulator.wait_for_message(villager, lambda m: m.get("text") == "你好！")
    from store.accounts import Accounts
    from store.database import store_database

    accounts = Accounts(store_database(Settings.from_env().assistant_db))
    user_id = accounts.user_of(f"telegram:{villager}")
    assert user_id is not None
    emulator.user_sends(stranger, f"/start {handover}")
    refused = await emulator.wait_for_message(stranger, lambda m: "接管码不对" in m.get("text", ""))
    assert refused and accounts.user_of(f"telegram:{stranger}") is None
    assert "onboard_villager" in [action for _, _, action, _ in roles.audit_log()]


@pytest.mark.asyncio
async def test_the_weekly_push_sends_one_new_article_a_week_to_each_subscription(desk_bot, sqlite_service):
    from datetime import timedelta

    from common.clock import utcnow
    from core.pushes import push_due
    from store.subscriptions import Subscriptions

    emulator, _, desk, _, _ = desk_bot
    subscriptions = Subscriptions(store_database(Settings.from_env().assistant_db))
    subscriptions.subscribe(f"telegram:{VILLAGER}", "pig")
    emulator.user_sends(VILLAGER, "你好")
    await emulator.wait_for_message(VILLAGER)
    assert await push_due(subscriptions, sqlite_service, desk.outbound) == 1
    first = await emulator.wait_for_message(VILLAGER, lambda m: "本周「生猪养殖」科普" in m.get("text", ""))
    assert await push_due(subscriptions, sqlite_service, desk.outbound) == 0, "one a week"
    subscriptions.pushed(f"telegram:{VILLAGER}", "pig", subscriptions.due(utcnow() + timedelta(days=8))[0][2],
                         utcnow() - timedelta(days=8))
    assert await push_due(subscriptions, sqlite_service, desk.outbound) == 1
    second = await emulator.wait_for_message(VILLAGER, lambda m: "本周" in m.get("text", ""))
    assert second["text"] != first["text"], "a different article each week"


@pytest.mark.parametrize(("typed", "number"), [("12", 12), (" #7 ", 7), ("１２", 12), ("abc", None), ("", None),
                                               ("²", None), ("-1", None), ("1.5", None), ("9" * 23, None)])
def test_a_case_number_is_read_as_typed_and_garbage_gets_the_usage_line(typed: str, number: int | None):
    assert case_number(typed) == number


@pytest.mark.asyncio
async def test_a_claim_stands_when_the_volunteers_private_chat_cannot_be_reached(tmp_path):
    from desks.volunteers import Desk

    class Unreachable:
        """Reaches the user; the volunteer blocked the bot (Telegram answers Forbidden)."""

        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send(self, sender_id: str, replies) -> None:
            if sender_id == f"telegram:{VOLUNTEER}":
                raise RuntimeError("Forbidden: bot was blocked by the user")
            self.sent.append(sender_id)

    db = store_database(f"sqlite:///{tmp_path / 'assistant.db'}")
    roles, handoffs, outbound = Roles(db), Handoffs(db), Unreachable()
    code, _ = roles.issue("volunteer")
    roles.redeem(f"telegram:{VOLUNTEER}", code)
    ticket = handoffs.open_case(f"telegram:{VILLAGER}", "request_human", "猪不吃食")
    [reply] = await Desk(roles, handoffs, outbound).claim(f"telegram:{VOLUNTEER}", str(ticket.number))
    assert "你已接手" in reply.text and "请先私聊我" in reply.text
    assert outbound.sent == [f"telegram:{VILLAGER}"], "the user is told all the same"
    assert handoffs.claimed_by(f"telegram:{VOLUNTEER}") == ticket.number


def test_the_stats_chart_speaks_chinese_with_every_glyph_drawn():
    """A chair reads 注册 and 匹配 on the /stats chart: the CJK font ships in a wheel, so no label falls
    back to English and no glyph is drawn as an empty box (matplotlib warns of each missing one)."""
    import warnings

    from desks.chairs import FUNNEL, _chart_labels, funnel_chart

    assert _chart_labels()[:len(FUNNEL)] == [label for _, label in FUNNEL]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from (current )?font.*")
        png = funnel_chart({"invited": 3, "registered": 2}, {"invited": 1})
    assert png.startswith(b"\x89PNG")
