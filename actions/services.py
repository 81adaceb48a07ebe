"""The action server's connection to the exchange, opened on first use (no I/O at import)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from exchange.api import Exchange, connect
from kejibang.settings import Settings

CALL_TIMEOUT = 8.0


@lru_cache(maxsize=1)
def exchange() -> Exchange:
    """The exchange for this process: embedded (in-process) or HTTP, as configured."""
    settings = Settings.from_env()
    return connect(settings.exchange_url, settings.exchange_api_key, settings.exchange_db)


async def call(method: str, *args: Any, **kwargs: Any) -> Any:
    """Run one exchange operation off the event loop, bounded well below Rasa's lock timeout."""
    operation = getattr(exchange(), method)
    return await asyncio.wait_for(asyncio.to_thread(operation, *args, **kwargs), CALL_TIMEOUT)
