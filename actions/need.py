"""Need capture: read back what the user said, post it once confirmed, present experts and 科普."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import call, idempotency_key, in_store, write
from core.texts import Farmer
from exchange.api import MatchedExpert, MatchResult
from exchange.errors import ExchangeError, InputRejected
from exchange.gazetteer import resolve
from exchange.matching.knowledge import taxonomy
from exchange.matching.subjects import is_open_question, subjects_in, things_in
from store.outbox import Write

log = logging.getLogger(__name__)
URGENT_WORDS = ("急", "快死", "死了", "死完", "马上", "赶紧", "救命", "要命", "一大片")
EXPERTS_SHOWN = 3
ARTICLES_SHOWN = 3
# Offered when a question names no crop or animal.
CLARIFY_DOMAINS = ("vegetables", "fruit", "grain_oil", "pig", "poultry", "herbivore", "aquaculture")
# An answer to "是什么庄稼或牲畜？" is a name, not a new story: longer text is a new need.
CLARIFY_ANSWER_CHARS = 12


def _latest_text(tracker: Tracker) -> str:
    """The user's own words: button payloads (starting with /) are not a need."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def _need_text(tracker: Tracker) -> str:
    """What the need says: the latest words, joined to the question they answer when the assistant
    had asked which crop or animal it is ("辣椒：这是什么病？")."""
    text, asked = _latest_text(tracker), tracker.get_slot("need_text") or ""
    if tracker.get_slot("pending") == "clarify_subject" and text and asked and len(text) <= CLARIFY_ANSWER_CHARS:
        return f"{text}：{asked}"
    return text or asked


def _names_nothing(text: str, preview: MatchResult, clarified: bool) -> bool:
    """A question about something unnamed (or too vague to place) gets one clarifying question."""
    return not clarified and not things_in(text) and (is_open_question(text) or not preview["confident"])


def _clarify_buttons() -> list[dict]:
    """The commonest farms (a question that names nothing gives no better guess), and a way to a person."""
    buttons = [{"title": taxonomy()[c].name, "payload": f'/choose_domain{{"domain_code":"{c}"}}'}
               for c in CLARIFY_DOMAINS]
    return [*buttons, {"title": Farmer.NONE_OF_THESE_HUMAN, "payload": "/request_human"}]


async def need_region(tracker: Tracker) -> str:
    """Where the need is: places named in the message, a location shared today, else the registered township."""
    named = " ".join(str(e["value"]) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "region")
    if named:
        return named
    shared = await in_store(lambda s: s.places.recent(tracker.sender_id))
    if shared:
        return shared
    if tracker.get_slot("need_region"):
        return tracker.get_slot("need_region")
    user_id = await in_store(lambda s: s.accounts.user_of(tracker.sender_id))
    if not user_id:
        return ""
    try:
        return (await call(lambda ex: ex.get_user(user_id))).get("township", "")
    except (ExchangeError, TimeoutError):
        return ""


def need_summary(text: str, preview: dict) -> str:
    """The structured read-back: domain, subject (the crop or animal named), what was said, place, urgency."""
    names = [taxonomy()[c].name for c in preview["domains"][:2] if c in taxonomy()]
    subjects = [thing.label for thing in subjects_in(text)][:2]
    lines = [Farmer.NEED_DOMAINS.format(domains="、".join(names) if names else Farmer.DOMAIN_UNDECIDED)]
    if subjects:
        lines.append(Farmer.NEED_SUBJECTS.format(subjects="、".join(subjects)))
    lines.append(Farmer.NEED_TEXT.format(text=text if len(text) <= 60 else text[:60] + "…"))
    if preview.get("region"):
        lines.append(Farmer.NEED_PLACE.format(region=preview["region"]))
    if any(word in text for word in URGENT_WORDS):
        lines.append(Farmer.NEED_URGENT)
    return "\n".join(lines)


class ActionReadBackNeed(Action):
    """Restate the need before anything is posted; ask which crop or animal (or which domain) when unsure."""

    def name(self) -> str:
        return "action_read_back_need"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        text = _need_text(tracker)
        if not text:
            dispatcher.utter_message(response="utter_ask_describe_need")
            return [SlotSet("pending", None)]
        chosen = tracker.get_slot("domain_code") if tracker.latest_message["intent"]["name"] == "choose_domain" else None
        region = await need_region(tracker)
        try:
            preview = await call(lambda ex: ex.match_preview(text, region, [chosen] if chosen else None, 3))
        except InputRejected as error:
            dispatcher.utter_message(response="utter_input_rejected", reason=error.message)
            return [SlotSet("pending", None)]
        except (ExchangeError, TimeoutError):
            dispatcher.utter_message(response="utter_exchange_down")
            return [SlotSet("need_text", text), SlotSet("pending", None)]
        events = [SlotSet("need_text", text), SlotSet("need_domains", preview["domains"]), SlotSet("need_region", region),
                  SlotSet("domain_code", None), SlotSet("pending", None)]
        clarified = tracker.get_slot("pending") == "clarify_subject"
        if not chosen and _names_nothing(text, preview, clarified):
            dispatcher.utter_message(response="utter_ask_need_subject", buttons=_clarify_buttons())
            return [*events[:-1], SlotSet("pending", "clarify_subject")]
        if not preview["domains"]:
            dispatcher.utter_message(response="utter_need_unclear")
            return events
        if not chosen and not preview["confident"] and len(preview["domain_scores"]) > 1:
            buttons = [{"title": d["name"], "payload": f'/choose_domain{{"domain_code":"{d["code"]}"}}'}
                       for d in preview["domain_scores"][:3]]
            buttons.append({"title": Farmer.NONE_OF_THESE_HUMAN, "payload": "/request_human"})
            dispatcher.utter_message(response="utter_ask_need_domain", buttons=buttons)
            return events
        place = resolve(region)
        summary = need_summary(text, {**preview, "region": place.full_name if place.known else region})
        dispatcher.utter_message(response="utter_need_read_back", need_summary=summary)
        return [*events, SlotSet("pending", "confirm_need")]


def present_experts(dispatcher: CollectingDispatcher, experts: list[MatchedExpert]) -> None:
    """One card per expert, then the 换一批 / 都不合适 choice."""
    for expert in experts:
        dispatcher.utter_message(response="utter_expert_card", expert_id=expert["id"], expert_name=expert["name"],
                                 expert_title=expert.get("title") or Farmer.EXPERT_TITLE,
                                 expert_organization=expert.get("organization") or "—",
                                 expert_reason=expert.get("reason") or Farmer.EXPERT_REASON)
    dispatcher.utter_message(response="utter_expert_choices")


class ActionPostNeed(Action):
    """Post the confirmed need to the exchange and show the best experts and articles."""

    def name(self) -> str:
        return "action_post_need"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        text = tracker.get_slot("need_text")
        if not text:
            dispatcher.utter_message(response="utter_ask_describe_need")
            return [SlotSet("pending", None)]
        body = {"text": text, "region": tracker.get_slot("need_region") or "",
                "domains": tracker.get_slot("need_domains") or [],
                "user_id": await in_store(lambda s: s.accounts.user_of(tracker.sender_id))}
        key = idempotency_key(tracker.sender_id, text)  # one person, one confirmed text: one need
        try:
            sent = await write(tracker.sender_id, key, Write.CREATE_NEED, body, key, 6)
        except InputRejected as error:
            dispatcher.utter_message(response="utter_input_rejected", reason=error.message)
            return [SlotSet("pending", None)]
        except (ExchangeError, TimeoutError):
            log.warning("the exchange refused to take a need")
            dispatcher.utter_message(response="utter_exchange_down")
            return [SlotSet("pending", "retry_post")]
        if sent.queued:  # the outbox worker posts it when the exchange is back, and tells the person
            dispatcher.utter_message(response="utter_need_queued")
            return [SlotSet("pending", None)]
        need = sent.result
        await in_store(lambda s: s.accounts.remember_need(tracker.sender_id, need["id"], text))
        experts = need["match"]["experts"]
        posted = [SlotSet("need_id", need["id"]), SlotSet("pending", None)]
        if not experts:
            dispatcher.utter_message(response="utter_no_experts", need_id=need["id"])
            return [*posted, SlotSet("shown_experts", [])]
        dispatcher.utter_message(response="utter_need_posted", need_id=need["id"])
        present_experts(dispatcher, experts[:EXPERTS_SHOWN])
        articles = need["match"]["articles"][:ARTICLES_SHOWN]
        if articles:
            listing = "\n".join(f"· {a['title']}" for a in articles)
            dispatcher.utter_message(response="utter_articles", article_list=listing)
        return [*posted, SlotSet("shown_experts", [e["id"] for e in experts[:EXPERTS_SHOWN]])]


class ActionMoreExperts(Action):
    """换一批: the next experts of the same need, never one already shown."""

    def name(self) -> str:
        return "action_more_experts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        text, shown = tracker.get_slot("need_text"), tracker.get_slot("shown_experts") or []
        if not text:
            dispatcher.utter_message(response="utter_ask_describe_need")
            return []
        try:
            region, domains = tracker.get_slot("need_region") or "", tracker.get_slot("need_domains") or None
            preview = await call(lambda ex: ex.match_preview(text, region, domains, len(shown) + EXPERTS_SHOWN))
        except (ExchangeError, TimeoutError):
            dispatcher.utter_message(response="utter_exchange_down")
            return []
        fresh = [e for e in preview["experts"] if e["id"] not in shown][:EXPERTS_SHOWN]
        if not fresh:
            dispatcher.utter_message(response="utter_no_more_experts")
            return []
        present_experts(dispatcher, fresh)
        return [SlotSet("shown_experts", shown + [e["id"] for e in fresh])]


_ON_NO = {"confirm_need": "utter_need_retell", "confirm_delete": "utter_delete_cancelled"}


class ActionAnswerPending(Action):
    """A yes or no: drop what was pending (a no) or say there was nothing to confirm."""

    def name(self) -> str:
        return "action_answer_pending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        said_no = tracker.latest_message["intent"]["name"] == "deny"
        pending = tracker.get_slot("pending")
        if said_no and pending in _ON_NO:
            dispatcher.utter_message(response=_ON_NO[pending])
        else:
            dispatcher.utter_message(response="utter_deny_nothing_pending" if said_no else "utter_affirm_nothing_pending")
        return [SlotSet("pending", None)]
