"""The Telegram adapter (python-telegram-bot 22, asyncio Application).

Telegram update → ``DialogueBackend.respond`` → messages with inline keyboards. Button payloads
can be longer than Telegram's 64-byte callback data, so each is sent as a short id and looked up
when pressed.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.dialogue import DialogueBackend, Reply
from kejibang.settings import Settings

log = logging.getLogger(__name__)
MAX_TEXT = 4000
MAX_INPUT_CHARS = 2000


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


def sender_id(update: Update) -> str:
    """The channel-neutral conversation id of a Telegram private chat."""
    return f"telegram:{update.effective_chat.id}"


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    backend: DialogueBackend = context.application.bot_data["backend"]
    book: PayloadBook = context.application.bot_data["payloads"]
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    for reply in await backend.respond(sender_id(update), text[:MAX_INPUT_CHARS]):
        if reply.text:
            await context.bot.send_message(update.effective_chat.id, reply.text[:MAX_TEXT],
                                           reply_markup=keyboard(reply, book))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message goes to the assistant."""
    await _answer(update, context, update.effective_message.text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed button sends its payload; an unknown id gets a polite note."""
    query = update.callback_query
    payload = context.application.bot_data["payloads"].payload(query.data or "")
    await query.answer("" if payload else "这个按钮已过期，请重新说一下")
    if payload:
        await _answer(update, context, payload)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler failure once, with its traceback."""
    log.error("telegram handler failed", exc_info=context.error)


def build_application(settings: Settings, backend: DialogueBackend) -> Application:
    """The Application with our handlers (the Bot API base URL can point at a local server or emulator)."""
    builder = ApplicationBuilder().token(settings.telegram_token)
    if settings.telegram_api_url:
        builder = builder.base_url(f"{settings.telegram_api_url}/bot").base_file_url(
            f"{settings.telegram_api_url}/file/bot")
    application = builder.build()
    application.bot_data["backend"] = backend
    application.bot_data["payloads"] = PayloadBook()
    application.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


async def run_polling(settings: Settings, backend: DialogueBackend) -> None:
    """Long polling until interrupted."""
    import asyncio

    application = build_application(settings, backend)
    async with application:
        await application.start()
        await application.updater.start_polling()
        print("Telegram 机器人已启动（长轮询），按 Ctrl+C 停止。", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await application.updater.stop()
            await application.stop()
