"""The outbox: writes to the exchange that could not be sent at once, kept until the worker delivers them.

Each entry is one write (``Write``: a typed command, stored as the name of the ``Exchange`` method it
replays) with its JSON arguments and the idempotency key that makes it arrive once, however often it is
sent (a first attempt that timed out may still have arrived). Entries are delivered oldest first and deleted
once delivered, so the outbox holds personal data only while it waits.

A write the exchange refuses for good (a 4xx) or answers with something unreadable is moved to the dead
letters (``outbox_dead_letters``) with the reason: out of the way of everyone's writes, kept for the operator,
who lists them and puts one back with ``kejibang admin outbox [--retry ID]``; erasing the person removes them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from common.clock import as_utc
from common.database import Database
from store.models import DeadLetter, OutboxEntry

if TYPE_CHECKING:
    from exchange.api import Exchange

PENDING = "pending"
_HOLDS = select(OutboxEntry.id).where(OutboxEntry.sender_id == bindparam("sender"), OutboxEntry.status == PENDING).limit(1)


class Write(str, enum.Enum):
    """The writes the outbox may keep and replay; each value is what a row stores (the method's name, as
    rows always have), and ``operation`` maps each to its ``Exchange`` method."""

    REGISTER_USER = "register_user"
    UPDATE_USER = "update_user"
    DELETE_USER = "delete_user"
    DELETE_SENDER_NEEDS = "delete_sender_needs"
    CREATE_NEED = "create_need"
    ADD_FEEDBACK = "add_feedback"
    SET_NEED_STATUS = "set_need_status"
    # a registration whose person was erased before it arrived: registered with its key, then deleted at once
    WITHDRAW_REGISTRATION = "withdraw_registration"

    def operation(self, exchange: Exchange) -> Callable[..., Any]:
        """The exchange method that delivers this write (not the withdrawal: the worker registers, then deletes)."""
        operations: dict[Write, Callable[..., Any]] = {
            Write.REGISTER_USER: exchange.register_user, Write.UPDATE_USER: exchange.update_user,
            Write.DELETE_USER: exchange.delete_user, Write.DELETE_SENDER_NEEDS: exchange.delete_sender_needs,
            Write.CREATE_NEED: exchange.create_need, Write.ADD_FEEDBACK: exchange.add_feedback,
            Write.SET_NEED_STATUS: exchange.set_need_status}
        return operations[self]

    def send(self, exchange: Exchange, arguments: Sequence[Any]) -> Any:
        """Deliver this write with its stored arguments; the exchange's answer."""
        return self.operation(exchange)(*arguments)


KEPT_ON_ERASURE = (Write.DELETE_USER, Write.DELETE_SENDER_NEEDS, Write.WITHDRAW_REGISTRATION)
# the answer could not be read: the write may have arrived all the same (see ``withdraw``)
UNREADABLE = ("malformed_reply", "bad_response")


@dataclass(frozen=True)
class OutboxItem:
    """One waiting write, as the worker needs it."""

    id: int
    sender_id: str
    command: Write
    arguments: list[Any]
    key: str
    version: str  # the arguments as stored: a write replaced while it was being sent is not taken as delivered


@dataclass(frozen=True)
class DeadLetterView:
    """One dead letter as the operator sees it (``kejibang admin outbox``): what, whose, why, when."""

    id: int
    sender_id: str
    command: Write
    code: str
    reason: str
    attempts: int
    dead_at: datetime
    emptied: bool  # its content was cleared (an entry the old worker had marked rejected): it cannot be retried


class Retry(enum.Enum):
    """What ``Outbox.retry`` did with a dead letter."""

    QUEUED = "queued"
    SUPERSEDED = "superseded"  # a newer write under the same key waits already: that one goes
    EMPTIED = "emptied"
    MISSING = "missing"


class Outbox:
    """Waiting writes to the exchange, in the order they were made."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, sender_id: str, command: Write, arguments: list[Any], key: str) -> None:
        """Keep a write for the worker; the same key again replaces what waits under it (the latest answer wins)."""
        with self.db.transaction() as session:
            entry = session.execute(select(OutboxEntry).where(OutboxEntry.idempotency_key == key)).scalar()
            if entry is None:
                entry = OutboxEntry(idempotency_key=key, sender_id=sender_id, attempts=0, last_error="")
                session.add(entry)
            entry.method, entry.arguments, entry.status = Write(command).value, json.dumps(arguments, ensure_ascii=False), PENDING

    def holds(self, sender_id: str) -> bool:
        """Whether a write of this person still waits (a newer one must then wait behind it)."""
        return self.db.first(_HOLDS, sender=sender_id) is not None

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """The oldest waiting writes."""
        with self.db.transaction() as session:
            entries = session.execute(select(OutboxEntry).where(OutboxEntry.status == PENDING)
                                      .order_by(OutboxEntry.id).limit(limit)).scalars()
            return [OutboxItem(e.id, e.sender_id, Write(e.method), json.loads(e.arguments), e.idempotency_key, e.arguments)
                    for e in entries]

    def delivered(self, item: OutboxItem) -> None:
        """The exchange has it: nothing of it is kept, unless a newer answer replaced it meanwhile (that one
        still has to go, under the same key)."""
        with self.db.transaction() as session:
            entry = session.get(OutboxEntry, item.id)
            if entry is not None and entry.arguments == item.version and entry.method == item.command.value:
                session.delete(entry)

    def failed(self, entry_id: int, error: str) -> None:
        """Not delivered this time; it stays for the next attempt."""
        with self.db.transaction() as session:
            entry = session.get(OutboxEntry, entry_id)
            if entry is not None:
                entry.attempts += 1
                entry.last_error = error[:200]

    def dead_letter(self, item: OutboxItem, code: str, reason: str) -> bool:
        """The exchange refused it for good (or its answer could not be read): out of the outbox, into the dead
        letters with the reason, never sent again unless an operator says so. False when a newer answer replaced
        it while it was being sent: that one still has to go, and nothing is kept of the old."""
        with self.db.transaction() as session:
            entry = session.get(OutboxEntry, item.id)
            if entry is None or entry.arguments != item.version or entry.method != item.command.value:
                return False
            session.execute(delete(DeadLetter).where(DeadLetter.idempotency_key == entry.idempotency_key))
            session.add(DeadLetter(id=entry.id, idempotency_key=entry.idempotency_key, sender_id=entry.sender_id,
                                   method=entry.method, arguments=entry.arguments, code=code[:60], reason=reason[:300],
                                   attempts=entry.attempts + 1, created_at=entry.created_at))
            session.delete(entry)
            return True

    def dead_letters(self, limit: int = 50) -> list[DeadLetterView]:
        """The newest dead letters first."""
        with self.db.transaction() as session:
            rows = session.execute(select(DeadLetter).order_by(DeadLetter.dead_at.desc(), DeadLetter.id.desc())
                                   .limit(limit)).scalars()
            return [DeadLetterView(r.id, r.sender_id, Write(r.method), r.code, r.reason, r.attempts, as_utc(r.dead_at),
                                   r.arguments == "[]") for r in rows]

    def waiting(self) -> int:
        """How many writes wait to be sent."""
        with self.db.transaction() as session:
            return session.execute(select(func.count()).select_from(OutboxEntry)
                                   .where(OutboxEntry.status == PENDING)).scalar_one()

    def retry(self, dead_letter_id: int) -> Retry:
        """Put a dead letter back in the outbox, in its old place in its person's line, for the worker to send."""
        with self.db.transaction() as session:
            letter = session.get(DeadLetter, dead_letter_id)
            if letter is None:
                return Retry.MISSING
            if letter.arguments == "[]":
                return Retry.EMPTIED
            session.delete(letter)
            newer = session.execute(select(OutboxEntry.id).where(
                OutboxEntry.idempotency_key == letter.idempotency_key)).first()
            if newer is not None:
                return Retry.SUPERSEDED
            session.flush()
            session.add(OutboxEntry(id=letter.id, idempotency_key=letter.idempotency_key, sender_id=letter.sender_id,
                                    method=letter.method, arguments=letter.arguments, status=PENDING,
                                    attempts=0, last_error="", created_at=letter.created_at))
            return Retry.QUEUED


def withdraw(session: Session, sender_id: str) -> int:
    """A person's waiting writes go with the rest of their data (erasure), except what completes the erasure:
    a deletion, and a registration that may already have arrived, which becomes its own withdrawal (sent with
    its key, it finds the user the exchange may hold, or makes one, and deletes it at once).

    Their dead letters go too; a registration whose answer could not be read may have arrived all the same,
    so it goes back to the outbox as a withdrawal."""
    entries = session.execute(select(OutboxEntry).where(OutboxEntry.sender_id == sender_id)).scalars().all()
    for entry in entries:
        if entry.method == Write.REGISTER_USER.value and entry.status == PENDING:
            entry.method = Write.WITHDRAW_REGISTRATION.value
        elif entry.method not in KEPT_ON_ERASURE:
            session.delete(entry)
    waiting = {entry.idempotency_key for entry in entries}
    letters = session.execute(select(DeadLetter).where(DeadLetter.sender_id == sender_id)).scalars().all()
    for letter in letters:
        session.delete(letter)
        if letter.method == Write.REGISTER_USER.value and letter.code in UNREADABLE and letter.idempotency_key not in waiting:
            session.flush()
            session.add(OutboxEntry(id=letter.id, idempotency_key=letter.idempotency_key, sender_id=sender_id,
                                    method=Write.WITHDRAW_REGISTRATION.value, arguments=letter.arguments, status=PENDING,
                                    attempts=0, last_error="", created_at=letter.created_at))
    return len(entries) + len(letters)
