"""The reference exchange's behaviour, in-process: every operation of ``exchange/openapi.yaml``.

The HTTP server is a thin layer over this class, and the assistant uses this class directly in
the embedded default, so both transports run exactly the same code.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from common.clock import utcnow
from exchange import api, limits, people
from exchange.contacts import ContactOperations, expert_row, need_row
from exchange.database import exchange_database, one
from exchange.errors import InputRejected
from exchange.gazetteer import resolve
from exchange.limits import checked_id, checked_text, optional_id
from exchange.live_matcher import LiveMatcher, snapshot_path
from exchange.matching.knowledge import taxonomy
from exchange.matching.matcher import Matcher, MatchResult
from exchange.matching.normalize import normalize
from exchange.models import Article, ContactRequest, Expert, Feedback, Match, Need, User, iso
from exchange.records import CONTACT_FIELDS, KINDS, check_record

MAX_NEED_CHARS = 2000
MAX_TOP = 50
MAX_IDEMPOTENCY_KEY = 100
STATUSES = ("open", "matched", "contacted", "resolved", "closed")
_NEXT_STATUS = {
    "open": {"matched", "closed"},
    "matched": {"contacted", "open", "resolved", "closed"},
    "contacted": {"resolved", "open", "closed"},
    "resolved": {"open"},
    "closed": {"open"},
}
_STATUS_TIME = {"matched": "matched_at", "contacted": "contacted_at", "resolved": "resolved_at", "closed": "closed_at"}
VERDICTS = ("helpful", "not_helpful", "unreachable")
# How soon a change made by another process (an import, an edit) is noticed and searchable.
CONTENT_CHECK_SECONDS = 2.0

log = logging.getLogger(__name__)



def expert_dict(expert: Expert, operator: bool = False) -> dict:
    """An expert as the API returns it: the contract's public fields (shared/contracts §1), nothing else.

    Contacts, identity fields, every other extra field and the expert's availability are for the operator
    (the API key, or ``operator=True`` in-process) only: an allow-list, so a field imported tomorrow is
    private until someone decides otherwise.
    """
    public = {"id": expert.id, "name": expert.name, "title": expert.title, "organization": expert.organization,
              "domains": list(expert.domains), "expertise": expert.expertise, "region": expert.region}
    if not operator:
        return public
    return {**(expert.extra or {}), **public, "phone": expert.phone, "wechat": expert.wechat, "email": expert.email,
            "share_contact": expert.share_contact, "accepting": expert.accepting, "capacity": expert.capacity,
            "serves": list(expert.serves or [])}


def article_dict(article: Article) -> dict:
    """An article as the API returns it."""
    return {"id": article.id, "title": article.title, "summary": article.summary, "domains": list(article.domains),
            "tags": list(article.tags), "url": article.url, **(article.extra or {})}


def user_dict(user: User) -> api.User:
    """A user as the API returns it (to callers holding the API key: it is personal data)."""
    return {"id": user.id, "name": user.name, "phone": user.phone, "role": user.role, "township": user.township,
            "township_code": user.township_code, "registered_by": user.registered_by,
            "share_contact": user.share_contact,
            "consent": {"at": iso(user.consent_at), "purpose": user.consent_purpose, "scope": user.consent_scope},
            "created_at": iso(user.created_at)}


def need_dict(need: Need) -> api.Need:
    """A need as the API returns it, with its status timestamps."""
    return {"id": need.id, "user_id": need.user_id, "text": need.text, "region": need.region,
            "domains": list(need.domains), "status": need.status, "created_at": iso(need.created_at),
            "matched_at": iso(need.matched_at), "contacted_at": iso(need.contacted_at),
            "resolved_at": iso(need.resolved_at), "closed_at": iso(need.closed_at)}


def _delete_needs(session, needs) -> int:
    """Delete the needs a subquery selects and everything hanging off them (explicitly: no reliance on the
    database's cascades); returns how many needs went."""
    ids = list(session.execute(needs).scalars())
    for model in (Feedback, ContactRequest, Match):
        session.execute(delete(model).where(model.need_id.in_(ids)).execution_options(synchronize_session=False))
    return session.execute(delete(Need).where(Need.id.in_(ids)).execution_options(synchronize_session=False)).rowcount


def _need_text(text: object) -> str:
    if not isinstance(text, str) or not normalize(text):
        raise InputRejected("empty_need", "需求内容是空的，请用几句话说说遇到的问题")
    if len(text) > MAX_NEED_CHARS:
        raise InputRejected("need_too_long", f"需求描述太长了，请控制在 {MAX_NEED_CHARS} 字以内")
    return limits.storable(text, "need_text", "需求内容").strip()


def _checked_domains(domains: Iterable[str] | None) -> list[str]:
    if domains is not None and (not isinstance(domains, (list, tuple)) or
                                not all(isinstance(d, str) for d in domains)):
        raise InputRejected("invalid_domains", "domains 应为领域代码的列表")
    domains = list(domains or [])
    if len(domains) > limits.DOMAINS:
        raise InputRejected("too_many_domains", f"领域最多 {limits.DOMAINS} 个")
    unknown = [d for d in domains if d not in taxonomy()]
    if unknown:
        raise InputRejected("unknown_domain", "未知的领域代码：" + "、".join(map(str, unknown)))
    return domains


def _idempotency_key(key: str | None) -> str | None:
    """The key as stored; a longer one than the column holds is refused, not failed on."""
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise InputRejected("invalid_idempotency_key", f"Idempotency-Key 不能超过 {MAX_IDEMPOTENCY_KEY} 个字符")
    return limits.storable(key, "idempotency_key", "Idempotency-Key") if key else None


def _region(value: object) -> str:
    """A need's or a preview's place: String(200) in the database (a longer one was a 500 on PostgreSQL)."""
    return checked_text(value, "region", limits.REGION, "地区")


def _top(top: int) -> int:
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise InputRejected("invalid_top", f"top 应为 1 到 {MAX_TOP} 之间的整数")
    return top


class ExchangeService(ContactOperations):
    """The exchange over one database; thread-safe; the matcher is rebuilt when content changes."""

    def __init__(self, database_url: str) -> None:
        self.db = exchange_database(database_url)
        self._live = LiveMatcher(self.db, snapshot_path(database_url))
        self._content_stamp: tuple | None = None
        self._checked_at = 0.0
        self._offers: Counter[str] = Counter()
        self._unavailable: frozenset[str] = frozenset()
        self._serves: dict[str, tuple[str, ...]] = {}
        self._lock = threading.RLock()
        self._checking = threading.Lock()  # held while a background content check runs

    def close(self) -> None:
        """Release the database connections."""
        self._live.close()
        self.db.close()

    # ----- content: experts and articles -------------------------------------------------------
    def import_records(self, kind: str, records: list[dict]) -> dict:
        """Insert or update records by id, all in one transaction; every record is checked first."""
        if kind not in KINDS:
            raise InputRejected("unknown_kind", "只能导入 experts 或 articles")
        for number, record in enumerate(records, start=1):
            reason = check_record(kind, record)
            if reason:
                raise InputRejected("invalid_record", f"第 {number} 条: {reason}")
        model, build = (Expert, _expert_row) if kind == "experts" else (Article, _article_row)
        created = updated = 0
        with self.db.transaction() as session:
            for start in range(0, len(records), 2000):
                chunk = records[start:start + 2000]
                existing = {row.id: row for row in
                            session.execute(select(model).where(model.id.in_([r["id"] for r in chunk]))).scalars()}
                for record in chunk:
                    row = existing.get(record["id"])
                    if row is None:
                        session.add(build(model(), record))
                        created += 1
                    else:
                        build(row, record)
                        updated += 1
                session.flush()
        self._content_stamp = None
        return {"kind": kind, "created": created, "updated": updated}

    def get_expert(self, expert_id: str, operator: bool = False) -> dict:
        """One expert by id: the public fields, or every field for the operator."""
        with self.db.transaction() as session:
            return expert_dict(expert_row(session, expert_id), operator)

    def get_article(self, article_id: str) -> dict:
        """One article by id."""
        with self.db.transaction() as session:
            return article_dict(one(session, Article, checked_id(article_id, "article"), "article_not_found",
                                    "没有这篇文章"))

    def search_experts(self, text: str = "", domain: str = "", top: int = 10, operator: bool = False) -> list[dict]:
        """Experts for a free-text query (ranked by the matcher) or for one domain; public fields unless operator."""
        return self._search("experts", text, domain, top, lambda row: expert_dict(row, operator))

    def search_articles(self, text: str = "", domain: str = "", top: int = 10) -> list[dict]:
        """科普 articles for a topic (ranked by the matcher) or for one domain."""
        return self._search("articles", text, domain, top, article_dict)

    def _search(self, kind: str, text: str, domain: str, top: int, as_dict: Callable[[Any], dict]) -> list[dict]:
        top = _top(top)
        domains = _checked_domains([domain] if domain else [])
        model = Expert if kind == "experts" else Article
        if normalize(text or ""):
            result = self.matcher().match(text, domains=domains, top=top)
            ranked = result.experts if kind == "experts" else result.articles
            with self.db.transaction() as session:
                rows = {r.id: r for r in session.execute(select(model).where(model.id.in_([x.id for x in ranked])))
                        .scalars()}
                return [{**as_dict(rows[x.id]), "score": x.score, "reason": x.reason} for x in ranked if x.id in rows]
        if not domains:
            raise InputRejected("empty_query", "请给出搜索词或领域")
        with self.db.transaction() as session:
            rows = session.execute(select(model).order_by(model.id)).scalars()
            return [as_dict(r) for r in rows if domains[0] in r.domains][:top]

    # ----- matching ----------------------------------------------------------------------------
    def _content_version(self) -> tuple:
        with self.db.transaction() as session:
            return tuple(session.execute(select(func.count(m.id), func.max(m.updated_at))).one()
                         for m in (Expert, Article))

    def matcher(self) -> Matcher:
        """The matcher over the current experts and articles: loaded from its saved index or built on first
        use, then kept current by ``LiveMatcher`` (changes indexed in a delta; rebuilds in the background).

        After an import in this process the content is checked at once; otherwise every
        CONTENT_CHECK_SECONDS in a background thread, so a serving thread never waits on that query."""
        if self._live.matcher is None or self._content_stamp is None:
            with self._lock:
                if self._live.matcher is None or self._content_stamp is None:
                    self._check_content()
        elif time.monotonic() - self._checked_at >= CONTENT_CHECK_SECONDS:
            self._check_in_background()
        matcher = self._live.matcher
        if matcher is None:  # ``_check_content`` builds it or raises
            raise RuntimeError("the matcher was not built")
        return matcher

    def _check_content(self) -> None:
        """Index what changed since the last check (called under the lock)."""
        stamp = self._content_version()
        self._checked_at = time.monotonic()
        if self._live.matcher is None or stamp != self._content_stamp:
            with self.db.transaction() as session:
                self._live.refresh(session)
                self._serves = dict(self._live.serves)
                self._refresh_availability(session)
        self._content_stamp = stamp

    def _check_in_background(self) -> None:
        """Start one content check unless one is running (never waits: the caller is serving a match)."""
        if not self._checking.acquire(blocking=False):
            return
        self._checked_at = time.monotonic()
        threading.Thread(target=self._background_check, name="content-check", daemon=True).start()

    def _background_check(self) -> None:
        try:
            with self._lock:
                self._check_content()
        except Exception:
            log.exception("content check failed: the current index keeps answering")
        finally:
            self._checking.release()

    def _match(self, text: str, region: str, domains: list[str], top: int) -> MatchResult:
        matcher = self.matcher()
        return matcher.match(text, region, domains, top, unavailable=self._unavailable | self._outside(region),
                             load=self._load)

    def _load(self, expert_id: str) -> int:
        """What the fairness rule weighs: needs in the expert's hands plus recent declines and time-outs."""
        return self._offers[expert_id]

    def match_preview(self, text: str, region: str = "", domains: Iterable[str] | None = None,
                      top: int = 5) -> api.MatchResult:
        """Predicted domains, ranked experts and articles for a text, without storing anything."""
        result = self._match(_need_text(text), _region(region), _checked_domains(domains), _top(top))
        return self._result_dict(result)

    def _result_dict(self, result: MatchResult) -> api.MatchResult:
        ids = [x.id for x in result.experts]
        with self.db.transaction() as session:
            experts = {e.id: e for e in session.execute(select(Expert).where(Expert.id.in_(ids))).scalars()}
            articles = {a.id: a for a in session.execute(
                select(Article).where(Article.id.in_([x.id for x in result.articles]))).scalars()}
        return {
            "domains": result.domains.codes,
            "domain_scores": [{"code": c, "name": taxonomy()[c].name, "share": round(s, 4)}
                              for c, s in result.domains.ranked[:5]],
            "confident": result.domains.confident,
            "experts": [{"id": x.id, "score": x.score, "domains": list(x.domains), "reason": x.reason,
                         "name": experts[x.id].name, "title": experts[x.id].title,
                         "organization": experts[x.id].organization, "region": experts[x.id].region}
                        for x in result.experts if x.id in experts],
            "articles": [{"id": x.id, "score": x.score, "reason": x.reason, "title": articles[x.id].title,
                          "summary": articles[x.id].summary, "url": articles[x.id].url}
                         for x in result.articles if x.id in articles],
            "typo_hints": [{"written": w, "meant": m} for w, m in result.fixes],
        }

    # ----- users -------------------------------------------------------------------------------
    def register_user(self, data: dict, idempotency_key: str | None = None) -> api.User:
        """Register a person; the same idempotency key returns the first registration, never a second user."""
        fields = _user_fields(data, partial=False)
        idempotency_key = _idempotency_key(idempotency_key)
        with self.db.transaction() as session:
            if idempotency_key:
                existing = session.execute(select(User).where(User.idempotency_key == idempotency_key)).scalar()
                if existing is not None:
                    return user_dict(existing)
            if fields.get("registered_by") and session.get(User, fields["registered_by"]) is None:
                raise InputRejected("unknown_registrar", "代为注册的人不存在")
            user = User(id="u-" + uuid.uuid4().hex[:12], idempotency_key=idempotency_key, **fields)
            session.add(user)
            session.flush()
            return user_dict(user)

    def get_user(self, user_id: str) -> api.User:
        """One user (personal data: API key required over HTTP)."""
        with self.db.transaction() as session:
            return user_dict(_user(session, user_id))

    def update_user(self, user_id: str, changes: dict) -> api.User:
        """Change some of a user's fields (name, phone, township, role, consent)."""
        fields = _user_fields(changes, partial=True)
        with self.db.transaction() as session:
            user = _user(session, user_id)
            for key, value in fields.items():
                setattr(user, key, value)
            session.flush()
            return user_dict(user)

    def delete_user(self, user_id: str) -> None:
        """Erase a person: the user row and every need of theirs, with its matches, contact requests (and
        their notes) and feedback; people they registered keep no link to them."""
        with self.db.transaction() as session:
            user = _user(session, user_id)
            _delete_needs(session, select(Need.id).where(Need.user_id == user_id))
            session.execute(update(User).where(User.registered_by == user_id).values(registered_by=None))
            session.delete(user)

    def delete_sender_needs(self, sender: str) -> int:
        """Erase every need one chat posted, registered or not (one posted before registering has no user
        link but may carry a name and a village); returns how many went."""
        sender = checked_id(sender, "sender")
        with self.db.transaction() as session:
            return _delete_needs(session, select(Need.id).where(Need.sender == sender))

    # ----- needs -------------------------------------------------------------------------------
    def create_need(self, data: dict, idempotency_key: str | None = None, top: int = 5) -> api.MatchedNeed:
        """Post a need and match it; the same idempotency key returns the first need, never a second."""
        text = _need_text(data.get("text"))
        domains = _checked_domains(data.get("domains"))
        idempotency_key = _idempotency_key(idempotency_key)
        region = _region(data.get("region"))
        user_id = optional_id(data.get("user_id"), "user")
        sender = optional_id(data.get("sender"), "sender")
        replay = None
        with self.db.transaction() as session:
            existing = session.execute(select(Need).where(Need.idempotency_key == idempotency_key)).scalar() \
                if idempotency_key else None
            if existing is not None:
                replay = self._need_with_matches(session, existing)
            if user_id and replay is None:
                _user(session, user_id)
        if replay is not None:
            replay["match"]["articles"] = self.match_preview(text, region, domains, top)["articles"]
            return replay
        result = self._match(text, region, domains, _top(top))
        place = resolve(region)
        with self.db.transaction() as session:
            need = Need(id="n-" + uuid.uuid4().hex[:12], user_id=user_id or None, sender=sender, text=text,
                        region=region,
                        township_code=place.township_code, domains=domains or result.domains.codes,
                        idempotency_key=idempotency_key)
            if result.experts:
                need.status, need.matched_at = "matched", utcnow()
            session.add(need)
            session.flush()
            for rank, expert in enumerate(result.experts, start=1):
                session.add(Match(need_id=need.id, expert_id=expert.id, rank=rank, score=expert.score,
                                  reason=expert.reason))
                self._offers[expert.id] += 1
            created = need_dict(need)
        return {**created, "match": self._result_dict(result)}

    def _need_with_matches(self, session, need: Need) -> api.MatchedNeed:
        """A stored need with the experts it was matched to, in the shape ``create_need`` returns."""
        rows = session.execute(select(Match, Expert).join(Expert, Expert.id == Match.expert_id)
                               .where(Match.need_id == need.id).order_by(Match.rank)).all()
        experts: list[api.MatchedExpert] = [
            {"id": e.id, "score": m.score, "domains": list(e.domains), "reason": m.reason, "name": e.name,
             "title": e.title, "organization": e.organization, "region": e.region} for m, e in rows]
        return {**need_dict(need), "match": {"domains": list(need.domains), "experts": experts, "articles": []}}

    def get_need(self, need_id: str) -> api.MatchedNeed:
        """One need with the experts it was matched to."""
        with self.db.transaction() as session:
            return self._need_with_matches(session, need_row(session, need_id))

    def list_needs(self, user_id: str) -> list[api.Need]:
        """A user's needs, newest first."""
        with self.db.transaction() as session:
            _user(session, user_id)
            needs = session.execute(select(Need).where(Need.user_id == user_id)
                                    .order_by(Need.created_at.desc())).scalars()
            return [need_dict(n) for n in needs]

    def set_need_status(self, need_id: str, status: str) -> api.Need:
        """Move a need along its lifecycle; impossible moves are refused."""
        if status not in STATUSES:
            raise InputRejected("invalid_status", "状态应为：" + "、".join(STATUSES))
        with self.db.transaction() as session:
            need = need_row(session, need_id)
            if status != need.status and status not in _NEXT_STATUS[need.status]:
                raise InputRejected("invalid_transition", f"需求不能从 {need.status} 变为 {status}")
            need.status = status
            if status in _STATUS_TIME:
                setattr(need, _STATUS_TIME[status], utcnow())
            session.flush()
            return need_dict(need)

    def add_feedback(self, need_id: str, verdict: str, expert_id: str | None = None, comment: str = "",
                     idempotency_key: str | None = None) -> dict:
        """Record what the user said about a match; the same idempotency key records it once, however often sent."""
        if verdict not in VERDICTS:
            raise InputRejected("invalid_verdict", "反馈应为：" + "、".join(VERDICTS))
        expert_id = optional_id(expert_id, "expert")
        comment = checked_text(comment, "comment", limits.FEEDBACK_COMMENT, "反馈说明")
        idempotency_key = _idempotency_key(idempotency_key)
        with self.db.transaction() as session:
            need_row(session, need_id)
            feedback = session.execute(select(Feedback).where(Feedback.idempotency_key == idempotency_key)).scalar() \
                if idempotency_key else None
            if feedback is None:
                feedback = Feedback(need_id=need_id, expert_id=expert_id, verdict=verdict, comment=comment,
                                    idempotency_key=idempotency_key)
                session.add(feedback)
                session.flush()
            return {"id": feedback.id, "need_id": feedback.need_id, "expert_id": feedback.expert_id,
                    "verdict": feedback.verdict}

    # ----- stats -------------------------------------------------------------------------------
    def township_stats(self, township_code: str, weeks: int = 2, now: datetime | None = None) -> dict:
        """Funnel counts for one township, week by week (newest last): registered, posted, matched, resolved."""
        if not isinstance(weeks, int) or not 1 <= weeks <= 52:
            raise InputRejected("invalid_weeks", "weeks 应为 1 到 52")
        township_code = checked_id(township_code, "township")
        now = now or utcnow()
        start_of_week = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = []
        with self.db.transaction() as session:
            for back in range(weeks - 1, -1, -1):
                begin = start_of_week - timedelta(weeks=back)
                end = begin + timedelta(weeks=1)
                rows.append({"week_start": begin.date().isoformat(), **_funnel(session, township_code, begin, end)})
        return {"township_code": township_code, "weeks": rows}


def _funnel(session, township_code: str, begin: datetime, end: datetime) -> dict:
    def count(model, column) -> int:
        return session.execute(select(func.count()).select_from(model).where(
            model.township_code == township_code, column >= begin, column < end)).scalar_one()
    return {"registered": count(User, User.created_at), "needs_posted": count(Need, Need.created_at),
            "matched": count(Need, Need.matched_at), "resolved": count(Need, Need.resolved_at)}


def _user(session, user_id: str) -> User:
    return one(session, User, checked_id(user_id, "user"), "user_not_found", "没有这个用户")


def _user_fields(data: dict, partial: bool) -> dict:
    """Checked user columns from an API body; ``partial`` allows leaving fields out (updates)."""
    if not isinstance(data, dict):
        raise InputRejected("invalid_body", "请求内容应为 JSON 对象")
    checked_text(data.get("phone"), "phone", limits.PHONE_ANSWER, "手机号码")
    checked_text(data.get("township"), "township", limits.TOWNSHIP_ANSWER, "乡镇")
    for name, label in (("name", "姓名"), ("role", "身份")):
        checked_text(data.get(name), name, 50, label)
    fields: dict = {}
    if "name" in data or not partial:
        fields["name"] = people.checked_name(data.get("name", ""))
    if "role" in data or not partial:
        fields["role"] = people.checked_role(data.get("role", ""))
    if data.get("phone"):
        fields["phone"] = people.checked_phone(data["phone"])
    if data.get("township"):
        place = people.checked_township(data["township"])
        fields["township"], fields["township_code"] = place.full_name, place.township_code
    if "registered_by" in data:
        registrar = optional_id(data["registered_by"], "user")
        if not partial:
            fields["registered_by"] = registrar
    if "consent" in data:
        fields.update(_consent_fields(data["consent"]))
    return fields


def _consent_fields(consent: object) -> dict:
    """The consent record: a purpose in words is required; scope is text, share_contact yes or no.

    Too long a purpose or scope is refused, not cut: a consent record must say what the person agreed to.
    """
    if not isinstance(consent, dict) or not consent.get("purpose") or not isinstance(consent["purpose"], str) \
            or not isinstance(consent.get("scope", ""), str) or not isinstance(consent.get("share_contact", False), bool):
        raise InputRejected("invalid_consent", "同意记录需写明用途（文字），share_contact 为是或否")
    purpose = checked_text(consent["purpose"], "consent_purpose", limits.CONSENT_TEXT, "同意的用途")
    scope = checked_text(consent.get("scope", ""), "consent_scope", limits.CONSENT_TEXT, "同意的范围")
    return {"consent_at": utcnow(), "consent_purpose": purpose, "consent_scope": scope,
            "share_contact": consent.get("share_contact", False)}


def _expert_row(row: Expert, record: dict) -> Expert:
    known = {"id", "name", "title", "organization", "domains", "expertise", "region", "accepting", "capacity",
             *CONTACT_FIELDS, "share_contact"}
    row.id, row.name, row.domains, row.expertise = record["id"], record["name"], record["domains"], record["expertise"]
    row.title, row.organization = record.get("title") or "", record.get("organization") or ""
    row.region = record.get("region") or ""
    row.phone, row.wechat, row.email = (record.get(key) or "" for key in CONTACT_FIELDS)
    row.share_contact = record.get("share_contact", False)
    row.accepting = bool(record.get("accepting", True))
    row.capacity = int(record.get("capacity", 10))
    row.extra = {k: v for k, v in record.items() if k not in known}
    row.updated_at = utcnow()
    return row


def _article_row(row: Article, record: dict) -> Article:
    known = {"id", "title", "summary", "domains", "tags", "url", "body"}
    row.id, row.title, row.domains = record["id"], record["title"], record["domains"]
    row.summary, row.tags = record.get("summary", ""), record.get("tags", [])
    row.url, row.body = record.get("url", ""), record.get("body", "")
    row.extra = {k: v for k, v in record.items() if k not in known}
    row.updated_at = utcnow()
    return row
