"""The exchange over HTTP (``requests``): the same interface as the in-process service.

One session with connection reuse; connect and read timeouts; retries with backoff only where a
repeat cannot do harm (reads, and writes carrying an Idempotency-Key). Logs name the operation and
the status, never the key, a phone number or a message text.

Every id that goes into a URL is checked against its pattern and quoted as one path segment
(``exchange.limits.path_id``): ``expert_id="../users/u-…"`` once fetched a user record with the key.
The key goes with every call except the public expert reads, which send it only when ``operator`` asks
for the operator's view (every field) — so both transports answer the same thing for the same call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime

import requests

from exchange.api import Contact, ContactStep, ExpertSummary, MatchedNeed, MatchResult, Need, User
from exchange.errors import (
    ExchangeError,
    ExchangeUnavailable,
    Forbidden,
    InputRejected,
    NotFound,
    Unauthorized,
)
from exchange.limits import checked_id, path_id

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0
RETRY_DELAYS = (0.2, 0.6, 1.5)
_ERRORS = {400: InputRejected, 413: InputRejected, 422: InputRejected, 401: Unauthorized, 403: Forbidden,
           404: NotFound}


class ExchangeClient:
    """HTTP transport of ``exchange.api.Exchange``."""

    def __init__(self, base_url: str, api_key: str, *, read_timeout: float = READ_TIMEOUT,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self.retry_delays = retry_delays
        self.session = requests.Session()
        self.session.headers.update({"X-API-Key": api_key, "User-Agent": "kejibang-exchange-client"})

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def _request(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
                 idempotency_key: str | None = None, safe: bool = False, keyed: bool = True):
        """One call; ``safe`` marks a call whose repetition does no harm (it may then be retried); ``keyed``
        False leaves the API key out (a public read answers only public fields)."""
        headers: dict[str, str | None] = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if not keyed:
            headers["X-API-Key"] = None  # requests drops a session header set to None for this call
        retryable = safe or method == "GET" or bool(idempotency_key)
        attempts = len(self.retry_delays) + 1 if retryable else 1
        for attempt in range(attempts):
            try:
                response = self.session.request(method, self.base_url + path, json=body, params=params,
                                                headers=headers,  # type: ignore[arg-type]  # None: see above
                                                timeout=(CONNECT_TIMEOUT, self.read_timeout))
            except requests.RequestException as error:
                failure: ExchangeError = ExchangeUnavailable("unreachable", "暂时连不上科技交易平台")
                log.warning("exchange %s %s unreachable (%s), attempt %d", method, path.split("/")[2],
                            type(error).__name__, attempt + 1)
            else:
                if response.status_code < 500:
                    return self._result(response)
                failure = ExchangeUnavailable("server_error", "科技交易平台暂时出错了")
                log.warning("exchange %s %s answered %d, attempt %d", method, path.split("/")[2],
                            response.status_code, attempt + 1)
            if attempt + 1 < attempts:
                time.sleep(self.retry_delays[attempt])
        raise failure

    @staticmethod
    def _result(response: requests.Response):
        if response.status_code == 204:
            return None
        try:
            data = response.json()
        except ValueError as error:
            raise ExchangeUnavailable("bad_response", "科技交易平台返回了无法识别的内容") from error
        if response.ok:
            return data
        refusal = data.get("error", {}) if isinstance(data, dict) else {}
        kind = _ERRORS.get(response.status_code, InputRejected)
        raise kind(refusal.get("code", f"http_{response.status_code}"), refusal.get("message", "请求被拒绝"))

    def register_user(self, data: dict, idempotency_key: str | None = None) -> User:
        return self._request("POST", "/v1/users", body=data, idempotency_key=idempotency_key)

    def get_user(self, user_id: str) -> User:
        return self._request("GET", f"/v1/users/{path_id(user_id, 'user')}")

    def update_user(self, user_id: str, changes: dict) -> User:
        return self._request("PATCH", f"/v1/users/{path_id(user_id, 'user')}", body=changes)

    def delete_user(self, user_id: str) -> None:
        self._request("DELETE", f"/v1/users/{path_id(user_id, 'user')}", safe=True)

    def delete_sender_needs(self, sender: str) -> int:
        """Erase every need one chat posted (safe to repeat: a second call deletes nothing)."""
        return self._request("DELETE", "/v1/needs", params={"sender": checked_id(sender, "sender")},
                             safe=True)["deleted"]

    def create_need(self, data: dict, idempotency_key: str | None = None, top: int = 5) -> MatchedNeed:
        return self._request("POST", "/v1/needs", body=data, params={"top": top}, idempotency_key=idempotency_key)

    def get_need(self, need_id: str) -> MatchedNeed:
        return self._request("GET", f"/v1/needs/{path_id(need_id, 'need')}")

    def list_needs(self, user_id: str) -> list[Need]:
        return self._request("GET", f"/v1/users/{path_id(user_id, 'user')}/needs")["needs"]

    def set_need_status(self, need_id: str, status: str) -> Need:
        return self._request("POST", f"/v1/needs/{path_id(need_id, 'need')}/status", body={"status": status},
                             safe=True)

    def add_feedback(self, need_id: str, verdict: str, expert_id: str | None = None, comment: str = "",
                     idempotency_key: str | None = None) -> dict:
        return self._request("POST", f"/v1/needs/{path_id(need_id, 'need')}/feedback",
                             body={"verdict": verdict, "expert_id": expert_id, "comment": comment},
                             idempotency_key=idempotency_key)

    def match_preview(self, text: str, region: str = "", domains: Iterable[str] | None = None,
                      top: int = 5) -> MatchResult:
        body = {"text": text, "region": region, "domains": list(domains or []), "top": top}
        return self._request("POST", "/v1/match", body=body, safe=True)

    def get_expert(self, expert_id: str, operator: bool = False) -> dict:
        return self._request("GET", f"/v1/experts/{path_id(expert_id, 'expert')}", keyed=operator)

    def search_experts(self, text: str = "", domain: str = "", top: int = 10, operator: bool = False) -> list[dict]:
        params = {"q": text, "domain": domain, "top": top}
        return self._request("GET", "/v1/experts", params=params, keyed=operator)["experts"]

    def get_article(self, article_id: str) -> dict:
        return self._request("GET", f"/v1/articles/{path_id(article_id, 'article')}")

    def search_articles(self, text: str = "", domain: str = "", top: int = 10) -> list[dict]:
        return self._request("GET", "/v1/articles", params={"q": text, "domain": domain, "top": top})["articles"]

    def import_records(self, kind: str, records: list[dict]) -> dict:
        if kind not in ("experts", "articles"):
            raise InputRejected("unknown_kind", "只能导入 experts 或 articles")
        return self._request("POST", f"/v1/{kind}/import", body={"records": records})

    def township_stats(self, township_code: str, weeks: int = 2) -> dict:
        return self._request("GET", f"/v1/stats/townships/{path_id(township_code, 'township')}", params={"weeks": weeks})

    def request_contact(self, need_id: str, expert_id: str) -> Contact:
        return self._request("POST", f"/v1/needs/{path_id(need_id, 'need')}/contacts", body={"expert_id": expert_id}, safe=True)

    def get_contact(self, request_id: str) -> Contact:
        return self._request("GET", f"/v1/contacts/{path_id(request_id, 'contact')}")

    def answer_contact(self, request_id: str, answer: str, note: str = "") -> ContactStep:
        return self._request("POST", f"/v1/contacts/{path_id(request_id, 'contact')}/answer", body={"answer": answer, "note": note},
                             safe=True)

    def record_outcome(self, request_id: str, outcome: str) -> ContactStep:
        return self._request("POST", f"/v1/contacts/{path_id(request_id, 'contact')}/outcome", body={"outcome": outcome}, safe=True)

    def expert_contacts(self, expert_id: str, active_only: bool = True) -> list[Contact]:
        params = {"active": "true" if active_only else "false"}
        return self._request("GET", f"/v1/experts/{path_id(expert_id, 'expert')}/contacts", params=params)["contacts"]

    def expert_summary(self, expert_id: str, since: datetime) -> ExpertSummary:
        return self._request("GET", f"/v1/experts/{path_id(expert_id, 'expert')}/summary", params={"since": since.isoformat()})

    def set_expert_availability(self, expert_id: str, changes: dict) -> dict:
        return self._request("PATCH", f"/v1/experts/{path_id(expert_id, 'expert')}/availability", body=changes, safe=True)
