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
from kejibang.privacy import redact
from store.handoffs import CaseView, Handoffs
from store.roles import ROLES, Roles

log = logging.getLogger(__name__)


class Outbound(Protocol):
    """Sends replies to any conversation (a user, a volunteer, the volunteers' group)."""

    async def send(self, sender_id: str, replies: list[Reply]) -> None: ...


NOT_ALLOWED = "这个命令只有科普志愿者能用。请找管理员要一次性授权码，然后发送：/role 授权码"
CODE_REFUSED = "授权码不对，或者已经用过、过期了。请找管理员重新要一个。"
CASE_WAITING = "志愿者还没接手，你说的话已经记下了（案件号 {number}）。不想等了可以发 /cancel。"
CASE_CANCELLED = "好的，已取消人工服务（案件号 {number}）。我继续为你服务，有问题直接说。"
CASE_CLAIMED_USER = "志愿者已经接手你的案件（{number}），接下来的消息会直接转给 TA。"
CASE_DONE_USER = "志愿者已结束这次服务（案件号 {number}）。问题解决了吗？"
NEXT_STEP = {"volunteer": "发 /queue 查看待处理的求助。",
             "expert": "匹配到你的求助会发到这里。发 /mine 查看手上的需求，/pause 暂停接收，/resume 恢复。"}


FEEDBACK_BUTTONS = (Button("解决了", '/feedback{"verdict":"helpful"}'),
                    Button("还没有", '/feedback{"verdict":"not_helpful"}'),
                    Button("没联系上", '/feedback{"verdict":"unreachable"}'))


def case_line(case: CaseView) -> str:
    """One case as the volunteers' group may see it: number, waiting time, domain and the summary with personal
    numbers and labelled names masked; never the user's own recent words (only their volunteer gets those)."""
    domain = f"【{case.domain}】" if case.domain else ""
    return f"#{case.number}（等了 {case.waiting_minutes} 分钟）{domain}{redact(case.summary)[:60]}"


def case_details(case: CaseView) -> str:
    """The whole case for the volunteer who claimed it, in their private chat: summary and recent words."""
    said = "\n".join(f"· {text}" for text in case.last_messages) or "（还没有）"
    return f"#{case.number} 的情况：{case.summary or '（无）'}\n用户最近说：\n{said}"


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
            return [Reply(CODE_REFUSED)]
        return [Reply(f"授权成功：你现在是{ROLES[grant.role]}。" + NEXT_STEP.get(grant.role, ""))]

    async def _is_volunteer(self, sender_id: str) -> bool:
        return await asyncio.to_thread(self.roles.grant_of, sender_id, "volunteer") is not None

    async def queue(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/queue: open cases, oldest first."""
        if not await self._is_volunteer(sender_id):
            return [Reply(NOT_ALLOWED)]
        cases = await asyncio.to_thread(self.handoffs.queue)
        if not cases:
            return [Reply("现在没有待处理的求助 👍")]
        return [Reply("待处理的求助（最早的在前）：\n" + "\n".join(case_line(c) for c in cases),
                      buttons=tuple(Button(f"接手 #{c.number}", f"/claim {c.number}") for c in cases[:5]))]

    async def claim(self, sender_id: str, argument: str) -> list[Reply]:
        """/claim N: take a case; the user is told, and their messages now come to this volunteer."""
        if not await self._is_volunteer(sender_id):
            return [Reply(NOT_ALLOWED)]
        number = case_number(argument)
        if number is None:
            return [Reply("用法：/claim 案件号，例如 /claim 12")]
        user = await asyncio.to_thread(self.handoffs.claim, number, sender_id)
        if user is None:
            return [Reply(f"案件 #{number} 不存在，或者已经有人接手了。")]
        await asyncio.to_thread(self.roles.audit, sender_id, "claim_case", str(number))
        await self.outbound.send(user, [Reply(CASE_CLAIMED_USER.format(number=number))])
        claimed = f"你已接手 #{number}。直接发消息就会转给用户；结束时发 /done {number} 处理说明。"
        if not await self._brief(sender_id, number):
            claimed += "\n（没能私聊你，用户说的话你收不到：请先私聊我一次。）"
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
            return [Reply(NOT_ALLOWED)]
        number_text, _, note = argument.strip().partition(" ")
        number = case_number(number_text)
        if number is None:
            return [Reply("用法：/done 案件号 处理说明，例如 /done 12 已电话指导用药")]
        user = await asyncio.to_thread(self.handoffs.close, number, note, sender_id)
        if user is None:
            return [Reply(f"案件 #{number} 不是你在处理的案件，或者已经关闭了。")]
        await asyncio.to_thread(self.roles.audit, sender_id, "close_case", f"{number} {note}")
        await self.outbound.send(user, [Reply(CASE_DONE_USER.format(number=number), buttons=FEEDBACK_BUTTONS)])
        return [Reply(f"#{number} 已关闭。")]

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
            await self.outbound.send(user_case, [Reply(f"志愿者：{text}")])
            return []
        return None

    async def _from_user_in_case(self, sender_id: str, text: str, number: int, status: str,
                                 volunteer: str | None) -> list[Reply]:
        if text in ("/cancel", "/deny"):
            await asyncio.to_thread(self.handoffs.close, number, "用户取消")
            if volunteer:
                await self.outbound.send(volunteer, [Reply(f"用户取消了 #{number}。")])
            return [Reply(CASE_CANCELLED.format(number=number))]
        await asyncio.to_thread(self.handoffs.add_message, number, "user", text)
        if status == "claimed" and volunteer:
            await self.outbound.send(volunteer, [Reply(f"#{number} 用户：{text}")])
            return []
        return [Reply(CASE_WAITING.format(number=number))]

    async def announce(self) -> int:
        """Tell the volunteers about new cases and cases still unclaimed after the reminder time."""
        cases = await asyncio.to_thread(self.handoffs.to_announce, self.remind_after)
        if not cases:
            return 0
        targets = [self.volunteer_chat] if self.volunteer_chat else await asyncio.to_thread(self.roles.holders,
                                                                                             "volunteer")
        for case in cases:
            reply = Reply("🙋 有人需要帮忙：\n" + case_line(case), buttons=(Button(f"接手 #{case.number}",
                                                                             f"/claim {case.number}"),))
            for target in targets:
                await self.outbound.send(target, [reply])
        return len(cases)

    def commands(self) -> dict:
        """The commands this desk answers."""
        return {"/role": self.redeem, "/queue": self.queue, "/claim": self.claim, "/done": self.done}
