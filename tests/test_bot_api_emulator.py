"""The Bot API emulator, exercised by the real python-telegram-bot over loopback HTTP.

Why: the bot's end-to-end tests trust this emulator to answer like Telegram. These
tests pin that down with PTB's own Application, handlers, polling and webhook
server, so a wrong response shape or a missing refusal shows up here first.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.bot_api_emulator import TINY_JPEG, BotApiEmulator, EntityParseError, parse_entities

TOKEN = "123456:TEST"
CHAT = 4242
GROUP = -100_777
SECRET = "s3cret_Token-1"


def free_port() -> int:
    """A loopback port nobody listens on right now (for PTB's webhook server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ----------------------------------------------------------------- the bot under test


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("seen_update_ids", []).append(update.update_id)
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"start {json.dumps(context.args)}")


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("选项一", callback_data="pick:1")]])
    await update.effective_message.reply_text("请选择", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"收到 {query.data}")
    await query.edit_message_text(f"已选择 {query.data}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    photo_file = await update.effective_message.photo[-1].get_file()
    data = await photo_file.download_as_bytearray()
    await update.effective_message.reply_text(f"photo bytes: {len(data)}")


def build_application(emulator: BotApiEmulator, token: str = TOKEN) -> Application:
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{emulator.url}/bot")
        .base_file_url(f"{emulator.url}/file/bot")
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("menu", menu))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.PHOTO, on_photo))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


# ----------------------------------------------------------------- fixtures


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as running:
        yield running


@pytest_asyncio.fixture
async def polling_app(emulator: BotApiEmulator) -> AsyncIterator[Application]:
    application = build_application(emulator)
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.0)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@pytest_asyncio.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    """A bare PTB Bot, for API behaviour that needs no handlers."""
    async with Bot(
        TOKEN, base_url=f"{emulator.url}/bot", base_file_url=f"{emulator.url}/file/bot"
    ) as ptb_bot:
        emulator.user_sends(CHAT, "/start")  # the bot may only write to chats that wrote to it
        yield ptb_bot


# ----------------------------------------------------------------- polling with handlers


@pytest.mark.asyncio
async def test_polling_echo_arrives_and_is_timed(emulator: BotApiEmulator, polling_app: Application) -> None:
    update = emulator.user_sends(CHAT, "你好")

    reply = await emulator.wait_for_message(CHAT)

    assert reply["text"] == "echo: 你好"
    assert reply["chat"]["id"] == CHAT
    assert reply["from"]["is_bot"] is True
    assert emulator.request_counts["getUpdates"] >= 1
    assert emulator.request_counts["sendMessage"] == 1
    latency = emulator.reply_latency(update["update_id"])
    assert latency is not None and 0 <= latency < 2


@pytest.mark.asyncio
async def test_start_deep_link_payload_reaches_context_args(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    update = emulator.user_sends(CHAT, "/start ref_abc")

    reply = await emulator.wait_for_message(CHAT)

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert reply["text"] == 'start ["ref_abc"]'


@pytest.mark.asyncio
async def test_inline_button_is_answered_and_message_edited(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    emulator.user_sends(CHAT, "/menu")
    keyboard_message = await emulator.wait_for_message(CHAT)
    assert keyboard_message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "pick:1"

    query_id = emulator.user_presses(CHAT, keyboard_message["message_id"], "pick:1")

    await emulator.wait_until(lambda: "edit_date" in emulator.sent(CHAT)[-1])
    assert emulator.answered_callbacks == [
        {
            "callback_query_id": query_id,
            "text": "收到 pick:1",
            "show_alert": False,
            "url": None,
            "cache_time": 0,
        }
    ]
    edited = emulator.sent(CHAT)[-1]
    assert edited["message_id"] == keyboard_message["message_id"]
    assert edited["text"] == "已选择 pick:1"
    assert "reply_markup" not in edited  # an edit without reply_markup drops the keyboard
    assert emulator.request_counts["answerCallbackQuery"] == 1
    assert emulator.request_counts["editMessageText"] == 1


@pytest.mark.asyncio
async def test_only_existing_buttons_can_be_pressed(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    emulator.user_sends(CHAT, "/menu")
    keyboard_message = await emulator.wait_for_message(CHAT)

    with pytest.raises(LookupError, match="no button"):
        emulator.user_presses(CHAT, keyboard_message["message_id"], "pick:2")
    with pytest.raises(LookupError, match="no message"):
        emulator.user_presses(CHAT, keyboard_message["message_id"] + 50, "pick:1")


@pytest.mark.asyncio
async def test_a_modified_client_can_send_any_callback_data(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    emulator.user_sends(CHAT, "/menu")
    keyboard_message = await emulator.wait_for_message(CHAT)
    forged = "pick:999" + "x" * 100  # on no button, and longer than a button may carry

    query_id = emulator.user_sends_callback(CHAT, keyboard_message["message_id"], forged)

    await emulator.wait_until(lambda: emulator.answered(query_id))
    assert emulator.answered_callbacks[-1]["text"] == f"收到 {forged}"
    with pytest.raises(LookupError, match="no message"):
        emulator.user_sends_callback(CHAT, keyboard_message["message_id"] + 50, forged)


@pytest.mark.asyncio
async def test_duplicate_update_is_delivered_again_with_the_same_id(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    update = emulator.user_sends(CHAT, "一次")
    await emulator.wait_for_message(CHAT)

    emulator.inject_duplicate(update)
    await emulator.wait_for_message(CHAT)

    assert polling_app.bot_data["seen_update_ids"] == [update["update_id"], update["update_id"]]
    follow_up = emulator.user_sends(CHAT, "再一次")
    assert (await emulator.wait_for_message(CHAT))["text"] == "echo: 再一次"
    assert follow_up["update_id"] > update["update_id"]


@pytest.mark.asyncio
async def test_group_messages_carry_sender_and_replies_go_to_the_group(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    update = emulator.user_sends(GROUP, "群里好", user_id=31, first_name="小王", chat_type="group")

    reply = await emulator.wait_for_message(GROUP)

    assert update["message"]["chat"] == {"id": GROUP, "type": "group", "title": "测试群"}
    assert update["message"]["from"]["id"] == 31
    assert reply["text"] == "echo: 群里好"
    assert emulator.sent(CHAT) == []
    with pytest.raises(ValueError):
        emulator.user_sends(-5, "x")  # a private chat cannot have a negative id


@pytest.mark.asyncio
async def test_user_photo_is_downloaded_through_ptb(
    emulator: BotApiEmulator, polling_app: Application
) -> None:
    update = emulator.user_sends_photo(CHAT, caption="看图")

    reply = await emulator.wait_for_message(CHAT)

    assert reply["text"] == f"photo bytes: {len(TINY_JPEG)}"
    file_id = update["message"]["photo"][-1]["file_id"]
    downloaded = await (await polling_app.bot.get_file(file_id)).download_as_bytearray()
    assert bytes(downloaded) == TINY_JPEG
    assert emulator.request_counts["download"] == 2


# ----------------------------------------------------------------- API behaviour through a bare Bot


@pytest.mark.asyncio
async def test_long_poll_returns_promptly_and_offset_confirms(emulator: BotApiEmulator, bot: Bot) -> None:
    first = await bot.get_updates(timeout=5)
    assert [u.message.text for u in first] == ["/start"]

    poll = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    emulator.user_sends(CHAT, "醒醒")
    second = await poll

    assert time.perf_counter() - started < 1
    assert [u.message.text for u in second] == ["醒醒"]
    assert second[0].update_id == first[-1].update_id + 1
    assert await bot.get_updates(offset=second[-1].update_id + 1, timeout=0) == ()


@pytest.mark.asyncio
async def test_a_second_bot_instance_polling_terminates_the_first(emulator: BotApiEmulator, bot: Bot) -> None:
    confirmed = (await bot.get_updates(timeout=0))[-1].update_id + 1
    first = asyncio.create_task(bot.get_updates(offset=confirmed, timeout=5))
    await asyncio.sleep(0.05)

    async with Bot(TOKEN, base_url=f"{emulator.url}/bot") as second_instance:
        assert await second_instance.get_updates(offset=confirmed, timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "parse_mode", "detail"),
    [
        ("<b>粗体没闭合", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("第一行<br>第二行", "HTML", 'Unsupported start tag "br" at byte offset 9'),
        (
            "<b>交叉<i>嵌套</b></i>",
            "HTML",
            'Unmatched end tag at byte offset 18, expected "</i>", found "</b>"',
        ),
        ("价格 < 100", "HTML", 'Unsupported start tag "" at byte offset 7'),
        ("版本 1.0", "MarkdownV2", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*没闭合", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
    ],
)
async def test_unrenderable_markup_is_a_bad_request(
    bot: Bot, text: str, parse_mode: str, detail: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(CHAT, text, parse_mode=parse_mode)

    # PTB strips "Bad Request: " and capitalises the rest of Telegram's description.
    assert refused.value.message == f"can't parse entities: {detail}".capitalize()


@pytest.mark.asyncio
async def test_valid_markup_is_stored_as_plain_text_with_entities(emulator: BotApiEmulator, bot: Bot) -> None:
    message = await bot.send_message(
        CHAT, "<b>科技</b> &amp; <a href='https://example.org'>帮</a>", parse_mode="HTML"
    )

    assert message.text == "科技 & 帮"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2), ("text_link", 5, 1)]
    assert message.entities[1].url == "https://example.org"
    escaped = await bot.send_message(CHAT, r"版本 1\.0 *新*", parse_mode="MarkdownV2")
    assert escaped.text == "版本 1.0 新"
    assert [m["text"] for m in emulator.sent(CHAT)] == ["科技 & 帮", "版本 1.0 新"]


@pytest.mark.asyncio
async def test_telegram_limits_are_enforced(bot: Bot) -> None:
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "按钮", reply_markup=long_data)
    chinese_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="汉" * 22)]])  # 66 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "按钮", reply_markup=chinese_data)
    many = InlineKeyboardMarkup([[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)])
    with pytest.raises(BadRequest, match="Buttons_too_much"):
        await bot.send_message(CHAT, "按钮", reply_markup=many)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "长" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CHAT, "")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "陌生人")
    exactly_64 = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 64)]])
    assert (await bot.send_message(CHAT, "长" * 4096, reply_markup=exactly_64)).text == "长" * 4096


@pytest.mark.asyncio
async def test_text_is_cleaned_and_trimmed_as_tdlib_does(emulator: BotApiEmulator, bot: Bot) -> None:
    message = await bot.send_message(CHAT, "\n 猪\x00瘟\t疫苗\r\n\u202e打了\u2028吗\u200e\u200f \n")

    assert message.text == "猪 瘟 疫苗\n打了吗\u200c\u200f"
    bold = await bot.send_message(CHAT, "<b>粗\r体</b>\r\n尾", parse_mode="HTML")
    assert bold.text == "粗体\n尾"
    assert [(e.type, e.offset, e.length) for e in bold.entities] == [("bold", 0, 2)]
    padded = await bot.send_message(CHAT, "\r" * 5000 + "长" * 4096)  # the limit counts what is left
    assert padded.text == "长" * 4096
    assert emulator.refused == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        ("\u200b\u200d\ufeff\u3000\u2800", None, "Message text is empty"),
        ("\x00\x01\x1f\r\u2028", None, "Message text is empty"),
        ("<i>\u200b</i>", "HTML", "Message text is empty"),
    ],
)
async def test_texts_telegram_refuses_are_refused_and_recorded(
    emulator: BotApiEmulator, bot: Bot, text: str, parse_mode: str | None, description: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(CHAT, text, parse_mode=parse_mode)

    assert refused.value.message == description
    assert [(call.method, call.description) for call in emulator.refused] == [
        ("sendMessage", f"Bad Request: {description[0].lower()}{description[1:]}")
    ]


@pytest.mark.asyncio
async def test_edits_follow_telegram_rules(emulator: BotApiEmulator, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])
    sent = await bot.send_message(CHAT, "原文", reply_markup=keyboard)

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("原文", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("新", chat_id=CHAT, message_id=sent.message_id + 9)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.edit_message_text("<i>新", chat_id=CHAT, message_id=sent.message_id, parse_mode="HTML")
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)

    assert "reply_markup" not in emulator.sent(CHAT)[-1]
    with pytest.raises(LookupError):
        emulator.user_presses(CHAT, sent.message_id, "ok")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("改用户的话", chat_id=CHAT, message_id=1)


@pytest.mark.asyncio
async def test_photos_documents_actions_and_replies_are_recorded(emulator: BotApiEmulator, bot: Bot) -> None:
    await bot.send_chat_action(CHAT, "typing")
    photo = await bot.send_photo(
        CHAT, TINY_JPEG, caption="<b>图</b>", parse_mode="HTML", reply_to_message_id=1
    )
    again = await bot.send_photo(CHAT, photo.photo[-1].file_id)
    document = await bot.send_document(CHAT, b"a,b\n1,2\n", filename="report.csv")

    assert emulator.chat_actions(CHAT) == ["typing"]
    assert photo.caption == "图" and photo.reply_to_message.text == "/start"
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    assert document.document.file_name == "report.csv"
    assert emulator.file_content(document.document.file_id) == b"a,b\n1,2\n"
    downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"a,b\n1,2\n"
    assert [("photo" in m, "document" in m) for m in emulator.sent(CHAT)] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(CHAT, "no-such-file-id")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(CHAT, "dancing")


@pytest.mark.asyncio
async def test_commands_roundtrip(bot: Bot) -> None:
    await bot.set_my_commands([("start", "开始"), ("menu", "菜单")])

    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "开始"),
        ("menu", "菜单"),
    ]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])


@pytest.mark.asyncio
async def test_simulated_media_updates_parse_as_ptb_objects(emulator: BotApiEmulator, bot: Bot) -> None:
    voice = Update.de_json(emulator.user_sends_voice(CHAT, duration=3), bot)
    location = Update.de_json(emulator.user_sends_location(CHAT, 31.23, 121.47), bot)
    contact = Update.de_json(emulator.user_shares_contact(CHAT, "+8613800000000"), bot)

    assert voice.message.voice.duration == 3
    assert bytes(await (await voice.message.voice.get_file()).download_as_bytearray()).startswith(b"OggS")
    assert (location.message.location.latitude, location.message.location.longitude) == (31.23, 121.47)
    assert contact.message.contact.user_id == CHAT
    assert voice.update_id < location.update_id < contact.update_id
    assert voice.message.message_id < location.message.message_id < contact.message.message_id


@pytest.mark.asyncio
async def test_wait_for_message_times_out_quickly(emulator: BotApiEmulator) -> None:
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await emulator.wait_for_message(CHAT, timeout=0.1)
    assert time.perf_counter() - started < 1


# ----------------------------------------------------------------- tokens and unknown methods


@pytest.mark.asyncio
async def test_wrong_token_is_unauthorized(emulator: BotApiEmulator) -> None:
    application = build_application(emulator, token="999999:WRONG")
    try:
        with pytest.raises(InvalidToken, match="rejected by the server") as rejected:
            await application.initialize()
        assert str(rejected.value.__cause__) == "Unauthorized"
    finally:
        await application.bot.shutdown()

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{emulator.url}/bot999999:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with session.post(f"{emulator.url}/bot{TOKEN}/noSuchMethod", json={}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }


@pytest.mark.asyncio
async def test_unknown_method_through_ptb(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


@pytest.mark.asyncio
async def test_json_bodies_are_accepted(emulator: BotApiEmulator) -> None:
    emulator.user_sends(CHAT, "hi")
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    payload = {"chat_id": CHAT, "text": "json", "reply_markup": markup}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/bot{TOKEN}/sendmessage", json=payload) as response,
    ):
        body = await response.json()

    assert body["ok"] is True and body["result"]["reply_markup"] == markup
    assert emulator.request_counts["sendMessage"] == 1


@pytest.mark.asyncio
async def test_a_lone_surrogate_is_not_utf8_and_is_refused(emulator: BotApiEmulator) -> None:
    emulator.user_sends(CHAT, "hi")
    raw = json.dumps({"chat_id": CHAT, "text": "断开的\ud800代理"})  # JSON escapes what UTF-8 cannot carry
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/bot{TOKEN}/sendMessage", data=raw,
                     headers={"Content-Type": "application/json"}) as response,
    ):
        body = await response.json()

    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: strings must be encoded in UTF-8"}
    assert emulator.sent(CHAT) == []


# ----------------------------------------------------------------- webhooks


async def start_webhook_app(emulator: BotApiEmulator) -> tuple[Application, str]:
    application = build_application(emulator)
    port = free_port()
    hook_url = f"http://127.0.0.1:{port}/hook"
    await application.initialize()
    await application.start()
    await application.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=hook_url, secret_token=SECRET
    )
    return application, hook_url


async def stop_app(application: Application) -> None:
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.mark.asyncio
async def test_webhook_delivery_with_secret_and_forged_secret_refused(emulator: BotApiEmulator) -> None:
    application, hook_url = await start_webhook_app(emulator)
    try:
        info = await application.bot.get_webhook_info()
        assert info.url == hook_url

        update = emulator.user_sends(CHAT, "走 webhook")
        reply = await emulator.wait_for_message(CHAT)

        assert reply["text"] == "echo: 走 webhook"
        assert [(d.update_id, d.status) for d in emulator.webhook_deliveries] == [(update["update_id"], 200)]
        emulator.inject_duplicate(update)
        assert (await emulator.wait_for_message(CHAT))["text"] == "echo: 走 webhook"
        assert application.bot_data["seen_update_ids"] == [update["update_id"]] * 2
        assert await emulator.post_to_webhook(update, secret_token="wrong") == 403
        assert await emulator.post_to_webhook(update, secret_token=None) == 403
        with pytest.raises(Conflict, match="webhook is active"):
            await application.bot.get_updates()
    finally:
        await stop_app(application)


@pytest.mark.asyncio
async def test_refused_webhook_deliveries_are_retried_then_dropped(emulator: BotApiEmulator) -> None:
    application, hook_url = await start_webhook_app(emulator)
    try:
        await application.bot.set_webhook(hook_url, secret_token="not_what_ptb_expects")
        update = emulator.user_sends(CHAT, "会被拒绝")

        await emulator.wait_until(
            lambda: (
                len(emulator.webhook_deliveries) == 4
                and not emulator.update_timings[update["update_id"]].delivered_at
            )
        )
        info = await application.bot.get_webhook_info()

        assert [d.status for d in emulator.webhook_deliveries] == [403, 403, 403, 403]
        assert {d.update_id for d in emulator.webhook_deliveries} == {update["update_id"]}
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
        assert info.pending_update_count == 0
        assert emulator.sent(CHAT) == []
    finally:
        await stop_app(application)


# ----------------------------------------------------------------- the markup parsers themselves


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [  # expectations from tdlib's own test suite (test/message_entities.cpp)
        ("🏟 🏟&lt;<abacaba", "HTML", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", "HTML", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i   =aba>", "HTML", 'Empty attribute name in the tag "i" at byte offset 13'),
        (
            "🏟 🏟&lt;<i    aba>",
            "HTML",
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13',
        ),
        ("🏟 🏟&lt;<i    aba  =  ", "HTML", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "HTML", "Unexpected end of name token at byte offset 27"),
        ("🏟 🏟&lt;</", "HTML", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<i>a</i   ", "HTML", "Unclosed end tag at byte offset 17"),
        (
            "🏟 🏟&lt;<i>a</em   >",
            "HTML",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ("🏟 🏟_abac * asd ", "MarkdownV2", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟```a ", "MarkdownV2", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__🏟 🏟_", "MarkdownV2", "Can't find end of Italic entity at byte offset 20"),
        ("[telegram\\.org](asd", "MarkdownV2", "Can't find end of a URL at byte offset 16"),
        ("a-b", "MarkdownV2", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*粗体", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_parsers_refuse_like_tdlib(text: str, parse_mode: str, error: str) -> None:
    with pytest.raises(EntityParseError) as refused:
        parse_entities(text, parse_mode)
    assert str(refused.value) == error


@pytest.mark.parametrize(
    ("text", "parse_mode", "plain", "entities"),
    [
        ("🏟 🏟<i>🏟 &lt🏟</i>", "HTML", "🏟 🏟🏟 <🏟", [("italic", 5, 6)]),
        ("🏟 🏟&lt;<i>a</    >", "HTML", "🏟 🏟<a", [("italic", 6, 1)]),
        ("&lt;&gt;&amp;&quot;&laquo;&#12345678;", "HTML", '<>&"&laquo;&#12345678;', []),
        ('<pre><code class="language-py">x</code></pre>', "HTML", "x", [("pre", 0, 1)]),
        ("🏟 🏟_🏟 __🏟___", "MarkdownV2", "🏟 🏟🏟 🏟", [("italic", 5, 5), ("underline", 8, 2)]),
        ("🏟 🏟```🏟 🏟```", "MarkdownV2", "🏟 🏟 🏟", [("pre", 5, 3)]),
        ("||剧透|| \\!", "MarkdownV2", "剧透 !", [("spoiler", 0, 2)]),
        (">引用\n正文", "MarkdownV2", "引用\n正文", [("blockquote", 0, 2)]),
    ],
)
def test_parsers_produce_plain_text_and_utf16_entities(
    text: str, parse_mode: str, plain: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed_entities = parse_entities(text, parse_mode)
    assert parsed_text == plain
    assert [(e["type"], e["offset"], e["length"]) for e in parsed_entities] == entities
