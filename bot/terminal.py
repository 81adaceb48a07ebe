"""The terminal chat: a second adapter on the same dialogue backend (what a WeChat adapter would be).

Buttons are numbered; typing the number chooses it, exactly like pressing it in Telegram.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bot.assistant import Assistant
from bot.dialogue import Button, DialogueBackend, Reply
from bot.outbox import OutboxWorker
from exchange.api import connect
from kejibang.settings import Settings
from store.accounts import Accounts
from store.database import store_database
from store.outbox import Outbox

PROMPT = "你："


def render(replies: list[Reply]) -> tuple[str, list[Button]]:
    """The text to print and the buttons, numbered across all replies of one turn."""
    lines: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        if reply.text:
            lines.append("科技帮：" + reply.text.replace("\n", "\n        "))
        for button in reply.buttons:
            buttons.append(button)
            lines.append(f"   [{len(buttons)}] {button.title}")
    return "\n".join(lines), buttons


def chosen_payload(typed: str, buttons: list[Button]) -> str:
    """A bare number picks that button; anything else is sent as typed."""
    if typed.isdigit() and 1 <= int(typed) <= len(buttons):
        return buttons[int(typed) - 1].payload
    return typed


@dataclass
class TerminalOutbound:
    """What the outbox worker has to say (a need that reached the exchange late) is printed like a reply."""

    write: Callable[[str], None]

    async def send(self, sender_id: str, replies: list[Reply]) -> None:
        self.write(render(replies)[0])


async def chat(backend: DialogueBackend, user_id: str = "terminal", read: Callable[[str], str] = input,
               write: Callable[[str], None] = print) -> None:
    """Chat until end of input or /quit, with the outbox worker delivering what the exchange could not take
    at once (a phone number typed here is kept in the assistant's store and reaches the dialogue masked)."""
    settings = Settings.from_env()
    db = store_database(settings.assistant_db)
    exchange = connect(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)
    courier = asyncio.create_task(OutboxWorker(Outbox(db), Accounts(db), exchange, TerminalOutbound(write)).run_forever())
    try:
        await converse(Assistant(backend, accounts=Accounts(db), tracker_db=settings.tracker_db), user_id, read, write)
    finally:
        courier.cancel()


async def converse(assistant: Assistant, user_id: str, read: Callable[[str], str],
                   write: Callable[[str], None]) -> None:
    """Read lines until end of input or /quit, answering each through the assistant."""
    buttons: list[Button] = []
    write("（输入文字聊天，输入按钮前的数字选择，/quit 退出）")
    while True:
        try:
            typed = (await asyncio.to_thread(read, PROMPT)).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if typed in ("/quit", "/exit"):
            break
        if not typed:
            continue
        text, buttons = render(await assistant.on_text(user_id, chosen_payload(typed, buttons)))
        write(text or "科技帮：（没有回复）")
        sys.stdout.flush()
