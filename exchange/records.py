"""Validation of expert and article records (``shared/contracts``: JSON Lines, one object a line).

An import validates every line first and refuses the whole file if any line is bad, naming each
bad line and why: a half-imported file is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from exchange.limits import ID_PATTERNS
from exchange.matching.knowledge import taxonomy

KINDS = ("experts", "articles")
_REQUIRED = {"experts": ("id", "name", "domains", "expertise"), "articles": ("id", "title", "domains")}
# no larger than the columns (exchange/models.py): a longer text was a 500 on PostgreSQL
_TEXT_LIMITS = {
    "experts": {"name": 200, "title": 200, "organization": 300, "region": 200, "expertise": 5000,
                "phone": 40, "wechat": 100, "email": 254},
    "articles": {"title": 300, "summary": 5000, "url": 1000, "body": 100_000},
}
CONTACT_FIELDS = ("phone", "wechat", "email")
MAX_DOMAINS = 20
MAX_TAGS, MAX_TAG = 50, 50
MAX_EXTRA_FIELDS, MAX_EXTRA_KEY, MAX_EXTRA_VALUE = 50, 64, 2000
MAX_CAPACITY = 100


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be imported, and the reason in plain words."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行: {self.reason}"


def check_record(kind: str, record: object) -> str | None:
    """The reason a record is invalid, or None when it can be imported.

    Every field has a limit (a text no longer than its column, lists and extra fields bounded), so an import
    is refused line by line with a reason instead of failing in the database.
    """
    if not isinstance(record, dict):
        return "不是 JSON 对象"
    missing = [key for key in _REQUIRED[kind] if record.get(key) in ("", None, [])]
    if missing:
        return "缺少必填字段 " + "、".join(missing)
    checks = (_id_problem, _text_problem, _domains_problem, _tags_problem, _availability_problem, _extra_problem)
    return next((reason for check in checks if (reason := check(kind, record))), None)


def _id_problem(kind: str, record: dict) -> str | None:
    if not isinstance(record["id"], str) or not ID_PATTERNS[kind[:-1]].fullmatch(record["id"]):
        return "id 只能由字母、数字和 _ . : - 组成（以字母或数字开头，最多 64 个字符）"
    return None


def _text_problem(kind: str, record: dict) -> str | None:
    for key, limit in _TEXT_LIMITS[kind].items():
        value = record.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"字段 {key} 应为字符串"
        if len(value) > limit:
            return f"字段 {key} 超过 {limit} 字"
        if "\x00" in value or not _utf8(value):
            return f"字段 {key} 含有无法保存的字符"
    return None


def _domains_problem(kind: str, record: dict) -> str | None:
    domains = record["domains"]
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        return "domains 应为领域代码列表"
    if len(domains) > MAX_DOMAINS:
        return f"domains 最多 {MAX_DOMAINS} 个"
    unknown = [d for d in domains if d not in taxonomy()]
    if unknown:
        return f"未知的领域代码 {', '.join(unknown)[:200]}"
    return None


def _tags_problem(kind: str, record: dict) -> str | None:
    if "tags" not in record:
        return None
    tags = record["tags"]
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        return "tags 应为字符串列表"
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        return f"tags 最多 {MAX_TAGS} 个，每个不超过 {MAX_TAG} 字"
    return None


def _availability_problem(kind: str, record: dict) -> str | None:
    if kind != "experts":
        return None
    for key in ("accepting", "share_contact"):
        if key in record and not isinstance(record[key], bool):
            return f"字段 {key} 应为 true 或 false"
    capacity = record.get("capacity", 1)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        return f"capacity 应为 1 到 {MAX_CAPACITY} 的整数"
    return None


def _extra_problem(kind: str, record: dict) -> str | None:
    """Extra fields are kept (for operators only): a bounded number of bounded values."""
    extra = {k: v for k, v in record.items() if k not in _KNOWN[kind]}
    if len(extra) > MAX_EXTRA_FIELDS:
        return f"其他字段最多 {MAX_EXTRA_FIELDS} 个"
    for key, value in extra.items():
        if len(key) > MAX_EXTRA_KEY:
            return f"字段名 {key[:20]}… 超过 {MAX_EXTRA_KEY} 个字符"
        if len(json.dumps(value, ensure_ascii=False)) > MAX_EXTRA_VALUE:
            return f"字段 {key} 超过 {MAX_EXTRA_VALUE} 字"
        if "\\u0000" in json.dumps(value) or not _utf8(json.dumps(value, ensure_ascii=False)):
            return f"字段 {key} 含有无法保存的字符"
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_KNOWN = {"experts": {"id", "domains", "accepting", "capacity", "share_contact", *_TEXT_LIMITS["experts"]},
          "articles": {"id", "domains", "tags", *_TEXT_LIMITS["articles"]}}


def parse_lines(kind: str, lines: Iterable[str]) -> tuple[list[dict], list[BadLine]]:
    """Parse and check JSON Lines; blank lines are skipped, a repeated id is an error."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    records: list[dict] = []
    bad: list[BadLine] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            bad.append(BadLine(number, f"不是合法的 JSON ({error.msg})"))
            continue
        reason = check_record(kind, record)
        if reason is None and record["id"] in seen:
            reason = f"id {record['id']} 与第 {seen[record['id']]} 行重复"
        if reason:
            bad.append(BadLine(number, reason))
        else:
            seen[record["id"]] = number
            records.append(record)
    return records, bad
