"""Erasing a person from the assistant's store (personal-data deletion, PIPL).

Why: a person may reach the assistant from several chats linked to one exchange user (their own, and the
one a chair's hand-over moved), so erasing one chat erases them all; and what others recorded about them
(audit lines naming the chat, hand-over links to their account, volunteers' case messages) goes too, the
audit lines kept as bare "erased" events so the log still counts what happened.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, or_, select, update

from common.database import Database
from store.inbox import PROCESSED
from store.models import (
    Account,
    AccountHandover,
    AuditEntry,
    DeadLetter,
    ExpertCase,
    ExpertLink,
    HandoffCase,
    HandoffMessage,
    InboxEntry,
    InviteUse,
    NeedPhoto,
    OutboxEntry,
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
ERASED = "erased"


def sender_ref(sender_id: str) -> str:
    """The opaque reference a need carries to the exchange instead of the chat id (erasure finds it by this)."""
    return "s-" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:40]


def linked_chats(db: Database, sender_id: str) -> list[str]:
    """This chat and every other chat linked to the same exchange user, this one first."""
    with db.transaction() as session:
        user_id = session.execute(select(Account.user_id).where(Account.sender_id == sender_id)).scalar()
        others = session.execute(select(Account.sender_id).where(Account.user_id == user_id)).scalars() \
            if user_id else []
        return [sender_id, *sorted(set(others) - {sender_id})]


def chats_with_needs(db: Database, chats: list[str]) -> list[str]:
    """The chats that posted a need, or tried to (one waiting or dead-lettered may have arrived all the same):
    only these need a deletion at the exchange."""
    with db.transaction() as session:
        found = set(session.execute(select(PostedNeed.sender_id).where(PostedNeed.sender_id.in_(chats))).scalars())
        for model in (OutboxEntry, DeadLetter):
            found |= set(session.execute(select(model.sender_id).where(model.sender_id.in_(chats),
                                                                        model.method == "create_need")).scalars())
    return [chat for chat in chats if chat in found]


def forget_person(db: Database, sender_id: str) -> int:
    """Delete every row held about a person, in every chat linked to them; returns how many rows went."""
    chats = linked_chats(db, sender_id)
    with db.transaction() as session:
        users = list(session.execute(select(Account.user_id).where(Account.sender_id.in_(chats))).scalars())
        removed = _forget_around(session, chats, users)
        for chat in chats:
            removed += _forget_chat(session, chat)
    return removed


def _forget_chat(session, sender_id: str) -> int:
    """The rows keyed by one chat, its waiting writes and dead letters."""
    removed = _delete(session, HandoffMessage, HandoffMessage.case_number.in_(
        select(HandoffCase.number).where(HandoffCase.sender_id == sender_id)))
    for model in PER_PERSON:
        removed += _delete(session, model, model.sender_id == sender_id)
    removed += _delete(session, ExpertCase, ExpertCase.farmer == sender_id)
    # the update asking for the erasure is still being answered: its key goes with the retention purge
    removed += _delete(session, InboxEntry, InboxEntry.sender_id == sender_id, InboxEntry.status == PROCESSED)
    return removed + withdraw(session, sender_id)


def _forget_around(session, chats: list[str], users: list[str]) -> int:
    """What others hold about the person: hand-over links to their account, audit lines naming them."""
    removed = _delete(session, AccountHandover, or_(AccountHandover.user_id.in_(users),
                                                    AccountHandover.used_by.in_(chats)))
    named = [AuditEntry.actor.in_(chats), AuditEntry.detail.in_(chats + users)]
    named += [AuditEntry.detail.contains(value, autoescape=True) for value in chats + users]
    return removed + session.execute(update(AuditEntry).where(or_(*named)).values(
        actor=ERASED, action=ERASED, detail="").execution_options(synchronize_session=False)).rowcount


def _delete(session, model, *where) -> int:
    return session.execute(delete(model).where(*where).execution_options(synchronize_session=False)).rowcount
