"""The weekly 科普 push: every subscription gets one new article of its topic a week.

Runs as one of the core's loops, a plain asyncio task (python-telegram-bot's job-queue extra cannot be installed
next to Rasa); channel-neutral: it sends through the core's router.
"""

from __future__ import annotations

import asyncio
import logging

from core.dialogue import Button, Reply
from core.texts import Farmer
from desks.volunteers import Outbound
from exchange.api import Exchange
from exchange.errors import ExchangeError
from exchange.matching.knowledge import taxonomy
from store.subscriptions import Subscriptions

log = logging.getLogger(__name__)
# Marks a push among replies: an app that cannot deliver it need not alarm anyone (channels/wechat.py)
PUSH = "push"
CHECK_EVERY_SECONDS = 3600.0
CANDIDATES = 50


def next_article(articles: list[dict], last_id: str | None) -> dict | None:
    """The article after the last one sent (articles in a stable order), wrapping around."""
    if not articles:
        return None
    ids = [a["id"] for a in articles]
    return articles[(ids.index(last_id) + 1) % len(articles)] if last_id in ids else articles[0]


async def push_due(subscriptions: Subscriptions, exchange: Exchange, outbound: Outbound) -> int:
    """Send every subscription that is due its weekly article; returns how many were sent."""
    sent = 0
    for sender_id, domain, last_id in await asyncio.to_thread(subscriptions.due):
        try:
            articles = await asyncio.to_thread(exchange.search_articles, "", domain, CANDIDATES)
        except ExchangeError:
            log.warning("exchange unavailable for the weekly push; will retry")
            return sent
        article = next_article(articles, last_id)
        if article is None:
            continue
        text = Farmer.WEEKLY_ARTICLE.format(domain=taxonomy()[domain].name, title=article["title"],
                                            summary=article.get("summary", ""))
        await outbound.send(sender_id, [Reply(text, buttons=(Button(Farmer.HAVE_A_QUESTION, "/describe_need"),
                                                             Button(Farmer.UNSUBSCRIBE, Farmer.UNSUBSCRIBE)),
                                              custom={PUSH: True})])
        await asyncio.to_thread(subscriptions.pushed, sender_id, domain, article["id"])
        sent += 1
    return sent


async def push_forever(subscriptions: Subscriptions, exchange: Exchange, outbound: Outbound) -> None:
    """Check for due pushes every hour, until cancelled."""
    while True:
        try:
            await push_due(subscriptions, exchange, outbound)
        except Exception:
            log.exception("weekly push failed")
        await asyncio.sleep(CHECK_EVERY_SECONDS)
