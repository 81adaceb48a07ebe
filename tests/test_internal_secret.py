"""Only the bot may call the dialogue: the Rasa REST channel and the action server answer 403 to any
caller without the internal secret (``X-Kejibang-Secret``), so another local process cannot act as any
farmer, chair or volunteer.

The real channel class (``kejibang.rest_channel``, as deploy/credentials.yml names it) in a Sanic app on
loopback, the real action server process as ``kejibang run`` starts it, and the deploy files as Rasa
reads them; the Rasa servers with the trained model are in test_production_profile.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import requests

from kejibang import launcher
from kejibang.internal import SECRET_HEADER, SECRET_VARIABLE
from kejibang.settings import Settings
from tests.conftest import free_port
from tests.support.action_server import start_action_server

SECRET = "only-the-bot"
BODY = {"sender": "telegram:1", "message": "我是别人"}


@pytest_asyncio.fixture
async def rest_channel(monkeypatch) -> AsyncIterator[tuple[str, list]]:
    """The production REST channel, built from deploy/credentials.yml as Rasa builds it, answering
    every message it lets through; yields its webhook URL and the messages that got in."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.run import create_http_input_channels
    from sanic import Sanic, response

    from kejibang.rasa_server import CREDENTIALS

    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    [channel] = create_http_input_channels(None, str(CREDENTIALS))
    got_in: list[str] = []

    async def dialogue(message: UserMessage) -> None:
        got_in.append(message.sender_id)
        assert isinstance(message.output_channel, CollectingOutputChannel)
        await message.output_channel.send_text_message(message.sender_id, "收到")

    app = Sanic(f"rest_channel_{uuid.uuid4().hex[:8]}")
    app.add_route(lambda _: response.json({"model_file": "m.tar.gz"}), "/status")  # Rasa's API, behind its token
    app.blueprint(channel.blueprint(dialogue), url_prefix=f"/webhooks/{channel.url_prefix()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.start_serving()
    yield f"http://127.0.0.1:{port}/webhooks/rest/webhook", got_in
    server.close()
    await server.wait_closed()


async def _post(url: str, headers: dict[str, str]) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.post(url, json=BODY, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.asyncio
async def test_the_rest_channel_answers_only_the_bot(rest_channel):
    url, got_in = rest_channel
    assert (await _post(url, {}))[0] == 403
    assert (await _post(url, {SECRET_HEADER: "guess"}))[0] == 403
    assert got_in == [], "nothing reached the dialogue"
    status, replies = await _post(url, {SECRET_HEADER: SECRET})
    assert status == 200 and replies == [{"recipient_id": "telegram:1", "text": "收到"}]
    async with aiohttp.ClientSession() as session, session.get(url.replace("/webhooks/rest/webhook", "/status")) as api:
        assert api.status == 200, "the check guards the channel's routes only, not Rasa's HTTP API"


def test_the_rest_channel_does_not_start_without_a_secret(monkeypatch):
    from rasa.core.run import create_http_input_channels

    from kejibang.rasa_server import CREDENTIALS

    monkeypatch.setenv(SECRET_VARIABLE, "")
    with pytest.raises(ValueError, match=SECRET_VARIABLE):
        create_http_input_channels(None, str(CREDENTIALS))


@pytest.fixture
def action_server(monkeypatch, tmp_path: Path):
    """The production profile's action server (deploy/), with its configured secret."""
    port = free_port()
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEJIBANG_ACTIONS_PORT", str(port))
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    settings = Settings.from_env()
    process = start_action_server(settings, tmp_path / "actions.log")
    yield f"http://127.0.0.1:{port}", settings
    process.terminate()
    process.wait(timeout=20)


def test_the_action_server_answers_only_callers_with_the_secret(action_server):
    url, _ = action_server
    secret = SECRET
    call = {"next_action": "action_open_handoff", "sender_id": "telegram:1", "tracker": {}, "domain": {}}
    assert requests.post(f"{url}/webhook", json=call, timeout=10).status_code == 403
    assert requests.post(f"{url}/webhook", json=call, headers={SECRET_HEADER: "guess"}, timeout=10).status_code == 403
    assert requests.get(f"{url}/actions", timeout=10).status_code == 403
    listed = requests.get(f"{url}/actions", headers={SECRET_HEADER: secret}, timeout=10)
    assert listed.status_code == 200 and {"name": "action_open_handoff"} in listed.json()
    assert requests.get(f"{url}/health", timeout=10).ok, "the readiness check needs no secret"


def test_rasa_calls_the_action_server_with_the_secret(monkeypatch):
    from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

    from core.dialogue import InProcessRasa
    from kejibang.rasa_server import ENDPOINTS

    monkeypatch.setenv("KEJIBANG_ACTIONS_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    for variable in ("RASA_LOCK_REDIS_HOST", "RASA_LOCK_REDIS_PORT", "RASA_LOCK_REDIS_DB", "RASA_LOCK_REDIS_PASSWORD",
                     "RASA_LOCK_KEY_PREFIX", "KEJIBANG_TRACKER_DB"):
        monkeypatch.setenv(variable, "x")
    assert read_endpoint_config(str(ENDPOINTS), "action_endpoint").headers == {SECRET_HEADER: SECRET}
    embedded = InProcessRasa(Path("model.tar.gz"), "http://127.0.0.1:5055/webhook", "sqlite://")
    assert embedded._action_endpoint(EndpointConfig).headers == {SECRET_HEADER: SECRET}


def test_production_servers_do_not_start_without_the_secret(monkeypatch, tmp_path: Path):
    from kejibang import rasa_server

    monkeypatch.setenv("RASA_TOKEN", "token")
    monkeypatch.setenv(SECRET_VARIABLE, "")
    with pytest.raises(launcher.LaunchError, match=SECRET_VARIABLE):
        rasa_server.serve(Settings.from_env(), 5005)
    ran = subprocess.run([sys.executable, "-m", "kejibang.action_server", "--port", str(free_port())],
                         cwd=launcher.PROJECT_ROOT, env={**os.environ, SECRET_VARIABLE: ""},
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode != 0 and SECRET_VARIABLE in ran.stderr
