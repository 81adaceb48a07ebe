"""Erasing a person from the assistant's store (personal-data deletion, PIPL)."""

from __future__ import annotations

from sqlalchemy import delete

from exchange.database import Database
from store.models import Account, HandoffCase, InviteUse, PostedNeed, RegistrationDraft, Role, Subscription

PER_PERSON = (Account, RegistrationDraft, PostedNeed, Subscription, HandoffCase, Role, InviteUse)


def forget_person(db: Database, sender_id: str) -> int:
    """Delete every row held about one conversation; returns how many rows went."""
    removed = 0
    with db.transaction() as session:
        for model in PER_PERSON:
            removed += session.execute(delete(model).where(model.sender_id == sender_id)).rowcount
    return removed
