"""The terminal chat: the core in a console, for trying the assistant without any messaging app.

Buttons are numbered; typing the number chooses it, exactly like pressing it in Telegram.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass

from channels.rendering import choice_lines, chosen_payload, numbered
from core.assistant import Assistant
from core.dialogue import Button, Reply
from core.texts import Channel
from kejibang.app import Core

PROMPT = Channel.TERMINAL_PROMPT
NAME = "terminal"


def render(replies: list[Reply]) -> str:
    """The text to print, the buttons numbered across all replies of one turn."""
    lines: list[str] = []
    offered = 0
    for reply in replies:
        if reply.text:
            lines.append(Channel.TERMINAL_SPEAKER + reply.text.replace("\n", "\n        "))
        lines += choice_lines(reply.buttons, offered + 1, "   [{number}] {title}")
        offered += len(reply.buttons)
    return "\n".join(lines)


@dataclass
class TerminalChannel:
    """What the core says to the terminal's one person outside a turn (a need that reached the exchange late)
    is printed like a reply."""

    write: Callable[[str], None]
    name: str = NAME

    async def send(self, address: str, replies: list[Reply]) -> None:
        self.write(render(replies))

    async def link(self, payload: str) -> str:
        """The terminal has no links: the start code is typed."""
        return f"/start {payload}"


async def chat(core: Core, user_id: str = NAME, read: Callable[[str], str] = input,
               write: Callable[[str], None] = print) -> None:
    """Chat until end of input or /quit (a phone number typed here is kept in the assistant's store and reaches
    the dialogue masked); the core's loops, the outbox courier among them, run beside it when started."""
    core.router.register(TerminalChannel(write))
    await converse(core.assistant, user_id, read, write)


async def converse(assistant: Assistant, user_id: str, read: Callable[[str], str],
                   write: Callable[[str], None]) -> None:
    """Read lines until end of input or /quit, answering each through the assistant."""
    buttons: list[Button] = []
    write(Channel.TERMINAL_INTRO)
    while True:
        try:
            typed = (await asyncio.to_thread(read, PROMPT)).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if typed in ("/quit", "/exit"):
            break
        if not typed:
            continue
        replies = await assistant.on_text(user_id, chosen_payload(typed, buttons) or typed)
        buttons = numbered(replies)
        write(render(replies) or Channel.TERMINAL_SILENT)
        sys.stdout.flush()
