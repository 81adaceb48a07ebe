"""Validation of expert and article records (``shared/contracts``: JSON Lines, one object a line).

An import validates every line first and refuses the whole file if any line is bad, naming each
bad line and why: a half-imported file is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from exchange.matching.knowledge import taxonomy

KINDS = ("experts", "articles")
_REQUIRED = {"experts": ("id", "name", "domains", "expertise"), "articles": ("id", "title", "domains")}
_TEXT_LIMITS = {"id": 64, "name": 200, "title": 300, "organization": 300, "region": 200, "expertise": 5000,
                "summary": 5000, "url": 1000, "body": 100_000}


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be imported, and the reason in plain words."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行: {self.reason}"


def check_record(kind: str, record: object) -> str | None:
    """The reason a record is invalid, or None when it can be imported."""
    if not isinstance(record, dict):
        return "不是 JSON 对象"
    missing = [key for key in _REQUIRED[kind] if record.get(key) in ("", None, [])]
    if missing:
        return "缺少必填字段 " + "、".join(missing)
    for key, limit in _TEXT_LIMITS.items():
        value = record.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"字段 {key} 应为字符串"
        if len(value) > limit:
            return f"字段 {key} 超过 {limit} 字"
    domains = record["domains"]
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        return "domains 应为领域代码列表"
    unknown = [d for d in domains if d not in taxonomy()]
    if unknown:
        return f"未知的领域代码 {', '.join(unknown)}"
    if "tags" in record and not (isinstance(record["tags"], list) and all(isinstance(t, str) for t in record["tags"])):
        return "tags 应为字符串列表"
    return None


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
