"""Voice messages kept for a speech recognizer, one folder per person.

Why a folder per person, named by the same opaque reference a need carries (never the chat id): a
deletion of the person's data must reach their recordings, and the retention purge must find old ones,
without a table that would name them.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from store.erasure import sender_ref


class VoiceNotes:
    """Recordings under ``folder/<person reference>/<message id><suffix>``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _person(self, sender_id: str) -> Path:
        return self.folder / sender_ref(sender_id)

    def keep(self, sender_id: str, message_id: str, audio: bytes, suffix: str = ".amr") -> Path:
        """Write one recording (a message id never leaves the person's folder)."""
        name = "".join(c for c in message_id if c.isalnum() or c in "-_") or "voice"
        path = self._person(sender_id) / f"{name}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(audio)
        return path

    def forget(self, sender_id: str) -> int:
        """Delete every recording of the person; returns how many."""
        person = self._person(sender_id)
        count = sum(1 for p in person.glob("*") if p.is_file()) if person.is_dir() else 0
        shutil.rmtree(person, ignore_errors=True)
        return count

    def purge(self, cutoff: datetime) -> int:
        """Delete recordings written before ``cutoff`` (the retention period); returns how many."""
        if not self.folder.is_dir():
            return 0
        limit, count = cutoff.timestamp(), 0
        for path in self.folder.glob("*/*"):
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                count += 1
        return count
