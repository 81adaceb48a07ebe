"""科普: articles on a topic now, or every week by subscription."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import call, in_store
from exchange.errors import ExchangeError
from exchange.matching.knowledge import taxonomy

ARTICLES_SHOWN = 3
_STOP = re.compile(r"退订|取消订阅|取消推送|不要推|别推|不要再发|停止推送|不订了")


def article_listing(articles: list[dict]) -> str:
    """Titles with one-line summaries, numbered."""
    lines = []
    for number, article in enumerate(articles, start=1):
        summary = (article.get("summary") or "").split("。")[0]
        lines.append(f"{number}. {article['title']}" + (f"\n   {summary}。" if summary else ""))
    return "\n".join(lines)


def _topic_buttons() -> list[dict]:
    popular = ("pig", "grain_oil", "fruit", "vegetables", "poultry", "health_safety")
    return [{"title": taxonomy()[c].name, "payload": f'/subscribe{{"domain_code":"{c}"}}'} for c in popular]


class ActionFindArticles(Action):
    """Articles for the topic the user named (their own words are the query)."""

    def name(self) -> str:
        return "action_find_articles"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        text = (tracker.latest_message.get("text") or "").strip()
        query = "" if text.startswith("/") else text
        chosen = tracker.get_slot("domain_code") or ""
        if not query and not chosen:
            dispatcher.utter_message(response="utter_ask_science_topic")
            return []
        try:
            articles = await call(lambda ex: ex.search_articles(query, chosen if not query else "", ARTICLES_SHOWN))
        except (ExchangeError, TimeoutError):
            dispatcher.utter_message(response="utter_exchange_down")
            return []
        if not articles:
            dispatcher.utter_message(response="utter_no_articles")
            return []
        dispatcher.utter_message(response="utter_articles_found", article_list=article_listing(articles))
        return [SlotSet("domain_code", None)]


class ActionSubscribe(Action):
    """Subscribe to (or stop) the weekly push of one topic; the topic is read from the words or a button."""

    def name(self) -> str:
        return "action_subscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        text = tracker.latest_message.get("text") or ""
        code = tracker.get_slot("domain_code") or await self._topic(text)
        if _STOP.search(text):
            dropped = await in_store(lambda s: s.subscriptions.unsubscribe(tracker.sender_id, code))
            names = "、".join(taxonomy()[c].name for c in dropped)
            dispatcher.utter_message(response="utter_unsubscribed" if dropped else "utter_no_subscription",
                                     topics=names)
            return [SlotSet("domain_code", None)]
        if code is None:
            dispatcher.utter_message(response="utter_ask_subscribe_topic", buttons=_topic_buttons())
            return []
        await in_store(lambda s: s.subscriptions.subscribe(tracker.sender_id, code))
        topics = await in_store(lambda s: s.subscriptions.domains_of(tracker.sender_id))
        dispatcher.utter_message(response="utter_subscribed", topic=taxonomy()[code].name,
                                 topics="、".join(taxonomy()[c].name for c in topics))
        return [SlotSet("domain_code", None)]

    @staticmethod
    async def _topic(text: str) -> str | None:
        if text.startswith("/"):
            return None
        try:
            preview = await call(lambda ex: ex.match_preview(text, "", None, 1))
        except (ExchangeError, TimeoutError):
            return None
        return preview["domains"][0] if preview["domains"] and preview["confident"] else None
