"""The channel-neutral core every messaging adapter drives (Telegram today, WeChat tomorrow).

An adapter turns its app's events into calls here, with a channel-neutral sender id
("telegram:42", "terminal"), and renders the ``Reply`` list it gets back. Nothing here knows
Telegram; nothing in the adapters knows Rasa.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from bot import messages
from bot.chairs import Chairs
from bot.desk import Desk
from bot.dialogue import Button, DialogueBackend, Reply
from bot.experts import ExpertDesk
from bot.rate_limit import RateLimit, Verdict
from bot.tracker_store import forget_conversation
from exchange.gazetteer import nearest_city
from kejibang.privacy import ERASE_CONVERSATION, mask_phones
from store.accounts import Accounts
from store.places import SharedPlaces
from store.roles import ROLES

log = logging.getLogger(__name__)
MAX_INPUT_CHARS = 2000
INVITE_PREFIX = "inv-"
HANDOVER_PREFIX = "tk-"


class SpeechRecognizer(Protocol):
    """Turns a voice message into Chinese text; None when it cannot (no offline model ships here)."""

    async def transcribe(self, audio: bytes, mime_type: str) -> str | None: ...


class NoSpeechRecognizer:
    """The default: no Chinese speech model can be installed offline, so nothing is recognised."""

    async def transcribe(self, audio: bytes, mime_type: str) -> str | None:
        return None


@dataclass
class Assistant:
    """Front-end rules shared by all channels: input limits, media, and the dialogue backend."""

    backend: DialogueBackend
    desk: Desk | None = None
    chairs: Chairs | None = None
    experts: ExpertDesk | None = None
    places: SharedPlaces | None = None
    recognizer: SpeechRecognizer = NoSpeechRecognizer()
    accounts: Accounts | None = None  # where a phone number typed in a message is kept (registration reads it)
    rate_limit: RateLimit | None = None
    tracker_db: str = ""  # where the dialogue's conversations are stored (erased on a data deletion)

    async def _command(self, sender_id: str, text: str) -> list[Reply] | None:
        """Replies to a role command (volunteers', chairs', experts'), or None."""
        name, _, argument = text.partition(" ")
        handlers = {}
        for desk in (self.desk, self.chairs, self.experts):
            handlers.update(desk.commands() if desk else {})
        handler = handlers.get(name)
        return await handler(sender_id, argument) if handler else None

    @property
    def warming_up(self) -> bool:
        """True while the dialogue backend is still loading its model (replies will come, a bit later)."""
        return not getattr(self.backend, "ready", True)

    def __post_init__(self) -> None:
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, sender_id: str) -> AsyncIterator[None]:
        """One turn at a time per person, replies included: two quick messages never interleave."""
        lock, waiting = self._turns.get(sender_id, (asyncio.Lock(), 0))
        self._turns[sender_id] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[sender_id]
            if waiting == 1:
                del self._turns[sender_id]
            else:
                self._turns[sender_id] = (lock, waiting - 1)

    async def _over_limit(self, sender_id: str) -> list[Reply] | None:
        """None when the message may go on; else the answer to a message over the limit (the note once, then
        nothing). Volunteers, chairs and experts are never limited: they answer many people."""
        verdict = self.rate_limit.admit(sender_id) if self.rate_limit else Verdict.PASS
        if verdict is Verdict.PASS or await self._is_staff(sender_id):
            return None
        note = messages.SLOW_DOWN.format(messages=self.rate_limit.messages, seconds=round(self.rate_limit.seconds))
        return [Reply(note)] if verdict is Verdict.WARN else []

    async def _is_staff(self, sender_id: str) -> bool:
        """Whether the sender holds a role (asked only of someone over the limit, so rarely)."""
        roles = self.desk.roles if self.desk else None
        return roles is not None and await asyncio.to_thread(
            lambda: any(roles.grant_of(sender_id, role) for role in ROLES))

    async def _phones_kept(self, sender_id: str, text: str) -> str:
        """The message as the dialogue may see it: Rasa keeps every message in its tracker store, so a phone
        number goes to the assistant's store (registration takes it from there) and Rasa gets it masked."""
        masked, phones = mask_phones(text)
        if phones and self.accounts is not None:
            await asyncio.to_thread(self.accounts.keep_phone, sender_id, phones[0])
        return masked

    async def on_text(self, sender_id: str, text: str) -> list[Reply]:
        """A typed message (or a button payload): role commands and handoffs first, then the dialogue."""
        text = (text or "").strip()
        if not text:
            return []
        refusal = await self._over_limit(sender_id)
        if refusal is not None:
            return refusal
        if len(text) > MAX_INPUT_CHARS:
            return [Reply(messages.TOO_LONG.format(limit=MAX_INPUT_CHARS))]
        try:
            handled = await self._command(sender_id, text)
            for desk in (self.desk, self.experts):
                if handled is None and desk is not None:
                    handled = await desk.intercept(sender_id, text)
            if handled is not None:
                return handled
            return await self._erasing(sender_id, await self.backend.respond(
                sender_id, await self._phones_kept(sender_id, text)))
        except Exception:
            log.exception("dialogue backend failed")
            return [Reply(messages.BROKEN, buttons=(Button("找人工", "/request_human"),))]

    async def _erasing(self, sender_id: str, replies: list[Reply]) -> list[Reply]:
        """After a turn that deleted the person's data, their conversation goes too (it is saved by now)."""
        if any(r.custom.get(ERASE_CONVERSATION) for r in replies) and self.tracker_db:
            await asyncio.to_thread(forget_conversation, self.tracker_db, sender_id)
        return [r for r in replies if ERASE_CONVERSATION not in r.custom]

    async def on_start(self, sender_id: str, payload: str = "") -> list[Reply]:
        """/start: a greeting; from a chair's invitation, registration with the township filled in."""
        if payload.startswith(HANDOVER_PREFIX) and self.chairs is not None:
            user_id = await asyncio.to_thread(self.chairs.accounts.take_over, sender_id, payload[len(HANDOVER_PREFIX):])
            if user_id is None:
                return [Reply(messages.HANDOVER_REFUSED)] + await self.on_text(sender_id, "/greet")
        if payload.startswith(INVITE_PREFIX) and self.chairs is not None:
            welcome = await self.chairs.accept(sender_id, payload[len(INVITE_PREFIX):])
            if welcome is not None:
                replies, township = welcome
                return replies + await self.on_text(sender_id, f'/register{{"township":"{township}"}}')
        return await self.on_text(sender_id, "/greet")

    async def on_voice(self, sender_id: str, audio: bytes, mime_type: str = "audio/ogg") -> list[Reply]:
        """A voice message: understood if a recognizer is plugged in, else acknowledged with choices."""
        text = await self.recognizer.transcribe(audio, mime_type)
        if text:
            return await self.on_text(sender_id, text)
        return [Reply(messages.VOICE_RECEIVED, buttons=(Button(messages.TYPE_INSTEAD, "/describe_need"),
                                                         Button(messages.ASK_VOLUNTEER, "/request_human")))]

    async def on_photo(self, sender_id: str, file_ref: str, caption: str = "") -> list[Reply]:
        """A photo: relayed to the farmer's expert or attached to their need; its caption is treated as text."""
        replies = await self.experts.take_photo(sender_id, file_ref) if self.experts else [Reply(messages.PHOTO_RECEIVED)]
        if caption:
            replies += await self.on_text(sender_id, caption)
        return replies

    async def on_location(self, sender_id: str, latitude: float, longitude: float) -> list[Reply]:
        """A shared location: the city it falls in is kept for the next need, so nearby experts come first."""
        place = nearest_city(latitude, longitude)
        if place is None:
            return [Reply(messages.LOCATION_OUTSIDE)]
        if self.places is not None:
            await asyncio.to_thread(self.places.remember, sender_id, place.full_name)
        return [Reply(messages.LOCATION_RECEIVED.format(city=place.city))]
