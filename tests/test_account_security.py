"""Issue #12: nobody takes over someone else's account, hand-over links cannot be guessed, and the
per-person budget covers every kind of update (staff keep theirs only for their own commands); an
operator can take a role away again.

Real python-telegram-bot against the Bot API emulator, the assistant's store and the embedded exchange
on SQLite files and on PostgreSQL; the dialogue backend is scripted.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from click.testing import CliRunner
from telegram.ext import Application

from common.clock import as_utc, utcnow
from kejibang.settings import Settings
from store.accounts import Accounts
from store.database import store_database
from store.roles import Roles
from tests.support.bot_api_emulator import BotApiEmulator
from tests.support.databases import create_database, drop_database
from tests.support.running_bot import running_bot
from tests.test_telegram_adapter import ScriptedDialogue

PING_TAN, LUO_DU = "511621102", "511621115"  # 岳池县坪滩镇, 岳池县罗渡镇
PHONE = "13881234567"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request, monkeypatch, tmp_path) -> Iterator[str]:
    """The assistant's store and the exchange on SQLite files, or on fresh PostgreSQL databases."""
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    names: list[str] = []
    for variable in ("KEJIBANG_DB", "KEJIBANG_EXCHANGE_DB"):
        monkeypatch.delenv(variable, raising=False)
        if request.param == "postgres":
            names.append("kejibang_test_" + uuid.uuid4().hex[:8])
            monkeypatch.setenv(variable, create_database(names[-1]))
    yield request.param
    for name in names:
        drop_database(name)


@dataclass
class Running:
    """The bot under test and what the tests look at."""

    emulator: BotApiEmulator
    dialogue: ScriptedDialogue
    application: Application
    db: object

    @property
    def roles(self) -> Roles:
        return Roles(self.db)

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.db)

    async def say(self, chat: int, text: str, expect: str = "") -> dict:
        self.emulator.user_sends(chat, text)
        return await self.emulator.wait_for_message(chat, lambda m: expect in m.get("text", ""))

    async def chair(self, chat: int, township: str) -> None:
        code, _ = self.roles.issue("chair", township)
        await self.say(chat, f"/role {code}", "授权成功")

    async def onboard(self, chat: int, name: str, phone: str = PHONE) -> dict:
        """/onboard, then the consent button: the chair's answer."""
        consent = await self.say(chat, f"/onboard {name} {phone} 农户", "同意了吗")
        button = consent["reply_markup"]["inline_keyboard"][0][0]
        self.emulator.user_presses(chat, consent["message_id"], button["callback_data"])
        return await self.emulator.wait_for_message(chat, lambda m: "登记" in m.get("text", "")
                                                    or "账号" in m.get("text", ""))

    def onboarded_user(self) -> str:
        """The exchange user of the newest onboarding (from the audit log)."""
        return next(detail.split()[0] for _, _, action, detail in self.roles.audit_log()
                    if action == "onboard_villager")


@asynccontextmanager
async def bot(**env: str) -> AsyncIterator[Running]:
    """The project's Telegram application on the emulator, with these extra settings."""
    import os

    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        db = store_database(Settings.from_env().assistant_db)
        dialogue = ScriptedDialogue()
        async with BotApiEmulator() as emulator, running_bot(emulator, dialogue) as application:
            yield Running(emulator, dialogue, application, db)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def handover_of(answer: dict) -> str:
    """The /start payload a chair was given (tk-…)."""
    return answer["text"].split("/start ")[1].strip()


# ----- 1. a chair of another township cannot take over a villager's account -------------------------
@pytest.mark.asyncio
async def test_onboarding_a_phone_whose_account_is_taken_gives_no_link_and_its_owner_is_told(stores):
    chair_a, chair_b, villager = 6101, 6102, 6103
    async with bot() as running:
        await running.chair(chair_a, PING_TAN)
        await running.chair(chair_b, LUO_DU)
        assert "tk-" in (await running.onboard(chair_a, "王秀英"))["text"]
        user_id = running.onboarded_user()
        await running.say(villager, "/start", "你好！")
        running.accounts.link(f"telegram:{villager}", user_id)  # the villager took the account over

        refused = await running.onboard(chair_b, "随便")
        assert "已经有科技帮账号" in refused["text"] and "tk-" not in refused["text"] and "/start" not in refused["text"]
        assert "138****4567" in refused["text"] and PHONE not in refused["text"]
        told = await running.emulator.wait_for_message(villager, lambda m: "拒绝" in m.get("text", ""))
        assert "罗渡镇" in told["text"] and "138****4567" in told["text"]
        assert running.accounts.chats_of(user_id) == [f"telegram:{villager}"]

        again = await running.onboard(chair_a, "王秀英")
        assert "tk-" not in again["text"], "not even the chair who registered TA, once TA holds the account"
        assert "onboard_refused" in [action for _, _, action, _ in running.roles.audit_log()]


@pytest.mark.asyncio
async def test_onboarding_a_phone_another_chair_registered_gives_no_link_and_that_chair_is_told(stores):
    chair_a, chair_b = 6201, 6202
    async with bot() as running:
        await running.chair(chair_a, PING_TAN)
        await running.chair(chair_b, LUO_DU)
        assert "tk-" in (await running.onboard(chair_a, "王秀英"))["text"]
        refused = await running.onboard(chair_b, "随便")
        assert "已经有科技帮账号" in refused["text"] and "tk-" not in refused["text"]
        await running.emulator.wait_for_message(chair_a, lambda m: "拒绝" in m.get("text", ""))
        assert "tk-" in (await running.onboard(chair_a, "王秀英"))["text"], "the registering chair may ask again"


@pytest.mark.asyncio
async def test_onboarding_a_person_who_registered_themselves_gives_no_link(stores):
    chair, person = 6301, 6302
    async with bot() as running:
        await running.chair(chair, PING_TAN)
        exchange = running.application.bot_data["core"].assistant.chairs.exchange
        user = exchange.register_user({"name": "李大姐", "phone": PHONE, "role": "农户", "township": "岳池县坪滩镇",
                                       "consent": {"purpose": "注册", "scope": "姓名、手机号", "share_contact": True}},
                                      f"register:telegram:{person}")
        await running.say(person, "/start", "你好！")
        running.accounts.keep_phone(f"telegram:{person}", PHONE)
        running.accounts.link(f"telegram:{person}", user["id"])
        refused = await running.onboard(chair, "李大姐")
        assert "已经有科技帮账号" in refused["text"] and "tk-" not in refused["text"]
        await running.emulator.wait_for_message(person, lambda m: "拒绝" in m.get("text", ""))


# ----- 2. hand-over tokens cannot be guessed --------------------------------------------------------
@pytest.mark.asyncio
async def test_a_handover_token_is_128_bits_hashed_short_lived_and_asks_the_last_four_digits(stores):
    from store.models import AccountHandover

    chair, villager, stranger = 6401, 6402, 6403
    async with bot() as running:
        await running.chair(chair, PING_TAN)
        payload = handover_of(await running.onboard(chair, "王秀英"))
        token = payload.removeprefix("tk-")
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token), "secrets.token_urlsafe(16): 128 bits"
        with running.db.transaction() as session:
            rows = list(session.query(AccountHandover))
            assert [r.code_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
            assert token not in repr([vars(r) for r in rows]), "only the hash is stored"
            assert as_utc(rows[0].expires_at) <= utcnow() + timedelta(hours=72)

        asked = await running.say(villager, f"/start {payload}", "最后 4 位")
        assert "你好" not in asked["text"] and running.accounts.user_of(f"telegram:{villager}") is None
        await running.say(villager, "1234", "不对")
        assert running.accounts.user_of(f"telegram:{villager}") is None, "a wrong answer links nothing"
        await running.say(villager, f"/start {payload}", "最后 4 位")
        await running.say(villager, "４５６７", "确认好了")
        await running.emulator.wait_for_message(villager, lambda m: m.get("text") == "你好！")
        assert running.accounts.user_of(f"telegram:{villager}") == running.onboarded_user()

        await running.say(stranger, f"/start {payload}", "接管码不对")
        assert running.accounts.user_of(f"telegram:{stranger}") is None, "a token dies on first use"


@pytest.mark.asyncio
async def test_a_newer_token_ends_the_older_one_and_old_style_codes_are_refused(stores):
    chair, villager = 6501, 6502
    async with bot() as running:
        await running.chair(chair, PING_TAN)
        first = handover_of(await running.onboard(chair, "王秀英"))
        second = handover_of(await running.onboard(chair, "王秀英"))
        assert first != second
        await running.say(villager, f"/start {first}", "接管码不对")
        await running.say(villager, "/start tk-23456789", "接管码不对")
        await running.say(villager, f"/start {second}", "最后 4 位")


@pytest.mark.asyncio
async def test_failed_codes_hit_a_per_chat_and_a_global_wall_before_anything_is_checked(stores):
    chair, guesser, villager, other = 6601, 6602, 6603, 6604
    async with bot() as running:
        await running.chair(chair, PING_TAN)
        payload = handover_of(await running.onboard(chair, "王秀英"))
        for attempt in range(5):  # 5 failed tries per chat an hour, then nothing is even looked at
            guess = "tk-" + "A" * 21 + "ABCDE"[attempt] if attempt % 2 else f"inv-GUESS{attempt}"
            await running.say(guesser, f"/start {guess}", "你好！")
        await running.say(guesser, f"/start {payload}", "试错次数太多")
        assert running.accounts.user_of(f"telegram:{guesser}") is None

        for _ in range(3):  # wrong answers count as failed tries too, and end the token after three
            await running.say(villager, f"/start {payload}", "最后 4 位")
            await running.say(villager, "0000", "后 4 位不对")
        await running.say(villager, f"/start {payload}", "接管码不对")

        from store.handovers import CodeTries

        tries = CodeTries(running.db)
        for number in range(100):  # 100 failed tries an hour overall, from however many chats
            tries.failed(f"telegram:{900000 + number}")
        await running.say(other, "/start tk-" + "B" * 22, "试错次数太多")


# ----- 3. the budget covers every kind of update; staff keep it for their own commands only --------
async def _all_answered(running: Running, chat: int, updates: int) -> None:
    """Wait until the bot has finished ``updates`` updates of this chat (answered or left unanswered)."""
    from store.models import InboxEntry

    def finished() -> int:
        with running.db.transaction() as session:
            return session.query(InboxEntry).filter(InboxEntry.sender_id == f"telegram:{chat}",
                                                    InboxEntry.status == "processed").count()

    for _ in range(200):
        if finished() >= updates:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{finished()} of {updates} updates finished")


@pytest.mark.asyncio
async def test_photos_voice_locations_buttons_and_start_links_all_count_against_the_budget(stores):
    chat = 6701
    async with bot(KEJIBANG_RATE_LIMIT_MESSAGES="4", KEJIBANG_RATE_LIMIT_SECONDS="3600") as running:
        running.emulator.user_sends(chat, "/start")
        hello = await running.emulator.wait_for_message(chat, lambda m: m.get("text") == "你好！")
        running.emulator.user_sends_location(chat, 30.47, 106.64)
        await running.emulator.wait_for_message(chat, lambda m: "位置" in m.get("text", ""))
        running.emulator.user_sends_voice(chat)
        await running.emulator.wait_for_message(chat, lambda m: "语音" in m.get("text", ""))
        running.emulator.user_sends_photo(chat, caption="叶子黄了")
        await _all_answered(running, chat, 4)
        before = running.emulator.sent_count(chat)

        button = hello["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        pressed = running.emulator.user_presses(chat, hello["message_id"], button)
        note = await running.emulator.wait_for_message(chat, lambda m: "发得有点快" in m.get("text", ""))
        assert note
        running.emulator.user_sends_photo(chat)
        running.emulator.user_sends_voice(chat)
        running.emulator.user_sends_location(chat, 30.47, 106.64)
        running.emulator.user_sends(chat, "/start tk-" + "C" * 22)
        running.emulator.user_sends(chat, "/nonsense")
        await _all_answered(running, chat, 10)
        assert running.emulator.sent_count(chat) == before + 1, "over the budget: the note once, then silence"
        assert running.emulator.answered(pressed), "a pressed button is still answered (the spinner stops)"
        assert "/describe_need" not in [text for _, text in running.dialogue.received]


@pytest.mark.asyncio
async def test_staff_are_limited_like_anyone_except_for_their_own_commands(stores):
    from desks.commands import COMMANDS

    volunteer = 6801
    async with bot(KEJIBANG_RATE_LIMIT_MESSAGES="3", KEJIBANG_RATE_LIMIT_SECONDS="3600") as running:
        assert {c.name for c in COMMANDS if c.exempt_role == "volunteer"} == {"/queue", "/claim", "/done"}
        code, _ = running.roles.issue("volunteer")
        await running.say(volunteer, f"/role {code}", "授权成功")
        for number in range(2):
            await running.say(volunteer, f"第{number}句", f"收到：第{number}句")
        await running.say(volunteer, "还有一句", "发得有点快")
        for _ in range(5):
            await running.say(volunteer, "/queue", "没有待处理")
        running.emulator.user_sends(volunteer, "/stats")  # a chair's command: not theirs, so it counts
        running.emulator.user_sends_photo(volunteer)
        await _all_answered(running, volunteer, 11)
        assert "只有乡镇科协主席" not in running.emulator.sent(volunteer)[-1]["text"]
        assert "没有待处理" in running.emulator.sent(volunteer)[-1]["text"]


@pytest.mark.asyncio
async def test_an_operator_revokes_a_role_which_is_audited_and_the_person_is_told(stores):
    from kejibang.cli import main

    chair = 6901
    async with bot() as running:
        await running.chair(chair, PING_TAN)
        result = CliRunner().invoke(main, ["admin", "revoke", "--chat", str(chair), "--role", "chair"])
        assert result.exit_code == 0, result.output
        assert running.roles.grant_of(f"telegram:{chair}", "chair") is None
        assert ("operator", "revoke_chair", f"telegram:{chair}") in [
            (actor, action, detail) for _, actor, action, detail in running.roles.audit_log()]

        told = await running.say(chair, "/invite", "身份已被管理员取消")
        assert "乡镇科协主席" in told["text"]
        await running.emulator.wait_for_message(chair, lambda m: "只有乡镇科协主席能用" in m.get("text", ""))
        await running.say(chair, "你好", "收到：你好")
        assert not any("取消" in m.get("text", "") for m in running.emulator.sent(chair)[-1:]), "told once"

        again = CliRunner().invoke(main, ["admin", "revoke", "--chat", f"telegram:{chair}", "--role", "chair"])
        assert again.exit_code != 0 and "没有" in again.output
        assert CliRunner().invoke(main, ["admin", "revoke", "--chat", "1", "--role", "king"]).exit_code != 0
