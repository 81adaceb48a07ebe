"""Scoped API keys: one key per caller, so a leaked partner key reads only what the public sees.

Why: one shared key let anyone holding it import, erase and read personal data. Each caller now has its own
key with a scope (``bot``: users, needs, contacts; ``operator``: import, erasure, operator reads;
``partner``: public reads only); only the key's SHA-256 is kept, and a key can be revoked. The single
``KEJIBANG_EXCHANGE_API_KEY`` keeps working as the bot's key with every right it always had.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select

from common.clock import utcnow
from common.database import Database
from exchange.errors import InputRejected, NotFound
from exchange.models import ApiKey, iso

SCOPES = ("bot", "operator", "partner")
# the bot also erases (a person's own request, made in the chat) and reads a township's funnel (chairs)
RIGHTS: dict[str, frozenset[str]] = {
    "bot": frozenset({"users", "needs", "contacts", "erase", "stats"}),
    "operator": frozenset({"import", "erase", "operator_read", "stats"}),
    "partner": frozenset(),
}
LEGACY_RIGHTS = frozenset().union(*RIGHTS.values())  # the configured key: everything, as before
DEV_KEY = "dev-key"
MIN_KEY_LENGTH = 24


def key_hash(key: str) -> str:
    """What is stored instead of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def unsafe_server_key(key: str, env: str) -> str | None:
    """Why the server must not start with this key outside dev (a Chinese sentence), or None when it may."""
    if env == "dev":
        return None
    if key == DEV_KEY:
        return "不能用默认密钥 dev-key 启动，请设置 KEJIBANG_EXCHANGE_API_KEY"
    if len(key) < MIN_KEY_LENGTH:
        return f"API 密钥至少 {MIN_KEY_LENGTH} 个字符"
    return None


def rights_of(db: Database, given: str, configured: str) -> frozenset[str] | None:
    """The rights a presented key carries; None for a key nobody issued (or one revoked)."""
    if configured and hmac.compare_digest(given.encode("utf-8"), configured.encode("utf-8")):
        return LEGACY_RIGHTS
    with db.transaction() as session:
        row = session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash(given),
                                                   ApiKey.revoked_at.is_(None))).scalar()
        return RIGHTS[row.scope] if row is not None else None


def issue_key(db: Database, scope: str, name: str) -> tuple[dict, str]:
    """A new key for a caller; the key itself is returned once and never stored."""
    if scope not in SCOPES:
        raise InputRejected("invalid_scope", "范围应为：" + "、".join(SCOPES))
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise InputRejected("invalid_key_name", "名称应为 1 到 100 个字")
    key = "kjb_" + secrets.token_urlsafe(32)
    row = ApiKey(id="k-" + uuid.uuid4().hex[:12], name=name, scope=scope, key_hash=key_hash(key))
    with db.transaction() as session:
        session.add(row)
        session.flush()
        return _key_dict(row), key


def list_keys(db: Database) -> list[dict]:
    """Every key issued, oldest first, without the keys themselves."""
    with db.transaction() as session:
        return [_key_dict(row) for row in session.execute(select(ApiKey).order_by(ApiKey.created_at)).scalars()]


def revoke_key(db: Database, key_id: str) -> dict:
    """Revoke a key at once (its next request is a 401)."""
    with db.transaction() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise NotFound("key_not_found", "没有这个密钥")
        row.revoked_at = row.revoked_at or utcnow()
        session.flush()
        return _key_dict(row)


def _key_dict(row: ApiKey) -> dict:
    return {"id": row.id, "name": row.name, "scope": row.scope, "created_at": iso(row.created_at),
            "revoked_at": iso(row.revoked_at)}
