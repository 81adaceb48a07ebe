"""Account hand-over tokens, and the count of failed code tries that stops anyone guessing them.

A chair registers a villager who has no smartphone; later the villager opens a link (``/start tk-TOKEN``)
in their own chat and the account becomes theirs. That link is the key to a person's account, so:
the token is 128 random bits (``secrets.token_urlsafe(16)``), only its hash is kept (as for role codes),
it lives at most 72 hours, dies on first use and when a newer one is issued for the same person, and
ends after a few wrong answers to "the last 4 digits of your phone". Failed tries (a /start payload that
leads nowhere, a wrong answer) are counted per chat and overall; past either limit the bot stops even
checking codes for an hour.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from common.clock import as_utc, utcnow
from common.database import Database
from store.accounts import link_in
from store.models import AccountHandover, CodeFailure

TOKEN_BYTES = 16  # 128 bits; token_urlsafe writes them as 22 characters of A-Z a-z 0-9 _ -
TOKEN_HOURS = 72
WRONG_ANSWERS_ALLOWED = 3
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")
PER_CHAT_FAILURES = 5
ALL_FAILURES = 100
FAILURE_WINDOW = timedelta(hours=1)


def token_hash(token: str) -> str:
    """What is stored of a token (case matters: a token is base64, not a code read out over the phone)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Handovers:
    """Issuing, checking and redeeming hand-over tokens."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def issue(self, user_id: str, chair: str, hours: int = TOKEN_HOURS) -> str:
        """A new token for the person; an older unused one dies, so only the newest link works."""
        token, now = secrets.token_urlsafe(TOKEN_BYTES), utcnow()
        with self.db.transaction() as session:
            session.execute(update(AccountHandover).where(
                AccountHandover.user_id == user_id, AccountHandover.used_by.is_(None),
                AccountHandover.expires_at > now).values(expires_at=now)
                            .execution_options(synchronize_session=False))
            session.add(AccountHandover(code_hash=token_hash(token), user_id=user_id, chair=chair,
                                        expires_at=now + timedelta(hours=min(hours, TOKEN_HOURS))))
        return token

    def user_for(self, token: str) -> str | None:
        """The user a live token hands over; None for a wrong, used, expired, superseded or spent one."""
        with self.db.transaction() as session:
            row = _live(session, token)
            return row.user_id if row else None

    def wrong_answer(self, token: str) -> None:
        """A wrong last-4-digits answer, counted on the token: the token ends at WRONG_ANSWERS_ALLOWED."""
        with self.db.transaction() as session:
            row = _live(session, token)
            if row is not None:
                row.wrong_answers += 1

    def redeem(self, sender_id: str, token: str) -> str | None:
        """Link this chat to the token's account; the token dies with it (one conditional update, so two
        chats racing for it cannot both win)."""
        hashed, now = token_hash(token), utcnow()
        with self.db.transaction() as session:
            row = _live(session, token)
            taken = row is not None and session.execute(update(AccountHandover).where(
                AccountHandover.code_hash == hashed, AccountHandover.used_by.is_(None),
                AccountHandover.expires_at > now).values(used_by=sender_id)
                .execution_options(synchronize_session=False)).rowcount == 1
            if not taken or row is None:
                return None
            link_in(session, sender_id, row.user_id)
            return row.user_id

    def registrar_of(self, user_id: str) -> str | None:
        """The chair chat that registered the person (it got their first hand-over token), if any."""
        with self.db.transaction() as session:
            return session.execute(select(AccountHandover.chair).where(AccountHandover.user_id == user_id)
                                   .limit(1)).scalar()


def _live(session, token: str) -> AccountHandover | None:
    """The token's row if it may still be used (tokens of another shape, like the old 8 digits, never)."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return None
    row = session.get(AccountHandover, token_hash(token))
    if row is None or row.used_by is not None or row.wrong_answers >= WRONG_ANSWERS_ALLOWED:
        return None
    return row if as_utc(row.expires_at) > utcnow() else None


class CodeTries:
    """Failed tries at codes, per chat and overall, over the last hour."""

    def __init__(self, db: Database, per_chat: int = PER_CHAT_FAILURES, overall: int = ALL_FAILURES,
                 window: timedelta = FAILURE_WINDOW) -> None:
        self.db, self.per_chat, self.overall, self.window = db, per_chat, overall, window

    def blocked(self, sender_id: str) -> bool:
        """Whether codes from this chat are refused without a look (its own limit, or everyone's, is spent)."""
        since = utcnow() - self.window
        with self.db.transaction() as session:
            counted = select(func.count()).select_from(CodeFailure).where(CodeFailure.at > since)
            if session.execute(counted.where(CodeFailure.sender_id == sender_id)).scalar_one() >= self.per_chat:
                return True
            return session.execute(counted).scalar_one() >= self.overall

    def failed(self, sender_id: str) -> None:
        """Count one failed try (and forget the ones older than the window: they no longer count)."""
        now = utcnow()
        with self.db.transaction() as session:
            session.execute(delete(CodeFailure).where(CodeFailure.at <= now - self.window))
            session.add(CodeFailure(sender_id=sender_id, at=now))
