"""The outbox: writes to the exchange that could not be sent at once, kept until the worker delivers them.

Each entry is one exchange method with its JSON arguments and the idempotency key that makes it arrive
once, however often it is sent (a first attempt that timed out may still have arrived). Entries are
delivered oldest first and deleted once delivered, so the outbox holds personal data only while it waits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.database import Database
from store.models import OutboxEntry

PENDING, REJECTED = "pending", "rejected"
WITHDRAW_REGISTRATION = "withdraw_registration"
KEPT_ON_ERASURE = ("delete_user", WITHDRAW_REGISTRATION)


@dataclass(frozen=True)
class OutboxItem:
    """One waiting write, as the worker needs it."""

    id: int
    sender_id: str
    method: str
    arguments: list[Any]
    key: str
    version: str  # the arguments as stored: a write replaced while it was being sent is not taken as delivered


class Outbox:
    """Waiting writes to the exchange, in the order they were made."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, sender_id: str, method: str, arguments: list[Any], key: str) -> None:
        """Keep a write for the worker; the same key again replaces what waits under it (the latest answer wins)."""
        with self.db.transaction() as session:
            entry = session.execute(select(OutboxEntry).where(OutboxEntry.idempotency_key == key)).scalar()
            if entry is None:
                entry = OutboxEntry(idempotency_key=key, sender_id=sender_id, attempts=0, last_error="")
                session.add(entry)
            entry.method, entry.arguments, entry.status = method, json.dumps(arguments, ensure_ascii=False), PENDING

    def holds(self, sender_id: str) -> bool:
        """Whether a write of this person still waits (a newer one must then wait behind it)."""
        with self.db.transaction() as session:
            return session.execute(select(OutboxEntry.id).where(OutboxEntry.sender_id == sender_id,
                                                                OutboxEntry.status == PENDING).limit(1)).first() is not None

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """The oldest waiting writes."""
        with self.db.transaction() as session:
            entries = session.execute(select(OutboxEntry).where(OutboxEntry.status == PENDING)
                                      .order_by(OutboxEntry.id).limit(limit)).scalars()
            return [OutboxItem(e.id, e.sender_id, e.method, json.loads(e.arguments), e.idempotency_key, e.arguments)
                    for e in entries]

    def delivered(self, item: OutboxItem) -> None:
        """The exchange has it: nothing of it is kept, unless a newer answer replaced it meanwhile (that one
        still has to go, under the same key)."""
        with self.db.transaction() as session:
            entry = session.get(OutboxEntry, item.id)
            if entry is not None and entry.arguments == item.version and entry.method == item.method:
                session.delete(entry)

    def failed(self, entry_id: int, error: str) -> None:
        """Not delivered this time; it stays for the next attempt."""
        with self.db.transaction() as session:
            entry = session.get(OutboxEntry, entry_id)
            if entry is not None:
                entry.attempts += 1
                entry.last_error = error[:200]

    def rejected(self, entry_id: int, error: str) -> None:
        """The exchange refused it for good: kept for the operator without its content, never sent again."""
        with self.db.transaction() as session:
            entry = session.get(OutboxEntry, entry_id)
            if entry is not None:
                entry.status, entry.arguments, entry.last_error = REJECTED, "[]", error[:200]
                entry.attempts += 1


def withdraw(session: Session, sender_id: str) -> int:
    """A person's waiting writes go with the rest of their data (erasure), except what completes the erasure:
    a deletion, and a registration that may already have arrived, which becomes its own withdrawal (sent with
    its key, it finds the user the exchange may hold, or makes one, and deletes it at once)."""
    entries = session.execute(select(OutboxEntry).where(OutboxEntry.sender_id == sender_id)).scalars().all()
    for entry in entries:
        if entry.method == "register_user" and entry.status == PENDING:
            entry.method = WITHDRAW_REGISTRATION
        elif entry.method not in KEPT_ON_ERASURE:
            session.delete(entry)
    return len(entries)
