"""The channel-neutral core every messaging channel drives (``channels/``: Telegram, WeChat, the terminal).

A channel turns its app's events into calls here, with the sender's address ("telegram:42",
"wechat:oAbC…", "terminal"), and renders the ``Reply`` list it gets back. Nothing here knows a
messaging app; nothing in the channels knows Rasa. ``kejibang/app.py`` builds it with every desk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from core.dialogue import Button, DialogueBackend, Reply
from core.rate_limit import RateLimit, Verdict
from core.texts import Farmer
from desks.chairs import Chairs
from desks.commands import command_of
from desks.experts import ExpertDesk
from desks.handover import HandoverDesk
from desks.volunteers import Desk
from exchange.gazetteer import nearest_city
from kejibang.privacy import ERASE_CONVERSATION, mask_phones
from rasa_plugins.tracker_store import forget_conversation
from store.accounts import Accounts
from store.notices import Notices
from store.places import SharedPlaces
from store.presence import Presence
from store.voice_notes import VoiceNotes

log = logging.getLogger(__name__)
MAX_INPUT_CHARS = 2000
INVITE_PREFIX = "inv-"
HANDOVER_PREFIX = "tk-"
# Set for one update when the sender is in nothing the desks answer (``Presence``): its first message goes
# straight to the dialogue, without the desks' own lookups.
_IN_NOTHING: ContextVar[bool] = ContextVar("in_nothing", default=False)


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
    handovers: HandoverDesk | None = None  # hand-over links (and the failed-try limit on every /start code)
    notices: Notices | None = None  # what an operator left to tell a person (a revoked role)
    voices: VoiceNotes | None = None  # voice messages kept for a recognizer (erased with the person)
    presence: Presence | None = None  # one read for whether the notices and desks need looking at

    async def _command(self, sender_id: str, text: str) -> list[Reply] | None:
        """Replies to a staff command (desks/commands.py says which desk's method answers it), or None."""
        command = command_of(text)
        if command is None or text.partition(" ")[0] != command.name:
            return None
        desk = {"volunteers": self.desk, "chairs": self.chairs, "experts": self.experts}[command.desk]
        if desk is None:
            return None
        return await getattr(desk, command.method)(sender_id, text.partition(" ")[2])

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

    async def _gated(self, sender_id: str, answer: Callable[[], Awaitable[list[Reply]]], text: str = "") -> list[Reply]:
        """Every update, of every kind, passes here once: over the per-person budget it goes no further (a
        flood of photos, voice, locations, button presses or /start links costs what one of words does);
        else the notices left for the person come first."""
        refusal = await self._over_limit(sender_id, text)
        if refusal is not None:
            return refusal
        in_nothing = self.presence is not None and not await asyncio.to_thread(self.presence.involved, sender_id)
        _IN_NOTHING.set(in_nothing)
        return (await self._notices(sender_id) if not in_nothing else []) + await answer()

    async def _over_limit(self, sender_id: str, text: str = "") -> list[Reply] | None:
        """None when the update may go on; else the answer to one over the limit (the note once, then
        nothing). Volunteers, chairs and experts answer many people, so their own commands are never
        limited; everything else they send counts like anyone's."""
        if self.rate_limit is None or await self._own_command(sender_id, text):
            return None
        verdict = self.rate_limit.admit(sender_id)
        if verdict is Verdict.PASS:
            return None
        note = Farmer.SLOW_DOWN.format(messages=self.rate_limit.messages, seconds=round(self.rate_limit.seconds))
        return [Reply(note)] if verdict is Verdict.WARN else []

    async def _own_command(self, sender_id: str, text: str) -> bool:
        """Whether the message is a command of a role the sender holds (the store is asked only for those)."""
        command = command_of(text)
        role = command.exempt_role if command else None
        store = self.desk.roles if self.desk else None
        if role is None or store is None:
            return False
        return await asyncio.to_thread(store.grant_of, sender_id, role) is not None

    async def _notices(self, sender_id: str) -> list[Reply]:
        """Notices an operator left for the person (told once)."""
        texts = await asyncio.to_thread(self.notices.take, sender_id) if self.notices else []
        return [Reply(text) for text in texts]

    async def _phones_kept(self, sender_id: str, text: str) -> str:
        """The message as the dialogue may see it: Rasa keeps every message in its tracker store, so a phone
        number goes to the assistant's store (registration takes it from there) and Rasa gets it masked."""
        masked, phones = mask_phones(text)
        if phones and self.accounts is not None:
            await asyncio.to_thread(self.accounts.keep_phone, sender_id, phones[0])
        return masked

    async def on_text(self, sender_id: str, text: str) -> list[Reply]:
        """A typed message: role commands and handoffs first, then the dialogue."""
        text = (text or "").strip()
        if not text:
            return []
        return await self._gated(sender_id, lambda: self._text(sender_id, text), text)

    async def on_group_command(self, sender_id: str, text: str) -> list[Reply]:
        """A command in the volunteers' group (/queue, /claim, /done): the desk's answer and nothing else.
        The whole group reads it, so the sender's own notices and hand-over question wait for their chat."""
        refusal = await self._over_limit(sender_id, text)
        if refusal is not None:
            return refusal
        return await self._command(sender_id, text.strip()) or []

    async def on_button(self, sender_id: str, payload: str | None) -> list[Reply]:
        """A pressed button sends its payload as text; an unknown (expired, forged) id still counts against
        the budget, and gets nothing more here (the adapter has shown why)."""
        return await self._gated(sender_id, lambda: self._text(sender_id, payload or ""), payload or "")

    async def on_unknown_command(self, sender_id: str) -> list[Reply]:
        """A command nobody answers: said so (within the budget, like everything)."""
        return await self._gated(sender_id, lambda: _replies(Reply(Farmer.UNKNOWN_COMMAND)))

    async def _text(self, sender_id: str, text: str) -> list[Reply]:
        """A message within the budget: the hand-over question, role commands and handoffs, then the dialogue."""
        text = (text or "").strip()
        if not text:
            return []
        if len(text) > MAX_INPUT_CHARS:
            return [Reply(Farmer.TOO_LONG.format(limit=MAX_INPUT_CHARS))]
        in_nothing = _IN_NOTHING.get()
        _IN_NOTHING.set(False)  # a second message of the same update (a hand-over's greeting) looks again
        try:
            handled = await self._handover_answer(sender_id, text)
            if handled is None:
                handled = await self._command(sender_id, text)
            for desk in (self.desk, self.experts) if not in_nothing else ():
                if handled is None and desk is not None:
                    handled = await desk.intercept(sender_id, text)
            if handled is not None:
                return handled
            return await self._erasing(sender_id, await self.backend.respond(
                sender_id, await self._phones_kept(sender_id, text)))
        except Exception:
            log.exception("dialogue backend failed")
            return [Reply(Farmer.BROKEN, buttons=(Button(Farmer.ASK_HUMAN, "/request_human"),))]

    async def _erasing(self, sender_id: str, replies: list[Reply]) -> list[Reply]:
        """After a turn that deleted the person's data, their conversation and recordings go too (the
        conversation is saved by now)."""
        for reply in replies:
            erased = reply.custom.get(ERASE_CONVERSATION)
            for chat in _erased_chats(erased, sender_id) if erased else []:
                await asyncio.to_thread(self._forget, chat)
        return [r for r in replies if ERASE_CONVERSATION not in r.custom]

    def _forget(self, chat: str) -> None:
        """What the bot's side keeps of one chat: its conversation and its voice recordings."""
        if self.tracker_db:
            forget_conversation(self.tracker_db, chat)
        if self.voices is not None:
            self.voices.forget(chat)

    async def _handover_answer(self, sender_id: str, text: str) -> list[Reply] | None:
        """An answer to the hand-over question (the greeting follows once the account is theirs), or None."""
        answered = await self.handovers.answer(sender_id, text) if self.handovers else None
        if answered is None:
            return None
        replies, linked = answered
        return replies + (await self._text(sender_id, "/greet") if linked else [])

    async def on_start(self, sender_id: str, payload: str = "") -> list[Reply]:
        """/start: a greeting; from a chair's invitation, registration with the township filled in; from a
        hand-over link, the question that proves the account is theirs."""
        return await self._gated(sender_id, lambda: self._start(sender_id, payload), "/start")

    async def _start(self, sender_id: str, payload: str) -> list[Reply]:
        """A code that leads nowhere is a failed try; past the limit (the chat's or everyone's) codes are
        not even looked at, so guessing them is hopeless."""
        coded = payload.startswith((HANDOVER_PREFIX, INVITE_PREFIX))
        if coded and self.handovers is not None and await self.handovers.blocked(sender_id):
            return [Reply(Farmer.TOO_MANY_TRIES)] + await self._text(sender_id, "/greet")
        if payload.startswith(HANDOVER_PREFIX) and self.handovers is not None:
            asked = await self.handovers.start(sender_id, payload[len(HANDOVER_PREFIX):])
            if asked is not None:
                return asked
            return [Reply(Farmer.HANDOVER_REFUSED)] + await self._text(sender_id, "/greet")
        if payload.startswith(INVITE_PREFIX) and self.chairs is not None:
            welcome = await self.chairs.accept(sender_id, payload[len(INVITE_PREFIX):])
            if welcome is not None:
                replies, township = welcome
                return replies + await self._text(sender_id, f'/register{{"township":"{township}"}}')
            if self.handovers is not None:
                await self.handovers.failed(sender_id)
        return await self._text(sender_id, "/greet")

    async def on_voice(self, sender_id: str, fetch_audio: Callable[[], Awaitable[bytes]],
                       mime_type: str = "audio/ogg") -> list[Reply]:
        """A voice message, fetched only within the budget (a flood of voice downloads nothing)."""
        return await self._gated(sender_id, lambda: self._voice(sender_id, fetch_audio, mime_type))

    async def _voice(self, sender_id: str, fetch_audio: Callable[[], Awaitable[bytes]], mime_type: str) -> list[Reply]:
        """Understood if a recognizer is plugged in, else acknowledged with choices."""
        text = await self.recognizer.transcribe(await fetch_audio(), mime_type)
        if text:
            return await self._text(sender_id, text)
        return [Reply(Farmer.VOICE_RECEIVED, buttons=(Button(Farmer.TYPE_INSTEAD, "/describe_need"),
                                                         Button(Farmer.ASK_VOLUNTEER, "/request_human")))]

    async def on_photo(self, sender_id: str, file_ref: str, caption: str = "") -> list[Reply]:
        """A photo, within the budget."""
        return await self._gated(sender_id, lambda: self._photo(sender_id, file_ref, caption))

    async def _photo(self, sender_id: str, file_ref: str, caption: str = "") -> list[Reply]:
        """A photo: relayed to the farmer's expert or attached to their need; its caption is treated as text.
        A photo with no words that starts a new need asks, in the farmer's place, what is wrong in it: the
        read-back then asks which crop or animal it is."""
        handled = await self.experts.take_photo(sender_id, file_ref) if self.experts else None
        if handled is not None:
            return handled + (await self._text(sender_id, caption) if caption else [])
        return [Reply(Farmer.PHOTO_RECEIVED)] + await self._text(sender_id, caption or Farmer.PHOTO_AS_QUESTION)

    async def on_location(self, sender_id: str, latitude: float, longitude: float) -> list[Reply]:
        """A shared location, within the budget."""
        return await self._gated(sender_id, lambda: self._location(sender_id, latitude, longitude))

    async def _location(self, sender_id: str, latitude: float, longitude: float) -> list[Reply]:
        """The city it falls in is kept for the next need, so nearby experts come first."""
        place = nearest_city(latitude, longitude)
        if place is None:
            return [Reply(Farmer.LOCATION_OUTSIDE)]
        if self.places is not None:
            await asyncio.to_thread(self.places.remember, sender_id, place.full_name)
        return [Reply(Farmer.LOCATION_RECEIVED.format(city=place.city))]


async def _replies(*replies: Reply) -> list[Reply]:
    """Fixed replies, where an answer is awaited."""
    return list(replies)


def _erased_chats(value: object, sender_id: str) -> list[str]:
    """The chats whose conversations go: this one, and the others linked to the same person when the action
    names them (``True`` from an older action server means this chat only)."""
    named = [chat for chat in value if isinstance(chat, str)] if isinstance(value, list) else []
    return [sender_id, *(chat for chat in named if chat != sender_id)]
