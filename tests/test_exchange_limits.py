"""Issue #12 B: every field of every write has a length limit (a 422 in Chinese, never a 500), every id in a
URL is quoted by the client and checked against its pattern by both sides, and a key the server cannot
decode is a 400.

Why: a need with a 210-character region was a 500 on PostgreSQL (StringDataRightTruncation) and nothing on
SQLite, so the outbox retried it forever; ``expert_id="../users/u-…"`` fetched a user record with the key.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from exchange.client import ExchangeClient
from exchange.errors import InputRejected
from exchange.limits import ID_PATTERNS
from tests.conftest import API_KEY

FARMER = {"name": "王秀英", "phone": "13881234567", "role": "农户", "township": "岳池县坪滩镇",
          "consent": {"purpose": "匹配专家", "scope": "姓名、电话", "share_contact": True}}
EXPERT = {"id": "e-limit-1", "name": "赵专家", "domains": ["pig"], "expertise": "猪病防治"}


def _chinese(error: InputRejected) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in error.message)


def _refused(call) -> InputRejected:
    with pytest.raises(InputRejected) as refused:
        call()
    assert _chinese(refused.value), refused.value.message
    return refused.value


def test_a_need_with_a_210_character_region_is_refused_in_chinese(exchange):
    refusal = _refused(lambda: exchange.create_need({"text": "猪不吃食", "region": "岳" * 210}))
    assert refusal.code == "region_too_long"


def test_feedback_with_an_expert_id_over_64_characters_is_refused(exchange):
    need = exchange.create_need({"text": "鱼早上浮头"})
    _refused(lambda: exchange.add_feedback(need["id"], "helpful", "e" * 65))
    _refused(lambda: exchange.add_feedback(need["id"], "not_helpful", None, "太长" * 600))


@pytest.mark.parametrize("field,value", [
    ("phone", "1" * 31), ("township", "镇" * 101), ("registered_by", "u-" + "x" * 60),
    ("consent", {"purpose": "用" * 301}), ("consent", {"purpose": "匹配", "scope": "范" * 301}),
    ("name", "名\x00字"),
])
def test_every_registration_field_has_a_limit(exchange, field, value):
    _refused(lambda: exchange.register_user({**FARMER, field: value}))
    user = exchange.register_user(FARMER)
    _refused(lambda: exchange.update_user(user["id"], {field: value}))


@pytest.mark.parametrize("body", [
    {"text": "猪不吃食", "user_id": "u-" + "x" * 60}, {"text": "猪不吃食", "domains": ["pig"] * 21},
    {"text": "猪不吃\x00食"}, {"text": "猪不吃食", "region": "岳池\x00县"},
])
def test_every_need_field_has_a_limit(exchange, body):
    _refused(lambda: exchange.create_need(body))


def test_contact_writes_have_limits(exchange):
    exchange.import_records("experts", [EXPERT])
    need = exchange.create_need({"text": "猪不吃食", "region": "岳池县"})
    _refused(lambda: exchange.request_contact(need["id"], "e" * 65))
    request = exchange.request_contact(need["id"], EXPERT["id"])
    _refused(lambda: exchange.answer_contact(request["id"], "decline", "忙" * 301))
    _refused(lambda: exchange.set_expert_availability(EXPERT["id"], {"serves": ["县" * 51]}))


@pytest.mark.parametrize("change", [
    {"title": "职" * 201}, {"phone": "1" * 41}, {"wechat": "w" * 101}, {"email": "e" * 255},
    {"share_contact": "false"}, {"capacity": "abc"}, {"accepting": "yes"}, {"id": "e/../u-1"},
    {"domains": ["pig"] * 21}, {"home_address": "址" * 2001}, {"name": "赵\x00专家"},
])
def test_every_expert_field_of_an_import_has_a_limit(exchange, change):
    _refused(lambda: exchange.import_records("experts", [{**EXPERT, **change}]))


def test_a_url_id_is_quoted_and_checked_so_it_cannot_reach_another_resource(exchange_server):
    client = ExchangeClient(exchange_server.url, API_KEY, retry_delays=())
    user = client.register_user(FARMER)
    for sneaky in (f"../users/{user['id']}", f"..%2Fusers%2F{user['id']}", "e-1?x=1", "e 1", ""):
        refusal = _refused(lambda sneaky=sneaky: client.get_expert(sneaky, operator=True))
        assert refusal.code == "invalid_expert_id"
    _refused(lambda: client.add_feedback(f"../users/{user['id']}", "helpful"))
    base = exchange_server.url
    for path in (f"/v1/experts/..%2Fusers%2F{user['id']}", "/v1/experts/e-1%00", "/v1/needs/n%2F1"):
        answer = requests.get(base + path, headers={"X-API-Key": API_KEY}, timeout=5)
        assert answer.status_code in (404, 422), path
        assert "13881234567" not in answer.text


def test_a_key_header_that_is_not_utf8_is_a_400_not_a_500(exchange_server):
    parts = urlsplit(exchange_server.url)
    for method, path in (("GET", "/v1/users/u-1"), ("GET", "/v1/experts/e-0001"), ("POST", "/v1/needs")):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        connection.putrequest(method, path)
        connection.putheader("X-API-Key", b"\xff\xfe\xc3")
        connection.putheader("Content-Length", "2")
        connection.endheaders(b"{}")
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        assert response.status == 400, (path, body)
        assert "invalid_api_key" in body


def test_the_contract_carries_the_id_patterns_the_code_checks():
    from exchange.server import OPENAPI

    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    declared = [*spec["components"]["parameters"].values()]
    for item in spec["paths"].values():
        declared += item.get("parameters", [])
        declared += [p for operation in item.values() if isinstance(operation, dict)
                     for p in operation.get("parameters", [])]
    patterns = {p["name"]: p["schema"].get("pattern") for p in declared if p.get("in") == "path"}
    for name, kind in (("user_id", "user"), ("need_id", "need"), ("request_id", "contact"), ("expert_id", "expert"),
                       ("article_id", "article"), ("township_code", "township")):
        assert patterns[name] == "^" + ID_PATTERNS[kind].pattern + "$", name
