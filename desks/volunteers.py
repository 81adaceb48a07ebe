"""The people around the assistant, channel-neutral: role codes, the volunteers' queue, and relaying
a claimed case between the user and their volunteer.

Every role action is checked against the role store (nobody gets a role by chatting) and audited.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from core.dialogue import Button, Reply
from core.texts import Expert, Farmer, Staff, Volunteer
from kejibang.privacy import redact
from store.handoffs import CaseView, Handoffs
from store.roles import ROLES, Roles

log = logging.getLogger(__name__)


class Outbound(Protocol):
    """Sends replies to any conversation (a user, a volunteer, the volunteers' group)."""

    async def send(self, sender_id: str, replies: list[Reply]) -> None: ...


NEXT_STEP = {"volunteer": Volunteer.NEXT_STEP, "expert": Expert.NEXT_STEP}


FEEDBACK_BUTTONS = (Button(Farmer.SOLVED, '/feedback{"verdict":"helpful"}'),
                    Button(Farmer.NOT_YET, '/feedback{"verdict":"not_helpful"}'),
                    Button(Farmer.UNREACHABLE, '/feedback{"verdict":"unreachable"}'))


def case_line(case: CaseView) -> str:
    """One case as the volunteers' group may see it: number, waiting time, domain and the summary with personal
    numbers and labelled names masked; never the user's own recent words (only their volunteer gets those)."""
    domain = Volunteer.CASE_DOMAIN.format(domain=case.domain) if case.domain else ""
    return Volunteer.CASE_LINE.format(number=case.number, minutes=case.waiting_minutes, domain=domain,
                                      summary=redact(case.summary)[:60])


def case_details(case: CaseView) -> str:
    """The whole case for the volunteer who claimed it, in their private chat: summary and recent words."""
    said = "\n".join(Volunteer.SAID_LINE.format(text=text) for text in case.last_messages) or Volunteer.NOTHING_SAID
    return Volunteer.CASE_DETAILS.format(number=case.number, summary=case.summary or Volunteer.NO_SUMMARY, said=said)


def claim_button(number: int) -> Button:
    """接手 #N: claims the case (from the queue, or from the announcement in the volunteers' group)."""
    return Button(Volunteer.CLAIM_BUTTON.format(number=number), f"/claim {number}")


def case_number(text: str) -> int | None:
    """A case number as typed (12, #12, full-width １２); None for anything else, and for numbers too big
    for any case (the database refuses integers past 64 bits, and a volunteer deserves a usage line)."""
    digits = text.strip().lstrip("#")
    return int(digits) if digits.isdecimal() and len(digits) <= 9 else None


@dataclass
class Desk:
    """Role commands and handoff relay; the adapter maps its commands and events here."""

    roles: Roles
    handoffs: Handoffs
    outbound: Outbound
    volunteer_chat: str = ""
    remind_after: timedelta = timedelta(minutes=30)

    async def redeem(self, sender_id: str, code: str) -> list[Reply]:
        """/role CODE: the one way to become a chair or a volunteer."""
        grant = await asyncio.to_thread(self.roles.redeem, sender_id, code)
        if grant is None:
            return [Reply(Staff.CODE_REFUSED)]
        return [Reply(Staff.GRANTED.format(title=ROLES[grant.role], next_step=NEXT_STEP.get(grant.role, "")))]

    async def _is_volunteer(self, sender_id: str) -> bool:
        return await asyncio.to_thread(self.roles.grant_of, sender_id, "volunteer") is not None

    async def queue(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/queue: open cases, oldest first."""
        if not await self._is_volunteer(sender_id):
            return [Reply(Volunteer.NOT_ALLOWED)]
        cases = await asyncio.to_thread(self.handoffs.queue)
        if not cases:
            return [Reply(Volunteer.QUEUE_EMPTY)]
        return [Reply(Volunteer.QUEUE.format(cases="\n".join(case_line(c) for c in cases)),
                      buttons=tuple(claim_button(c.number) for c in cases[:5]))]

    async def claim(self, sender_id: str, argument: str) -> list[Reply]:
        """/claim N: take a case; the user is told, and their messages now come to this volunteer."""
        if not await self._is_volunteer(sender_id):
            return [Reply(Volunteer.NOT_ALLOWED)]
        number = case_number(argument)
        if number is None:
            return [Reply(Volunteer.CLAIM_USAGE)]
        user = await asyncio.to_thread(self.handoffs.claim, number, sender_id)
        if user is None:
            return [Reply(Volunteer.CLAIM_MISSING.format(number=number))]
        await asyncio.to_thread(self.roles.audit, sender_id, "claim_case", str(number))
        await self.outbound.send(user, [Reply(Farmer.CASE_CLAIMED.format(number=number))])
        claimed = Volunteer.CLAIMED.format(number=number)
        if not await self._brief(sender_id, number):
            claimed += Volunteer.NOT_BRIEFED
        return [Reply(claimed)]

    async def _brief(self, volunteer: str, number: int) -> bool:
        """The user's recent words go to the claiming volunteer's private chat, never to where /claim was
        typed (in the volunteers' group everyone would read them). False when that chat cannot be reached
        (a volunteer who never wrote to the bot privately): the claim stands, and they are told."""
        case = await asyncio.to_thread(self.handoffs.view, number)
        try:
            await self.outbound.send(volunteer, [Reply(case_details(case))] if case else [])
        except Exception:
            log.warning("could not brief volunteer %s on case %s", volunteer, number, exc_info=True)
            return False
        return True

    async def done(self, sender_id: str, argument: str) -> list[Reply]:
        """/done N note: close the case, hand the user back to the assistant and ask for feedback."""
        if not await self._is_volunteer(sender_id):
            return [Reply(Volunteer.NOT_ALLOWED)]
        number_text, _, note = argument.strip().partition(" ")
        number = case_number(number_text)
        if number is None:
            return [Reply(Volunteer.DONE_USAGE)]
        user = await asyncio.to_thread(self.handoffs.close, number, note, sender_id)
        if user is None:
            return [Reply(Volunteer.DONE_NOT_YOURS.format(number=number))]
        await asyncio.to_thread(self.roles.audit, sender_id, "close_case", f"{number} {note}")
        await self.outbound.send(user, [Reply(Farmer.CASE_DONE.format(number=number), buttons=FEEDBACK_BUTTONS)])
        return [Reply(Volunteer.CLOSED.format(number=number))]

    async def intercept(self, sender_id: str, text: str) -> list[Reply] | None:
        """Messages that must not reach the dialogue: a user in a handoff, or a volunteer talking in a case.

        Returns the replies for the sender, or None when the message is the dialogue's to answer.
        """
        active = await asyncio.to_thread(self.handoffs.active_case_of, sender_id)
        if active is not None:
            return await self._from_user_in_case(sender_id, text, *active)
        number = await asyncio.to_thread(self.handoffs.claimed_by, sender_id)
        if number is not None and not text.startswith("/"):
            user_case = await asyncio.to_thread(self.handoffs.user_of, number)
            await asyncio.to_thread(self.handoffs.add_message, number, "volunteer", text)
            if user_case is not None:
                await self.outbound.send(user_case, [Reply(Farmer.FROM_VOLUNTEER.format(text=text))])
            return []
        return None

    async def _from_user_in_case(self, sender_id: str, text: str, number: int, status: str,
                                 volunteer: str | None) -> list[Reply]:
        if text in ("/cancel", "/deny"):
            await asyncio.to_thread(self.handoffs.close, number, Volunteer.CANCELLED_NOTE)
            if volunteer:
                await self.outbound.send(volunteer, [Reply(Volunteer.USER_CANCELLED.format(number=number))])
            return [Reply(Farmer.CASE_CANCELLED.format(number=number))]
        await asyncio.to_thread(self.handoffs.add_message, number, "user", text)
        if status == "claimed" and volunteer:
            await self.outbound.send(volunteer, [Reply(Volunteer.FROM_USER.format(number=number, text=text))])
            return []
        return [Reply(Farmer.CASE_WAITING.format(number=number))]

    async def announce(self) -> int:
        """Tell the volunteers about new cases and cases still unclaimed after the reminder time."""
        cases = await asyncio.to_thread(self.handoffs.to_announce, self.remind_after)
        if not cases:
            return 0
        for case in cases:
            await self._tell_volunteers(Reply(Volunteer.NEW_CASE.format(case=case_line(case)),
                                              buttons=(claim_button(case.number),)))
        return len(cases)

    async def unreachable(self, person: str, waiting: int) -> None:
        """Tell the volunteers that an app refuses to deliver to ``person`` until they write again (WeChat's
        48-hour window): ``waiting`` messages are kept for then, and only a human can reach them sooner
        (a phone call). Named with their case number when they are in one, so the volunteer knows whom."""
        active = await asyncio.to_thread(self.handoffs.active_case_of, person)
        case = Volunteer.UNREACHABLE_CASE.format(number=active[0]) if active else ""
        await self._tell_volunteers(Reply(Volunteer.UNREACHABLE.format(person=person, case=case, count=waiting)))

    async def _tell_volunteers(self, reply: Reply) -> None:
        """To the volunteers' group when there is one, else to every volunteer privately."""
        targets = [self.volunteer_chat] if self.volunteer_chat else await asyncio.to_thread(self.roles.holders,
                                                                                             "volunteer")
        for target in targets:
            await self.outbound.send(target, [reply])
