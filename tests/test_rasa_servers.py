"""The bot's client for several Rasa servers (RasaServer), against small stand-in servers on loopback.

The stand-ins answer the REST channel and /status the way Rasa does, and say which of them answered;
the real servers, with the trained model, are in test_production_profile.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from channels import terminal
from core.assistant import Assistant
from core.dialogue import RasaServer, RasaUnavailable
from core.texts import Farmer
from kejibang import launcher
from kejibang.internal import SECRET_HEADER, SECRET_VARIABLE
from kejibang.settings import Settings
from tests.conftest import free_port

TOKEN = "s3cret"
SECRET = "only-the-bot"


def _stand_in(name: str) -> web.Application:
    """A Rasa server in miniature: the REST webhook wants the internal secret (as kejibang.rest_channel
    does) and echoes with its name; /status wants the token."""
    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.json_response({"error": "forbidden"}, status=403)
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"{name}:{body['message']}"}])

    async def status(request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.json_response({"reason": "NotAuthenticated"}, status=401)
        return web.json_response({"model_file": f"/srv/kejibang/models/{name}.tar.gz"})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/status", status)
    return app


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[list[str]]:
    """Two stand-ins, "a" and "b", and the URL of a port nobody listens on (a server that is down)."""
    runners = [web.AppRunner(_stand_in(name)) for name in ("a", "b")]
    urls = []
    for runner in runners:
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        urls.append(f"http://127.0.0.1:{port}")
    yield [*urls, f"http://127.0.0.1:{free_port()}"]
    for runner in runners:
        await runner.cleanup()


async def _answers(backend: RasaServer, count: int) -> list[str]:
    try:
        return [(await backend.respond("telegram:1", f"m{i}"))[0].text for i in range(count)]
    finally:
        await backend.close()


@pytest.mark.asyncio
async def test_messages_take_the_servers_in_turn(servers):
    a, b, _ = servers
    assert await _answers(RasaServer([a, b], secret=SECRET), 4) == ["a:m0", "b:m1", "a:m2", "b:m3"]


@pytest.mark.asyncio
async def test_a_server_that_is_down_is_skipped_and_no_message_is_lost(servers):
    a, _, down = servers
    assert await _answers(RasaServer([a, down], secret=SECRET), 3) == ["a:m0", "a:m1", "a:m2"]


@pytest.mark.asyncio
async def test_sticky_workers_serve_each_person_always_from_the_same_one(servers):
    a, b, _ = servers
    backend = RasaServer([a, b], secret=SECRET, sticky=True)
    served: dict[str, set[str]] = {}
    try:
        for turn in range(36):
            person = f"telegram:{turn % 12}"
            served.setdefault(person, set()).add((await backend.respond(person, "m"))[0].text)
    finally:
        await backend.close()
    assert all(len(answers) == 1 for answers in served.values()), "one person, one worker: turns in order"
    assert set().union(*served.values()) == {"a:m", "b:m"}, "the people are spread over both workers"


@pytest.mark.asyncio
async def test_ten_people_at_once_are_shared_evenly_between_two_workers(servers):
    """Ten people writing at the same moment: five to each worker, where a hash of the addresses had given
    one worker eight of them (the other core idled while they queued)."""
    a, b, _ = servers
    backend = RasaServer([a, b], secret=SECRET, sticky=True)
    try:
        first = await asyncio.gather(*(backend.respond(f"telegram:{700 + n}", "m") for n in range(10)))
        again = await asyncio.gather(*(backend.respond(f"telegram:{700 + n}", "m") for n in range(10)))
    finally:
        await backend.close()
    workers = [replies[0].text for replies in first]
    assert sorted(workers) == ["a:m"] * 5 + ["b:m"] * 5
    assert [replies[0].text for replies in again] == workers, "each keeps their worker"


@pytest.mark.asyncio
async def test_a_sticky_workers_people_go_to_another_when_it_is_down(servers):
    a, _, down = servers
    backend = RasaServer([down, a], secret=SECRET, sticky=True)
    try:
        assert {(await backend.respond(f"telegram:{n}", "m"))[0].text for n in range(6)} == {"a:m"}
    finally:
        await backend.close()


@pytest.mark.asyncio
async def test_with_every_server_down_the_person_gets_the_chinese_apology(servers):
    *_, down = servers
    backend = RasaServer([down, down])
    with pytest.raises(RasaUnavailable, match="no Rasa server is reachable"):
        await backend.respond("telegram:1", "你好")
    replies = await Assistant(backend).on_text("telegram:1", "你好")
    await backend.close()
    assert replies[0].text == Farmer.BROKEN


@pytest.mark.asyncio
async def test_status_names_each_servers_model_or_what_is_wrong(servers):
    a, b, down = servers
    right, wrong = RasaServer([a, down], TOKEN), RasaServer([b], "guess")
    assert await right.status() == {a: "a.tar.gz", down: "连不上（ClientConnectorError）"}
    assert (await wrong.status())[b].startswith("HTTP 401")
    await right.close()
    await wrong.close()


def test_rasa_url_lists_several_servers(monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:5005/, http://127.0.0.1:5006 ,")
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    settings = Settings.from_env()
    assert settings.rasa_urls == ("http://127.0.0.1:5005", "http://127.0.0.1:5006")
    assert settings.rasa_token == TOKEN


@pytest.mark.asyncio
async def test_with_rasa_url_the_adapter_talks_to_the_servers(servers, monkeypatch, capsys):
    a, b, _ = servers
    monkeypatch.setenv("RASA_URL", f"{a},{b}")
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    answered: list[str] = []

    async def adapter(core) -> None:
        answered.extend([(await core.assistant.on_text("terminal", "你好"))[0].text for _ in range(2)])

    monkeypatch.setattr(terminal, "chat", adapter)
    await launcher.serve(Settings.from_env(), None, terminal=True)
    assert answered == ["a:你好", "b:你好"]
    assert "a.tar.gz" in capsys.readouterr().out


@pytest.mark.asyncio
async def test_the_bot_sends_the_internal_secret_and_without_it_the_channel_refuses(servers, monkeypatch):
    a, *_ = servers
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    assert await _answers(RasaServer([a]), 1) == ["a:m0"], "the secret of the environment by default"
    stranger = RasaServer([a], secret="guess")
    with pytest.raises(aiohttp.ClientResponseError, match="403"):
        await stranger.respond("telegram:1", "冒充别人")
    await stranger.close()


@pytest.mark.asyncio
async def test_the_bot_does_not_start_against_rasa_servers_without_the_secret(servers, monkeypatch):
    a, *_ = servers
    monkeypatch.setenv("RASA_URL", a)
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    monkeypatch.setenv(SECRET_VARIABLE, "")
    with pytest.raises(launcher.LaunchError, match=SECRET_VARIABLE):
        await launcher.serve(Settings.from_env(), None, terminal=True)


def test_kejibang_run_with_rasa_url_neither_loads_a_model_nor_starts_workers(monkeypatch, tmp_path):
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:5005")
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEJIBANG_SEED_SAMPLE", "0")
    started: list[Path | None] = []

    def refuse(*args) -> None:
        raise AssertionError("the Rasa servers own the model and the actions")

    async def serve(settings, model_path, terminal) -> None:
        started.append(model_path)

    monkeypatch.setattr(launcher, "configure_logging", lambda level, path=None: None)  # keep the test session's logging
    monkeypatch.setattr(launcher, "process_environment", lambda settings: {})  # and its environment
    monkeypatch.setattr(launcher, "ensure_model", refuse)
    monkeypatch.setattr(launcher, "dialogue_workers", refuse)
    monkeypatch.setattr(launcher, "serve", serve)
    launcher.run(Settings.from_env(), terminal=True)
    assert started == [None]
