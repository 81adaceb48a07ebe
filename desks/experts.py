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
from typing import Any

from core.dialogue import Button, Reply
from desks.volunteers import Outbound, case_number
from exchange.api import Exchange
from exchange.errors import ExchangeError
from exchange.matching.knowledge import taxonomy
from exchange.models import utcnow
from store.expert_cases import CaseView, ExpertCases
from store.handoffs import Handoffs
from store.photos import NeedPhotos
from store.roles import Roles

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)
NOT_EXPERT = "这个命令只有科技专家能用。请找管理员要一次性授权码，然后发送：/role 授权码"
NOT_YOURS = "案件 #{number} 不在你这里，或者已经处理过了。发 /mine 看看你手上的需求。"
OUTCOME_BUTTONS = (("解决了", "resolved"), ("还没有", "not_yet"), ("没联系上", "unreachable"))
OUTCOME_THANKS = {"resolved": "太好了 🎉 谢谢反馈！有新问题随时找我。",
                  "not_yet": "好的，你的需求重新打开了。可以重新描述问题换一批专家，或者找志愿者帮忙。"}
OUTCOME_TO_EXPERT = {"resolved": "#{number} 农户反馈：问题解决了 👍 谢谢你！",
                     "not_yet": "#{number} 农户反馈：问题还没解决，需求已重新打开。",
                     "unreachable": "#{number} 农户反馈：没联系上，需求已转给其他专家。"}


def _number(argument: str) -> int | None:
    """The case number at the start of a command's argument (12, #12, １２)."""
    return case_number(argument.strip().split(" ")[0]) if argument.strip() else None


def offer_text(case: CaseView, request: dict) -> str:
    """What an expert sees of a need: text, domains, place, and the farmer only if they agreed."""
    need = request["need"]
    domains = "、".join(taxonomy()[d].name for d in need["domains"] if d in taxonomy()) or "未分类"
    farmer = request["farmer"]
    who = f"{farmer['name']}（同意提供联系方式）" if farmer else "农户（未公开联系方式，可通过我转达）"
    return (f"📋 新的求助 #{case.number}\n领域：{domains}\n地点：{need['region'] or '未说明'}\n"
            f"求助人：{who}\n内容：{need['text']}")


def offer_buttons(number: int) -> tuple[Button, ...]:
    """接受 / 转给同行 / 暂不方便 for one case."""
    return (Button("接受", f"/accept {number}"), Button("转给同行", f"/pass {number}"),
            Button("暂不方便", f"/decline {number}"))


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

    async def _ask(self, method: str, *args: Any) -> Any:
        """One exchange operation off the event loop."""
        return await asyncio.to_thread(getattr(self.exchange, method), *args)

    async def _store(self, method: str, *args: Any) -> Any:
        return await asyncio.to_thread(getattr(self.cases, method), *args)

    def commands(self) -> dict:
        """The commands this desk answers (experts', and the farmer's follow-up buttons)."""
        return {"/mine": self.mine, "/pause": self.pause, "/resume": self.resume, "/capacity": self.capacity,
                "/serve": self.serve, "/accept": self.accept, "/pass": self.pass_on, "/decline": self.decline,
                "/talk": self.talk, "/end": self.end, "/outcome": self.outcome}

    # ----- the expert's commands ---------------------------------------------------------------
    async def mine(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/mine: open requests and conversations with their age, and whether new ones come."""
        expert_id = await self._store("expert_of", sender_id)
        if expert_id is None:
            return [Reply(NOT_EXPERT)]
        expert = await self._ask("get_expert", expert_id, True)  # the operator's view: availability is not public
        state = (f"正在接收新需求（最多同时 {expert['capacity']} 个）" if expert["accepting"]
                 else "已暂停接收新需求（发 /resume 恢复）")
        cases = await self._store("of_expert", sender_id)
        if not cases:
            return [Reply(f"{state}。\n现在手上没有需求。")]
        lines = [f"#{c.number}（{'待回复' if c.status == 'offered' else '对话中'}，{c.age_hours:.0f} 小时前）"
                 f"{c.summary[:40]}" for c in cases]
        buttons = [b for c in cases if c.status == "offered" for b in offer_buttons(c.number)[:1]]
        buttons += [Button(f"和 #{c.number} 对话", f"/talk {c.number}") for c in cases if c.status == "accepted"]
        return [Reply(f"{state}。\n你手上的需求：\n" + "\n".join(lines), buttons=tuple(buttons[:8]))]

    async def _set_availability(self, sender_id: str, changes: dict, done: str) -> list[Reply]:
        expert_id = await self._store("expert_of", sender_id)
        if expert_id is None:
            return [Reply(NOT_EXPERT)]
        try:
            await self._ask("set_expert_availability", expert_id, changes)
        except ExchangeError as error:
            return [Reply(error.message)]
        await asyncio.to_thread(self.roles.audit, sender_id, "expert_availability", str(changes))
        return [Reply(done)]

    async def pause(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/pause: no new requests until /resume (the ones in hand go on)."""
        return await self._set_availability(sender_id, {"accepting": False},
                                            "已暂停接收新需求，手上的需求照常。恢复时发 /resume。")

    async def resume(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/resume: new requests come again."""
        return await self._set_availability(sender_id, {"accepting": True}, "已恢复接收新需求 👍")

    async def capacity(self, sender_id: str, argument: str) -> list[Reply]:
        """/capacity N: at most N open requests at a time."""
        number = _number(argument)
        if number is None:
            return [Reply("用法：/capacity 数量，例如 /capacity 5（最多同时处理 5 个需求）")]
        return await self._set_availability(sender_id, {"capacity": number}, f"好的，最多同时处理 {number} 个需求。")

    async def serve(self, sender_id: str, argument: str) -> list[Reply]:
        """/serve 县或乡镇…: only needs from these places; /serve 全部: anywhere."""
        places = argument.replace("，", " ").replace("、", " ").split()
        if not places:
            return [Reply("用法：/serve 地名，例如 /serve 岳池县 武胜县；不限地区发 /serve 全部")]
        chosen = [] if places == ["全部"] else places[:50]
        done = "好的，全省的需求都可以发给你。" if not chosen else "好的，只给你发这些地方的需求：" + "、".join(chosen)
        return await self._set_availability(sender_id, {"serves": chosen}, done)

    async def _own_case(self, sender_id: str, argument: str, status: str) -> CaseView | Reply:
        number = _number(argument)
        if number is None:
            return Reply("请在命令后写上案件号，例如 /accept 12")
        case = await self._store("get", number)
        if case is None or case.expert_chat != sender_id or case.status != status:
            return Reply(NOT_YOURS.format(number=number))
        return case

    async def accept(self, sender_id: str, argument: str) -> list[Reply]:
        """接受: the two are connected (contacts when both agreed, else messages relayed)."""
        case = await self._own_case(sender_id, argument, "offered")
        if isinstance(case, Reply):
            return [case]
        try:
            step = await self._ask("answer_contact", case.request_id, "accept")
        except ExchangeError as error:
            return [Reply(f"没能接受：{error.message}")]
        await self._store("accept", case.number, sender_id)
        await asyncio.to_thread(self.roles.audit, sender_id, "expert_accept", str(case.number))
        request = step["request"]
        farmer, expert = request["farmer"], request["expert"]
        both = bool(farmer and expert["phone"])
        to_farmer = (f"好消息！专家 {expert['name']} 接受了你的需求（案件号 {case.number}）。"
                     + (f"TA 的电话：{expert['phone']}。" if both else "")
                     + "你在这里发的消息会转给 TA。")
        await self.outbound.send(case.farmer, [Reply(to_farmer, buttons=(Button("结束对话", f"/end {case.number}"),))])
        contact = f"农户 {farmer['name']} 的电话：{farmer['phone']}。" if both else "农户的联系方式不公开。"
        return [Reply(f"你已接受 #{case.number}。{contact}你在这里发的消息会转给农户；"
                      f"有几个对话时，用 /talk 案件号 切换。")]

    async def _hand_back(self, sender_id: str, argument: str, answer: str, told: str) -> list[Reply]:
        case = await self._own_case(sender_id, argument, "offered")
        if isinstance(case, Reply):
            return [case]
        try:
            step = await self._ask("answer_contact", case.request_id, answer)
        except ExchangeError as error:
            return [Reply(f"没能转出：{error.message}")]
        await self._store("close", case.number, step["request"]["status"])
        await asyncio.to_thread(self.roles.audit, sender_id, f"expert_{answer}", str(case.number))
        await self._hand_on(case, step["next"], "这位专家暂时不方便")
        return [Reply(told.format(number=case.number))]

    async def pass_on(self, sender_id: str, argument: str) -> list[Reply]:
        """转给同行: the next-best expert is offered the need."""
        return await self._hand_back(sender_id, argument, "pass", "好的，#{number} 已转给同行专家。")

    async def decline(self, sender_id: str, argument: str) -> list[Reply]:
        """暂不方便: declined; the next-best expert is offered the need."""
        return await self._hand_back(sender_id, argument, "decline", "好的，#{number} 已转给其他专家。谢谢！")

    async def talk(self, sender_id: str, argument: str) -> list[Reply]:
        """/talk N: messages now go to the farmer of case N."""
        number = _number(argument)
        case = await self._store("focus", sender_id, number) if number is not None else None
        if case is None:
            return [Reply(NOT_YOURS.format(number=number or "?"))]
        return [Reply(f"现在和 #{case.number} 的农户对话：{case.summary[:40]}")]

    # ----- the farmer's side -------------------------------------------------------------------
    async def end(self, sender_id: str, argument: str) -> list[Reply]:
        """结束对话: the relay stops and the farmer is asked how it went."""
        case = await self._store("talking_with_farmer", sender_id)
        if case is None:
            return [Reply("现在没有和专家的对话。")]
        await self._store("mark", case.number, "followed_up_at")
        return [Reply(f"好的。专家帮你看的问题（案件号 {case.number}）解决了吗？",
                      buttons=outcome_buttons(case.number))]

    async def outcome(self, sender_id: str, argument: str) -> list[Reply]:
        """解决了 / 还没有 / 没联系上: the exchange moves the need along, the expert hears it."""
        number, _, outcome = argument.strip().partition(" ")
        case = await self._store("get", _number(number) or 0)
        if case is None or case.farmer != sender_id or case.status != "accepted" or outcome not in OUTCOME_TO_EXPERT:
            return [Reply("这个反馈已经收到过了，谢谢！")]
        try:
            step = await self._ask("record_outcome", case.request_id, outcome)
        except ExchangeError as error:
            return [Reply(f"反馈没能记下：{error.message}")]
        await self._store("close", case.number)
        if case.expert_chat:
            await self.outbound.send(case.expert_chat, [Reply(OUTCOME_TO_EXPERT[outcome].format(number=case.number))])
        if outcome == "unreachable":
            return await self._hand_on(case, step["next"], "抱歉没联系上", notify=False)
        return [Reply(OUTCOME_THANKS[outcome])]

    async def _hand_on(self, case: CaseView, following: dict | None, why: str, notify: bool = True) -> list[Reply]:
        """Tell the farmer who has the need now: the next expert, or a volunteer when no expert is left."""
        if following is not None:
            chat = await self._store("chat_of", following["expert_id"])
            if chat is not None:
                number = await self._store("open", following, case.farmer, chat)
                replies = [Reply(f"{why}，已转给专家 {following['expert']['name']}（案件号 {number}），"
                                 "TA 接受后我马上告诉你。")]
                await self.deliver()
                return await self._tell(case.farmer, replies, notify)
            summary = (f"请帮忙联系专家 {following['expert']['name']}（{following['expert_id']}）。"
                       f"需求 {case.need_id}：{case.summary}")
        else:
            summary = f"没有专家接手需求 {case.need_id}：{case.summary}"
        ticket = await asyncio.to_thread(self.handoffs.open_case, case.farmer, "no_expert", summary)
        replies = [Reply(f"{why}，我已请志愿者帮你跟进（案件号 {ticket.number}，排第 {ticket.position} 位，"
                         f"大约等 {ticket.wait_minutes} 分钟）。")]
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
        case = await self._store("talking_with_farmer", sender_id)
        if case is not None and case.expert_chat:
            await self.outbound.send(case.expert_chat, [Reply(f"#{case.number} 农户：{text}")])
            return []
        case = await self._store("current_of_expert", sender_id)
        if case is not None:
            expert = await self._ask("get_expert", case.expert_id)
            await self.outbound.send(case.farmer, [Reply(f"专家 {expert['name']}：{text}",
                                                         buttons=(Button("结束对话", f"/end {case.number}"),))])
            return []
        return None

    async def take_photo(self, sender_id: str, file_ref: str) -> list[Reply] | None:
        """A farmer's photo goes to the expert they are talking with, else it joins their need; None when it
        waits for the need the farmer has yet to describe."""
        case = await self._store("talking_with_farmer", sender_id)
        if case is not None and case.expert_chat:
            await self.outbound.send(case.expert_chat, [Reply(f"#{case.number} 农户发来照片", image=file_ref)])
            return []
        need_id = await asyncio.to_thread(self.photos.attach, sender_id, file_ref)
        if need_id:
            return [Reply(f"收到照片 📷 已附在你的需求（编号 {need_id}）上，专家会一起看到。")]
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
        return await self._each(await self._store("to_deliver"), self._deliver_one)

    async def _deliver_one(self, case: CaseView) -> None:
        request = await self._ask("get_contact", case.request_id)
        photos = await asyncio.to_thread(self.photos.of_need, case.need_id)
        await self.outbound.send(case.expert_chat, [Reply(image=ref) for ref in photos] +
                                 [Reply(offer_text(case, request), buttons=offer_buttons(case.number))])
        await self._store("mark", case.number, "delivered_at")

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
            await self.outbound.send(case.expert_chat, [Reply(
                f"⏰ 提醒：求助 #{case.number} 还在等你回复（{case.summary[:40]}）。"
                f"{hours} 小时内没有回复，会转给其他专家。", buttons=offer_buttons(case.number))])
            await self._store("mark", case.number, "reminded_at", now)

        return await self._each(await self._store("due", "offered", "reminded_at", "delivered_at", self.remind_after,
                                                  now), remind)

    async def _time_out(self, now: datetime) -> int:
        async def time_out(case: CaseView) -> None:
            step = await self._ask("answer_contact", case.request_id, "timeout")
            await self._store("close", case.number, "expired")
            await self._hand_on(case, step["next"], "专家一直没回复")
            await self.outbound.send(case.expert_chat, [Reply(f"求助 #{case.number} 超时未回复，已转给其他专家。")])

        return await self._each(await self._store("due", "offered", "closed_at", "delivered_at", self.answer_within,
                                                  now), time_out)

    async def _follow_up(self, now: datetime) -> int:
        async def follow_up(case: CaseView) -> None:
            await self.outbound.send(case.farmer, [Reply(f"你好！专家帮你看的问题（案件号 {case.number}：{case.summary[:30]}）"
                                                         "解决了吗？", buttons=outcome_buttons(case.number))])
            await self._store("mark", case.number, "followed_up_at", now)

        return await self._each(await self._store("due", "accepted", "followed_up_at", "accepted_at",
                                                  self.follow_up_after, now), follow_up)

    async def _summarise(self, now: datetime) -> int:
        sent = 0
        for chat, expert_id, last in await self._store("linked_experts"):
            if last > now - WEEK:
                continue
            summary = await self._ask("expert_summary", expert_id, now - WEEK)
            await self.outbound.send(chat, [Reply(
                f"📊 本周小结：收到 {summary['received']} 个求助，接受 {summary['accepted']} 个，"
                f"已解决 {summary['resolved']} 个。谢谢你帮助乡亲们！发 /mine 查看手上的需求。")])
            await self._store("mark_summary_sent", chat, now)
            sent += 1
        return sent
