"""Roles (township chair, volunteer, expert) granted only through operator-issued one-time codes, and the audit log.

Nobody gets a role by chatting: an operator runs `kejibang admin add-chair|add-volunteer`, which
prints a code; the person sends it to the bot once, before it expires. Only the code's hash is kept.
`kejibang admin revoke` takes a role away again; the person is told the next time they write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from common.clock import as_utc, utcnow
from common.database import Database
from core.texts import Staff
from store.models import AuditEntry, ExpertLink, Role, RoleCode
from store.notices import leave_notice

ROLES = Staff.ROLE_TITLES  # role → the title its holders are told
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@dataclass(frozen=True)
class Grant:
    """A role a conversation holds."""

    role: str
    township_code: str = ""
    expert_id: str = ""


def _link_expert(session, sender_id: str, expert_id: str) -> None:
    """One chat per expert record: a new link replaces an older one (a new phone, say)."""
    session.execute(delete(ExpertLink).where((ExpertLink.expert_id == expert_id) | (ExpertLink.sender_id == sender_id)))
    session.flush()
    session.add(ExpertLink(sender_id=sender_id, expert_id=expert_id))


class Roles:
    """Issuing and redeeming role codes; who holds which role; the audit log."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def issue(self, role: str, township_code: str = "", hours: int = 72, operator: str = "operator",
              expert_id: str = "") -> tuple[str, datetime]:
        """A new one-time code for a role (and township, for chairs; expert record, for experts) and its expiry."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        expires = utcnow() + timedelta(hours=hours)
        with self.db.transaction() as session:
            session.add(RoleCode(code_hash=_hash(code), role=role, township_code=township_code, expert_id=expert_id,
                                 expires_at=expires))
            session.add(AuditEntry(actor=operator, action=f"issue_{role}_code", detail=township_code or expert_id))
        return code, expires

    def redeem(self, sender_id: str, code: str, now: datetime | None = None) -> Grant | None:
        """Grant the code's role to this conversation; None for an unknown, used or expired code."""
        now = now or utcnow()
        with self.db.transaction() as session:
            row = session.get(RoleCode, _hash(code)) if code.strip() else None
            if row is None or row.used_by is not None or as_utc(row.expires_at) < now:
                session.add(AuditEntry(actor=sender_id, action="role_code_refused", detail=""))
                return None
            row.used_by, row.used_at = sender_id, now
            existing = session.get(Role, (sender_id, row.role))
            if existing is None:
                session.add(Role(sender_id=sender_id, role=row.role, township_code=row.township_code))
            else:
                existing.township_code = row.township_code
            if row.expert_id:
                _link_expert(session, sender_id, row.expert_id)
            session.add(AuditEntry(actor=sender_id, action=f"became_{row.role}",
                                   detail=row.township_code or row.expert_id))
            return Grant(row.role, row.township_code, row.expert_id)

    def revoke(self, sender_id: str, role: str, operator: str = "operator") -> bool:
        """Take a role away (an expert's chat is unlinked from their record too); audited, and the person is
        told the next time they write. False when the chat did not hold the role."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        with self.db.transaction() as session:
            row = session.get(Role, (sender_id, role))
            if row is None:
                return False
            session.delete(row)
            if role == "expert":
                session.execute(delete(ExpertLink).where(ExpertLink.sender_id == sender_id))
            session.add(AuditEntry(actor=operator, action=f"revoke_{role}", detail=sender_id))
            leave_notice(session, sender_id, Staff.REVOKED.format(title=ROLES[role]))
            return True

    def grant_of(self, sender_id: str, role: str) -> Grant | None:
        """The conversation's grant of one role, if it holds it."""
        with self.db.transaction() as session:
            row = session.get(Role, (sender_id, role))
            return Grant(row.role, row.township_code) if row else None

    def holders(self, role: str) -> list[str]:
        """Conversations holding a role."""
        with self.db.transaction() as session:
            return list(session.execute(select(Role.sender_id).where(Role.role == role)).scalars())

    def audit(self, actor: str, action: str, detail: str = "") -> None:
        """Record a role action."""
        with self.db.transaction() as session:
            session.add(AuditEntry(actor=actor, action=action, detail=detail[:500]))

    def audit_log(self, limit: int = 50) -> list[tuple[datetime, str, str, str]]:
        """The newest audit entries."""
        with self.db.transaction() as session:
            rows = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).scalars()
            return [(r.at, r.actor, r.action, r.detail) for r in rows]
