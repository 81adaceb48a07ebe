"""What the actions talk to: the exchange and the assistant's own store, opened on first use (no I/O at import)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from exchange.api import Exchange, connect
from kejibang.settings import Settings
from store.accounts import Accounts, accounts_at

CALL_TIMEOUT = 8.0


@lru_cache(maxsize=1)
def exchange() -> Exchange:
    """The exchange for this process: embedded (in-process) or HTTP, as configured."""
    settings = Settings.from_env()
    return connect(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)


def accounts() -> Accounts:
    """The assistant's account links (chat ↔ exchange user)."""
    return accounts_at(Settings.from_env().assistant_db)


async def call(method: str, *args: Any, **kwargs: Any) -> Any:
    """Run one exchange operation off the event loop, bounded well below Rasa's lock timeout."""
    operation = getattr(exchange(), method)
    return await asyncio.wait_for(asyncio.to_thread(operation, *args, **kwargs), CALL_TIMEOUT)


async def in_store(method: str, *args: Any) -> Any:
    """Run one account-store operation off the event loop."""
    return await asyncio.to_thread(getattr(accounts(), method), *args)
