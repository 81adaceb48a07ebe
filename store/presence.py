"""Whether a person is in anything that answers before the dialogue: a notice left for them, a volunteer's
case (as its user or as the volunteer who claimed it), or a conversation with an expert (as the farmer or as
the expert). Most messages are from farmers in none of these: one read tells, where five would (the notices
and each desk's own lookup), each a transaction and a hop to a worker thread on every turn."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, exists, or_, select

from common.database import Database
from store.handoffs import ACTIVE
from store.models import ExpertCase, ExpertLink, HandoffCase, PendingNotice

ACCEPTED = "accepted"  # an expert case whose messages are relayed (store/expert_cases.py)
CLAIMED = "claimed"  # a volunteer's case someone talks in (store/handoffs.py)
_PERSON = bindparam("person")
# Built once: the read runs on every message, and building the statement would cost more than running it.
_INVOLVED = select(or_(
    exists().where(PendingNotice.sender_id == _PERSON),
    exists().where(HandoffCase.sender_id == _PERSON, HandoffCase.status.in_(ACTIVE)),
    exists().where(HandoffCase.volunteer == _PERSON, HandoffCase.status == CLAIMED),
    exists().where(ExpertCase.farmer == _PERSON, ExpertCase.status == ACCEPTED),
    exists().where(and_(ExpertLink.sender_id == _PERSON, ExpertLink.current_case == ExpertCase.number,
                        ExpertCase.status == ACCEPTED)),
))


class Presence:
    """One read over the tables the notices, the volunteers' desk and the experts' desk look in."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def involved(self, sender_id: str) -> bool:
        """True when the person has a notice waiting, is in a volunteer's case, or talks with an expert;
        False means every one of those lookups would find nothing. A plain connection, not a session: it
        only reads."""
        row = self.db.first(_INVOLVED, person=sender_id)
        return bool(row and row[0])
