"""What only the HTTP transport has: keys, JSON errors, size limits, outages, the served contract."""

from __future__ import annotations

import time

import pytest
import requests
import yaml

from exchange.client import ExchangeClient
from exchange.errors import ExchangeUnavailable, Unauthorized
from tests.conftest import API_KEY, ServerThread


def test_writes_and_personal_data_need_the_key(exchange_server):
    base = exchange_server.url
    for method, path in (("POST", "/v1/users"), ("POST", "/v1/needs"), ("GET", "/v1/users/u-1"),
                         ("POST", "/v1/experts/import"), ("GET", "/v1/stats/townships/511621102")):
        response = requests.request(method, base + path, json={}, headers={"X-API-Key": "wrong"}, timeout=5)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
    with pytest.raises(Unauthorized):
        ExchangeClient(base, "wrong").register_user({"name": "张三", "role": "农户"})


def test_errors_are_json_with_a_stable_code_and_chinese_message(exchange_server):
    base = exchange_server.url
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    broken = requests.post(base + "/v1/needs", data="{not json", headers=headers, timeout=5)
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_json"
    huge = requests.post(base + "/v1/needs", data="x" * 200_000, headers=headers, timeout=5)
    assert huge.status_code in (413, 422) and huge.json()["error"]["code"] == "body_too_large"
    missing = requests.get(base + "/v1/nowhere", timeout=5)
    assert missing.status_code == 404 and "没有" in missing.json()["error"]["message"]


def test_the_server_serves_its_openapi_contract(exchange_server):
    spec = yaml.safe_load(requests.get(exchange_server.url + "/openapi.yaml", timeout=5).text)
    assert spec["openapi"].startswith("3.")
    for path in ("/v1/users", "/v1/needs", "/v1/match", "/v1/experts", "/v1/articles"):
        assert path in spec["paths"]


def test_client_reports_an_outage_and_recovers_when_the_server_returns(sqlite_service):
    server = ServerThread(sqlite_service).start()
    client = ExchangeClient(server.url, API_KEY, retry_delays=(0.05,))
    assert client.search_experts(domain="pig", top=1)
    server.stop()
    started = time.perf_counter()
    with pytest.raises(ExchangeUnavailable):
        client.search_experts(domain="pig", top=1)
    assert time.perf_counter() - started < 5
    restarted = ServerThread(sqlite_service, port=server.port).start()
    try:
        assert client.search_experts(domain="pig", top=1)
    finally:
        restarted.stop()


def test_idempotent_need_write_survives_a_retry(exchange_server):
    client = ExchangeClient(exchange_server.url, API_KEY)
    first = client.create_need({"text": "稻田里好多稻飞虱"}, idempotency_key="retry-me")
    second = client.create_need({"text": "稻田里好多稻飞虱"}, idempotency_key="retry-me")
    assert first["id"] == second["id"]
