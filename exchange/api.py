"""The one interface the assistant uses to reach the exchange, whatever the transport.

``connect()`` returns the in-process ``ExchangeService`` (embedded default) or the HTTP
``ExchangeClient`` (when ``KEJIBANG_EXCHANGE_URL`` is set); both raise ``exchange.errors``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, TypedDict


# ----- the JSON shapes callers read (exchange/openapi.yaml's schemas of the same names) ---------
class Consent(TypedDict):
    at: str | None
    purpose: str
    scope: str


class User(TypedDict):
    id: str
    name: str
    phone: str
    role: str
    township: str
    township_code: str
    registered_by: str | None
    share_contact: bool
    consent: Consent
    created_at: str | None


class Need(TypedDict):
    id: str
    user_id: str | None
    text: str
    region: str
    domains: list[str]
    status: str
    created_at: str | None
    matched_at: str | None
    contacted_at: str | None
    resolved_at: str | None
    closed_at: str | None


class DomainScore(TypedDict):
    code: str
    name: str
    share: float


class MatchedExpert(TypedDict):
    id: str
    score: float
    domains: list[str]
    reason: str
    name: str
    title: str
    organization: str
    region: str


class MatchedArticle(TypedDict):
    id: str
    score: float
    reason: str
    title: str
    summary: str
    url: str


class TypoHint(TypedDict):
    written: str
    meant: str


class _Matches(TypedDict):
    domains: list[str]
    experts: list[MatchedExpert]
    articles: list[MatchedArticle]


class MatchResult(_Matches, total=False):
    """A preview has every field; a stored need's ``match`` only domains, experts and articles."""

    domain_scores: list[DomainScore]
    confident: bool
    typo_hints: list[TypoHint]


class MatchedNeed(Need):
    """A need with what it was matched to (``create_need``, ``get_need``)."""

    match: MatchResult


class ContactNeed(TypedDict):
    text: str
    domains: list[str]
    region: str
    status: str
    user_id: str | None


class ContactExpert(TypedDict):
    name: str
    title: str
    organization: str
    phone: str | None  # only where the expert agreed to share it


class Farmer(TypedDict):
    name: str
    phone: str


class Contact(TypedDict):
    """A need offered to one expert (the schema ``Contact``)."""

    id: str
    need_id: str
    expert_id: str
    status: str
    created_at: str | None
    answered_at: str | None
    outcome_at: str | None
    need: ContactNeed
    expert: ContactExpert
    farmer: Farmer | None  # only where the farmer consented to share it


class ContactStep(TypedDict):
    """A request after an answer, and the request offered to the next-best expert (None when none)."""

    request: Contact
    next: Contact | None


class ExpertSummary(TypedDict):
    expert_id: str
    since: str | None
    received: int
    accepted: int
    resolved: int
    declined: int


class Exchange(Protocol):
    """Every operation of ``exchange/openapi.yaml``; bodies are JSON-shaped dicts, results the shapes above
    (a plain ``dict`` where the fields are open: experts and articles carry imported extra fields)."""

    def register_user(self, data: dict, idempotency_key: str | None = None) -> User: ...
    def get_user(self, user_id: str) -> User: ...
    def update_user(self, user_id: str, changes: dict) -> User: ...
    def delete_user(self, user_id: str) -> None: ...
    def delete_sender_needs(self, sender: str) -> int: ...
    def create_need(self, data: dict, idempotency_key: str | None = None, top: int = 5) -> MatchedNeed: ...
    def get_need(self, need_id: str) -> MatchedNeed: ...
    def list_needs(self, user_id: str) -> list[Need]: ...
    def set_need_status(self, need_id: str, status: str) -> Need: ...
    def add_feedback(self, need_id: str, verdict: str, expert_id: str | None = None, comment: str = "",
                     idempotency_key: str | None = None) -> dict: ...
    def match_preview(self, text: str, region: str = "", domains: Iterable[str] | None = None,
                      top: int = 5) -> MatchResult: ...
    # public reads: the contract's public fields; ``operator=True`` (the API key) answers every field
    def get_expert(self, expert_id: str, operator: bool = False) -> dict: ...
    def search_experts(self, text: str = "", domain: str = "", top: int = 10,
                       operator: bool = False) -> list[dict]: ...
    def get_article(self, article_id: str) -> dict: ...
    def search_articles(self, text: str = "", domain: str = "", top: int = 10) -> list[dict]: ...
    def import_records(self, kind: str, records: list[dict]) -> dict: ...
    def township_stats(self, township_code: str, weeks: int = 2) -> dict: ...
    def request_contact(self, need_id: str, expert_id: str) -> Contact: ...
    def get_contact(self, request_id: str) -> Contact: ...
    def answer_contact(self, request_id: str, answer: str, note: str = "") -> ContactStep: ...
    def record_outcome(self, request_id: str, outcome: str) -> ContactStep: ...
    def expert_contacts(self, expert_id: str, active_only: bool = True) -> list[Contact]: ...
    def expert_summary(self, expert_id: str, since: datetime) -> ExpertSummary: ...
    def set_expert_availability(self, expert_id: str, changes: dict) -> dict: ...


def connect(exchange_url: str, api_key: str, database_url: str) -> Exchange:
    """The HTTP client when a URL is given, else the embedded exchange on ``database_url`` (returning them
    here is where mypy holds both to ``Exchange``: ``make typecheck``)."""
    if exchange_url:
        from exchange.client import ExchangeClient

        return ExchangeClient(exchange_url, api_key)
    from exchange.service import ExchangeService

    return ExchangeService(database_url)


_CONNECTED: dict[tuple[str, str, str], Exchange] = {}
_CONNECTING = threading.Lock()


def connected(exchange_url: str, api_key: str, database_url: str) -> Exchange:
    """The exchange of this configuration in this process, opened on first use.

    The core and the custom actions it runs in-process share it: one matcher and one connection pool,
    not two. Keyed by the configuration, so a process that changes it (a test module's own folder)
    gets its own. The lock keeps two first calls (actions run in threads) from opening two.
    """
    key = (exchange_url, api_key, database_url)
    with _CONNECTING:
        if key not in _CONNECTED:
            _CONNECTED[key] = connect(*key)
        return _CONNECTED[key]


# A sick animal and produce to sell: between them a match reads every table it loads on first use (the signs,
# the homophones, the service phrases, which a need about a sign never reads).
WARM_UP_NEEDS = ("我家的猪发烧不吃食咋办", "苞谷卖不出去咋办")


def warm(exchange: Exchange) -> None:
    """Build the embedded exchange's matcher now (index, sentence encoder, the profiles' vectors) and match
    needs (``WARM_UP_NEEDS``), so that no farmer's first read-back waits for a table, nor do ten first
    read-backs at once each load it in their own thread; a remote exchange is warmed by its own server."""
    from exchange.service import ExchangeService

    if isinstance(exchange, ExchangeService):
        for need in WARM_UP_NEEDS:
            exchange.matcher().match(need)
