"""Tables of the assistant's own store (migrated by ``store/migrations``)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String
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
