"""Expert cases: a contact request of the exchange as the two chats see it.

The exchange decides who is offered a need; this store remembers what the conversation needs for
it: the case number both sides see, which chats are involved, and when the offer was delivered,
reminded, accepted and followed up. Actions open cases (they run in another process); the bot's
expert desk delivers them and keeps time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from common.clock import as_utc, utcnow
from common.database import Database
from exchange.api import Contact
from store.models import ExpertCase, ExpertLink

OPEN = ("offered", "accepted")


@dataclass(frozen=True)
class CaseView:
    """A case as the desk handles it."""

    number: int
    request_id: str
    need_id: str
    expert_id: str
    farmer: str
    expert_chat: str | None
    summary: str
    status: str
    age_hours: float


def _view(case: ExpertCase, now: datetime | None = None) -> CaseView:
    age = ((now or utcnow()) - as_utc(case.offered_at)).total_seconds() / 3600
    return CaseView(case.number, case.request_id, case.need_id, case.expert_id, case.farmer, case.expert_chat,
                    case.summary, case.status, age)


class ExpertCases:
    """Links between chats and expert records, and the cases between farmers and experts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- links ------------------------------------------------------------------------------
    def chat_of(self, expert_id: str) -> str | None:
        """The chat an expert record is linked to, if the expert uses the app."""
        with self.db.transaction() as session:
            return session.execute(select(ExpertLink.sender_id).where(ExpertLink.expert_id == expert_id)).scalar()

    def expert_of(self, sender_id: str) -> str | None:
        """The expert record a chat is linked to."""
        with self.db.transaction() as session:
            link = session.get(ExpertLink, sender_id)
            return link.expert_id if link else None

    def linked_experts(self) -> list[tuple[str, str, datetime]]:
        """(chat, expert id, last weekly summary or, before the first, the moment of linking) of every expert."""
        with self.db.transaction() as session:
            return [(link.sender_id, link.expert_id, as_utc(link.summary_sent_at or link.linked_at))
                    for link in session.execute(select(ExpertLink)).scalars()]

    def mark_summary_sent(self, sender_id: str, at: datetime) -> None:
        """Remember when an expert was last sent their weekly summary."""
        with self.db.transaction() as session:
            link = session.get(ExpertLink, sender_id)
            if link is not None:
                link.summary_sent_at = at

    # ----- cases ------------------------------------------------------------------------------
    def open(self, request: Contact, farmer: str, expert_chat: str | None) -> int:
        """A case for a request of the exchange (the same request twice is one case); its number."""
        with self.db.transaction() as session:
            case = session.execute(select(ExpertCase).where(ExpertCase.request_id == request["id"])).scalar()
            if case is None:
                case = ExpertCase(request_id=request["id"], need_id=request["need_id"],
                                  expert_id=request["expert_id"], farmer=farmer, expert_chat=expert_chat,
                                  summary=request["need"]["text"][:500])
                session.add(case)
                session.flush()
            return case.number

    def get(self, number: int) -> CaseView | None:
        """One case."""
        with self.db.transaction() as session:
            case = session.get(ExpertCase, number)
            return _view(case) if case else None

    def to_deliver(self) -> list[CaseView]:
        """Offers not yet sent to their expert's chat."""
        return self._select(ExpertCase.status == "offered", ExpertCase.delivered_at.is_(None),
                            ExpertCase.expert_chat.is_not(None))

    def due(self, status: str, column: str, since_column: str, after: timedelta, now: datetime) -> list[CaseView]:
        """Cases in ``status`` whose ``column`` is unset and whose ``since_column`` is ``after`` old."""
        with self.db.transaction() as session:
            cases = session.execute(select(ExpertCase).where(
                ExpertCase.status == status, getattr(ExpertCase, column).is_(None),
                getattr(ExpertCase, since_column).is_not(None)).order_by(ExpertCase.number)).scalars().all()
            return [_view(c, now) for c in cases if as_utc(getattr(c, since_column)) <= now - after]

    def mark(self, number: int, column: str, at: datetime | None = None) -> None:
        """Set one of the case's moments (delivered_at, reminded_at, followed_up_at)."""
        with self.db.transaction() as session:
            case = session.get(ExpertCase, number)
            if case is not None:
                setattr(case, column, at or utcnow())

    def accept(self, number: int, expert_chat: str) -> CaseView | None:
        """The expert took the case: it becomes their current conversation."""
        with self.db.transaction() as session:
            case = session.get(ExpertCase, number)
            if case is None or case.expert_chat != expert_chat or case.status != "offered":
                return None
            case.status, case.accepted_at = "accepted", utcnow()
            link = session.get(ExpertLink, expert_chat)
            if link is not None:
                link.current_case = number
            return _view(case)

    def close(self, number: int, status: str = "closed") -> CaseView | None:
        """End a case (declined, passed, expired, or closed after the follow-up)."""
        with self.db.transaction() as session:
            case = session.get(ExpertCase, number)
            if case is None or case.status not in OPEN:
                return None
            case.status, case.closed_at = status, utcnow()
            return _view(case)

    def of_expert(self, expert_chat: str) -> list[CaseView]:
        """An expert's open cases, oldest first."""
        return self._select(ExpertCase.expert_chat == expert_chat, ExpertCase.status.in_(OPEN))

    def talking_with_farmer(self, farmer: str) -> CaseView | None:
        """The farmer's newest accepted case, whose messages are relayed to the expert."""
        cases = self._select(ExpertCase.farmer == farmer, ExpertCase.status == "accepted")
        return cases[-1] if cases else None

    def current_of_expert(self, expert_chat: str) -> CaseView | None:
        """The accepted case an expert is talking in (chosen with /talk, or the last accepted)."""
        with self.db.transaction() as session:
            link = session.get(ExpertLink, expert_chat)
            case = session.get(ExpertCase, link.current_case) if link and link.current_case else None
            return _view(case) if case is not None and case.status == "accepted" else None

    def focus(self, expert_chat: str, number: int) -> CaseView | None:
        """Make an accepted case of this expert their current conversation."""
        with self.db.transaction() as session:
            case, link = session.get(ExpertCase, number), session.get(ExpertLink, expert_chat)
            if case is None or link is None or case.expert_chat != expert_chat or case.status != "accepted":
                return None
            link.current_case = number
            return _view(case)

    def _select(self, *conditions) -> list[CaseView]:
        with self.db.transaction() as session:
            cases = session.execute(select(ExpertCase).where(*conditions).order_by(ExpertCase.number)).scalars()
            return [_view(c) for c in cases]
