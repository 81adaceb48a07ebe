"""Personal data kept out of the places it does not belong.

Rasa keeps every message in its tracker store for as long as the conversation lives, so phone numbers
are masked before a message reaches it (the front end keeps the real number in the assistant's store,
where registration reads it). Log lines go to files, terminals and whoever reads them, so every record
passes through ``RedactingFilter``: phone numbers, names where the line labels them, and the Telegram
bot token (which python-telegram-bot and httpx put in request URLs) are masked.
"""

from __future__ import annotations

import logging
import re

from exchange.people import mainland_mobile, mask_name, mask_phone

# The custom message action_delete_my_data sends: the front end then erases the conversation itself from
# the tracker store (only it can: the turn is saved after the action has run).
ERASE_CONVERSATION = "erase_conversation"
_DIGIT = "[0-9０-９]"
_PHONE = re.compile(rf"(?<![0-9０-９])(?:[+＋]?(?:86|８６)[\s-]?)?[1１]{_DIGIT}{{2}}[\s-]?{_DIGIT}{{4}}[\s-]?"
                    rf"{_DIGIT}{{4}}(?![0-9０-９])")
_BOT_TOKEN = re.compile(r"(?<![0-9])\d{5,15}:[A-Za-z0-9_-]{30,}")  # inside URLs too: /bot<token>/getMe
_LABELLED_NAME = re.compile(r"(?P<label>person_name|first_name|last_name|username|\bname|姓名|名字)"
                            r"(?P<sep>['\"]?\s*[:：=]\s*['\"]?|,\s*value:\s*['\"]?)"
                            r"(?P<value>[\u4e00-\u9fff·]{1,10}|[A-Za-z][A-Za-z0-9_ .-]{0,29})")
_TRACEBACKS = logging.Formatter()


def mask_phones(text: str) -> tuple[str, list[str]]:
    """The text with every mainland mobile number masked (138****4567), and the numbers found, in order."""
    found: list[str] = []

    def masked(match: re.Match) -> str:
        phone = mainland_mobile(match.group())
        if phone is None:
            return match.group()
        found.append(phone)
        return mask_phone(phone)

    return _PHONE.sub(masked, text), found


def redact(text: str) -> str:
    """A log line fit to be kept: phones, labelled names and bot tokens masked."""
    text = _BOT_TOKEN.sub("<bot-token>", mask_phones(text)[0])
    return _LABELLED_NAME.sub(lambda m: m["label"] + m["sep"] + mask_name(m["value"]), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record once, message and traceback, before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed logging call: the handler reports it as it always does
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default), once.

    On the handlers, not the logger: a logger's own filters never see the records its children propagate.
    """
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
