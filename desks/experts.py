"""Experts in the loop, channel-neutral: a 联系TA becomes an offer in the expert's chat, an accepted
offer becomes a conversation relayed through the bot, and every need ends with the farmer's answer.

Time is kept by ``tick(now)``: deliver new offers, remind once, pass an unanswered offer to the
next-best expert, ask the farmer how it went, and send experts their weekly summary. The clock is a
parameter, so tests move it instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import utcnow
from core.dialogue import Button, Reply
from core.texts import Expert, Farmer, Volunteer
from desks.volunteers import Outbound, case_number
from exchange.api import Contact, Exchange
from exchange.errors import ExchangeError
from exchange.matching.knowledge import taxonomy
from store.expert_cases import CaseView, ExpertCases
from store.handoffs import Handoffs
from store.photos import NeedPhotos
from store.roles import Roles

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)
OUTCOME_BUTTONS = ((Farmer.SOLVED, "resolved"), (Farmer.NOT_YET, "not_yet"), (Farmer.UNREACHABLE, "unreachable"))


def _number(argument: str) -> int | None:
    """The case number at the start of a command's argument (12, #12, １２)."""
    return case_number(argument.strip().split(" ")[0]) if argument.strip() else None


def offer_text(case: CaseView, request: Contact) -> str:
    """What an expert sees of a need: text, domains, place, and the farmer only if they agreed."""
    need = request["need"]
    domains = "、".join(taxonomy()[d].name for d in need["domains"] if d in taxonomy()) or Expert.UNCLASSIFIED
    farmer = request["farmer"]
    who = Expert.FARMER_NAMED.format(name=farmer["name"]) if farmer else Expert.FARMER_UNNAMED
    return Expert.OFFER.format(number=case.number, domains=domains, region=need["region"] or Expert.PLACE_UNSAID,
                               who=who, text=need["text"])


def offer_buttons(number: int) -> tuple[Button, ...]:
    """接受 / 转给同行 / 暂不方便 for one case."""
    return (Button(Expert.ACCEPT, f"/accept {number}"), Button(Expert.PASS, f"/pass {number}"),
            Button(Expert.DECLINE, f"/decline {number}"))


def end_button(number: int) -> Button:
    """结束对话: the farmer ends the relay with their expert (and is asked how it went)."""
    return Button(Farmer.END_TALK, f"/end {number}")


def outcome_buttons(number: int) -> tuple[Button, ...]:
    """解决了 / 还没有 / 没联系上 for one case."""
    return tuple(Button(title, f"/outcome {number} {outcome}") for title, outcome in OUTCOME_BUTTONS)


@dataclass
class ExpertDesk:
    """Expert commands, the farmer ↔ expert relay, and the clock-driven follow-through."""

    cases: ExpertCases
    exchange: Exchange
    roles: Roles
    handoffs: Handoffs
    photos: NeedPhotos
    outbound: Outbound
    remind_after: timedelta = timedelta(hours=12)
    answer_within: timedelta = timedelta(hours=24)
    follow_up_after: timedelta = timedelta(days=3)

    # ----- the expert's commands ---------------------------------------------------------------
    async def mine(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/mine: open requests and conversations with their age, and whether new ones come."""
        expert_id = await asyncio.to_thread(self.cases.expert_of, sender_id)
        if expert_id is None:
            return [Reply(Expert.NOT_EXPERT)]
        # the operator's view: availability is not public
        expert = await asyncio.to_thread(self.exchange.get_expert, expert_id, True)
        state = (Expert.ACCEPTING.format(capacity=expert["capacity"]) if expert["accepting"]
                 else Expert.NOT_ACCEPTING)
        cases = await asyncio.to_thread(self.cases.of_expert, sender_id)
        if not cases:
            return [Reply(Expert.NOTHING_IN_HAND.format(state=state))]
        lines = [Expert.CASE_LINE.format(number=c.number, hours=c.age_hours, summary=c.summary[:40],
                                         status=Expert.OFFERED if c.status == "offered" else Expert.TALKING)
                 for c in cases]
        buttons = [b for c in cases if c.status == "offered" for b in offer_buttons(c.number)[:1]]
        buttons += [Button(Expert.TALK_BUTTON.format(number=c.number), f"/talk {c.number}")
                    for c in cases if c.status == "accepted"]
        return [Reply(Expert.IN_HAND.format(state=state, cases="\n".join(lines)), buttons=tuple(buttons[:8]))]

    async def _set_availability(self, sender_id: str, changes: dict, done: str) -> list[Reply]:
        expert_id = await asyncio.to_thread(self.cases.expert_of, sender_id)
        if expert_id is None:
            return [Reply(Expert.NOT_EXPERT)]
        try:
            await asyncio.to_thread(self.exchange.set_expert_availability, expert_id, changes)
        except ExchangeError as error:
            return [Reply(error.message)]
        await asyncio.to_thread(self.roles.audit, sender_id, "expert_availability", str(changes))
        return [Reply(done)]

    async def pause(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/pause: no new requests until /resume (the ones in hand go on)."""
        return await self._set_availability(sender_id, {"accepting": False}, Expert.PAUSED)

    async def resume(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/resume: new requests come again."""
        return await self._set_availability(sender_id, {"accepting": True}, Expert.RESUMED)

    async def capacity(self, sender_id: str, argument: str) -> list[Reply]:
        """/capacity N: at most N open requests at a time."""
        number = _number(argument)
        if number is None:
            return [Reply(Expert.CAPACITY_USAGE)]
        return await self._set_availability(sender_id, {"capacity": number}, Expert.CAPACITY_SET.format(number=number))

    async def serve(self, sender_id: str, argument: str) -> list[Reply]:
        """/serve 县或乡镇…: only needs from these places; /serve 全部: anywhere."""
        places = argument.replace("，", " ").replace("、", " ").split()
        if not places:
            return [Reply(Expert.SERVE_USAGE)]
        chosen = [] if places == [Expert.SERVE_EVERYWHERE_WORD] else places[:50]
        done = Expert.SERVE_ONLY.format(places="、".join(chosen)) if chosen else Expert.SERVE_EVERYWHERE
        return await self._set_availability(sender_id, {"serves": chosen}, done)

    async def _own_case(self, sender_id: str, argument: str, status: str) -> CaseView | Reply:
        number = _number(argument)
        if number is None:
            return Reply(Expert.CASE_NUMBER_MISSING)
        case = await asyncio.to_thread(self.cases.get, number)
        if case is None or case.expert_chat != sender_id or case.status != status:
            return Reply(Expert.NOT_YOURS.format(number=number))
        return case

    async def accept(self, sender_id: str, argument: str) -> list[Reply]:
        """接受: the two are connected (contacts when both agreed, else messages relayed)."""
        case = await self._own_case(sender_id, argument, "offered")
        if isinstance(case, Reply):
            return [case]
        try:
            step = await asyncio.to_thread(self.exchange.answer_contact, case.request_id, "accept")
        except ExchangeError as error:
            return [Reply(Expert.NOT_ACCEPTED.format(reason=error.message))]
        await asyncio.to_thread(self.cases.accept, case.number, sender_id)
        await asyncio.to_thread(self.roles.audit, sender_id, "expert_accept", str(case.number))
        request = step["request"]
        farmer, expert = request["farmer"], request["expert"]
        both = bool(farmer and expert["phone"])
        phone = Farmer.EXPERT_PHONE.format(phone=expert["phone"]) if both else ""
        to_farmer = Farmer.EXPERT_ACCEPTED.format(name=expert["name"], number=case.number, phone=phone)
        await self.outbound.send(case.farmer, [Reply(to_farmer, buttons=(end_button(case.number),))])
        contact = Expert.FARMER_PHONE.format(name=farmer["name"], phone=farmer["phone"]) if farmer and both \
            else Expert.FARMER_HIDDEN
        return [Reply(Expert.ACCEPTED.format(number=case.number, contact=contact))]

    async def _hand_back(self, sender_id: str, argument: str, answer: str, told: str) -> list[Reply]:
        case = await self._own_case(sender_id, argument, "offered")
        if isinstance(case, Reply):
            return [case]
        try:
            step = await asyncio.to_thread(self.exchange.answer_contact, case.request_id, answer)
        except ExchangeError as error:
            return [Reply(Expert.NOT_PASSED.format(reason=error.message))]
        await asyncio.to_thread(self.cases.close, case.number, step["request"]["status"])
        await asyncio.to_thread(self.roles.audit, sender_id, f"expert_{answer}", str(case.number))
        await self._hand_on(case, step["next"], Farmer.EXPERT_BUSY)
        return [Reply(told.format(number=case.number))]

    async def pass_on(self, sender_id: str, argument: str) -> list[Reply]:
        """转给同行: the next-best expert is offered the need."""
        return await self._hand_back(sender_id, argument, "pass", Expert.PASSED)

    async def decline(self, sender_id: str, argument: str) -> list[Reply]:
        """暂不方便: declined; the next-best expert is offered the need."""
        return await self._hand_back(sender_id, argument, "decline", Expert.DECLINED)

    async def talk(self, sender_id: str, argument: str) -> list[Reply]:
        """/talk N: messages now go to the farmer of case N."""
        number = _number(argument)
        case = await asyncio.to_thread(self.cases.focus, sender_id, number) if number is not None else None
        if case is None:
            return [Reply(Expert.NOT_YOURS.format(number=number or "?"))]
        return [Reply(Expert.TALKING_WITH.format(number=case.number, summary=case.summary[:40]))]

    # ----- the farmer's side -------------------------------------------------------------------
    async def end(self, sender_id: str, argument: str) -> list[Reply]:
        """结束对话: the relay stops and the farmer is asked how it went."""
        case = await asyncio.to_thread(self.cases.talking_with_farmer, sender_id)
        if case is None:
            return [Reply(Farmer.NO_EXPERT_TALK)]
        await asyncio.to_thread(self.cases.mark, case.number, "followed_up_at")
        return [Reply(Farmer.ASK_OUTCOME.format(number=case.number), buttons=outcome_buttons(case.number))]

    async def outcome(self, sender_id: str, argument: str) -> list[Reply]:
        """解决了 / 还没有 / 没联系上: the exchange moves the need along, the expert hears it."""
        number, _, outcome = argument.strip().partition(" ")
        case = await asyncio.to_thread(self.cases.get, _number(number) or 0)
        if case is None or case.farmer != sender_id or case.status != "accepted" or outcome not in Expert.OUTCOME:
            return [Reply(Farmer.OUTCOME_KNOWN)]
        try:
            step = await asyncio.to_thread(self.exchange.record_outcome, case.request_id, outcome)
        except ExchangeError as error:
            return [Reply(Farmer.OUTCOME_NOT_KEPT.format(reason=error.message))]
        await asyncio.to_thread(self.cases.close, case.number)
        if case.expert_chat:
            await self.outbound.send(case.expert_chat, [Reply(Expert.OUTCOME[outcome].format(number=case.number))])
        if outcome == "unreachable":
            return await self._hand_on(case, step["next"], Farmer.EXPERT_UNREACHABLE, notify=False)
        return [Reply(Farmer.OUTCOME_THANKS[outcome])]

    async def _hand_on(self, case: CaseView, following: Contact | None, why: str, notify: bool = True) -> list[Reply]:
        """Tell the farmer who has the need now: the next expert, or a volunteer when no expert is left."""
        if following is not None:
            chat = await asyncio.to_thread(self.cases.chat_of, following["expert_id"])
            if chat is not None:
                number = await asyncio.to_thread(self.cases.open, following, case.farmer, chat)
                name = following["expert"]["name"]
                replies = [Reply(Farmer.PASSED_TO_EXPERT.format(why=why, name=name, number=number))]
                await self.deliver()
                return await self._tell(case.farmer, replies, notify)
            summary = Volunteer.CONTACT_EXPERT.format(name=following["expert"]["name"],
                                                      expert_id=following["expert_id"], need_id=case.need_id,
                                                      summary=case.summary)
        else:
            summary = Volunteer.NO_EXPERT_LEFT.format(need_id=case.need_id, summary=case.summary)
        ticket = await asyncio.to_thread(self.handoffs.open_case, case.farmer, "no_expert", summary)
        replies = [Reply(Farmer.PASSED_TO_VOLUNTEER.format(why=why, number=ticket.number, position=ticket.position,
                                                           minutes=ticket.wait_minutes))]
        return await self._tell(case.farmer, replies, notify)

    async def _tell(self, farmer: str, replies: list[Reply], notify: bool) -> list[Reply]:
        if notify:
            await self.outbound.send(farmer, replies)
            return []
        return replies

    # ----- relay -------------------------------------------------------------------------------
    async def intercept(self, sender_id: str, text: str) -> list[Reply] | None:
        """A farmer talking with their expert, or an expert in a conversation: relay, the assistant stays quiet."""
        if text.startswith("/"):
            return None
        case = await asyncio.to_thread(self.cases.talking_with_farmer, sender_id)
        if case is not None and case.expert_chat:
            relayed = Expert.FROM_FARMER.format(number=case.number, text=text)
            await self.outbound.send(case.expert_chat, [Reply(relayed)])
            return []
        case = await asyncio.to_thread(self.cases.current_of_expert, sender_id)
        if case is not None:
            expert = await asyncio.to_thread(self.exchange.get_expert, case.expert_id)
            await self.outbound.send(case.farmer, [Reply(Farmer.FROM_EXPERT.format(name=expert["name"], text=text),
                                                         buttons=(end_button(case.number),))])
            return []
        return None

    async def take_photo(self, sender_id: str, file_ref: str) -> list[Reply] | None:
        """A farmer's photo goes to the expert they are talking with, else it joins their need; None when it
        waits for the need the farmer has yet to describe."""
        case = await asyncio.to_thread(self.cases.talking_with_farmer, sender_id)
        if case is not None and case.expert_chat:
            relayed = Expert.FARMER_PHOTO.format(number=case.number)
            await self.outbound.send(case.expert_chat, [Reply(relayed, image=file_ref)])
            return []
        need_id = await asyncio.to_thread(self.photos.attach, sender_id, file_ref)
        if need_id:
            return [Reply(Farmer.PHOTO_ATTACHED.format(need_id=need_id))]
        return None

    # ----- the clock ---------------------------------------------------------------------------
    async def _each(self, cases: list[CaseView], handle: Callable[[CaseView], Awaitable[None]]) -> int:
        """Handle due cases one by one: one unreachable chat or exchange failure does not hold up the rest
        (the failed case stays due and is tried again on the next tick)."""
        done = 0
        for case in cases:
            try:
                await handle(case)
            except Exception:
                log.warning("expert case %s: will retry on the next tick", case.number, exc_info=True)
            else:
                done += 1
        return done

    async def deliver(self) -> int:
        """Send new offers to their experts' chats."""
        return await self._each(await asyncio.to_thread(self.cases.to_deliver), self._deliver_one)

    async def _to_expert(self, case: CaseView, replies: list[Reply]) -> None:
        """To the case's expert (only a case with the expert's chat is offered: see ``ExpertCases.to_deliver``)."""
        if case.expert_chat is not None:
            await self.outbound.send(case.expert_chat, replies)

    async def _deliver_one(self, case: CaseView) -> None:
        request = await asyncio.to_thread(self.exchange.get_contact, case.request_id)
        photos = await asyncio.to_thread(self.photos.of_need, case.need_id)
        await self._to_expert(case, [Reply(image=ref) for ref in photos] +
                              [Reply(offer_text(case, request), buttons=offer_buttons(case.number))])
        await asyncio.to_thread(self.cases.mark, case.number, "delivered_at")

    async def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Everything that is due at ``now``; returns how many of each were done."""
        now = now or utcnow()
        done = {"delivered": await self.deliver()}
        done["reminded"] = await self._remind(now)
        done["timed_out"] = await self._time_out(now)
        done["followed_up"] = await self._follow_up(now)
        done["summaries"] = await self._summarise(now)
        return done

    async def _remind(self, now: datetime) -> int:
        async def remind(case: CaseView) -> None:
            hours = int((self.answer_within - self.remind_after).total_seconds() // 3600)
            await self._to_expert(case, [Reply(
                Expert.REMINDER.format(number=case.number, summary=case.summary[:40], hours=hours),
                buttons=offer_buttons(case.number))])
            await asyncio.to_thread(self.cases.mark, case.number, "reminded_at", now)

        due = await asyncio.to_thread(self.cases.due, "offered", "reminded_at", "delivered_at", self.remind_after, now)
        return await self._each(due, remind)

    async def _time_out(self, now: datetime) -> int:
        async def time_out(case: CaseView) -> None:
            step = await asyncio.to_thread(self.exchange.answer_contact, case.request_id, "timeout")
            await asyncio.to_thread(self.cases.close, case.number, "expired")
            await self._hand_on(case, step["next"], Farmer.EXPERT_SILENT)
            await self._to_expert(case, [Reply(Expert.TIMED_OUT.format(number=case.number))])

        due = await asyncio.to_thread(self.cases.due, "offered", "closed_at", "delivered_at", self.answer_within, now)
        return await self._each(due, time_out)

    async def _follow_up(self, now: datetime) -> int:
        async def follow_up(case: CaseView) -> None:
            asked = Farmer.FOLLOW_UP.format(number=case.number, summary=case.summary[:30])
            await self.outbound.send(case.farmer, [Reply(asked, buttons=outcome_buttons(case.number))])
            await asyncio.to_thread(self.cases.mark, case.number, "followed_up_at", now)

        due = await asyncio.to_thread(self.cases.due, "accepted", "followed_up_at", "accepted_at",
                                      self.follow_up_after, now)
        return await self._each(due, follow_up)

    async def _summarise(self, now: datetime) -> int:
        sent = 0
        for chat, expert_id, last in await asyncio.to_thread(self.cases.linked_experts):
            if last > now - WEEK:
                continue
            summary = await asyncio.to_thread(self.exchange.expert_summary, expert_id, now - WEEK)
            await self.outbound.send(chat, [Reply(Expert.WEEKLY_SUMMARY.format(
                received=summary["received"], accepted=summary["accepted"], resolved=summary["resolved"]))])
            await asyncio.to_thread(self.cases.mark_summary_sent, chat, now)
            sent += 1
        return sent
