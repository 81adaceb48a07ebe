"""What the actions talk to: the exchange and the assistant's own store, opened on first use (no I/O at import)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from common.database import Database
from exchange.api import Exchange, connected
from exchange.errors import ExchangeUnavailable
from kejibang.settings import Settings
from store.accounts import Accounts
from store.database import store_database
from store.erasure import chats_with_needs, forget_person, linked_chats, sender_ref
from store.expert_cases import ExpertCases
from store.handoffs import Handoffs
from store.outbox import Outbox, Write
from store.places import SharedPlaces
from store.subscriptions import Subscriptions

log = logging.getLogger(__name__)
CALL_TIMEOUT = 8.0
UNAVAILABLE = (ExchangeUnavailable, TimeoutError)
T = TypeVar("T")


def exchange() -> Exchange:
    """The exchange as configured: embedded or HTTP; when the actions run inside ``kejibang run``, the
    core's own (``exchange.api.connected``)."""
    settings = Settings.from_env()
    return connected(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)


@dataclass(frozen=True)
class Stores:
    """The assistant's stores over one database, as the actions use them."""

    db: Database
    accounts: Accounts
    subscriptions: Subscriptions
    handoffs: Handoffs
    experts: ExpertCases
    outbox: Outbox
    places: SharedPlaces


def stores_on(db: Database) -> Stores:
    """The assistant's stores over one database."""
    return Stores(db, Accounts(db), Subscriptions(db), Handoffs(db), ExpertCases(db), Outbox(db), SharedPlaces(db))


def stores() -> Stores:
    """The assistant's own stores, on the database named by KEJIBANG_DB."""
    return _stores_for(Settings.from_env().assistant_db)


_OPENING = threading.Lock()


@cache
def _stores_on_url(database_url: str) -> Stores:
    return stores_on(store_database(database_url))


def _stores_for(database_url: str) -> Stores:
    """One set of stores per database and process; the lock keeps two first calls (actions run in
    threads) from opening and migrating the database twice at once."""
    with _OPENING:
        return _stores_on_url(database_url)


async def call(operation: Callable[[Exchange], T]) -> T:
    """Run one exchange operation off the event loop, bounded well below Rasa's lock timeout:
    ``await call(lambda ex: ex.get_user(user_id))``."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(operation, exchange()), CALL_TIMEOUT)
    except asyncio.TimeoutError as error:  # not the built-in TimeoutError the callers catch before Python 3.11
        raise TimeoutError(f"an exchange call took longer than {CALL_TIMEOUT} s") from error


async def in_store(operation: Callable[[Stores], T]) -> T:
    """Run one operation of the assistant's stores off the event loop:
    ``await in_store(lambda s: s.accounts.user_of(sender_id))``."""
    return await asyncio.to_thread(operation, stores())


async def erase_person(sender_id: str) -> int:
    """Delete everything the assistant's store holds about a person, in every chat linked to them."""
    return await asyncio.to_thread(forget_person, stores().db, sender_id)


async def chats_of_person(sender_id: str) -> list[str]:
    """This chat and the others linked to the same exchange user (erasure reaches them all)."""
    return await asyncio.to_thread(linked_chats, stores().db, sender_id)


async def chats_that_posted(chats: list[str]) -> list[str]:
    """Those of ``chats`` that posted (or tried to post) a need: their needs are deleted at the exchange."""
    return await asyncio.to_thread(chats_with_needs, stores().db, chats)


def with_sender(sender_id: str, command: Write, args: tuple) -> tuple:
    """A need carries the chat's opaque reference, so erasing the person finds it even when it was posted
    before registering (no user link)."""
    if command is not Write.CREATE_NEED or not args or not isinstance(args[0], dict):
        return args
    return ({**args[0], "sender": sender_ref(sender_id)}, *args[1:])


def idempotency_key(*parts: str) -> str:
    """One key for one write, whatever repeats it: the person's retry, the client's, the outbox worker's."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Sent:
    """What became of a write: the exchange's answer, or kept in the outbox for the worker to deliver."""

    result: Any = None
    queued: bool = False


async def write(sender_id: str, key: str, command: Write, *args: Any) -> Sent:
    """One write to the exchange that is never lost: sent now, or, when the exchange is down, slow or failing,
    kept in the outbox under its idempotency key and delivered by the worker (core/outbox.py).

    A write of someone whose earlier write still waits goes behind it without being tried: a need must not
    reach the exchange before the registration it belongs to. Refusals (InputRejected, NotFound, …) are
    raised, as before: retrying them would not help.
    """
    outbox = stores().outbox
    args = with_sender(sender_id, command, args)
    if not await asyncio.to_thread(outbox.holds, sender_id):
        try:
            return Sent(await call(lambda ex: command.send(ex, args)))
        except UNAVAILABLE as error:
            log.warning("exchange %s not sent (%s): kept in the outbox", command.value, type(error).__name__)
    await asyncio.to_thread(outbox.enqueue, sender_id, command, list(args), key)
    return Sent(queued=True)
