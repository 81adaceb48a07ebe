"""Scoped API keys (issue #12): each caller's key is refused (403) outside its scope on the HTTP server, a
revoked or unknown key is a 401, the configured key keeps every right, keys are issued, listed and revoked by
``kejibang admin keys``, and the server will not start with a weak key outside dev."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from exchange.keys import issue_key, key_hash, revoke_key, unsafe_server_key
from exchange.models import ApiKey
from exchange.service import ExchangeService
from kejibang.cli import main
from tests.conftest import API_KEY, ServerThread

USER = {"name": "张德明", "phone": "13881234567", "role": "农户", "township": "岳池县坪滩镇",
        "consent": {"purpose": "对接专家", "scope": "姓名、电话"}}
# (method, path, body) per right; {need}, {user}, {expert} and {contact} are filled in
CALLS = {
    "users": [("POST", "/v1/users", USER), ("GET", "/v1/users/{user}", None),
              ("PATCH", "/v1/users/{user}", {"name": "张德明"}), ("GET", "/v1/users/{user}/needs", None)],
    "needs": [("POST", "/v1/needs", {"text": "猪拉稀不吃食"}), ("GET", "/v1/needs/{need}", None),
              ("POST", "/v1/needs/{need}/feedback", {"verdict": "helpful", "expert_id": "{expert}"})],
    "contacts": [("POST", "/v1/needs/{need}/contacts", {"expert_id": "{expert}"}),
                 ("GET", "/v1/contacts/{contact}", None), ("GET", "/v1/experts/{expert}/contacts", None),
                 ("PATCH", "/v1/experts/{expert}/availability", {"capacity": 5})],
    "import": [("POST", "/v1/experts/import", {"records": []}), ("POST", "/v1/articles/import", {"records": []})],
    "erase": [("DELETE", "/v1/needs?sender=s-nobody", None), ("DELETE", "/v1/users/u-nobody", None)],
    "stats": [("GET", "/v1/stats/townships/511621106", None)],
}
ALLOWED = {"bot": {"users", "needs", "contacts", "erase", "stats"}, "operator": {"import", "erase", "stats"},
           "partner": set()}


@pytest.fixture
def served(sqlite_service: ExchangeService) -> Iterator[dict]:
    """The exchange over HTTP, one issued key per scope, and a user, need, expert and contact to aim at."""
    server = ServerThread(sqlite_service).start()
    keys = {scope: issue_key(sqlite_service.db, scope, f"{scope} 测试")[1] for scope in ALLOWED}
    user = sqlite_service.register_user(USER)
    need = sqlite_service.create_need({"text": "猪拉稀不吃食", "user_id": user["id"]})
    expert = need["match"]["experts"][0]["id"]
    contact = sqlite_service.request_contact(need["id"], expert)
    ids = {"user": user["id"], "need": need["id"], "expert": expert, "contact": contact["id"]}
    yield {"url": server.url, "keys": keys, "ids": ids, "service": sqlite_service}
    server.stop()


def _call(served: dict, key: str | None, method: str, path: str, body: dict | None) -> int:
    ids = served["ids"]
    if body is not None:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    headers = {"X-API-Key": key} if key is not None else {}
    return requests.request(method, served["url"] + path.format(**ids), json=body, headers=headers,
                            timeout=10).status_code


@pytest.mark.parametrize("scope", list(ALLOWED))
def test_each_scope_is_refused_outside_its_rights(served, scope):
    refused, let_in = [], []
    for right, calls in CALLS.items():
        for method, path, body in calls:
            status = _call(served, served["keys"][scope], method, path, body)
            (let_in if right in ALLOWED[scope] else refused).append((method, path, status))
    assert all(status == 403 for *_, status in refused), refused
    assert all(status not in (401, 403) for *_, status in let_in), let_in


def test_the_configured_key_keeps_every_right_and_partners_read_the_public_view(served):
    for calls in CALLS.values():
        for method, path, body in calls:
            assert _call(served, API_KEY, method, path, body) not in (401, 403), (method, path)
    expert = served["ids"]["expert"]
    public = requests.get(f"{served['url']}/v1/experts/{expert}", headers={"X-API-Key": served["keys"]["partner"]},
                          timeout=10).json()
    full = requests.get(f"{served['url']}/v1/experts/{expert}", headers={"X-API-Key": served["keys"]["operator"]},
                        timeout=10).json()
    assert "phone" not in public and "phone" in full
    assert requests.get(f"{served['url']}/v1/experts", params={"q": "猪"}, timeout=10).status_code == 200


def test_unknown_and_revoked_keys_are_401_and_only_hashes_are_stored(served):
    service, bot_key = served["service"], served["keys"]["bot"]
    assert _call(served, "kjb_" + "x" * 40, "GET", "/v1/users/{user}", None) == 401
    assert _call(served, None, "POST", "/v1/needs", {"text": "猪拉稀"}) == 401
    with service.db.transaction() as session:
        rows = session.execute(select(ApiKey)).scalars().all()
    assert {row.key_hash for row in rows} >= {key_hash(bot_key)} and all(bot_key not in row.key_hash for row in rows)
    [bot] = [row.id for row in rows if row.scope == "bot"]
    revoke_key(service.db, bot)
    assert _call(served, bot_key, "GET", "/v1/users/{user}", None) == 401


def test_the_server_refuses_weak_keys_outside_dev():
    assert unsafe_server_key("dev-key", "production") and unsafe_server_key("short-key", "production")
    assert unsafe_server_key("k" * 24, "production") is None
    assert unsafe_server_key("dev-key", "dev") is None


def test_admin_keys_add_list_revoke_and_serve_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("KEJIBANG_EXCHANGE_DB", f"sqlite:///{tmp_path / 'exchange.db'}")
    runner = CliRunner()
    added = runner.invoke(main, ["admin", "keys", "add", "--scope", "partner", "--name", "天府科技云"])
    assert added.exit_code == 0, added.output
    key_id, key = added.output.split("已发放 ")[1].split("（")[0], added.output.strip().splitlines()[-1]
    assert len(key) >= 24
    listed = runner.invoke(main, ["admin", "keys", "list"])
    assert key_id in listed.output and "partner" in listed.output and key not in listed.output
    assert "已吊销" in runner.invoke(main, ["admin", "keys", "revoke", key_id]).output
    assert "已吊销" in runner.invoke(main, ["admin", "keys", "list"]).output
    assert runner.invoke(main, ["admin", "keys", "revoke", "k-nobody"]).exit_code != 0
    assert runner.invoke(main, ["admin", "keys", "add", "--scope", "root", "--name", "x"]).exit_code != 0
    monkeypatch.setenv("KEJIBANG_ENV", "production")
    monkeypatch.setenv("KEJIBANG_EXCHANGE_API_KEY", "dev-key")
    refused = runner.invoke(main, ["exchange", "serve"])
    assert refused.exit_code != 0 and "dev-key" in refused.output
