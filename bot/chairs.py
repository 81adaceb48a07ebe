"""Township chairs (乡镇科协主席): invitations with a deep link and QR code, and the township's funnel.

Channel-neutral: the adapter supplies how a deep link looks (``link_for``); the funnel comes from the
exchange (registered, posted, matched, resolved) and the store (invited).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import qrcode

from bot.dialogue import Reply
from exchange.api import Exchange
from exchange.errors import ExchangeError
from exchange.gazetteer import place_of
from exchange.models import utcnow
from store.invites import Invites
from store.roles import Roles

NOT_A_CHAIR = "这个命令只有乡镇科协主席能用。请找管理员要一次性授权码，然后发送：/role 授权码"
FUNNEL = (("invited", "邀请"), ("registered", "注册"), ("needs_posted", "发需求"), ("matched", "已匹配"),
          ("resolved", "已解决"))


def qr_png(text: str) -> bytes:
    """A QR code of the text as PNG bytes (for printing on the township notice board)."""
    buffer = io.BytesIO()
    qrcode.make(text, box_size=8, border=2).save(buffer, format="PNG")
    return buffer.getvalue()


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing ``now``."""
    return (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def funnel_text(township: str, this_week: dict, last_week: dict) -> str:
    """The funnel as short lines: this week against last week."""
    lines = [f"{township} 本周 / 上周："]
    for key, label in FUNNEL:
        now, before = this_week.get(key, 0), last_week.get(key, 0)
        trend = "↑" if now > before else "↓" if now < before else "→"
        lines.append(f"{label}：{now} / {before} {trend}")
    return "\n".join(lines)


@dataclass
class Chairs:
    """/invite and /stats, for holders of the chair role only (every use is audited)."""

    roles: Roles
    invites: Invites
    exchange: Exchange
    link_for: Callable[[str], str]

    def commands(self) -> dict:
        """The commands chairs use."""
        return {"/invite": self.invite, "/stats": self.stats}

    async def _township_of(self, sender_id: str) -> str | None:
        grant = await asyncio.to_thread(self.roles.grant_of, sender_id, "chair")
        return grant.township_code if grant else None

    async def invite(self, sender_id: str, argument: str = "") -> list[Reply]:
        """A deep link and its QR code: people who start from it have the township filled in."""
        township = await self._township_of(sender_id)
        if township is None:
            return [Reply(NOT_A_CHAIR)]
        code = await asyncio.to_thread(self.invites.create, sender_id, township)
        await asyncio.to_thread(self.roles.audit, sender_id, "create_invite", f"{township} {code}")
        link = self.link_for(f"inv-{code}")
        name = place_of(township).full_name
        return [Reply(f"{name} 的邀请链接：\n{link}\n村民扫码或点链接就能注册，乡镇会自动填好。", photo=qr_png(link))]

    async def accept(self, sender_id: str, code: str) -> tuple[list[Reply], str] | None:
        """A person arriving from an invitation: a welcome and the township's full name, or None."""
        township = await asyncio.to_thread(self.invites.accept, sender_id, code)
        if township is None:
            return None
        name = place_of(township).full_name or township
        return [Reply(f"欢迎！你是{name}科协邀请来的 👋")], name

    async def stats(self, sender_id: str, argument: str = "") -> list[Reply]:
        """The township's funnel, this week against last week (only the chair's own township)."""
        township = await self._township_of(sender_id)
        if township is None:
            return [Reply(NOT_A_CHAIR)]
        await asyncio.to_thread(self.roles.audit, sender_id, "view_stats", township)
        now = utcnow()
        this, last = week_start(now), week_start(now) - timedelta(weeks=1)
        try:
            weeks = (await asyncio.to_thread(self.exchange.township_stats, township, 2))["weeks"]
        except ExchangeError:
            return [Reply("交易平台暂时连不上，统计稍后再看。")]
        last_week, this_week = weeks[0], weeks[1]
        last_week["invited"] = await asyncio.to_thread(self.invites.invited, township, last, this)
        this_week["invited"] = await asyncio.to_thread(self.invites.invited, township, this, now + timedelta(seconds=1))
        chart = await asyncio.to_thread(funnel_chart, this_week, last_week)
        return [Reply(funnel_text(place_of(township).full_name, this_week, last_week)), Reply(photo=chart)]


def _chart_labels() -> list[str]:
    """Chinese labels when a CJK font is installed, else English ones (never boxes of missing glyphs)."""
    from matplotlib import font_manager

    cjk = [f.name for f in font_manager.fontManager.ttflist
           if any(mark in f.name for mark in ("CJK", "WenQuanYi", "Hei", "Song", "Kai"))]
    if cjk:
        import matplotlib

        matplotlib.rcParams["font.sans-serif"] = [cjk[0], *matplotlib.rcParams["font.sans-serif"]]
        return [label for _, label in FUNNEL]
    return ["Invited", "Registered", "Needs posted", "Matched", "Resolved"]


def funnel_chart(this_week: dict, last_week: dict) -> bytes:
    """The funnel as a PNG bar chart, this week beside last week."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = _chart_labels()
    positions = range(len(FUNNEL))
    figure, axes = pyplot.subplots(figsize=(6, 3.2), dpi=100)
    axes.bar([p - 0.2 for p in positions], [last_week.get(k, 0) for k, _ in FUNNEL], width=0.4, label="last week")
    axes.bar([p + 0.2 for p in positions], [this_week.get(k, 0) for k, _ in FUNNEL], width=0.4, label="this week")
    axes.set_xticks(list(positions), labels)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()
