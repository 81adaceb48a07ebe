"""Handoff cases: a numbered place in the volunteers' queue for whoever the bot cannot help."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from exchange.database import Database
from exchange.models import utcnow
from store.models import HandoffCase

DEFAULT_WAIT_PER_CASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Ticket:
    """What the user is told: their case number, place in the queue and expected wait."""

    number: int
    position: int
    wait_minutes: int
    already_open: bool = False


class Handoffs:
    """The volunteers' queue."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def open_case(self, sender_id: str, reason: str, summary: str) -> Ticket:
        """Queue a conversation (at most one open case each: asking twice keeps the first)."""
        with self.db.transaction() as session:
            case = session.execute(select(HandoffCase).where(HandoffCase.sender_id == sender_id,
                                                             HandoffCase.status.in_(("open", "claimed")))).scalar()
            already = case is not None
            if case is None:
                case = HandoffCase(sender_id=sender_id, reason=reason, summary=summary[:1000])
                session.add(case)
                session.flush()
            position = session.execute(select(func.count()).select_from(HandoffCase).where(
                HandoffCase.status == "open", HandoffCase.number <= case.number)).scalar_one()
            wait = self._wait_per_case(session) * max(position, 1)
            return Ticket(case.number, position, max(1, round(wait.total_seconds() / 60)), already)

    @staticmethod
    def _wait_per_case(session) -> timedelta:
        """Median time to claim over the last 20 claimed cases (a default before there are any)."""
        rows = session.execute(select(HandoffCase.opened_at, HandoffCase.claimed_at)
                               .where(HandoffCase.claimed_at.is_not(None))
                               .order_by(HandoffCase.claimed_at.desc()).limit(20)).all()
        waits = [(claimed - opened).total_seconds() for opened, claimed in rows]
        return timedelta(seconds=statistics.median(waits)) if waits else DEFAULT_WAIT_PER_CASE

    def open_case_of(self, sender_id: str) -> int | None:
        """The number of the conversation's open or claimed case, if any."""
        with self.db.transaction() as session:
            return session.execute(select(HandoffCase.number).where(
                HandoffCase.sender_id == sender_id, HandoffCase.status.in_(("open", "claimed")))).scalar()

    def close(self, number: int, note: str = "") -> None:
        """Close a case."""
        with self.db.transaction() as session:
            case = session.get(HandoffCase, number)
            if case is not None and case.status != "closed":
                case.status, case.closed_at, case.note = "closed", utcnow(), note[:1000]
