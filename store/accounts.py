"""Chat ↔ exchange user: how the assistant knows who it is talking to."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from common.database import Database
from store.models import Account, NeedPhoto, PostedNeed, RegistrationDraft

_USER_OF = select(Account.user_id).where(Account.sender_id == bindparam("sender"))


class Accounts:
    """Links between conversations and exchange users, and the needs each conversation posted."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def user_of(self, sender_id: str) -> str | None:
        """The exchange user id of a conversation, or None when it has not registered."""
        account = self.db.first(_USER_OF, sender=sender_id)
        return account.user_id if account else None

    def link(self, sender_id: str, user_id: str) -> None:
        """Link (or re-link) a conversation to an exchange user."""
        with self.db.transaction() as session:
            link_in(session, sender_id, user_id)

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

    def chats_of(self, user_id: str) -> list[str]:
        """The conversations linked to an exchange user (the person's own chat, once they have one)."""
        with self.db.transaction() as session:
            return list(session.execute(select(Account.sender_id).where(Account.user_id == user_id)).scalars())

    def chats_with_phone(self, phone: str) -> list[tuple[str, str]]:
        """(chat, user id) of linked conversations that gave this phone number: who may already have an
        account under it (the caller checks the exchange's record, since a message can name anyone's number)."""
        with self.db.transaction() as session:
            rows = session.execute(select(Account.sender_id, Account.user_id).join(
                RegistrationDraft, RegistrationDraft.sender_id == Account.sender_id).where(
                RegistrationDraft.phone == phone))
            return [(sender_id, user_id) for sender_id, user_id in rows]


def link_in(session, sender_id: str, user_id: str) -> None:
    """Link (or re-link) a conversation inside a caller's transaction."""
    account = session.get(Account, sender_id)
    if account is None:
        session.add(Account(sender_id=sender_id, user_id=user_id))
    else:
        account.user_id = user_id

