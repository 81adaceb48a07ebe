"""`kejibang parse`: the trained model's NLU result for each input line (shared contract shape)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from kejibang.model import train
from kejibang.settings import Settings

MAX_PARSE_CHARS = 2000


def contract_result(parsed: dict) -> dict:
    """Rasa's parse dict reduced to {text, intent{name, confidence}, entities} (+ ranking)."""
    intent = parsed.get("intent") or {}
    return {
        "text": parsed.get("text", ""),
        "intent": {"name": intent.get("name"), "confidence": round(float(intent.get("confidence") or 0.0), 4)},
        "entities": [{k: e[k] for k in ("entity", "value", "start", "end") if k in e}
                     for e in parsed.get("entities") or []],
        "intent_ranking": [{"name": r["name"], "confidence": round(float(r["confidence"]), 4)}
                           for r in (parsed.get("intent_ranking") or [])[:3]],
    }


async def parse_lines(settings: Settings, lines: Iterable[str], emit: Callable[[object], None]) -> None:
    """Load the model once (training it if needed) and parse every line."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from kejibang.launcher import quiet_rasa_structlog
    from rasa_plugins.model_loading import load_agent

    quiet_rasa_structlog(settings.log_level)  # stdout carries one JSON object a line, and nothing else
    agent = load_agent(str(train(settings.model_dir)))
    for line in lines:
        text = line.rstrip("\n")[:MAX_PARSE_CHARS]
        emit(contract_result(await agent.parse_message(text)))
