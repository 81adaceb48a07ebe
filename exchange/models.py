"""The exchange's tables (SQLAlchemy 1.4; SQLite by default, PostgreSQL in production).

Schema changes go through the Alembic migrations in ``exchange/migrations``; a test checks that
these models and the migrated schema agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import declarative_base

from common.clock import as_utc, utcnow

Base: Any = declarative_base()  # SQLAlchemy 1.4 has no type information: the models are typed by their columns


def iso(moment: datetime | None) -> str | None:
    """A stored time as the API writes it (ISO 8601, UTC); None stays None."""
    return as_utc(moment).isoformat() if moment is not None else None


class Expert(Base):
    """科技所能: a person or team offering help, with availability for matching."""

    __tablename__ = "experts"
    id = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    title = Column(String(200), nullable=False, default="")
    organization = Column(String(300), nullable=False, default="")
    domains = Column(JSON, nullable=False)
    expertise = Column(Text, nullable=False)
    region = Column(String(200), nullable=False, default="")
    extra = Column(JSON, nullable=False, default=dict)  # operators only: never in a public read
    # contact details and the expert's consent to pass them on: operators only, and a farmer after an accept
    phone = Column(String(40), nullable=False, default="")
    wechat = Column(String(100), nullable=False, default="")
    email = Column(String(254), nullable=False, default="")
    share_contact = Column(Boolean, nullable=False, default=False)
    accepting = Column(Boolean, nullable=False, default=True)
    capacity = Column(Integer, nullable=False, default=10)
    serves = Column(JSON, nullable=False, default=list)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class Article(Base):
    """A 科普 item."""

    __tablename__ = "articles"
    id = Column(String(64), primary_key=True)
    title = Column(String(300), nullable=False)
    summary = Column(Text, nullable=False, default="")
    domains = Column(JSON, nullable=False)
    tags = Column(JSON, nullable=False, default=list)
    url = Column(String(1000), nullable=False, default="")
    body = Column(Text, nullable=False, default="")
    extra = Column(JSON, nullable=False, default=dict)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class User(Base):
    """A registered person (self-registered or registered by a township chair), with consent."""

    __tablename__ = "users"
    id = Column(String(40), primary_key=True)
    name = Column(String(100), nullable=False)
    phone = Column(String(20), nullable=False, default="")
    role = Column(String(20), nullable=False)
    township = Column(String(200), nullable=False, default="")
    township_code = Column(String(12), nullable=False, default="", index=True)
    registered_by = Column(String(40), nullable=True)
    consent_at = Column(DateTime(timezone=True), nullable=True)
    consent_purpose = Column(String(300), nullable=False, default="")
    consent_scope = Column(String(300), nullable=False, default="")
    share_contact = Column(Boolean, nullable=False, default=False)
    idempotency_key = Column(String(100), nullable=True, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class Need(Base):
    """科技所需: what a user asked for, and where it stands (open → matched → contacted → resolved/closed)."""

    __tablename__ = "needs"
    id = Column(String(40), primary_key=True)
    user_id = Column(String(40), ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    # the assistant's opaque reference of the chat that posted it: a need posted before registering has no
    # user, and erasing the person must still find it
    sender = Column(String(64), nullable=True, index=True)
    text = Column(Text, nullable=False)
    region = Column(String(200), nullable=False, default="")
    township_code = Column(String(12), nullable=False, default="", index=True)
    domains = Column(JSON, nullable=False, default=list)
    status = Column(String(20), nullable=False, default="open")
    idempotency_key = Column(String(100), nullable=True, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    matched_at = Column(DateTime(timezone=True), nullable=True)
    contacted_at = Column(DateTime(timezone=True), nullable=True)
    resolved_at = Column(DateTime(timezone=True), nullable=True)
    closed_at = Column(DateTime(timezone=True), nullable=True)


class Match(Base):
    """An expert offered for a need, with rank, score and the reason shown."""

    __tablename__ = "matches"
    need_id = Column(String(40), ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True)
    expert_id = Column(String(64), ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)
    rank = Column(Integer, nullable=False)
    score = Column(Float, nullable=False)
    reason = Column(String(300), nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


Index("ix_matches_expert", Match.expert_id)


class Feedback(Base):
    """What a user said about a matched expert."""

    __tablename__ = "feedback"
    id = Column(Integer, primary_key=True, autoincrement=True)
    need_id = Column(String(40), ForeignKey("needs.id", ondelete="CASCADE"), nullable=False, index=True)
    expert_id = Column(String(64), nullable=True)
    verdict = Column(String(20), nullable=False)
    comment = Column(Text, nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    idempotency_key = Column(String(100), nullable=True, unique=True)

class ContactRequest(Base):
    """A need offered to one expert (联系TA, or the next-best after a decline), and what came of it.

    offered → accepted (the two are connected) → resolved / unresolved / unreachable, or
    offered → declined / passed / expired, after which the exchange offers the next-best expert.
    """

    __tablename__ = "contact_requests"
    id = Column(String(40), primary_key=True)
    need_id = Column(String(40), ForeignKey("needs.id", ondelete="CASCADE"), nullable=False, index=True)
    expert_id = Column(String(64), ForeignKey("experts.id", ondelete="CASCADE"), nullable=False)
    status = Column(String(20), nullable=False, default="offered")
    note = Column(String(300), nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    answered_at = Column(DateTime(timezone=True), nullable=True)
    outcome_at = Column(DateTime(timezone=True), nullable=True)


Index("ix_contact_requests_expert_status", ContactRequest.expert_id, ContactRequest.status)


class ApiKey(Base):
    """A caller's key (bot, operator or partner) with its scope; only the key's SHA-256 is stored."""

    __tablename__ = "api_keys"
    id = Column(String(40), primary_key=True)
    name = Column(String(100), nullable=False)
    scope = Column(String(20), nullable=False)
    key_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at = Column(DateTime(timezone=True), nullable=True)


# The township funnel counts rows of one township in a week: these make it an index range scan.
Index("ix_users_township_created", User.township_code, User.created_at)
Index("ix_needs_township_created", Need.township_code, Need.created_at)
Index("ix_needs_township_matched", Need.township_code, Need.matched_at)
Index("ix_needs_township_resolved", Need.township_code, Need.resolved_at)
