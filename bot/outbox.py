"""The outbox worker: delivers the writes the actions could not send (store/outbox.py) once the exchange
takes them again, and tells each person what became of theirs.

It runs as an asyncio task beside the bot (``run_telegram``); ``deliver_due`` is one pass, which tests run
directly. Writes go oldest first, and a pass stops at the first one the exchange cannot take: it is
down, so the rest would fail too, and a person's writes must arrive in the order they were made (the
registration before the need that belongs to it). Retrying is safe because every write carries its
idempotency key, or is idempotent by nature (a status, a change, a deletion).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.desk import Outbound
from bot.dialogue import Reply
from exchange.api import Exchange
from exchange.errors import InputRejected, NotFound
from store.accounts import Accounts
from store.outbox import WITHDRAW_REGISTRATION, Outbox, OutboxItem

log = logging.getLogger(__name__)
USER_FIELDS = ("name", "phone", "role", "township")
EVERY_SECONDS = 5.0
LONGEST_WAIT_SECONDS = 300.0
REFUSED_WHAT = {"register_user": "注册", "update_user": "注册信息修改", "create_need": "需求"}
DELIVERED = {"register_user": messages.REGISTRATION_SUBMITTED, "update_user": messages.REGISTRATION_CHANGE_SUBMITTED,
             "delete_user": messages.DELETION_SUBMITTED}


@dataclass(frozen=True)
class Pass:
    """One pass over the outbox: how many writes arrived, how many were refused, and whether it stopped
    at one the exchange could not take (then the worker waits longer before the next pass)."""

    delivered: int = 0
    refused: int = 0
    blocked: bool = False


@dataclass
class OutboxWorker:
    """Delivers waiting writes to the exchange and settles them in the assistant's store."""

    outbox: Outbox
    accounts: Accounts
    exchange: Exchange
    outbound: Outbound

    async def deliver_due(self) -> Pass:
        """Deliver the waiting writes, oldest first, until the exchange fails to take one."""
        delivered = refused = 0
        for item in await asyncio.to_thread(self.outbox.pending):
            try:
                result = await asyncio.to_thread(self._send, item)
            except (InputRejected, NotFound) as refusal:
                await asyncio.to_thread(self.outbox.rejected, item.id, refusal.code)
                await self._tell_refused(item, refusal.message)
                refused += 1
                continue
            except Exception as error:  # down, slow, failing, or a key the operator must fix: try again later
                # the type and code only: a database error's text can quote the write's personal data
                await asyncio.to_thread(self.outbox.failed, item.id, f"{type(error).__name__} {getattr(error, 'code', '')}")
                log.warning("outbox: exchange %s not delivered (%s); will retry", item.method, type(error).__name__)
                return Pass(delivered, refused, blocked=True)
            await asyncio.to_thread(self._settle, item, result)
            await asyncio.to_thread(self.outbox.delivered, item)
            await self._tell_delivered(item, result)
            delivered += 1
        return Pass(delivered, refused)

    async def run_forever(self) -> None:
        """Pass after pass until cancelled; while the exchange is down the wait doubles, up to five minutes."""
        wait = EVERY_SECONDS
        while True:
            try:
                blocked = (await self.deliver_due()).blocked
            except Exception:  # the assistant's own store is unreachable: nothing can be lost, try again later
                log.exception("outbox pass failed")
                blocked = True
            wait = min(wait * 2, LONGEST_WAIT_SECONDS) if blocked else EVERY_SECONDS
            await asyncio.sleep(wait)

    def _send(self, item: OutboxItem) -> Any:
        """One write, with what only delivery time knows filled in."""
        if item.method == WITHDRAW_REGISTRATION:  # erased before it arrived: make sure nothing of it stays
            self.exchange.delete_user(self.exchange.register_user(*item.arguments)["id"])
            return None
        arguments = item.arguments
        if item.method == "create_need" and not arguments[0].get("user_id"):
            # registered while both waited here: the need belongs to the registration delivered before it
            arguments = [{**arguments[0], "user_id": self.accounts.user_of(item.sender_id)}, *arguments[1:]]
        try:
            result = getattr(self.exchange, item.method)(*arguments)
        except NotFound:
            if item.method == "delete_user":  # already gone: that is what was asked
                return None
            raise
        if item.method == "register_user" and any(result.get(k) != arguments[0].get(k) for k in USER_FIELDS):
            # an earlier answer arrived under this key (a timed-out first try); the latest answer wins
            result = self.exchange.update_user(result["id"], arguments[0])
        return result

    def _settle(self, item: OutboxItem, result: Any) -> None:
        """What the action would have noted had the write gone through at once."""
        if item.method == "register_user":
            self.accounts.link(item.sender_id, result["id"])
        elif item.method == "create_need":
            self.accounts.remember_need(item.sender_id, result["id"], item.arguments[0]["text"])

    async def _tell_delivered(self, item: OutboxItem, result: Any) -> None:
        """The person was told their write would be sent: now it has been."""
        if item.method == "create_need":
            names = "、".join(e["name"] for e in result["match"]["experts"][:3])
            experts = messages.NEED_EXPERTS.format(names=names) if names else messages.NEED_NO_EXPERTS
            await self._tell(item.sender_id, messages.NEED_SUBMITTED.format(need_id=result["id"], experts=experts))
        elif item.method in DELIVERED:
            await self._tell(item.sender_id, DELIVERED[item.method])

    async def _tell_refused(self, item: OutboxItem, reason: str) -> None:
        log.warning("outbox: exchange refused %s", item.method)
        if item.method in REFUSED_WHAT:
            await self._tell(item.sender_id, messages.WRITE_REFUSED.format(what=REFUSED_WHAT[item.method],
                                                                           reason=reason))

    async def _tell(self, sender_id: str, text: str) -> None:
        """A notice is a courtesy: the write has arrived whether or not the person can be reached."""
        try:
            await self.outbound.send(sender_id, [Reply(text)])
        except Exception:
            log.exception("outbox: could not tell %s", sender_id.partition(":")[0])
