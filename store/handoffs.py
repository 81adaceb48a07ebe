"""Handoff cases: a numbered place in the volunteers' queue for whoever the bot cannot help.

Open → claimed (one volunteer talks to the user through the bot) → closed. While a case is open or
claimed, the assistant stays quiet for that user.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from common.clock import as_utc, utcnow
from common.database import Database
from store.models import HandoffCase, HandoffMessage

DEFAULT_WAIT_PER_CASE = timedelta(minutes=10)
ACTIVE = ("open", "claimed")


@dataclass(frozen=True)
class Ticket:
    """What the user is told: their case number, place in the queue and expected wait."""

    number: int
    position: int
    wait_minutes: int
    already_open: bool = False


@dataclass(frozen=True)
class CaseView:
    """A case as volunteers see it in the queue."""

    number: int
    sender_id: str
    status: str
    volunteer: str | None
    summary: str
    waiting_minutes: int
    last_messages: tuple[str, ...]
    domain: str = ""


class Handoffs:
    """The volunteers' queue."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def open_case(self, sender_id: str, reason: str, summary: str, domain: str = "") -> Ticket:
        """Queue a conversation (at most one active case each: asking twice keeps the first); ``domain``
        names the need's domains, which the volunteers' group is told."""
        with self.db.transaction() as session:
            case = session.execute(select(HandoffCase).where(HandoffCase.sender_id == sender_id,
                                                             HandoffCase.status.in_(ACTIVE))).scalar()
            already = case is not None
            if case is None:
                case = HandoffCase(sender_id=sender_id, reason=reason, summary=summary[:1000], domain=domain[:80])
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
        waits = [(as_utc(claimed) - as_utc(opened)).total_seconds() for opened, claimed in rows]
        return timedelta(seconds=statistics.median(waits)) if waits else DEFAULT_WAIT_PER_CASE

    def active_case_of(self, sender_id: str) -> tuple[int, str, str | None] | None:
        """(number, status, volunteer) of the user's open or claimed case, if any."""
        with self.db.transaction() as session:
            case = session.execute(select(HandoffCase).where(HandoffCase.sender_id == sender_id,
                                                             HandoffCase.status.in_(ACTIVE))).scalar()
            return (case.number, case.status, case.volunteer) if case else None

    def user_of(self, number: int) -> str | None:
        """The sender id of a case's user."""
        with self.db.transaction() as session:
            case = session.get(HandoffCase, number)
            return case.sender_id if case else None

    def claimed_by(self, volunteer: str) -> int | None:
        """The case a volunteer is currently talking in (their most recent claim)."""
        with self.db.transaction() as session:
            return session.execute(select(HandoffCase.number).where(
                HandoffCase.volunteer == volunteer, HandoffCase.status == "claimed")
                .order_by(HandoffCase.claimed_at.desc())).scalars().first()

    def claim(self, number: int, volunteer: str) -> str | None:
        """Take an open case; returns its user's sender id, or None when it is not open."""
        with self.db.transaction() as session:
            case = session.get(HandoffCase, number)
            if case is None or case.status != "open":
                return None
            case.status, case.volunteer, case.claimed_at = "claimed", volunteer, utcnow()
            return case.sender_id

    def close(self, number: int, note: str = "", volunteer: str | None = None) -> str | None:
        """Close an active case (only by its volunteer, when one is given); returns its user's sender id."""
        with self.db.transaction() as session:
            case = session.get(HandoffCase, number)
            if case is None or case.status not in ACTIVE or (volunteer and case.volunteer not in (None, volunteer)):
                return None
            case.status, case.closed_at, case.note = "closed", utcnow(), note[:1000]
            return case.sender_id

    def add_message(self, number: int, author: str, text: str) -> None:
        """Keep a message of the case (author: 'user' or 'volunteer')."""
        with self.db.transaction() as session:
            session.add(HandoffMessage(case_number=number, author=author, text=text[:2000]))

    def queue(self, now: datetime | None = None) -> list[CaseView]:
        """Open cases, oldest first, with their last messages and how long they have waited."""
        now = now or utcnow()
        with self.db.transaction() as session:
            cases = session.execute(select(HandoffCase).where(HandoffCase.status == "open")
                                    .order_by(HandoffCase.number)).scalars().all()
            return [self._view(session, case, now) for case in cases]

    @staticmethod
    def _view(session, case: HandoffCase, now: datetime) -> CaseView:
        last = session.execute(select(HandoffMessage.text).where(HandoffMessage.case_number == case.number)
                               .order_by(HandoffMessage.id.desc()).limit(3)).scalars().all()
        waited = int((now - as_utc(case.opened_at)).total_seconds() // 60)
        return CaseView(case.number, case.sender_id, case.status, case.volunteer, case.summary, waited,
                        tuple(reversed(last)), case.domain or "")

    def view(self, number: int, now: datetime | None = None) -> CaseView | None:
        """One case with its last messages (what its volunteer is shown, privately, on claiming it)."""
        with self.db.transaction() as session:
            case = session.get(HandoffCase, number)
            return self._view(session, case, now or utcnow()) if case else None

    def to_announce(self, unclaimed_for: timedelta, now: datetime | None = None) -> list[CaseView]:
        """Open cases never announced, or announced but still unclaimed after ``unclaimed_for``; marks them."""
        now = now or utcnow()
        with self.db.transaction() as session:
            cases = session.execute(select(HandoffCase).where(HandoffCase.status == "open")
                                    .order_by(HandoffCase.number)).scalars().all()
            due = [c for c in cases if c.announced_at is None or as_utc(c.announced_at) <= now - unclaimed_for]
            for case in due:
                case.announced_at = now
            return [self._view(session, case, now) for case in due]
