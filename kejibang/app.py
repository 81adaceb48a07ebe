"""The composition root: every store, desk and loop of the assistant is built here, once, for all channels.

A channel (``channels/``) gets a finished ``Core``: it turns its app's events into ``core.assistant`` calls
and registers itself with ``core.router`` so that anything said to an address on it ("telegram:42",
"wechat:oAbC…", "terminal") reaches the person, whoever says it: a volunteer on Telegram answers a
farmer on WeChat through the same router. The background loops belong to the core, not to a channel,
so they run once however many channels are served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from core.assistant import Assistant, NoSpeechRecognizer, SpeechRecognizer
from core.dialogue import DialogueBackend, Reply
from core.outbox import OutboxWorker
from core.pushes import push_forever
from core.rate_limit import RateLimit
from core.retention import purge_daily
from desks.chairs import Chairs
from desks.experts import ExpertDesk
from desks.handover import HandoverDesk
from desks.volunteers import Desk
from exchange.api import Exchange, connected
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
from store.presence import Presence
from store.roles import Roles
from store.subscriptions import Subscriptions
from store.voice_notes import VoiceNotes

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_SECONDS = 10.0


class Channel(Protocol):
    """A messaging app the core can reach people on."""

    name: str  # the address prefix: "telegram" serves "telegram:42"

    async def send(self, address: str, replies: list[Reply]) -> None:
        """Deliver replies to the person or group at ``address``."""

    async def link(self, payload: str) -> str:
        """A link (or what stands for one on this app) that opens the assistant with a start code."""


def channel_of(address: str) -> str:
    """The channel part of an address ("telegram:42" → "telegram"; "terminal" is its own channel)."""
    return address.partition(":")[0]


class Router:
    """Outbound messages by address: the desks, the outbox and the pushes say things to people on any app."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}

    def register(self, channel: Channel) -> None:
        """A channel now being served takes the addresses with its prefix."""
        self._channels[channel.name] = channel

    def _channel(self, address: str) -> Channel | None:
        channel = self._channels.get(channel_of(address))
        if channel is None:
            log.warning("no channel serves %s; message not sent", channel_of(address))
        return channel

    async def send(self, address: str, replies: list[Reply]) -> None:
        """Send to the channel of the address (not served in this process: logged and dropped)."""
        channel = self._channel(address)
        if channel is not None and replies:
            await channel.send(address, replies)

    async def link(self, address: str, payload: str) -> str:
        """A start link for the app the asker (a chair) is on: that is where they will show or print it."""
        channel = self._channel(address)
        return await channel.link(payload) if channel is not None else f"/start {payload}"


@dataclass
class Core:
    """The assistant, its desks, stores and loops: what every channel shares."""

    settings: Settings
    assistant: Assistant
    desk: Desk
    chairs: Chairs
    experts: ExpertDesk
    outbox: OutboxWorker
    inbox: Inbox
    payloads: ButtonPayloads
    notices: Notices
    subscriptions: Subscriptions
    exchange: Exchange
    router: Router

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Core]:
        """The background loops, started once for all channels and stopped when the block ends."""
        loops = [keep_time(self.desk, self.experts), push_forever(self.subscriptions, self.exchange, self.router),
                 self.outbox.run_forever(), purge_daily(self.settings)]
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def keep_time(desk: Desk, experts: ExpertDesk) -> None:
    """Forever: announce handoff cases, deliver expert offers, remind, re-match and follow up."""
    due: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
        ("announcing handoff cases", desk.announce), ("the expert desk", experts.tick))
    while True:
        for name, step in due:
            try:
                await step()
            except Exception:
                log.exception("%s failed", name)
        await asyncio.sleep(ANNOUNCE_EVERY_SECONDS)


def build_core(settings: Settings, backend: DialogueBackend,
               recognizer: SpeechRecognizer | None = None) -> Core:
    """Open the store and the exchange once and build every part on them; no channel is served yet."""
    db = store_database(settings.assistant_db)
    router = Router()
    roles, handoffs, accounts, handovers = Roles(db), Handoffs(db), Accounts(db), Handovers(db)
    exchange = connected(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)  # the actions' too
    desk = Desk(roles, handoffs, router, settings.volunteer_chat, timedelta(minutes=settings.handoff_remind_minutes))
    chairs = Chairs(roles, Invites(db), accounts, exchange, router.link, handovers, router)
    experts = ExpertDesk(ExpertCases(db), exchange, roles, handoffs, NeedPhotos(db), router,
                         timedelta(hours=settings.expert_remind_hours), timedelta(hours=settings.expert_answer_hours),
                         timedelta(days=settings.follow_up_days))
    notices = Notices(db)
    assistant = Assistant(
        backend, desk, chairs, experts, SharedPlaces(db), recognizer=recognizer or NoSpeechRecognizer(),
        accounts=accounts, rate_limit=RateLimit(settings.rate_limit_messages, settings.rate_limit_seconds),
        tracker_db=settings.tracker_db, handovers=HandoverDesk(handovers, CodeTries(db), exchange, roles),
        notices=notices, voices=VoiceNotes(settings.var_dir / "voice"), presence=Presence(db))
    return Core(settings, assistant, desk, chairs, experts, OutboxWorker(Outbox(db), accounts, exchange, router),
                Inbox(db), ButtonPayloads(db), notices, Subscriptions(db), exchange, router)
