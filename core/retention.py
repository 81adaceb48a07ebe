"""Retention: conversations are kept ``KEJIBANG_RETENTION_DAYS`` days, then deleted (PIPL: no longer than
the purpose needs). The bot does it once a day; ``kejibang admin purge`` does it on demand."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from common.clock import utcnow
from kejibang.settings import Settings
from rasa_plugins.tracker_store import forget_events_before
from store.database import store_database
from store.inbox import Inbox
from store.voice_notes import VoiceNotes

log = logging.getLogger(__name__)
EVERY_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Purged:
    """What one purge deleted."""

    events: int
    updates: int
    recordings: int = 0


def purge_old(settings: Settings, days: int | None = None) -> Purged:
    """Delete tracker events, answered inbox entries and voice recordings older than the retention period
    (or ``days``)."""
    cutoff = utcnow() - timedelta(days=settings.retention_days if days is None else days)
    return Purged(forget_events_before(settings.tracker_db, cutoff),
                  Inbox(store_database(settings.assistant_db)).purge(cutoff),
                  VoiceNotes(settings.var_dir / "voice").purge(cutoff))


async def purge_daily(settings: Settings) -> None:
    """Purge once a day, until cancelled."""
    while True:
        try:
            purged = await asyncio.to_thread(purge_old, settings)
            log.info("retention: %d conversation events, %d inbox entries, %d recordings deleted", purged.events,
                     purged.updates, purged.recordings)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(EVERY_SECONDS)
