"""`kejibang exchange match`: needs in (JSON Lines), one match result out per need, in order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from exchange.api import Exchange
from exchange.errors import ExchangeError


def _empty(code: str, message: str) -> dict:
    return {"domains": [], "experts": [], "articles": [], "error": {"code": code, "message": message}}


def match_one(exchange: Exchange, line: str, top: int) -> dict:
    """The contract's result for one need line; a bad line yields an empty result with an error."""
    try:
        need = json.loads(line)
    except json.JSONDecodeError:
        return _empty("invalid_json", "不是合法的 JSON")
    if not isinstance(need, dict) or not isinstance(need.get("text"), str):
        return _empty("invalid_need", "需求应为含 text 字段的 JSON 对象")
    try:
        result = exchange.match_preview(need["text"], str(need.get("region") or ""), need.get("domains"), top)
    except ExchangeError as error:
        return _empty(error.code, error.message)
    out = {"domains": result["domains"], "experts": result["experts"], "articles": result["articles"]}
    if "id" in need:
        out["id"] = need["id"]
    return out


def match_lines(exchange: Exchange, lines: Iterable[str], top: int, emit: Callable[[object], None]) -> None:
    """Match every non-blank line and emit each result as it is ready."""
    for line in lines:
        if line.strip():
            emit(match_one(exchange, line, top))
