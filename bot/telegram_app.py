"""The Telegram adapter (python-telegram-bot 22, asyncio Application).

Telegram update → ``Assistant`` (channel-neutral) → replies rendered as plain-text messages with
inline keyboards. Plain text (no parse mode) means user text can never break rendering. Button
payloads can exceed Telegram's 64-byte callback data, so each is sent as a short id.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import messages
from bot.assistant import Assistant
from bot.chairs import Chairs
from bot.desk import Desk
from bot.dialogue import DialogueBackend, Reply
from bot.pushes import push_forever
from exchange.api import connect
from kejibang.settings import Settings
from store.accounts import Accounts
from store.database import store_database
from store.handoffs import Handoffs
from store.invites import Invites
from store.roles import Roles
from store.subscriptions import Subscriptions

log = logging.getLogger(__name__)
MAX_MESSAGE = 4000
PRIVATE = filters.ChatType.PRIVATE
ROLE_COMMANDS = ("role", "queue", "claim", "done", "invite", "stats", "onboard", "onboard_confirm")
ANNOUNCE_EVERY_SECONDS = 10.0
SEEN_UPDATES = 10_000


class PayloadBook:
    """Short callback ids ↔ button payloads (bounded, most recent kept)."""

    def __init__(self, size: int = 50_000) -> None:
        self._payloads: OrderedDict[str, str] = OrderedDict()
        self._size = size

    def short_id(self, payload: str) -> str:
        """A 16-character id for a payload (the same payload always gets the same id)."""
        key = hashlib.blake2s(payload.encode(), digest_size=8).hexdigest()
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self._size:
            self._payloads.popitem(last=False)
        return key

    def payload(self, key: str) -> str | None:
        """The payload of an id, or None for an unknown or forged one."""
        return self._payloads.get(key)


def keyboard(reply: Reply, book: PayloadBook) -> InlineKeyboardMarkup | None:
    """One button per row: long Chinese titles stay readable on a phone."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.title[:60], callback_data=book.short_id(b.payload))]
                                 for b in reply.buttons])


def chunks(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split a long reply on line breaks into messages Telegram accepts."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            parts.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return parts


def sender_id(update: Update) -> str:
    """The channel-neutral id of the person (in a private chat it is also the chat)."""
    return f"telegram:{update.effective_user.id}"


class TelegramOutbound:
    """Sends replies to any conversation by its channel-neutral id (telegram:<chat id>)."""

    def __init__(self, application: Application) -> None:
        self.application = application

    async def send(self, sender: str, replies: list[Reply]) -> None:
        channel, _, chat_id = sender.partition(":")
        if channel == "telegram" and chat_id.lstrip("-").isdigit():
            await render(self.application.bot, self.application.bot_data["payloads"], int(chat_id), replies)


def _assistant(context: ContextTypes.DEFAULT_TYPE) -> Assistant:
    return context.application.bot_data["assistant"]


async def render(bot, book: PayloadBook, chat_id: int, replies: list[Reply]) -> None:
    """Render replies: text split into chunks, the keyboard on the last chunk."""
    for reply in replies:
        if reply.photo:
            await bot.send_photo(chat_id, reply.photo, caption=reply.text[:1024] or None,
                                 reply_markup=keyboard(reply, book))
            continue
        parts = chunks(reply.text) if reply.text else []
        for index, part in enumerate(parts):
            markup = keyboard(reply, book) if index == len(parts) - 1 else None
            await bot.send_message(chat_id, part, reply_markup=markup)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, replies_of) -> None:
    """Answer one update, in turn for its sender; a re-delivered update (same update_id) is answered once."""
    seen: OrderedDict[int, None] = context.application.bot_data["seen_updates"]
    if update.update_id in seen:
        replies_of.close()
        return
    seen[update.update_id] = None
    while len(seen) > SEEN_UPDATES:
        seen.popitem(last=False)
    chat_id = update.effective_chat.id
    async with _assistant(context).turn(sender_id(update)):
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        await render(context.bot, context.application.bot_data["payloads"], chat_id, await replies_of)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message goes to the assistant."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), update.effective_message.text))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, possibly from a deep link (its payload is in context.args)."""
    payload = context.args[0] if context.args else ""
    await _answer(update, context, _assistant(context).on_start(sender_id(update), payload))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the assistant can do."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), "/help"))


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: stop what is being asked (a form is paused, nothing is lost)."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), "/deny"))


async def on_role_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/role, /queue, /claim, /done: the volunteers' and chairs' commands (checked in the desk)."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), update.effective_message.text))


async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice message: handed to the recognizer (none offline), never silently dropped."""
    voice = update.effective_message.voice
    audio = bytes(await (await voice.get_file()).download_as_bytearray())
    await _answer(update, context, _assistant(context).on_voice(sender_id(update), audio, voice.mime_type or ""))


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (largest size), with its caption as text."""
    message = update.effective_message
    await _answer(update, context, _assistant(context).on_photo(sender_id(update), message.photo[-1].file_id,
                                                                message.caption or ""))


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location."""
    location = update.effective_message.location
    await _answer(update, context, _assistant(context).on_location(sender_id(update), location.latitude,
                                                                   location.longitude))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed button sends its payload; an unknown (expired or forged) id gets a polite note."""
    query = update.callback_query
    payload = context.application.bot_data["payloads"].payload(query.data or "")
    await query.answer("" if payload else messages.EXPIRED_BUTTON)
    if payload:
        await _answer(update, context, _assistant(context).on_text(sender_id(update), payload))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know: say so, never stay silent."""
    await context.bot.send_message(update.effective_chat.id, messages.UNKNOWN_COMMAND)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler failure once, with its traceback."""
    log.error("telegram handler failed", exc_info=context.error)


async def announce_cases(desk: Desk) -> None:
    """Forever: tell the volunteers about new cases and cases left unclaimed too long."""
    while True:
        try:
            await desk.announce()
        except Exception:
            log.exception("announcing handoff cases failed")
        await asyncio.sleep(ANNOUNCE_EVERY_SECONDS)


def _volunteer_group(settings: Settings) -> filters.BaseFilter:
    """The configured volunteers' group chat, or no group at all."""
    channel, _, chat_id = settings.volunteer_chat.partition(":")
    if channel == "telegram" and chat_id.lstrip("-").isdigit():
        return filters.Chat(chat_id=int(chat_id))
    return filters.ChatType.PRIVATE & ~filters.ChatType.PRIVATE


def build_application(settings: Settings, backend: DialogueBackend) -> Application:
    """The Application with our handlers (the Bot API base URL can point at a local server or emulator)."""
    builder = ApplicationBuilder().token(settings.telegram_token).concurrent_updates(True)
    if settings.telegram_api_url:
        builder = builder.base_url(f"{settings.telegram_api_url}/bot").base_file_url(
            f"{settings.telegram_api_url}/file/bot")
    application = builder.build()
    db = store_database(settings.assistant_db)
    desk = Desk(Roles(db), Handoffs(db), TelegramOutbound(application), settings.volunteer_chat,
                timedelta(minutes=settings.handoff_remind_minutes))
    exchange = connect(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)
    chairs = Chairs(Roles(db), Invites(db), Accounts(db), exchange,
                    lambda payload: f"https://t.me/{application.bot.username}?start={payload}")
    application.bot_data["weekly_push"] = (Subscriptions(db), exchange, desk.outbound)
    application.bot_data["desk"] = desk
    application.bot_data["assistant"] = Assistant(backend, desk, chairs)
    application.bot_data["payloads"] = PayloadBook()
    application.bot_data["seen_updates"] = OrderedDict()
    application.add_handler(CommandHandler(ROLE_COMMANDS, on_role_command, filters=PRIVATE | _volunteer_group(settings)))
    application.add_handler(CommandHandler("start", on_start, filters=PRIVATE))
    application.add_handler(CommandHandler("help", on_help, filters=PRIVATE))
    application.add_handler(CommandHandler("cancel", on_cancel, filters=PRIVATE))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & PRIVATE, on_text))
    application.add_handler(MessageHandler(filters.VOICE & PRIVATE, on_voice))
    application.add_handler(MessageHandler(filters.PHOTO & PRIVATE, on_photo))
    application.add_handler(MessageHandler(filters.LOCATION & PRIVATE, on_location))
    application.add_handler(MessageHandler(filters.COMMAND & PRIVATE, on_unknown_command))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


WEBHOOK_PATH = "telegram"


async def start_updates(application: Application, settings: Settings) -> str:
    """Webhook (with a required secret token, on loopback behind the proxy) or long polling."""
    if not settings.webhook_url:
        await application.updater.start_polling()
        return "长轮询"
    if not settings.webhook_secret:
        raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
    await application.updater.start_webhook(listen="127.0.0.1", port=settings.webhook_port, url_path=WEBHOOK_PATH,
                                            secret_token=settings.webhook_secret, webhook_url=settings.webhook_url)
    return f"webhook，监听 127.0.0.1:{settings.webhook_port}/{WEBHOOK_PATH}"


async def run_telegram(settings: Settings, backend: DialogueBackend) -> None:
    """Serve Telegram until interrupted."""
    application = build_application(settings, backend)
    async with application:
        await application.start()
        mode = await start_updates(application, settings)
        announcer = asyncio.create_task(announce_cases(application.bot_data["desk"]))
        pusher = asyncio.create_task(push_forever(*application.bot_data["weekly_push"]))
        print(f"Telegram 机器人已启动（{mode}），按 Ctrl+C 停止。", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            announcer.cancel()
            pusher.cancel()
            await application.updater.stop()
            await application.stop()
