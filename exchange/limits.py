"""What the exchange accepts, in one place for the service, the HTTP client and the contract (openapi.yaml).

Why: a text longer than its column was a 500 on PostgreSQL (StringDataRightTruncation) and silently kept on
SQLite, so the same write was refused on one database and retried forever from the outbox on the other; a NUL
character cannot be stored in PostgreSQL text at all; and an id with a slash in it let a client's URL reach
another resource. Every text of every write is checked here against a limit no larger than its column, and
every id against its pattern, and refused with ``InputRejected`` (a 422) in plain Chinese.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from exchange.errors import InputRejected

_ID_HEAD, _ID_TAIL = "[A-Za-z0-9]", "[A-Za-z0-9_.:-]"
# The exchange's own ids (u-…, n-…, r-…) fit String(40); imported expert and article ids fit String(64).
ID_PATTERNS = {
    "user": re.compile(f"{_ID_HEAD}{_ID_TAIL}{{0,39}}"),
    "need": re.compile(f"{_ID_HEAD}{_ID_TAIL}{{0,39}}"),
    "contact": re.compile(f"{_ID_HEAD}{_ID_TAIL}{{0,39}}"),
    "expert": re.compile(f"{_ID_HEAD}{_ID_TAIL}{{0,63}}"),
    "article": re.compile(f"{_ID_HEAD}{_ID_TAIL}{{0,63}}"),
    "township": re.compile("[0-9]{6,12}"),
    "sender": re.compile(f"{_ID_HEAD}{_ID_TAIL}{{0,63}}"),  # the assistant's opaque chat reference
}
_ID_LABELS = {"user": "用户编号", "need": "需求编号", "contact": "联系请求编号", "expert": "专家编号",
              "article": "文章编号", "township": "乡镇代码",
              "sender": "会话编号"}

REGION = 200
PHONE_ANSWER = 30
TOWNSHIP_ANSWER = 100
CONSENT_TEXT = 300
FEEDBACK_COMMENT = 1000
CONTACT_NOTE = 300
PLACE_NAME = 50
DOMAINS = 20


def checked_id(value: object, kind: str) -> str:
    """An id of ``kind`` that matches its pattern; anything else is refused before it reaches a query or a URL."""
    if not isinstance(value, str) or not ID_PATTERNS[kind].fullmatch(value):
        raise InputRejected(f"invalid_{kind}_id", f"{_ID_LABELS[kind]}格式不对")
    return value


def optional_id(value: object, kind: str) -> str | None:
    """An id that may be left out (None or ""), else checked."""
    return None if value in (None, "") else checked_id(value, kind)


def path_id(value: object, kind: str) -> str:
    """An id as one URL path segment: checked, then quoted with nothing left safe (no '/' survives)."""
    return quote(checked_id(value, kind), safe="")


def storable(value: str, name: str, label: str) -> str:
    """Text a database can hold: no NUL (PostgreSQL refuses it) and no lone surrogate (not UTF-8)."""
    if "\x00" in value or not _encodes(value):
        raise InputRejected(f"invalid_{name}", f"{label}含有无法保存的字符")
    return value


def checked_text(value: object, name: str, limit: int, label: str) -> str:
    """An optional text field ("" when absent) of at most ``limit`` characters; other types are refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputRejected(f"invalid_{name}", f"{label}应为文字")
    if len(value) > limit:
        raise InputRejected(f"{name}_too_long", f"{label}太长了，请控制在 {limit} 字以内")
    return storable(value, name, label)


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
