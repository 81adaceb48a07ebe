"""The outbox worker: delivers the writes the actions could not send (store/outbox.py) once the exchange
takes them again, and tells each person what became of theirs.

It runs as one of the core's loops (``Core.running`` in kejibang/app.py); ``deliver_due`` is one pass, which tests run
directly. A person's writes go oldest first and one at a time (the registration before the need that belongs
to it), but people are independent: each person's line is delivered on its own, a few at a time, so one
person's failing or slow write never holds up anyone else's. A person whose write failed waits for the next
pass; one still being delivered when a pass ends is carried on in the background, and skipped by the next.

A refusal (4xx) and an answer that cannot be read are final: retrying would get the same, so the write goes
to the dead letters with the reason (``kejibang admin outbox`` lists them, ``--retry ID`` puts one back) and
the person is told in plain words. The exchange down, slow or failing (5xx), or a wrong API key (the
operator's to fix, not the write's fault) is not: the write stays and is tried on the next pass. Retrying is
safe because every write carries its idempotency key, or is idempotent by nature (a status, a change, a
deletion).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DataError

from core.dialogue import Reply
from core.texts import Farmer
from desks.volunteers import Outbound
from exchange.api import Exchange
from exchange.errors import ExchangeUnavailable, InputRejected, NotFound
from store.accounts import Accounts
from store.outbox import Outbox, OutboxItem, Write

log = logging.getLogger(__name__)
USER_FIELDS = ("name", "phone", "role", "township")
EVERY_SECONDS = 5.0
LONGEST_WAIT_SECONDS = 300.0
PEOPLE_AT_ONCE = 8
PASS_SECONDS = 60.0
REFUSED_WHAT = {Write(method): what for method, what in Farmer.WRITE_WHAT.items()}
DELIVERED = {Write.REGISTER_USER: Farmer.REGISTRATION_SUBMITTED,
             Write.UPDATE_USER: Farmer.REGISTRATION_CHANGE_SUBMITTED, Write.DELETE_USER: Farmer.DELETION_SUBMITTED}
NO_ANSWER = (Write.DELETE_USER, Write.DELETE_SENDER_NEEDS, Write.WITHDRAW_REGISTRATION)


class MalformedReply(Exception):
    """The exchange answered, but not with what this write gets back: retrying would not make it readable."""

    code = "malformed_reply"
    message = Farmer.REPLY_UNREADABLE


@dataclass(frozen=True)
class Pass:
    """One pass over the outbox: writes that arrived, went to the dead letters, or failed and wait; ``blocked``
    when every attempt failed (the exchange looks down: the worker then waits longer before the next pass)."""

    delivered: int = 0
    refused: int = 0
    failed: int = 0

    @property
    def blocked(self) -> bool:
        return self.failed > 0 and not self.delivered and not self.refused

    def __add__(self, other: Pass) -> Pass:
        return Pass(self.delivered + other.delivered, self.refused + other.refused, self.failed + other.failed)


@dataclass
class OutboxWorker:
    """Delivers waiting writes to the exchange and settles them in the assistant's store."""

    outbox: Outbox
    accounts: Accounts
    exchange: Exchange
    outbound: Outbound
    people_at_once: int = PEOPLE_AT_ONCE
    _running: dict[str, asyncio.Task] = field(default_factory=dict, repr=False)

    async def deliver_due(self, wait: float = PASS_SECONDS) -> Pass:
        """Deliver the waiting writes, each person's line on its own; returns what the finished lines did
        (a line still going after ``wait`` seconds carries on in the background)."""
        lines = _by_person(await asyncio.to_thread(self.outbox.pending))
        limit = asyncio.Semaphore(self.people_at_once)
        started = [self._start(sender, items, limit) for sender, items in lines.items() if sender not in self._running]
        if not started:
            return Pass()
        done, _ = await asyncio.wait(started, timeout=wait)
        return sum((task.result() for task in done), Pass())

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

    def _start(self, sender_id: str, items: list[OutboxItem], limit: asyncio.Semaphore) -> asyncio.Task:
        task = asyncio.create_task(self._deliver_line(items, limit))
        self._running[sender_id] = task
        task.add_done_callback(lambda _: self._running.pop(sender_id, None))
        return task

    async def _deliver_line(self, items: list[OutboxItem], limit: asyncio.Semaphore) -> Pass:
        """One person's writes in order; the first that fails leaves the rest of the line for the next pass."""
        tally = Pass()
        async with limit:
            for item in items:
                try:
                    outcome = await self._deliver(item)
                except Exception:  # the assistant's own store failed: the write is still there, try next pass
                    log.exception("outbox: could not settle %s", item.command.value)
                    outcome = Pass(failed=1)
                tally += outcome
                if outcome.failed:
                    break
        return tally

    async def _deliver(self, item: OutboxItem) -> Pass:
        """One write: delivered, dead-lettered (final refusal or unreadable answer) or failed (try again)."""
        try:
            result = await asyncio.to_thread(self._send, item)
        except Exception as error:
            final = _final(error)
            if final is None:
                # the type and code only: a database error's text can quote the write's personal data
                await asyncio.to_thread(self.outbox.failed, item.id,
                                        f"{type(error).__name__} {getattr(error, 'code', '')}")
                log.warning("outbox: exchange %s not delivered (%s); will retry", item.command.value,
                            type(error).__name__)
                return Pass(failed=1)
            await self._dead_letter(item, *final)
            return Pass(refused=1)
        await asyncio.to_thread(self._settle, item, result)
        await asyncio.to_thread(self.outbox.delivered, item)
        await self._tell_delivered(item, result)
        return Pass(delivered=1)

    def _send(self, item: OutboxItem) -> Any:
        """One write, with what only delivery time knows filled in; the answer is checked for its shape."""
        if item.command is Write.WITHDRAW_REGISTRATION:  # erased before it arrived: make sure nothing of it stays
            registered = Write.REGISTER_USER.send(self.exchange, item.arguments)
            self.exchange.delete_user(_checked(Write.REGISTER_USER, registered)["id"])
            return None
        arguments = item.arguments
        if item.command is Write.CREATE_NEED and not arguments[0].get("user_id"):
            # registered while both waited here: the need belongs to the registration delivered before it
            arguments = [{**arguments[0], "user_id": self.accounts.user_of(item.sender_id)}, *arguments[1:]]
        try:
            result = _checked(item.command, item.command.send(self.exchange, arguments))
        except NotFound:
            if item.command is Write.DELETE_USER:  # already gone: that is what was asked
                return None
            raise
        if item.command is Write.REGISTER_USER and any(result.get(k) != arguments[0].get(k) for k in USER_FIELDS):
            # an earlier answer arrived under this key (a timed-out first try); the latest answer wins
            result = _checked(item.command, self.exchange.update_user(result["id"], arguments[0]))
        return result

    def _settle(self, item: OutboxItem, result: Any) -> None:
        """What the action would have noted had the write gone through at once."""
        if item.command is Write.REGISTER_USER:
            self.accounts.link(item.sender_id, result["id"])
        elif item.command is Write.CREATE_NEED:
            self.accounts.remember_need(item.sender_id, result["id"], item.arguments[0]["text"])

    async def _dead_letter(self, item: OutboxItem, code: str, reason: str, unreadable: bool) -> None:
        """Out of everyone's way, kept with the reason for the operator; the person is told in plain words."""
        kept = await asyncio.to_thread(self.outbox.dead_letter, item, code, reason)
        log.warning("outbox: exchange %s dead-lettered (%s)", item.command.value, code)
        if kept and item.command in REFUSED_WHAT:
            what = REFUSED_WHAT[item.command]
            text = Farmer.WRITE_STUCK.format(what=what) if unreadable else \
                Farmer.WRITE_REFUSED.format(what=what, reason=reason)
            await self._tell(item.sender_id, text)

    async def _tell_delivered(self, item: OutboxItem, result: Any) -> None:
        """The person was told their write would be sent: now it has been."""
        if item.command is Write.CREATE_NEED:
            names = "、".join(e["name"] for e in result["match"]["experts"][:3])
            experts = Farmer.NEED_EXPERTS.format(names=names) if names else Farmer.NEED_NO_EXPERTS
            await self._tell(item.sender_id, Farmer.NEED_SUBMITTED.format(need_id=result["id"], experts=experts))
        elif item.command in DELIVERED:
            await self._tell(item.sender_id, DELIVERED[item.command])

    async def _tell(self, sender_id: str, text: str) -> None:
        """A notice is a courtesy: the write has arrived whether or not the person can be reached."""
        try:
            await self.outbound.send(sender_id, [Reply(text)])
        except Exception:
            log.exception("outbox: could not tell %s", sender_id.partition(":")[0])


def _by_person(items: Iterable[OutboxItem]) -> dict[str, list[OutboxItem]]:
    """Each person's waiting writes, oldest first; people in the order of their oldest write."""
    lines: dict[str, list[OutboxItem]] = {}
    for item in items:
        lines.setdefault(item.sender_id, []).append(item)
    return lines


def _final(error: Exception) -> tuple[str, str, bool] | None:
    """(code, reason, unreadable) when trying again cannot help, None when it may (down, slow, 5xx, wrong key)."""
    if isinstance(error, (InputRejected, NotFound)):
        return error.code, error.message, False
    if isinstance(error, MalformedReply) or (isinstance(error, ExchangeUnavailable) and error.code == "bad_response"):
        return error.code, error.message, True
    if isinstance(error, DataError):  # the embedded exchange's database refused the values themselves
        return "data_error", Farmer.VALUE_UNSAVABLE, False
    return None


def _checked(command: Write, result: Any) -> Any:
    """The exchange's answer if it has the shape this write gets back (what settling and telling read)."""
    if command in NO_ANSWER:
        return result
    if not isinstance(result, dict) or not isinstance(result.get("id"), (str, int)):
        raise MalformedReply()
    if command is Write.CREATE_NEED:
        match = result.get("match")
        experts = match.get("experts") if isinstance(match, dict) else None
        if not isinstance(experts, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str)
                                                    for e in experts):
            raise MalformedReply()
    return result
