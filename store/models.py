"""Tables of the assistant's own store (migrated by ``store/migrations``)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base

from exchange.models import utcnow

Base = declarative_base()


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
    """A one-time code with which a villager registered by a chair takes the account into their own chat."""

    __tablename__ = "account_handovers"
    code_hash = Column(String(64), primary_key=True)
    user_id = Column(String(40), nullable=False)
    chair = Column(String(100), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    used_by = Column(String(100), nullable=True)
