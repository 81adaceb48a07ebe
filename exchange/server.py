"""The reference exchange over HTTP (aiohttp): a thin layer over ``ExchangeService``.

Blocking database work runs in threads so one slow query does not stall other requests. Every
write and every read of personal data needs an API key whose scope covers it (``exchange/keys.py``: a valid
key outside its scope is a 403); errors are JSON with a stable code and a
Chinese message. The expert reads are public: without a key they answer the contract's public fields
only, with the operator's key every field (a wrong key is refused, not quietly given the public view).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from exchange.errors import BadRequest, ExchangeError, Forbidden, InputRejected, Unauthorized
from exchange.keys import rights_of
from exchange.service import ExchangeService

log = logging.getLogger(__name__)
OPENAPI = Path(__file__).resolve().parent / "openapi.yaml"
MAX_BODY = 64 * 1024
MAX_IMPORT_BODY = 64 * 1024 * 1024
SERVICE = web.AppKey("service", ExchangeService)
API_KEY = web.AppKey("api_key", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as ``{"error": {"code", "message"}}``; internals never leak."""
    try:
        return await handler(request)
    except ExchangeError as error:
        return _error(error.status, error.code, error.message)
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "body_too_large", "请求内容太大")
    except web.HTTPException as error:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status, "http_error")
        response = _error(error.status, code, {404: "没有这个地址", 405: "不支持这个方法"}.get(error.status, "请求有误"))
        if "Allow" in error.headers:  # a 405 must say which methods the path does take (RFC 9110)
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error(500, "internal_error", "交易平台内部出错了，请稍后再试")


def _given_key(request: web.Request) -> bytes | None:
    """The X-API-Key header as bytes, None when absent; one that is not UTF-8 is a 400 (it was a 500)."""
    given = request.headers.get("X-API-Key")
    if given is None:
        return None
    try:
        return given.encode("utf-8")  # aiohttp keeps undecodable bytes as lone surrogates
    except UnicodeEncodeError as error:
        raise BadRequest("invalid_api_key", "API 密钥含有无法识别的字符") from error


async def _rights(request: web.Request) -> frozenset[str]:
    """The rights of the presented key: the configured (bot) key, or an issued one; else a 401."""
    given = _given_key(request)
    if given is None:
        raise Unauthorized("unauthorized", "缺少或错误的 API 密钥")
    rights = await asyncio.to_thread(rights_of, request.app[SERVICE].db, given.decode("utf-8"), request.app[API_KEY])
    if rights is None:
        raise Unauthorized("unauthorized", "缺少或错误的 API 密钥")
    return rights


async def _authorized(request: web.Request, right: str) -> None:
    """A key is needed and its scope must cover ``right``: a partner's key cannot write, a bot's cannot import."""
    if right not in await _rights(request):
        raise Forbidden("forbidden", "这个密钥无权做这件事")


async def _operator(request: web.Request) -> bool:
    """Whether a public read answers every field: only for a key with operator reads (a wrong key is a 401,
    a partner's key gets the public view)."""
    if _given_key(request) is None:
        return False
    return "operator_read" in await _rights(request)


async def _body(request: web.Request, limit: int = MAX_BODY) -> dict:
    if request.content_length is not None and request.content_length > limit:
        raise InputRejected("body_too_large", "请求内容太大")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise InputRejected("body_too_large", "请求内容太大")
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputRejected("invalid_json", "请求内容不是合法的 JSON") from error
    if not isinstance(body, dict):
        raise InputRejected("invalid_body", "请求内容应为 JSON 对象")
    return body


def _field(body: dict, name: str, default: Any = None) -> Any:
    """One field of a request body as sent, unchecked: the service checks every value it is given."""
    return body.get(name, default)


def _int_query(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError as error:
        raise InputRejected(f"invalid_{name}", f"{name} 应为整数") from error


def _service(request: web.Request) -> ExchangeService:
    """The exchange this server serves (its operations run off the event loop: ``asyncio.to_thread``)."""
    return request.app[SERVICE]


routes = web.RouteTableDef()


@routes.get("/v1/health")
async def health(request: web.Request) -> web.Response:
    """Liveness for operators and the outbox worker."""
    return _json({"status": "ok"})


@routes.get("/openapi.yaml")
async def openapi(request: web.Request) -> web.Response:
    """The contract this server implements."""
    return web.Response(text=OPENAPI.read_text(encoding="utf-8"), content_type="application/yaml")


@routes.post("/v1/users")
async def register_user(request: web.Request) -> web.Response:
    """Register someone (self, or on behalf by a chair: ``registered_by``)."""
    await _authorized(request, "users")
    user = await asyncio.to_thread(_service(request).register_user, await _body(request),
                                   request.headers.get("Idempotency-Key"))
    return _json(user, 201)


@routes.get("/v1/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    """A user's record: personal data, key required."""
    await _authorized(request, "users")
    return _json(await asyncio.to_thread(_service(request).get_user, request.match_info["user_id"]))


@routes.patch("/v1/users/{user_id}")
async def update_user(request: web.Request) -> web.Response:
    """Change some fields of a user."""
    await _authorized(request, "users")
    return _json(await asyncio.to_thread(_service(request).update_user, request.match_info["user_id"],
                                         await _body(request)))


@routes.delete("/v1/users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    """Erase a user (personal-data deletion)."""
    await _authorized(request, "erase")
    await asyncio.to_thread(_service(request).delete_user, request.match_info["user_id"])
    return web.Response(status=204)


@routes.delete("/v1/needs")
async def delete_sender_needs(request: web.Request) -> web.Response:
    """Erase every need one chat posted (``sender``), registered or not; answers how many went."""
    await _authorized(request, "erase")
    deleted = await asyncio.to_thread(_service(request).delete_sender_needs, request.query.get("sender", ""))
    return _json({"deleted": deleted})


@routes.get("/v1/users/{user_id}/needs")
async def list_needs(request: web.Request) -> web.Response:
    """A user's needs, newest first."""
    await _authorized(request, "users")
    needs = await asyncio.to_thread(_service(request).list_needs, request.match_info["user_id"])
    return _json({"needs": needs})


@routes.post("/v1/needs")
async def create_need(request: web.Request) -> web.Response:
    """Post a need; the Idempotency-Key header makes retries safe."""
    await _authorized(request, "needs")
    body = await _body(request)
    need = await asyncio.to_thread(_service(request).create_need, body, request.headers.get("Idempotency-Key"),
                                   _int_query(request, "top", 5))
    return _json(need, 201)


@routes.get("/v1/needs/{need_id}")
async def get_need(request: web.Request) -> web.Response:
    """One need with its matched experts."""
    await _authorized(request, "needs")
    return _json(await asyncio.to_thread(_service(request).get_need, request.match_info["need_id"]))


@routes.post("/v1/needs/{need_id}/status")
async def set_need_status(request: web.Request) -> web.Response:
    """Move a need along open → matched → contacted → resolved / closed."""
    await _authorized(request, "needs")
    body = await _body(request)
    return _json(await asyncio.to_thread(_service(request).set_need_status, request.match_info["need_id"],
                                         _field(body, "status")))


@routes.post("/v1/needs/{need_id}/feedback")
async def add_feedback(request: web.Request) -> web.Response:
    """Feedback on a match: helpful / not_helpful / unreachable."""
    await _authorized(request, "needs")
    body = await _body(request)
    feedback = await asyncio.to_thread(_service(request).add_feedback, request.match_info["need_id"],
                                       _field(body, "verdict"), _field(body, "expert_id"), _field(body, "comment", ""),
                                       request.headers.get("Idempotency-Key"))
    return _json(feedback, 201)


@routes.post("/v1/match")
async def match_preview(request: web.Request) -> web.Response:
    """Predicted domains, experts and articles for a text; nothing is stored."""
    body = await _body(request)
    return _json(await asyncio.to_thread(_service(request).match_preview, _field(body, "text"), _field(body, "region"),
                                         _field(body, "domains"), _field(body, "top", 5)))


@routes.get("/v1/experts")
async def search_experts(request: web.Request) -> web.Response:
    """Experts for a query (q) or a domain."""
    experts = await asyncio.to_thread(_service(request).search_experts, request.query.get("q", ""),
                                      request.query.get("domain", ""), _int_query(request, "top", 10),
                                      await _operator(request))
    return _json({"experts": experts})


@routes.get(r"/v1/experts/{expert_id:(?!import$)[^/]+}")  # POST /v1/experts/import is not an expert
async def get_expert(request: web.Request) -> web.Response:
    """One expert: public fields, or every field with the operator's key."""
    return _json(await asyncio.to_thread(_service(request).get_expert, request.match_info["expert_id"],
                                         await _operator(request)))


@routes.get("/v1/articles")
async def search_articles(request: web.Request) -> web.Response:
    """Articles for a topic (q) or a domain."""
    articles = await asyncio.to_thread(_service(request).search_articles, request.query.get("q", ""),
                                       request.query.get("domain", ""), _int_query(request, "top", 10))
    return _json({"articles": articles})


@routes.get(r"/v1/articles/{article_id:(?!import$)[^/]+}")
async def get_article(request: web.Request) -> web.Response:
    """One article."""
    return _json(await asyncio.to_thread(_service(request).get_article, request.match_info["article_id"]))


@routes.post("/v1/{kind:experts|articles}/import")
async def import_records(request: web.Request) -> web.Response:
    """Bulk insert-or-update by id; all or nothing."""
    await _authorized(request, "import")
    body = await _body(request, MAX_IMPORT_BODY)
    records = body.get("records")
    if not isinstance(records, list):
        raise InputRejected("invalid_body", "records 应为列表")
    return _json(await asyncio.to_thread(_service(request).import_records, request.match_info["kind"], records))


@routes.get("/v1/stats/townships/{township_code}")
async def township_stats(request: web.Request) -> web.Response:
    """A township's funnel by week."""
    await _authorized(request, "stats")
    return _json(await asyncio.to_thread(_service(request).township_stats, request.match_info["township_code"],
                                         _int_query(request, "weeks", 2)))


@routes.post("/v1/needs/{need_id}/contacts")
async def request_contact(request: web.Request) -> web.Response:
    """联系TA: offer the need to one expert (asking again returns the same open request)."""
    await _authorized(request, "contacts")
    body = await _body(request)
    contact = await asyncio.to_thread(_service(request).request_contact, request.match_info["need_id"],
                                      _field(body, "expert_id"))
    return _json(contact, 201)


@routes.get("/v1/contacts/{request_id}")
async def get_contact(request: web.Request) -> web.Response:
    """One contact request with what its expert sees."""
    await _authorized(request, "contacts")
    return _json(await asyncio.to_thread(_service(request).get_contact, request.match_info["request_id"]))


@routes.post("/v1/contacts/{request_id}/answer")
async def answer_contact(request: web.Request) -> web.Response:
    """The expert's answer: accept, decline, pass (to a peer) or timeout; the next expert is offered."""
    await _authorized(request, "contacts")
    body = await _body(request)
    return _json(await asyncio.to_thread(_service(request).answer_contact, request.match_info["request_id"],
                                         _field(body, "answer"), _field(body, "note")))


@routes.post("/v1/contacts/{request_id}/outcome")
async def record_outcome(request: web.Request) -> web.Response:
    """The farmer's follow-up answer: resolved, not_yet or unreachable."""
    await _authorized(request, "contacts")
    body = await _body(request)
    return _json(await asyncio.to_thread(_service(request).record_outcome, request.match_info["request_id"],
                                         _field(body, "outcome")))


@routes.get("/v1/experts/{expert_id}/contacts")
async def expert_contacts(request: web.Request) -> web.Response:
    """An expert's requests, oldest first."""
    await _authorized(request, "contacts")
    active = request.query.get("active", "true") != "false"
    contacts = await asyncio.to_thread(_service(request).expert_contacts, request.match_info["expert_id"], active)
    return _json({"contacts": contacts})


@routes.get("/v1/experts/{expert_id}/summary")
async def expert_summary(request: web.Request) -> web.Response:
    """Needs received, accepted, declined and resolved since a moment."""
    await _authorized(request, "contacts")
    try:
        since = datetime.fromisoformat(request.query.get("since", "").replace("Z", "+00:00"))
    except ValueError as error:
        raise InputRejected("invalid_since", "since 应为 ISO 8601 时间") from error
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return _json(await asyncio.to_thread(_service(request).expert_summary, request.match_info["expert_id"], since))


@routes.patch("/v1/experts/{expert_id}/availability")
async def set_expert_availability(request: web.Request) -> web.Response:
    """Accepting or paused, capacity, places served."""
    await _authorized(request, "contacts")
    return _json(await asyncio.to_thread(_service(request).set_expert_availability, request.match_info["expert_id"],
                             await _body(request)))


def create_app(service: ExchangeService, api_key: str) -> web.Application:
    """The aiohttp application serving ``service``; ``api_key`` is the bot's configured key (every right), and
    the keys issued with ``kejibang admin keys`` carry their scope's rights."""
    if not api_key:
        raise ValueError("the exchange needs an API key (KEJIBANG_EXCHANGE_API_KEY)")
    app = web.Application(middlewares=[errors_as_json], client_max_size=MAX_IMPORT_BODY)
    app[SERVICE] = service
    app[API_KEY] = api_key
    app.add_routes(routes)
    return app
