"""Taking over an account a chair registered: ``/start tk-TOKEN``, then the last 4 digits of the phone.

Why the question: a hand-over link can be forwarded, photographed or sent to the wrong chat, and the token
alone would hand a stranger the villager's account; the last 4 digits are what the villager knows. Every
dead token and every wrong answer counts as a failed try (``store.handovers.CodeTries``): past the limit,
per chat or overall, nothing is even checked. Channel-neutral, like the other desks.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from core.dialogue import Reply
from core.texts import Farmer
from exchange.api import Exchange
from exchange.errors import ExchangeError
from store.handovers import CodeTries, Handovers
from store.roles import Roles

QUESTION_SECONDS = 600.0


def four_digits(text: str) -> str | None:
    """The answer as 4 ASCII digits (full-width ones and spaces forgiven), or None when it is no answer."""
    typed = unicodedata.normalize("NFKC", text or "").replace(" ", "")
    return typed if re.fullmatch(r"[0-9]{4}", typed) else None


@dataclass
class HandoverDesk:
    """Hand-over links and the 4-digit question; the failed-try limit also guards invitation codes."""

    handovers: Handovers
    tries: CodeTries
    exchange: Exchange
    roles: Roles | None = None  # where a take-over is audited
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._asked: dict[str, tuple[str, float]] = {}

    async def blocked(self, sender_id: str) -> bool:
        """Whether codes from this chat are refused unseen (its failed tries, or everyone's, are spent)."""
        return await asyncio.to_thread(self.tries.blocked, sender_id)

    async def failed(self, sender_id: str) -> None:
        """Count a failed try of this chat."""
        await asyncio.to_thread(self.tries.failed, sender_id)

    async def start(self, sender_id: str, token: str) -> list[Reply] | None:
        """A hand-over link opened: the 4-digit question; None (a failed try counted) for a dead token."""
        if await asyncio.to_thread(self.handovers.user_for, token) is None:
            await self.failed(sender_id)
            return None
        now = self.clock()
        self._asked = {chat: asked for chat, asked in self._asked.items() if now - asked[1] <= QUESTION_SECONDS}
        self._asked[sender_id] = (token, now)
        return [Reply(Farmer.ASK_DIGITS)]

    async def answer(self, sender_id: str, text: str) -> tuple[list[Reply], bool] | None:
        """The replies to an answer of the 4-digit question and whether the account is now this chat's;
        None when no question is open or the message is no answer (the question lapses, the message goes on)."""
        token, since = self._asked.pop(sender_id, ("", 0.0))
        digits = four_digits(text)
        if not token or self.clock() - since > QUESTION_SECONDS or digits is None:
            return None
        if await self.blocked(sender_id):
            return [Reply(Farmer.TOO_MANY_TRIES)], False
        user_id = await asyncio.to_thread(self.handovers.user_for, token)
        if user_id is None:
            return [Reply(Farmer.HANDOVER_REFUSED)], False
        try:
            phone = (await asyncio.to_thread(self.exchange.get_user, user_id)).get("phone") or ""
        except ExchangeError:
            return [Reply(Farmer.HANDOVER_EXCHANGE_DOWN)], False
        if len(phone) < 4 or phone[-4:] != digits:
            await asyncio.to_thread(self.handovers.wrong_answer, token)
            await self.failed(sender_id)
            return [Reply(Farmer.WRONG_DIGITS)], False
        return await self._redeem(sender_id, token)

    async def _redeem(self, sender_id: str, token: str) -> tuple[list[Reply], bool]:
        """Link the chat (the token dies); audited, since it hands a person's account to a chat."""
        user_id = await asyncio.to_thread(self.handovers.redeem, sender_id, token)
        if user_id is None:
            return [Reply(Farmer.HANDOVER_REFUSED)], False
        if self.roles is not None:
            await asyncio.to_thread(self.roles.audit, sender_id, "take_over_account", user_id)
        return [Reply(Farmer.TAKEN_OVER)], True
