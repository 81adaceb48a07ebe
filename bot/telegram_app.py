"""The Telegram adapter (python-telegram-bot 22, asyncio Application).

Telegram update → ``Assistant`` (channel-neutral) → replies rendered as plain-text messages with
inline keyboards. Plain text (no parse mode) means user text can never break rendering. Button
payloads can exceed Telegram's 64-byte callback data, so each is sent as a short id.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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

from bot import messages
from bot.assistant import Assistant
from bot.chairs import Chairs
from bot.desk import Desk
from bot.dialogue import DialogueBackend, Reply
from bot.experts import ExpertDesk
from bot.handover import HandoverDesk
from bot.outbox import OutboxWorker
from bot.pushes import push_forever
from bot.rate_limit import RateLimit
from bot.retention import purge_daily
from exchange.api import connect
from kejibang.settings import Settings
from store.accounts import Accounts
from store.buttons import ButtonPayloads
from store.database import store_database
from store.expert_cases import ExpertCases
from store.handoffs import Handoffs
from store.handovers import CodeTries, Handovers
from store.inbox import Inbox
from store.invites import Invites
from store.notices import Notices
from store.outbox import Outbox
from store.photos import NeedPhotos
from store.places import SharedPlaces
from store.roles import Roles
from store.subscriptions import Subscriptions

log = logging.getLogger(__name__)
MAX_MESSAGE = 4000
PRIVATE = filters.ChatType.PRIVATE
ROLE_COMMANDS = ("role", "queue", "claim", "done", "invite", "stats", "onboard", "onboard_confirm", "mine", "pause",
                 "resume", "capacity", "serve", "accept", "pass", "decline", "talk", "end", "outcome")
ANNOUNCE_EVERY_SECONDS = 10.0
GROUP_COMMANDS = ("queue", "claim", "done")  # with /help, all that works in the volunteers' group
GROUP_HELP = "群里可以用：/queue 看待处理的求助，/claim 案件号 接手，/done 案件号 说明 结案。其他命令请私聊我。"
GROUP_REFUSED = "这个命令不能在群里用，请私聊我。"


def keyboard(reply: Reply, book: ButtonPayloads) -> InlineKeyboardMarkup | None:
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


async def render(bot, book: ButtonPayloads, chat_id: int, replies: list[Reply]) -> None:
    """Render replies: text split into chunks, the keyboard on the last chunk."""
    for reply in replies:
        if reply.photo or reply.image:
            await bot.send_photo(chat_id, reply.photo or reply.image, caption=reply.text[:1024] or None,
                                 reply_markup=keyboard(reply, book))
            continue
        parts = chunks(reply.text) if reply.text else []
        for index, part in enumerate(parts):
            markup = keyboard(reply, book) if index == len(parts) - 1 else None
            await bot.send_message(chat_id, part, reply_markup=markup)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, replies_of) -> None:
    """Answer one update, in turn for its sender, and once: the inbox (store/inbox.py) knows a re-delivered
    update_id even after a restart, and an update cut off mid-way (the bot stopped or killed while answering
    it) is taken again at the next start. A turn that failed with an error is not: it may already have run
    in the dialogue, and running it twice would be worse than the apology the person already got."""
    inbox: Inbox = context.application.bot_data["inbox"]
    key = f"telegram:{update.update_id}"
    chat_id = update.effective_chat.id
    async with _assistant(context).turn(sender_id(update)):
        if not await asyncio.to_thread(inbox.receive, key, sender_id(update), update.to_dict()):
            replies_of.close()
            return
        try:
            if _assistant(context).warming_up:
                await context.bot.send_message(chat_id, messages.WARMING_UP)
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            await render(context.bot, context.application.bot_data["payloads"], chat_id, await replies_of)
        except Exception:
            await asyncio.to_thread(inbox.processed, key)
            raise
        await asyncio.to_thread(inbox.processed, key)


async def replay_unfinished(application: Application) -> int:
    """At start-up: updates received before the last stop but never answered go round once more (before
    new ones are fetched, so each person's messages keep their order); returns how many."""
    payloads = await asyncio.to_thread(application.bot_data["inbox"].to_replay)
    for payload in payloads:
        await application.update_queue.put(Update.de_json(payload, application.bot))
    return len(payloads)


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


def _command_text(update: Update) -> str:
    """The command as the desks read it: /claim@kejibang_bot 12 → /claim 12."""
    command, _, argument = update.effective_message.text.partition(" ")
    return f"{command.split('@', 1)[0]} {argument}".strip()


async def on_role_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/role, /queue, /claim, /done …: the role commands in a private chat (checked in the desks)."""
    await _answer(update, context, _assistant(context).on_text(sender_id(update), _command_text(update)))


async def _just(*replies: Reply) -> list[Reply]:
    return list(replies)


def _for_other_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A command addressed to another bot in the group (/x@other_bot): not ours to answer or refuse."""
    command = (update.effective_message.text or "").split(maxsplit=1)[0]
    _, at, bot_name = command.partition("@")
    return bool(at) and bot_name.lower() != (context.bot.username or "").lower()


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue, /claim, /done in the volunteers' group (/claim@bot too): the desk's answer only."""
    await _answer(update, context, _assistant(context).on_group_command(sender_id(update), _command_text(update)))


async def on_group_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help in the volunteers' group: the group's three commands (the assistant's help is for private chats)."""
    await _answer(update, context, _just(Reply(GROUP_HELP)))


async def on_group_refused(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command in the volunteers' group is refused: its answer (a hand-over link, a farmer's name
    and phone) would be read by the whole group, so it has to be asked in a private chat."""
    if not _for_other_bot(update, context):
        await _answer(update, context, _just(Reply(GROUP_REFUSED)))


async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice message: handed to the recognizer (none offline), never silently dropped."""
    voice = update.effective_message.voice

    async def fetch() -> bytes:
        return bytes(await (await voice.get_file()).download_as_bytearray())

    await _answer(update, context, _assistant(context).on_voice(sender_id(update), fetch, voice.mime_type or ""))


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


def _group_payload(payload: str | None) -> bool:
    """Whether a button pressed in the volunteers' group may run there (the group's own commands only)."""
    name = (payload or "").split(maxsplit=1)[0] if (payload or "").strip() else ""
    return name.lstrip("/") in GROUP_COMMANDS


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed button sends its payload; an unknown (expired or forged) id gets a polite note. Both count
    against the person's budget."""
    query = update.callback_query
    payload = context.application.bot_data["payloads"].payload(query.data or "")
    if update.effective_chat.type != ChatType.PRIVATE:  # the volunteers' group: its own commands only
        allowed = _group_payload(payload)
        await query.answer("" if allowed else GROUP_REFUSED if payload else messages.EXPIRED_BUTTON)
        if allowed:
            await _answer(update, context, _assistant(context).on_group_command(sender_id(update), payload))
        return
    await query.answer("" if payload else messages.EXPIRED_BUTTON)
    await _answer(update, context, _assistant(context).on_button(sender_id(update), payload))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know: say so, never stay silent (within the person's budget)."""
    await _answer(update, context, _assistant(context).on_unknown_command(sender_id(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler failure once, with its traceback."""
    log.error("telegram handler failed", exc_info=context.error)


async def keep_time(desk: Desk, experts: ExpertDesk) -> None:
    """Forever: announce handoff cases, deliver expert offers, remind, re-match and follow up."""
    while True:
        for name, due in (("announcing handoff cases", desk.announce), ("the expert desk", experts.tick)):
            try:
                await due()
            except Exception:
                log.exception("%s failed", name)
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
                    lambda payload: f"https://t.me/{application.bot.username}?start={payload}", Handovers(db),
                    desk.outbound)
    application.bot_data["weekly_push"] = (Subscriptions(db), exchange, desk.outbound)
    experts = ExpertDesk(ExpertCases(db), exchange, Roles(db), Handoffs(db), NeedPhotos(db), desk.outbound,
                         timedelta(hours=settings.expert_remind_hours), timedelta(hours=settings.expert_answer_hours),
                         timedelta(days=settings.follow_up_days))
    application.bot_data["desk"] = desk
    application.bot_data["experts"] = experts
    application.bot_data["assistant"] = Assistant(
        backend, desk, chairs, experts, SharedPlaces(db), accounts=Accounts(db),
        rate_limit=RateLimit(settings.rate_limit_messages, settings.rate_limit_seconds), tracker_db=settings.tracker_db,
        handovers=HandoverDesk(Handovers(db), CodeTries(db), exchange, Roles(db)), notices=Notices(db))
    application.bot_data["payloads"] = ButtonPayloads(db)
    application.bot_data["inbox"] = Inbox(db)
    application.bot_data["outbox"] = OutboxWorker(Outbox(db), Accounts(db), exchange, desk.outbound)
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
        replayed = await replay_unfinished(application)
        mode = await start_updates(application, settings)
        announcer = asyncio.create_task(keep_time(application.bot_data["desk"], application.bot_data["experts"]))
        pusher = asyncio.create_task(push_forever(*application.bot_data["weekly_push"]))
        courier = asyncio.create_task(application.bot_data["outbox"].run_forever())
        forgetter = asyncio.create_task(purge_daily(settings))
        print(f"Telegram 机器人已启动（{mode}），按 Ctrl+C 停止。" + (f"上次停止前没答完的 {replayed} 条消息重新处理。"
                                                             if replayed else ""), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            for task in (announcer, pusher, courier, forgetter):
                task.cancel()
            await application.updater.stop()
            await application.stop()
