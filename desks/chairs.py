"""Township chairs (乡镇科协主席): invitations with a deep link and QR code, and the township's funnel.

Channel-neutral: each channel says how a link into the assistant looks for a person on it (``link_for``:
a Telegram deep link, a WeChat QR code's address); the funnel comes from the
exchange (registered, posted, matched, resolved) and the store (invited).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import qrcode

from common.clock import utcnow
from core.dialogue import Button, Reply
from core.texts import Chair, Farmer
from desks.volunteers import Outbound
from exchange.api import Exchange, User
from exchange.errors import ExchangeError, InputRejected
from exchange.gazetteer import place_of
from exchange.people import ROLES as USER_ROLES
from exchange.people import mainland_mobile, mask_phone
from store.accounts import Accounts
from store.handovers import TOKEN_HOURS, Handovers
from store.invites import Invites
from store.roles import Roles

log = logging.getLogger(__name__)

FUNNEL = tuple(Chair.FUNNEL_LABELS.items())  # (key, label): invited, registered, needs posted, matched, resolved


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
    lines = [Chair.FUNNEL_HEADER.format(township=township)]
    for key, label in FUNNEL:
        now, before = this_week.get(key, 0), last_week.get(key, 0)
        trend = "↑" if now > before else "↓" if now < before else "→"
        lines.append(Chair.FUNNEL_LINE.format(label=label, now=now, before=before, trend=trend))
    return "\n".join(lines)


@dataclass
class Chairs:
    """/invite and /stats, for holders of the chair role only (every use is audited)."""

    roles: Roles
    invites: Invites
    accounts: Accounts
    exchange: Exchange
    link_for: Callable[[str, str], Awaitable[str]]  # (the chair's address, the start code) → a link on their app
    handovers: Handovers
    outbound: Outbound  # tells the owner of an account that someone tried to register it again

    def __post_init__(self) -> None:
        self._onboarding: dict[str, dict] = {}

    async def onboard(self, sender_id: str, argument: str = "") -> list[Reply]:
        """/onboard 姓名 手机号 [身份]: register a villager without a smartphone, after reading them the consent."""
        township = await self._township_of(sender_id)
        if township is None:
            return [Reply(Chair.NOT_A_CHAIR)]
        parts = argument.split()
        phone = mainland_mobile(parts[1]) if len(parts) >= 2 else None
        role = parts[2] if len(parts) >= 3 else Chair.DEFAULT_ROLE
        if phone is None or role not in USER_ROLES:
            return [Reply(Chair.ONBOARD_USAGE)]
        self._onboarding[sender_id] = {"name": parts[0], "phone": phone, "role": role,
                                       "township": place_of(township).full_name}
        return [Reply(Chair.CONSENT_SCRIPT.format(name=parts[0]),
                      buttons=(Button(Chair.CONSENT_GIVEN, "/onboard_confirm"),
                               Button(Chair.CONSENT_REFUSED, "/deny")))]

    async def onboard_confirm(self, sender_id: str, argument: str = "") -> list[Reply]:
        """Register the villager read back by /onboard, and give the chair a token for the account hand-over.

        Never for a person who already has an account of their own or one another chair registered: the
        exchange answers the same phone with the same user, and a fresh token would hand it to this chair."""
        person = self._onboarding.pop(sender_id, None)
        township = await self._township_of(sender_id)
        if person is None or township is None:
            return [Reply(Chair.ONBOARD_USAGE)]
        owners = await self._phone_owners(person["phone"])
        if owners:
            return await self._refuse(sender_id, township, person, "", owners, Farmer.OWNER_TOLD)
        try:
            user = await self._register(sender_id, person)
        except InputRejected as error:
            return [Reply(error.message)]
        except ExchangeError:
            return [Reply(Chair.ONBOARD_EXCHANGE_DOWN)]
        refusal = await self._taken(sender_id, township, person, user)
        if refusal is not None:
            return refusal
        token = await asyncio.to_thread(self.handovers.issue, user["id"], sender_id)
        phone = mask_phone(person["phone"])
        await asyncio.to_thread(self.roles.audit, sender_id, "onboard_villager", f"{user['id']} {phone}")
        return [Reply(Chair.ONBOARDED.format(name=person["name"], phone=phone, hours=TOKEN_HOURS,
                                       link=await self.link_for(sender_id, "tk-" + token), token=token))]

    async def _register(self, sender_id: str, person: dict) -> User:
        """The villager's user on the exchange (the same one again for the same phone: the key is the phone)."""
        chair_user = await asyncio.to_thread(self.accounts.user_of, sender_id)
        body = {**person, "registered_by": chair_user,
                "consent": {"purpose": Farmer.ONBOARD_PURPOSE, "scope": Farmer.CONSENT_SCOPE, "share_contact": True}}
        return await asyncio.to_thread(self.exchange.register_user, body, f"onboard:{person['phone']}")

    async def _phone_owners(self, phone: str) -> list[str]:
        """Chats whose own account has this phone on the exchange (people who registered themselves)."""
        owners = []
        for chat, user_id in await asyncio.to_thread(self.accounts.chats_with_phone, phone):
            try:
                user = await asyncio.to_thread(self.exchange.get_user, user_id)
            except ExchangeError:
                continue
            if user.get("phone") == phone:
                owners.append(chat)
        return owners

    async def _taken(self, sender_id: str, township: str, person: dict, user: User) -> list[Reply] | None:
        """None when this chair may hand the user over: nobody's chat holds it yet and this chair registered it."""
        owners = await asyncio.to_thread(self.accounts.chats_of, user["id"])
        if owners:
            return await self._refuse(sender_id, township, person, user["id"], owners, Farmer.OWNER_TOLD)
        registrar = await asyncio.to_thread(self.handovers.registrar_of, user["id"])
        chair_user = await asyncio.to_thread(self.accounts.user_of, sender_id)
        if (registrar and registrar != sender_id) or (user.get("registered_by") not in (None, chair_user)):
            return await self._refuse(sender_id, township, person, user["id"], [registrar] if registrar else [],
                                      Chair.REGISTRAR_TOLD)
        return None

    async def _refuse(self, sender_id: str, township: str, person: dict, user_id: str, told: list[str],
                      notice: str) -> list[Reply]:
        """The chair hears the person already has an account; the account's holder hears someone tried."""
        phone = mask_phone(person["phone"])
        await asyncio.to_thread(self.roles.audit, sender_id, "onboard_refused", f"{user_id or '-'} {phone}")
        for chat in told:
            try:
                await self.outbound.send(chat, [Reply(notice.format(township=place_of(township).full_name,
                                                                    phone=phone))])
            except Exception:
                log.exception("could not tell an account's holder about a refused registration")
        return [Reply(Chair.ALREADY_HAS_ACCOUNT.format(phone=phone))]

    async def _township_of(self, sender_id: str) -> str | None:
        grant = await asyncio.to_thread(self.roles.grant_of, sender_id, "chair")
        return grant.township_code if grant else None

    async def invite(self, sender_id: str, argument: str = "") -> list[Reply]:
        """A deep link and its QR code: people who start from it have the township filled in."""
        township = await self._township_of(sender_id)
        if township is None:
            return [Reply(Chair.NOT_A_CHAIR)]
        code = await asyncio.to_thread(self.invites.create, sender_id, township)
        await asyncio.to_thread(self.roles.audit, sender_id, "create_invite", f"{township} {code}")
        link = await self.link_for(sender_id, f"inv-{code}")
        name = place_of(township).full_name
        return [Reply(Chair.INVITE.format(township=name, link=link), photo=qr_png(link))]

    async def accept(self, sender_id: str, code: str) -> tuple[list[Reply], str] | None:
        """A person arriving from an invitation: a welcome and the township's full name, or None."""
        township = await asyncio.to_thread(self.invites.accept, sender_id, code)
        if township is None:
            return None
        name = place_of(township).full_name or township
        return [Reply(Farmer.INVITED.format(township=name))], name

    async def stats(self, sender_id: str, argument: str = "") -> list[Reply]:
        """The township's funnel, this week against last week (only the chair's own township)."""
        township = await self._township_of(sender_id)
        if township is None:
            return [Reply(Chair.NOT_A_CHAIR)]
        await asyncio.to_thread(self.roles.audit, sender_id, "view_stats", township)
        now = utcnow()
        this, last = week_start(now), week_start(now) - timedelta(weeks=1)
        try:
            weeks = (await asyncio.to_thread(self.exchange.township_stats, township, 2))["weeks"]
        except ExchangeError:
            return [Reply(Chair.STATS_EXCHANGE_DOWN)]
        last_week, this_week = weeks[0], weeks[1]
        last_week["invited"] = await asyncio.to_thread(self.invites.invited, township, last, this)
        this_week["invited"] = await asyncio.to_thread(self.invites.invited, township, this, now + timedelta(seconds=1))
        chart = await asyncio.to_thread(funnel_chart, this_week, last_week)
        return [Reply(funnel_text(place_of(township).full_name, this_week, last_week)), Reply(photo=chart)]


def _chart_labels() -> list[str]:
    """The funnel's labels, then the legend's. Chinese: the Noto Sans CJK font ships in a wheel (noto-cjk-sans-otc), so a chair reads 注册
    and 匹配, not English; English only if no CJK font can be found (never boxes of missing glyphs)."""
    from matplotlib import font_manager

    _add_shipped_font(font_manager)
    cjk = [f.name for f in font_manager.fontManager.ttflist
           if any(mark in f.name for mark in ("CJK", "WenQuanYi", "Hei", "Song", "Kai"))]
    if cjk:
        import matplotlib

        matplotlib.rcParams["font.sans-serif"] = [cjk[0], *matplotlib.rcParams["font.sans-serif"]]
        return [label for _, label in FUNNEL] + [Chair.LAST_WEEK, Chair.THIS_WEEK]
    return ["Invited", "Registered", "Needs posted", "Matched", "Resolved", "last week", "this week"]


def _add_shipped_font(font_manager) -> None:
    """Register the wheel's Noto Sans CJK collection once (matplotlib reads its first face, whose Han
    glyphs cover simplified Chinese)."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        return
    if not any(f.fname == str(FONT_PATH) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(FONT_PATH))


def funnel_chart(this_week: dict, last_week: dict) -> bytes:
    """The funnel as a PNG bar chart, this week beside last week."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    *labels, last, this = _chart_labels()
    positions = range(len(FUNNEL))
    figure, axes = pyplot.subplots(figsize=(6, 3.2), dpi=100)
    axes.bar([p - 0.2 for p in positions], [last_week.get(k, 0) for k, _ in FUNNEL], width=0.4, label=last)
    axes.bar([p + 0.2 for p in positions], [this_week.get(k, 0) for k, _ in FUNNEL], width=0.4, label=this)
    axes.set_xticks(list(positions), labels)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()
