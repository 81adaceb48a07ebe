"""Erasing a person from the assistant's store (personal-data deletion, PIPL)."""

from __future__ import annotations

from sqlalchemy import delete

from exchange.database import Database
from store.inbox import PROCESSED
from store.models import (
    Account,
    ExpertCase,
    ExpertLink,
    HandoffCase,
    InboxEntry,
    InviteUse,
    NeedPhoto,
    PendingNotice,
    PostedNeed,
    RegistrationDraft,
    Role,
    SharedPlace,
    Subscription,
)
from store.outbox import withdraw

PER_PERSON = (Account, RegistrationDraft, PostedNeed, Subscription, HandoffCase, Role, InviteUse, ExpertLink,
              NeedPhoto, SharedPlace, PendingNotice)
# not code_failures: a chat id and a time, cleared at the next failure once an hour old; erasing them would
# reset a guesser's count


def forget_person(db: Database, sender_id: str) -> int:
    """Delete every row held about one conversation; returns how many rows went."""
    removed = 0
    with db.transaction() as session:
        for model in PER_PERSON:
            removed += session.execute(delete(model).where(model.sender_id == sender_id)).rowcount
        removed += session.execute(delete(ExpertCase).where(ExpertCase.farmer == sender_id)).rowcount
        # the update asking for the erasure is still being answered: its key goes with the retention purge
        removed += session.execute(delete(InboxEntry).where(InboxEntry.sender_id == sender_id,
                                                            InboxEntry.status == PROCESSED)).rowcount
        removed += withdraw(session, sender_id)
    return removed
