"""What the actions talk to: the exchange and the assistant's own store, opened on first use (no I/O at import)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from exchange.api import Exchange, connect
from kejibang.settings import Settings
from store.accounts import Accounts
from store.database import store_database
from store.erasure import forget_person
from store.handoffs import Handoffs
from store.subscriptions import Subscriptions

CALL_TIMEOUT = 8.0


@lru_cache(maxsize=1)
def exchange() -> Exchange:
    """The exchange for this process: embedded (in-process) or HTTP, as configured."""
    settings = Settings.from_env()
    return connect(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)


@lru_cache(maxsize=1)
def stores() -> dict[str, Any]:
    """The assistant's own stores, on the database named by KEJIBANG_DB."""
    db = store_database(Settings.from_env().assistant_db)
    return {"accounts": Accounts(db), "subscriptions": Subscriptions(db), "handoffs": Handoffs(db), "db": db}


async def call(method: str, *args: Any, **kwargs: Any) -> Any:
    """Run one exchange operation off the event loop, bounded well below Rasa's lock timeout."""
    operation = getattr(exchange(), method)
    return await asyncio.wait_for(asyncio.to_thread(operation, *args, **kwargs), CALL_TIMEOUT)


async def in_store(store: str, method: str, *args: Any) -> Any:
    """Run one operation of one of the assistant's stores off the event loop."""
    return await asyncio.to_thread(getattr(stores()[store], method), *args)


async def erase_person(sender_id: str) -> int:
    """Delete everything the assistant's store holds about a conversation."""
    return await asyncio.to_thread(forget_person, stores()["db"], sender_id)
