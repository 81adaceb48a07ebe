"""Rendering rules more than one channel shares: long texts cut into messages, and buttons offered as
numbers on apps without buttons (the terminal, WeChat), answered by typing the number."""

from __future__ import annotations

from core.dialogue import Button, Reply
from core.texts import Channel

CHOOSE_BY_NUMBER = Channel.CHOOSE_BY_NUMBER


def chunks(text: str, limit: int) -> list[str]:
    """Split a long reply on line breaks into messages the app accepts (a line longer than that is cut)."""
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


def numbered(replies: list[Reply]) -> list[Button]:
    """The buttons of one batch of replies, in order: button n is chosen by typing n."""
    return [button for reply in replies for button in reply.buttons]


def choice_lines(buttons: tuple[Button, ...], first: int, template: str = "{number}. {title}") -> list[str]:
    """One line per button, numbered from ``first`` (numbers run on across the replies of a batch)."""
    return [template.format(number=first + index, title=button.title) for index, button in enumerate(buttons)]


def chosen_payload(typed: str, buttons: list[Button]) -> str | None:
    """The payload of the button a bare number picks; None when the text is not such a number."""
    typed = typed.strip()
    if typed.isdecimal() and 1 <= int(typed) <= len(buttons):
        return buttons[int(typed) - 1].payload
    return None
