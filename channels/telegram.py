"""The Telegram channel (python-telegram-bot 22, asyncio Application).

Telegram update → ``core.assistant`` (channel-neutral) → replies rendered as plain-text messages with
inline keyboards. Plain text (no parse mode) means user text can never break rendering. Button
payloads can exceed Telegram's 64-byte callback data, so each is sent as a short id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from channels.rendering import chunks
from channels.telegram_http import AiohttpRequest
from core.assistant import Assistant
from core.dialogue import Reply
from core.texts import Channel, Farmer, Operator
from desks.commands import bare_names, group_help
from kejibang.app import Core
from kejibang.settings import Settings
from store.buttons import ButtonPayloads

log = logging.getLogger(__name__)
_TYPING: set[asyncio.Task] = set()  # indicators still running (the loop keeps only weak references to tasks)
MAX_MESSAGE = 4000
TYPING_AFTER_SECONDS = 0.5
TYPING_SHOWN_SECONDS = 4.5  # Telegram shows "typing…" for 5 s or until the reply, whichever comes first
T = TypeVar("T")
PRIVATE = filters.ChatType.PRIVATE
ROLE_COMMANDS = bare_names()  # the staff commands (desks/commands.py), in a private chat
GROUP_COMMANDS = bare_names(in_group=True)  # with /help, all that works in the volunteers' group


def keyboard(reply: Reply, book: ButtonPayloads) -> InlineKeyboardMarkup | None:
    """One button per row: long Chinese titles stay readable on a phone."""
    if not reply.buttons:
        return None
    keys = book.short_ids([b.payload for b in reply.buttons])
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.title[:60], callback_data=key)]
                                 for b, key in zip(reply.buttons, keys, strict=True)])


def _given(value: T | None, what: str) -> T:
    """A part of the update that PTB types as optional and this handler's filter guarantees."""
    if value is None:
        raise ValueError(f"an update without {what} reached its handler")
    return value


def _message(update: Update) -> Message:
    return _given(update.effective_message, "a message")


def sender_id(update: Update) -> str:
    """The channel-neutral id of the person (in a private chat it is also the chat)."""
    return f"telegram:{_given(update.effective_user, 'a user').id}"


class TelegramChannel:
    """The core's way to Telegram: replies to any chat by its address (telegram:<chat id>), and deep links."""

    name = "telegram"

    def __init__(self, application: Application, payloads: ButtonPayloads) -> None:
        self.application = application
        self.payloads = payloads

    async def send(self, address: str, replies: list[Reply]) -> None:
        """Render the replies in the chat (a malformed address is nobody on Telegram: nothing is sent)."""
        chat_id = address.partition(":")[2]
        if chat_id.lstrip("-").isdigit():
            await render(self.application.bot, self.payloads, int(chat_id), replies)

    async def link(self, payload: str) -> str:
        """A deep link: opening it sends /start with the payload."""
        return f"https://t.me/{self.application.bot.username}?start={payload}"


def _core(context: ContextTypes.DEFAULT_TYPE) -> Core:
    return context.application.bot_data["core"]


def _assistant(context: ContextTypes.DEFAULT_TYPE) -> Assistant:
    return _core(context).assistant


async def render(bot, book: ButtonPayloads, chat_id: int, replies: list[Reply]) -> None:
    """Render replies: text split into chunks, the keyboard on the last chunk."""
    for reply in replies:
        if reply.photo or reply.image:
            await bot.send_photo(chat_id, reply.photo or reply.image, caption=reply.text[:1024] or None,
                                 reply_markup=keyboard(reply, book))
            continue
        parts = chunks(reply.text, MAX_MESSAGE) if reply.text else []
        for index, part in enumerate(parts):
            markup = keyboard(reply, book) if index == len(parts) - 1 else None
            await bot.send_message(chat_id, part, reply_markup=markup)


@asynccontextmanager
async def typing_while_slow(bot, chat_id: int) -> AsyncIterator[None]:
    """Shows "typing…" only while an answer takes longer than TYPING_AFTER_SECONDS: a quick reply arrives
    before the indicator could be seen, and most turns then cost one request to Telegram less.

    The indicator's task is told the answer is ready and left to end by itself, never cancelled or
    awaited: a request to Telegram cut off half-way can leave the HTTP client's connection pool short,
    and the answer must not wait on the indicator."""
    answered = asyncio.Event()

    async def typing_until_answered() -> None:
        delay = TYPING_AFTER_SECONDS
        while not await _set_within(answered, delay):
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
            delay = TYPING_SHOWN_SECONDS

    shown = asyncio.create_task(typing_until_answered())
    _TYPING.add(shown)
    shown.add_done_callback(_typing_ended)
    try:
        yield
    finally:
        answered.set()


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` is set within ``seconds``."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


def _typing_ended(task: asyncio.Task) -> None:
    """Forget an indicator's task; a failed one is only logged (the answer goes out regardless)."""
    _TYPING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not show typing: %s", task.exception())


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, replies_of) -> None:
    """Answer one update, in turn for its sender, and once: the inbox (store/inbox.py) knows a re-delivered
    update_id even after a restart, and an update cut off mid-way (the bot stopped or killed while answering
    it) is taken again at the next start. A turn that failed with an error is not: it may already have run
    in the dialogue, and running it twice would be worse than the apology the person already got."""
    inbox = _core(context).inbox
    key = f"telegram:{update.update_id}"
    chat_id = _given(update.effective_chat, "a chat").id
    async with _assistant(context).turn(sender_id(update)):
        if not await asyncio.to_thread(inbox.receive, key, sender_id(update), update.to_dict()):
            replies_of.close()
            return
        try:
            if _assistant(context).warming_up:
                await context.bot.send_message(chat_id, Farmer.WARMING_UP)
            async with typing_while_slow(context.bot, chat_id):
                replies = await replies_of
            await render(context.bot, _core(context).payloads, chat_id, replies)
        except Exception:
            await asyncio.to_thread(inbox.processed, key)
            raise
        await asyncio.to_thread(inbox.processed, key)


async def replay_unfinished(application: Application) -> int:
    """At start-up: updates received before the last stop but never answered go round once more (before
    new ones are fetched, so each person's messages keep their order); returns how many."""
    payloads = await asyncio.to_thread(application.bot_data["core"].inbox.to_replay, TelegramChannel.name)
    for payload in payloads:
        await application.update_queue.put(Update.de_json(payload, application.bot))
    return len(payloads)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message goes to the assistant."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), _message(update).text or ""))


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


def _command_text(update: Update) -> str:
    """The command as the desks read it: /claim@kejibang_bot 12 → /claim 12."""
    command, _, argument = (_message(update).text or "").partition(" ")
    return f"{command.split('@', 1)[0]} {argument}".strip()


async def on_role_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/role, /queue, /claim, /done …: the role commands in a private chat (checked in the desks)."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), _command_text(update)))


async def _just(*replies: Reply) -> list[Reply]:
    return list(replies)


def _for_other_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A command addressed to another bot in the group (/x@other_bot): not ours to answer or refuse."""
    command = (_message(update).text or "").split(maxsplit=1)[0]
    _, at, bot_name = command.partition("@")
    return bool(at) and bot_name.lower() != (context.bot.username or "").lower()


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue, /claim, /done in the volunteers' group (/claim@bot too): the desk's answer only."""
    await _answer(update, context, _assistant(context).on_group_command(sender_id(update), _command_text(update)))


async def on_group_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help in the volunteers' group: the group's three commands (the assistant's help is for private chats)."""
    await _answer(update, context, _just(Reply(Channel.GROUP_HELP.format(commands=group_help()))))


async def on_group_refused(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command in the volunteers' group is refused: its answer (a hand-over link, a farmer's name
    and phone) would be read by the whole group, so it has to be asked in a private chat."""
    if not _for_other_bot(update, context):
        await _answer(update, context, _just(Reply(Channel.GROUP_REFUSED)))


async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice message: handed to the recognizer (none offline), never silently dropped."""
    voice = _given(_message(update).voice, "a voice message")

    async def fetch() -> bytes:
        return bytes(await (await voice.get_file()).download_as_bytearray())

    await _answer(update, context, _assistant(context).on_voice(sender_id(update), fetch, voice.mime_type or ""))


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (largest size), with its caption as text."""
    message = _message(update)
    await _answer(update, context, _assistant(context).on_photo(sender_id(update), message.photo[-1].file_id,
                                                                message.caption or ""))


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location."""
    location = _given(_message(update).location, "a location")
    await _answer(update, context, _assistant(context).on_location(sender_id(update), location.latitude,
                                                                   location.longitude))


def _group_payload(payload: str | None) -> bool:
    """Whether a button pressed in the volunteers' group may run there (the group's own commands only)."""
    name = (payload or "").split(maxsplit=1)[0] if (payload or "").strip() else ""
    return name.lstrip("/") in GROUP_COMMANDS


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed button sends its payload; an unknown (expired or forged) id gets a polite note. Both count
    against the person's budget."""
    query = _given(update.callback_query, "a button")
    payload = _core(context).payloads.payload(query.data or "")
    if _given(update.effective_chat, "a chat").type != ChatType.PRIVATE:  # the volunteers' group: its own commands only
        allowed = _group_payload(payload)
        await query.answer("" if allowed else Channel.GROUP_REFUSED if payload else Farmer.EXPIRED_BUTTON)
        if allowed:
            await _answer(update, context, _assistant(context).on_group_command(sender_id(update), payload or ""))
        return
    await query.answer("" if payload else Farmer.EXPIRED_BUTTON)
    await _answer(update, context, _assistant(context).on_button(sender_id(update), payload))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know: say so, never stay silent (within the person's budget)."""
    await _answer(update, context, _assistant(context).on_unknown_command(sender_id(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler failure once, with its traceback."""
    log.error("telegram handler failed", exc_info=context.error)


def _volunteer_group(settings: Settings) -> filters.BaseFilter:
    """The configured volunteers' group chat, or no group at all."""
    channel, _, chat_id = settings.volunteer_chat.partition(":")
    if channel == "telegram" and chat_id.lstrip("-").isdigit():
        return filters.Chat(chat_id=int(chat_id))
    return filters.ChatType.PRIVATE & ~filters.ChatType.PRIVATE


def build_application(core: Core) -> Application:
    """The Application with our handlers, registered with the core's router (the Bot API base URL can point at
    a local server or emulator)."""
    settings = core.settings
    builder = (ApplicationBuilder().token(settings.telegram_token).concurrent_updates(True)
               .request(AiohttpRequest()).get_updates_request(AiohttpRequest(connections=1)))
    if settings.telegram_api_url:
        builder = builder.base_url(f"{settings.telegram_api_url}/bot").base_file_url(
            f"{settings.telegram_api_url}/file/bot")
    application = builder.build()
    application.bot_data["core"] = core
    core.router.register(TelegramChannel(application, core.payloads))
    group = _volunteer_group(settings)
    application.add_handler(CommandHandler(GROUP_COMMANDS, on_group_command, filters=group))
    application.add_handler(CommandHandler("help", on_group_help, filters=group))
    application.add_handler(MessageHandler(filters.COMMAND & group, on_group_refused))
    application.add_handler(CommandHandler(ROLE_COMMANDS, on_role_command, filters=PRIVATE))
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
        await _given(application.updater, "an updater").start_polling()
        return Operator.LONG_POLLING
    if not settings.webhook_secret:
        raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
    updater = _given(application.updater, "an updater")
    await updater.start_webhook(listen="127.0.0.1", port=settings.webhook_port, url_path=WEBHOOK_PATH,
                                secret_token=settings.webhook_secret, webhook_url=settings.webhook_url)
    return Operator.WEBHOOK.format(port=settings.webhook_port, path=WEBHOOK_PATH)


@asynccontextmanager
async def serving(core: Core) -> AsyncIterator[Application]:
    """Telegram served until the block ends: what was cut off at the last stop first, then new updates."""
    application = build_application(core)
    async with application:
        await application.start()
        replayed = await replay_unfinished(application)
        mode = await start_updates(application, core.settings)
        print(Operator.BOT_STARTED.format(app="Telegram", mode=mode)
              + (Operator.REPLAYED.format(count=replayed) if replayed else ""), flush=True)
        try:
            yield application
        finally:
            await _given(application.updater, "an updater").stop()
            await application.stop()
