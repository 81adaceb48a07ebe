"""When the bot cannot help: a person asks for a human, two misunderstandings in a row, or 都不合适."""

from __future__ import annotations

import contextlib
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import call, idempotency_key, in_store, write
from core.texts import Farmer, Volunteer
from exchange.errors import ExchangeError, InputRejected
from exchange.matching.knowledge import taxonomy
from store.outbox import Write


def _recent_user_texts(tracker: Tracker, count: int = 3) -> str:
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return " / ".join(t for t in texts[-count:] if t and not t.startswith("/"))


def _domain_names(tracker: Tracker) -> str:
    """The need's domains by name (生猪养殖、水产养殖): the volunteers' group is told these, not the words."""
    codes = tracker.get_slot("need_domains") or []
    return "、".join(taxonomy()[code].name for code in codes[:2] if code in taxonomy())


async def open_case(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, summary: str = "") -> list:
    """Queue the conversation for a volunteer and tell the user their number, place and wait."""
    summary = summary or tracker.get_slot("need_text") or _recent_user_texts(tracker)
    ticket = await in_store(lambda s: s.handoffs.open_case(tracker.sender_id, reason, summary, _domain_names(tracker)))
    dispatcher.utter_message(response="utter_handoff_opened", case_number=ticket.number,
                             position=ticket.position, wait_minutes=ticket.wait_minutes)
    return [SlotSet("pending", None)]


class ActionContactExpert(Action):
    """联系TA: the need goes to that expert's own chat; an expert not in the app is reached by a volunteer."""

    def name(self) -> str:
        return "action_contact_expert"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        need_id, expert_id = tracker.get_slot("need_id"), tracker.get_slot("expert_id")
        if not need_id or not expert_id:
            dispatcher.utter_message(response="utter_contact_needs_need")
            return [SlotSet("pending", None)]
        chat = await in_store(lambda s: s.experts.chat_of(expert_id))
        if chat is None:
            return await self._through_volunteer(dispatcher, tracker, need_id, expert_id)
        try:
            request = await call(lambda ex: ex.request_contact(need_id, expert_id))
        except InputRejected as refused:
            dispatcher.utter_message(response="utter_expert_unavailable", reason=refused.message)
            return [SlotSet("pending", None)]
        except (ExchangeError, TimeoutError):
            return await self._through_volunteer(dispatcher, tracker, need_id, expert_id)
        number = await in_store(lambda s: s.experts.open(request, tracker.sender_id, chat))
        dispatcher.utter_message(response="utter_contact_sent", expert_name=request["expert"]["name"],
                                 case_number=number)
        return [SlotSet("pending", None)]

    @staticmethod
    async def _through_volunteer(dispatcher: CollectingDispatcher, tracker: Tracker, need_id: str,
                                 expert_id: str) -> list:
        try:
            expert = await call(lambda ex: ex.get_expert(expert_id))
        except (ExchangeError, TimeoutError):
            expert = {"name": expert_id, "organization": ""}
        summary = Volunteer.CONTACT_EXPERT_AT.format(name=expert["name"], expert_id=expert_id, need_id=need_id,
                                                     organization=expert.get("organization") or "—",
                                                     summary=tracker.get_slot("need_text") or "")
        domains = _domain_names(tracker)
        ticket = await in_store(lambda s: s.handoffs.open_case(tracker.sender_id, "contact_expert", summary, domains))
        dispatcher.utter_message(response="utter_contact_requested", expert_name=expert["name"],
                                 case_number=ticket.number)
        return [SlotSet("pending", None)]


async def send_feedback(tracker: Tracker, need_id: str, verdict: str, expert_id: str | None, comment: str) -> None:
    """Feedback reaches the exchange once, however often it is given or retried; while the exchange is down
    it waits in the outbox. A refusal (an unknown need) is dropped: the person's answer is still thanked."""
    key = idempotency_key("feedback", tracker.sender_id, need_id, expert_id or "", verdict)
    with contextlib.suppress(ExchangeError, TimeoutError):
        await write(tracker.sender_id, key, Write.ADD_FEEDBACK, need_id, verdict, expert_id, comment, key)
        if verdict == "helpful":
            status_key = idempotency_key("status", need_id, "resolved")
            await write(tracker.sender_id, status_key, Write.SET_NEED_STATUS, need_id, "resolved")


class ActionRecordFeedback(Action):
    """解决了 / 还没有 / 没联系上: the answer goes to the exchange and moves the need along."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        verdict = tracker.get_slot("verdict") or "helpful"
        need_id = tracker.get_slot("need_id")
        if need_id:
            await send_feedback(tracker, need_id, verdict, tracker.get_slot("expert_id"), "")
        dispatcher.utter_message(response="utter_feedback_thanks" if verdict == "helpful" else "utter_feedback_sorry")
        return [SlotSet("verdict", None)]


class ActionOpenHandoff(Action):
    """The user asked for a person."""

    def name(self) -> str:
        return "action_open_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        return await open_case(dispatcher, tracker, "request_human")


class ActionFallback(Action):
    """Not understood: ask again once, and hand over to a volunteer the second time in a row."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        bot_turns = [e for e in tracker.events if e.get("event") == "action"
                     and e.get("name") not in ("action_listen", None)]
        if bot_turns and bot_turns[-1].get("name") == self.name():
            return await open_case(dispatcher, tracker, "two_fallbacks")
        dispatcher.utter_message(response="utter_default")
        return [SlotSet("pending", None)]


class ActionNoneFit(Action):
    """都不合适: tell the exchange, and hand the need to a volunteer."""

    def name(self) -> str:
        return "action_none_fit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        need_id = tracker.get_slot("need_id")
        if need_id:
            await send_feedback(tracker, need_id, "not_helpful", None, Farmer.NONE_FIT)
        return await open_case(dispatcher, tracker, "none_fit")
