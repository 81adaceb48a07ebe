"""check_status: what became of the needs this conversation posted."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import call, in_store
from core.texts import Farmer
from exchange.api import Need
from exchange.errors import ExchangeError, NotFound

STATUS_WORDS = Farmer.NEED_STATUS


def age(iso: str | None, now: datetime | None = None) -> str:
    """今天 / 3天前: how long ago a need was posted, in words."""
    if not iso:
        return ""
    days = ((now or datetime.now(timezone.utc)) - datetime.fromisoformat(iso)).days
    return Farmer.TODAY if days <= 0 else Farmer.DAYS_AGO.format(days=days)


def need_line(number: int, need: Need) -> str:
    """One line per need: what, when, where it stands."""
    text = need["text"] if len(need["text"]) <= 20 else need["text"][:20] + "…"
    return f"{number}. {text}（{age(need.get('created_at'))}）：{STATUS_WORDS.get(need['status'], need['status'])}"


class ActionListNeeds(Action):
    """List the user's needs with their status, newest first."""

    def name(self) -> str:
        return "action_list_needs"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        need_ids = await in_store(lambda s: s.accounts.needs_of(tracker.sender_id))
        if not need_ids:
            dispatcher.utter_message(response="utter_no_needs_yet")
            return []
        needs = []
        try:
            for need_id in need_ids:
                try:
                    needs.append(await call(lambda ex: ex.get_need(need_id)))  # noqa: B023 (awaited here)
                except NotFound:
                    continue
        except (ExchangeError, TimeoutError):
            dispatcher.utter_message(response="utter_exchange_down")
            return []
        listing = "\n".join(need_line(i, n) for i, n in enumerate(needs, start=1))
        dispatcher.utter_message(response="utter_needs_status", need_list=listing)
        return []
