"""Chat ↔ exchange user: how the assistant knows who it is talking to."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from exchange.database import Database
from store.models import Account, RegistrationDraft

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Accounts:
    """Links between conversations and exchange users."""

    def __init__(self, database_url: str) -> None:
        self.db = Database(database_url, MIGRATIONS)

    def user_of(self, sender_id: str) -> str | None:
        """The exchange user id of a conversation, or None when it has not registered."""
        with self.db.transaction() as session:
            account = session.get(Account, sender_id)
            return account.user_id if account else None

    def link(self, sender_id: str, user_id: str) -> None:
        """Link (or re-link) a conversation to an exchange user."""
        with self.db.transaction() as session:
            account = session.get(Account, sender_id)
            if account is None:
                session.add(Account(sender_id=sender_id, user_id=user_id))
            else:
                account.user_id = user_id

    def keep_phone(self, sender_id: str, phone: str) -> None:
        """Hold a validated phone number until the registration is submitted."""
        with self.db.transaction() as session:
            draft = session.get(RegistrationDraft, sender_id)
            if draft is None:
                session.add(RegistrationDraft(sender_id=sender_id, phone=phone))
            else:
                draft.phone = phone

    def kept_phone(self, sender_id: str) -> str | None:
        """The phone number held for a registration in progress."""
        with self.db.transaction() as session:
            draft = session.get(RegistrationDraft, sender_id)
            return draft.phone if draft else None

    def forget(self, sender_id: str) -> None:
        """Remove everything held about a conversation (personal-data deletion)."""
        with self.db.transaction() as session:
            for row in (session.get(Account, sender_id), session.get(RegistrationDraft, sender_id)):
                if row is not None:
                    session.delete(row)


@lru_cache(maxsize=4)
def accounts_at(database_url: str) -> Accounts:
    """One Accounts per database URL and process."""
    return Accounts(database_url)
