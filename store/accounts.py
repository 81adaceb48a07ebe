"""Chat ↔ exchange user: how the assistant knows who it is talking to."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from exchange.database import Database
from exchange.models import as_utc, utcnow
from store.models import Account, AccountHandover, NeedPhoto, PostedNeed, RegistrationDraft


class Accounts:
    """Links between conversations and exchange users, and the needs each conversation posted."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def user_of(self, sender_id: str) -> str | None:
        """The exchange user id of a conversation, or None when it has not registered."""
        with self.db.transaction() as session:
            account = session.get(Account, sender_id)
            return account.user_id if account else None

    def link(self, sender_id: str, user_id: str) -> None:
        """Link (or re-link) a conversation to an exchange user."""
        with self.db.transaction() as session:
            _link(session, sender_id, user_id)

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

    def remember_need(self, sender_id: str, need_id: str, summary: str) -> None:
        """Note a need this conversation posted (idempotent); photos sent before it join it."""
        with self.db.transaction() as session:
            if session.get(PostedNeed, (sender_id, need_id)) is None:
                session.add(PostedNeed(sender_id=sender_id, need_id=need_id, summary=summary[:200]))
            session.execute(update(NeedPhoto).where(NeedPhoto.sender_id == sender_id, NeedPhoto.need_id.is_(None))
                            .values(need_id=need_id))

    def needs_of(self, sender_id: str, limit: int = 5) -> list[str]:
        """The need ids this conversation posted, newest first."""
        with self.db.transaction() as session:
            rows = session.execute(select(PostedNeed.need_id).where(PostedNeed.sender_id == sender_id)
                                   .order_by(PostedNeed.posted_at.desc()).limit(limit)).scalars()
            return list(rows)

    def handover_code(self, user_id: str, chair: str, hours: int = 168) -> str:
        """A one-time code with which the person registered by a chair takes the account over."""
        code = "".join(secrets.choice("23456789") for _ in range(8))
        with self.db.transaction() as session:
            session.add(AccountHandover(code_hash=_digest(code), user_id=user_id, chair=chair,
                                        expires_at=utcnow() + timedelta(hours=hours)))
        return code

    def take_over(self, sender_id: str, code: str) -> str | None:
        """Link this conversation to the account behind a valid, unused code; returns the user id."""
        with self.db.transaction() as session:
            row = session.get(AccountHandover, _digest(code))
            if row is None or row.used_by is not None or as_utc(row.expires_at) < utcnow():
                return None
            row.used_by = sender_id
            _link(session, sender_id, row.user_id)
            return row.user_id


def _link(session, sender_id: str, user_id: str) -> None:
    account = session.get(Account, sender_id)
    if account is None:
        session.add(Account(sender_id=sender_id, user_id=user_id))
    else:
        account.user_id = user_id


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()
