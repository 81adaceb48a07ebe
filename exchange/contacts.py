"""Contact requests: a need offered to one expert at a time until someone takes it up.

联系TA asks one expert; an expert who declines, passes it on or lets it time out hands the need to
the next-best available expert, so a need never stops at a list of names. The farmer's answer a few
days after contact (resolved / not yet / unreachable) closes the request and moves the need along.
An expert who is paused, at capacity or does not serve the need's place is never offered one, and
recent declines and time-outs count as load, so the matcher's fairness rule spreads work around.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from common.clock import utcnow
from exchange import limits
from exchange.api import Contact, ContactStep, ExpertSummary
from exchange.database import Database, one
from exchange.errors import InputRejected
from exchange.gazetteer import Place, resolve
from exchange.limits import checked_id, checked_text
from exchange.models import ContactRequest, Expert, Feedback, Match, Need, User, iso

if TYPE_CHECKING:
    from exchange.matching.matcher import MatchResult

ACTIVE = ("offered", "accepted")
ANSWERS = {"accept": "accepted", "decline": "declined", "pass": "passed", "timeout": "expired"}
# outcome → (request status, need status, feedback verdict); None: the need is offered to the next expert
OUTCOMES = {"resolved": ("resolved", "resolved", "helpful"), "not_yet": ("unresolved", "open", "not_helpful"),
            "unreachable": ("unreachable", None, "unreachable")}
PENALTY_WINDOW = timedelta(days=14)
PENALISED = ("declined", "expired", "unreachable")
MAX_CAPACITY = 100
RE_MATCH_TOP = 10


def place_code(place: Place) -> str:
    """The most precise division code of a place ('' when unknown)."""
    return place.township_code or place.county_code or place.city_code



def contact_dict(request: ContactRequest, need: Need, expert: Expert, farmer: User | None) -> Contact:
    """A request as the API returns it: what the expert needs to help, and contacts only where consented."""
    expert_contact = (expert.phone or None) if expert.share_contact else None
    return {"id": request.id, "need_id": need.id, "expert_id": expert.id, "status": request.status,
            "created_at": iso(request.created_at), "answered_at": iso(request.answered_at),
            "outcome_at": iso(request.outcome_at),
            "need": {"text": need.text, "domains": list(need.domains), "region": need.region,
                     "status": need.status, "user_id": need.user_id},
            "expert": {"name": expert.name, "title": expert.title, "organization": expert.organization,
                       "phone": expert_contact},
            "farmer": {"name": farmer.name, "phone": farmer.phone}
            if farmer is not None and farmer.share_contact else None}


class ContactOperations:
    """The contact-request half of ``ExchangeService`` (it provides ``db`` and ``_match``).

    ``_serves`` (expert → division codes served, only for experts who limit it) is filled when the
    matcher is built and kept current by ``set_expert_availability``.
    """

    _offers: Counter[str]
    _unavailable: frozenset[str]
    _serves: dict[str, tuple[str, ...]]

    if TYPE_CHECKING:  # ExchangeService's
        db: Database

        def _match(self, text: str, region: str, domains: list[str], top: int) -> MatchResult: ...

    # ----- availability ------------------------------------------------------------------------
    def _refresh_availability(self, session) -> None:
        """Load (needs in hand + recent declines and time-outs) and who may not be offered anything now."""
        busy = session.execute(select(Match.expert_id, func.count()).join(Need, Need.id == Match.need_id)
                               .where(Need.status.in_(("matched", "contacted"))).group_by(Match.expert_id))
        active = dict(session.execute(select(ContactRequest.expert_id, func.count())
                                      .where(ContactRequest.status.in_(ACTIVE))
                                      .group_by(ContactRequest.expert_id)).all())
        penalties = session.execute(select(ContactRequest.expert_id, func.count())
                                    .where(ContactRequest.status.in_(PENALISED),
                                           ContactRequest.answered_at >= utcnow() - PENALTY_WINDOW)
                                    .group_by(ContactRequest.expert_id))
        self._offers = Counter(dict(busy.all())) + Counter(active) + Counter(dict(penalties.all()))
        limited = session.execute(select(Expert.id, Expert.accepting, Expert.capacity).where(
            Expert.accepting.is_(False) | Expert.id.in_(list(active))))
        self._unavailable = frozenset(expert_id for expert_id, accepting, capacity in limited
                                      if not accepting or active.get(expert_id, 0) >= capacity)

    def _outside(self, region: str) -> frozenset[str]:
        """Experts who serve only other places than ``region`` (nobody is excluded for an unknown place)."""
        code = place_code(resolve(region)) if region else ""
        if not code:
            return frozenset()
        return frozenset(e for e, places in self._serves.items()
                         if not any(code.startswith(p) or p.startswith(code) for p in places))

    def set_expert_availability(self, expert_id: str, changes: dict) -> dict:
        """Accepting new needs or paused, at most how many open needs, which counties or townships."""
        from exchange.service import expert_dict  # the operator's view: this answers a keyed write

        fields = _availability_fields(changes)
        with self.db.transaction() as session:
            expert = expert_row(session, expert_id)
            for key, value in fields.items():
                setattr(expert, key, value)
            session.flush()
            self._refresh_availability(session)
            self._serves = {e: places for e, places in {**self._serves, expert_id: tuple(expert.serves)}.items()
                            if places}
            return expert_dict(expert, operator=True)

    # ----- requests ----------------------------------------------------------------------------
    def request_contact(self, need_id: str, expert_id: str) -> Contact:
        """Offer a need to one expert (asking again returns the same open request)."""
        with self.db.transaction() as session:
            need, expert = need_row(session, need_id), expert_row(session, expert_id)
            request = session.execute(select(ContactRequest).where(
                ContactRequest.need_id == need_id, ContactRequest.expert_id == expert_id,
                ContactRequest.status.in_(ACTIVE))).scalar()
            if request is None:
                self._refresh_availability(session)
                if expert_id in self._unavailable or expert_id in self._outside(need.region):
                    raise InputRejected("expert_unavailable", f"{expert.name}暂时不接新的需求，请换一位专家")
                request = _offer(session, need, expert_id)
                self._refresh_availability(session)
            return contact_dict(request, need, expert, _farmer(session, need))

    def get_contact(self, request_id: str) -> Contact:
        """One request, with what its expert sees."""
        with self.db.transaction() as session:
            return _full(session, _request(session, request_id))

    def answer_contact(self, request_id: str, answer: str, note: str = "") -> ContactStep:
        """The expert's answer; on anything but accept the next-best expert is offered the need.

        Returns ``{"request": ..., "next": ... or None}``. Repeating the same answer is harmless.
        """
        if not isinstance(answer, str) or answer not in ANSWERS:
            raise InputRejected("invalid_answer", "回复应为：" + "、".join(ANSWERS))
        note = checked_text(note, "note", limits.CONTACT_NOTE, "说明")
        with self.db.transaction() as session:
            request = _request(session, request_id)
            if request.status != ANSWERS[answer]:
                if request.status != "offered":
                    raise InputRejected("already_answered", "这个请求已经处理过了")
                request.status, request.answered_at, request.note = ANSWERS[answer], utcnow(), note
                if answer == "accept":
                    need = need_row(session, request.need_id)
                    need.status, need.contacted_at = "contacted", utcnow()
            session.flush()
            need_id, accepted = request.need_id, answer == "accept"
        following = None if accepted else self._offer_next(need_id)
        return {"request": self.get_contact(request_id), "next": following}

    def record_outcome(self, request_id: str, outcome: str) -> ContactStep:
        """The farmer's answer after contact: resolved, not yet (the need reopens) or unreachable (re-matched)."""
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            raise InputRejected("invalid_outcome", "结果应为：" + "、".join(OUTCOMES))
        request_status, need_status, verdict = OUTCOMES[outcome]
        with self.db.transaction() as session:
            request = _request(session, request_id)
            if request.status != request_status:
                if request.status != "accepted":
                    raise InputRejected("not_contacted", "专家还没有接受这个需求")
                request.status, request.outcome_at = request_status, utcnow()
                session.add(Feedback(need_id=request.need_id, expert_id=request.expert_id, verdict=verdict))
                need = need_row(session, request.need_id)
                if need_status:
                    need.status = need_status
                    if need_status == "resolved":
                        need.resolved_at = utcnow()
            session.flush()
            need_id = request.need_id
        following = self._offer_next(need_id) if need_status is None else None
        return {"request": self.get_contact(request_id), "next": following}

    def _offer_next(self, need_id: str) -> Contact | None:
        """Offer the need to the best available expert not yet asked; None (need reopened) if there is none."""
        with self.db.transaction() as session:
            need = need_row(session, need_id)
            if session.execute(select(ContactRequest.id).where(ContactRequest.need_id == need_id,
                                                               ContactRequest.status.in_(ACTIVE))).first():
                return None
            asked = set(session.execute(select(ContactRequest.expert_id)
                                        .where(ContactRequest.need_id == need_id)).scalars())
            self._refresh_availability(session)
            blocked = asked | self._unavailable | self._outside(need.region)
            stored = session.execute(select(Match.expert_id).where(Match.need_id == need_id)
                                     .order_by(Match.rank)).scalars().all()
            candidates = [e for e in stored if e not in blocked]
            text, region, domains = need.text, need.region, list(need.domains)
        if not candidates:
            ranked = self._match(text, region, domains, RE_MATCH_TOP).experts
            candidates = [x.id for x in ranked if x.id not in blocked]
        with self.db.transaction() as session:
            need = need_row(session, need_id)
            if not candidates:
                need.status = "open"
                return None
            request = _offer(session, need, candidates[0])
            need.status = "matched"
            self._refresh_availability(session)
            return _full(session, request)

    # ----- the expert's view -------------------------------------------------------------------
    def expert_contacts(self, expert_id: str, active_only: bool = True) -> list[Contact]:
        """An expert's requests, oldest first (only offered and accepted ones unless asked for all)."""
        with self.db.transaction() as session:
            expert_row(session, expert_id)
            query = select(ContactRequest).where(ContactRequest.expert_id == expert_id)
            if active_only:
                query = query.where(ContactRequest.status.in_(ACTIVE))
            return [_full(session, r) for r in session.execute(query.order_by(ContactRequest.created_at)).scalars()]

    def expert_summary(self, expert_id: str, since: datetime) -> ExpertSummary:
        """Needs an expert received, accepted and resolved since a moment (the weekly summary)."""
        with self.db.transaction() as session:
            expert_row(session, expert_id)
            rows = session.execute(select(ContactRequest).where(ContactRequest.expert_id == expert_id,
                                                                ContactRequest.created_at >= since)).scalars().all()
        accepted = [r for r in rows if r.answered_at and r.status in ("accepted", "resolved", "unresolved",
                                                                      "unreachable")]
        return {"expert_id": expert_id, "since": iso(since), "received": len(rows), "accepted": len(accepted),
                "resolved": sum(r.status == "resolved" for r in rows),
                "declined": sum(r.status in ("declined", "passed", "expired") for r in rows)}


def _offer(session, need: Need, expert_id: str) -> ContactRequest:
    request = ContactRequest(id="r-" + uuid.uuid4().hex[:12], need_id=need.id, expert_id=expert_id)
    session.add(request)
    session.flush()
    return request


def _full(session, request: ContactRequest) -> Contact:
    need = need_row(session, request.need_id)
    return contact_dict(request, need, expert_row(session, request.expert_id), _farmer(session, need))


def _farmer(session, need: Need) -> User | None:
    return session.get(User, need.user_id) if need.user_id else None


def _request(session, request_id: str) -> ContactRequest:
    return one(session, ContactRequest, checked_id(request_id, "contact"), "contact_not_found", "没有这个联系请求")


def need_row(session, need_id: str) -> Need:
    """The need, or NotFound; an id that is not an id is refused before it reaches the query."""
    return one(session, Need, checked_id(need_id, "need"), "need_not_found", "没有这条需求")


def expert_row(session, expert_id: str) -> Expert:
    """The expert, or NotFound; an id that is not an id is refused before it reaches the query."""
    return one(session, Expert, checked_id(expert_id, "expert"), "expert_not_found", "没有这位专家")


def _availability_fields(changes: dict) -> dict:
    """Checked availability columns from an API body."""
    if not isinstance(changes, dict):
        raise InputRejected("invalid_body", "请求内容应为 JSON 对象")
    fields: dict = {}
    if "accepting" in changes:
        if not isinstance(changes["accepting"], bool):
            raise InputRejected("invalid_accepting", "accepting 应为 true 或 false")
        fields["accepting"] = changes["accepting"]
    if "capacity" in changes:
        capacity = changes["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
            raise InputRejected("invalid_capacity", f"同时处理的需求数应为 1 到 {MAX_CAPACITY}")
        fields["capacity"] = capacity
    if "serves" in changes:
        fields["serves"] = _served_places(changes["serves"])
    return fields


def _served_places(names: object) -> list[str]:
    """Place names (县 or 乡镇) → division codes; an unknown name is refused, not ignored."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > 50:
        raise InputRejected("invalid_serves", "服务地区应为地名列表（最多 50 个）")
    for name in names:
        checked_text(name, "place", limits.PLACE_NAME, "地名")
    codes = []
    for name in names:
        code = place_code(resolve(name))
        if not code:
            raise InputRejected("unknown_place", f"没有找到这个地方：{name[:30]}")
        codes.append(code)
    return codes
