"""Tables of the assistant's own store (migrated by ``store/migrations``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base

from common.clock import utcnow

Base: Any = declarative_base()  # SQLAlchemy 1.4 has no type information (see exchange/models.py)


class Account(Base):
    """A conversation (channel-neutral sender id) linked to the exchange user it registered."""

    __tablename__ = "accounts"
    sender_id = Column(String(100), primary_key=True)
    user_id = Column(String(40), nullable=False, index=True)
    linked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class RegistrationDraft(Base):
    """A phone number given during registration, kept here (not in the dialogue) until it is submitted."""

    __tablename__ = "registration_drafts"
    sender_id = Column(String(100), primary_key=True)
    phone = Column(String(20), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class PostedNeed(Base):
    """A need a conversation posted, so 'what became of it' works before and after registering."""

    __tablename__ = "posted_needs"
    sender_id = Column(String(100), primary_key=True)
    need_id = Column(String(40), primary_key=True)
    summary = Column(String(200), nullable=False, default="")
    posted_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Subscription(Base):
    """A weekly 科普 push on one domain for one conversation."""

    __tablename__ = "subscriptions"
    sender_id = Column(String(100), primary_key=True)
    domain = Column(String(40), primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_pushed_at = Column(DateTime(timezone=True), nullable=True)
    last_article_id = Column(String(64), nullable=True)


class HandoffCase(Base):
    """A conversation handed to the volunteers: numbered, queued, claimed, closed."""

    __tablename__ = "handoff_cases"
    number = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(100), nullable=False, index=True)
    reason = Column(String(40), nullable=False)
    summary = Column(Text, nullable=False, default="")
    domain = Column(String(80), nullable=False, default="", server_default="")  # names, e.g. 生猪养殖
    status = Column(String(20), nullable=False, default="open", index=True)
    volunteer = Column(String(100), nullable=True)
    opened_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    claimed_at = Column(DateTime(timezone=True), nullable=True)
    closed_at = Column(DateTime(timezone=True), nullable=True)
    announced_at = Column(DateTime(timezone=True), nullable=True)
    note = Column(Text, nullable=False, default="")


class HandoffMessage(Base):
    """One message of a handoff case, from the user or the volunteer (kept for the queue view)."""

    __tablename__ = "handoff_messages"
    id = Column(Integer, primary_key=True, autoincrement=True)
    case_number = Column(Integer, ForeignKey("handoff_cases.number", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(20), nullable=False)
    text = Column(Text, nullable=False)
    sent_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class RoleCode(Base):
    """A one-time code an operator issued for a role; only its hash is kept."""

    __tablename__ = "role_codes"
    code_hash = Column(String(64), primary_key=True)
    role = Column(String(20), nullable=False)
    township_code = Column(String(12), nullable=False, default="")
    expert_id = Column(String(64), nullable=False, default="")
    expires_at = Column(DateTime(timezone=True), nullable=False)
    used_by = Column(String(100), nullable=True)
    used_at = Column(DateTime(timezone=True), nullable=True)


class Role(Base):
    """A role held by a conversation: chair (of a township) or volunteer."""

    __tablename__ = "roles"
    sender_id = Column(String(100), primary_key=True)
    role = Column(String(20), primary_key=True)
    township_code = Column(String(12), nullable=False, default="")
    granted_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AuditEntry(Base):
    """Every role action, who did it and when."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(100), nullable=False)
    action = Column(String(40), nullable=False)
    detail = Column(Text, nullable=False, default="")


class Invite(Base):
    """A township chair's invitation (deep link / QR code); people who start from it are counted."""

    __tablename__ = "invites"
    code = Column(String(20), primary_key=True)
    township_code = Column(String(12), nullable=False, index=True)
    chair = Column(String(100), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class InviteUse(Base):
    """Someone who started the bot from an invitation (once per person)."""

    __tablename__ = "invite_uses"
    sender_id = Column(String(100), primary_key=True)
    code = Column(String(20), ForeignKey("invites.code", ondelete="CASCADE"), nullable=False)
    township_code = Column(String(12), nullable=False, index=True)
    used_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AccountHandover(Base):
    """A one-time token with which a villager registered by a chair takes the account into their own chat.

    Only the token's hash is kept; a wrong answer to "the last 4 digits of your phone" is counted on it, and
    too many of them end it."""

    __tablename__ = "account_handovers"
    code_hash = Column(String(64), primary_key=True)
    user_id = Column(String(40), nullable=False)
    chair = Column(String(100), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    used_by = Column(String(100), nullable=True)
    wrong_answers = Column(Integer, nullable=False, default=0, server_default="0")


class CodeFailure(Base):
    """A failed try at a code (a /start payload that led nowhere, a wrong last-4-digits answer): counted per
    chat and overall, so guessing runs into a wall long before it could find anything."""

    __tablename__ = "code_failures"
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(100), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class PendingNotice(Base):
    """Something to tell a person the next time they write (their role was revoked by an operator, say):
    written by a process that cannot message them, delivered by the bot."""

    __tablename__ = "pending_notices"
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(100), nullable=False, index=True)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ExpertLink(Base):
    """An expert's chat linked to their expert record on the exchange (through an operator's one-time code)."""

    __tablename__ = "expert_links"
    sender_id = Column(String(100), primary_key=True)
    expert_id = Column(String(64), nullable=False, unique=True)
    linked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    current_case = Column(Integer, nullable=True)
    summary_sent_at = Column(DateTime(timezone=True), nullable=True)


class ExpertCase(Base):
    """A contact request as the conversation sees it: numbered for both sides, delivered, reminded,
    accepted (messages relayed), followed up, closed."""

    __tablename__ = "expert_cases"
    number = Column(Integer, primary_key=True, autoincrement=True)
    request_id = Column(String(40), nullable=False, unique=True)
    need_id = Column(String(40), nullable=False)
    expert_id = Column(String(64), nullable=False)
    farmer = Column(String(100), nullable=False, index=True)
    expert_chat = Column(String(100), nullable=True, index=True)
    summary = Column(Text, nullable=False, default="")
    status = Column(String(20), nullable=False, default="offered", index=True)
    offered_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True), nullable=True)
    reminded_at = Column(DateTime(timezone=True), nullable=True)
    accepted_at = Column(DateTime(timezone=True), nullable=True)
    followed_up_at = Column(DateTime(timezone=True), nullable=True)
    closed_at = Column(DateTime(timezone=True), nullable=True)


class NeedPhoto(Base):
    """A photo a person sent about their need (a channel file reference), shown to the expert with it.

    A photo sent before the need is described waits with no need and joins the next need posted.
    """

    __tablename__ = "need_photos"
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(100), nullable=False, index=True)
    need_id = Column(String(40), nullable=True, index=True)
    file_ref = Column(String(300), nullable=False)
    added_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class InboxEntry(Base):
    """An incoming update, keyed by its channel's own id (telegram:<update_id>): received, then processed.

    A key seen before is a re-delivery and is not answered again; an entry still ``received`` when the bot
    starts was cut off mid-way (a crash, a kill) and its payload is processed again. The payload is cleared
    once processed, so the inbox keeps no message text longer than it has to."""

    __tablename__ = "inbox"
    key = Column(String(64), primary_key=True)
    sender_id = Column(String(100), nullable=False, index=True)
    payload = Column(Text, nullable=True)
    status = Column(String(12), nullable=False, default="received", index=True)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    processed_at = Column(DateTime(timezone=True), nullable=True)


class OutboxEntry(Base):
    """A write to the exchange that could not be sent at once (down, slow, 5xx), kept until the worker
    delivers it: the exchange method, its JSON arguments and the idempotency key that makes it arrive once."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True, autoincrement=True)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    sender_id = Column(String(100), nullable=False, index=True)
    method = Column(String(40), nullable=False)
    arguments = Column(Text, nullable=False)
    status = Column(String(12), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(200), nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class DeadLetter(Base):
    """A write the exchange refused for good (a 4xx) or answered with something unreadable, taken out of the
    outbox so that it holds nobody up, and kept with the reason until an operator retries it
    (``kejibang admin outbox --retry ID``) or the person is erased. ``id`` is the outbox entry's own: a
    retried write takes its old place in its person's line."""

    __tablename__ = "outbox_dead_letters"
    id = Column(Integer, primary_key=True, autoincrement=False)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    sender_id = Column(String(100), nullable=False, index=True)
    method = Column(String(40), nullable=False)
    arguments = Column(Text, nullable=False)
    code = Column(String(60), nullable=False, default="")
    reason = Column(String(300), nullable=False, default="")
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    dead_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class SharedPlace(Base):
    """Where a person's shared location puts them (a city), used for their next need until it is stale."""

    __tablename__ = "shared_places"
    sender_id = Column(String(100), primary_key=True)
    region = Column(String(200), nullable=False)
    shared_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ButtonPayload(Base):
    """A button's payload behind the short id a messaging app carries (see ``store.buttons``)."""

    __tablename__ = "button_payloads"
    key = Column(String(32), primary_key=True)
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
