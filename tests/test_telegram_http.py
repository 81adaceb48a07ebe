"""The Bot API transport (channels/telegram_http.py) against a real HTTP server on loopback: what the bot
sends arrives whole, and a slow or missing Telegram becomes PTB's own errors (the channel retries on them)."""

from __future__ import annotations

import asyncio
import socket

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from channels.telegram_http import AiohttpRequest

TOKEN = "123:abc"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # binary, 10 KB: a QR code's size


def _sent(chat: int, **content) -> dict:
    return {"ok": True, "result": {"message_id": 7, "date": 0, "chat": {"id": chat, "type": "private"}, **content}}


@pytest_asyncio.fixture
async def telegram():
    """A loopback server answering sendMessage and sendPhoto, remembering what each request carried."""
    received: list[dict] = []

    async def send_message(request: web.Request) -> web.Response:
        form = await request.post()
        received.append(dict(form))
        if form.get("text") == "慢":
            await asyncio.sleep(2)
        return web.json_response(_sent(int(form["chat_id"]), text=form["text"]))

    async def send_photo(request: web.Request) -> web.Response:
        form = await request.post()
        received.append({"chat_id": form["chat_id"], "caption": form["caption"], "photo": form["photo"].file.read()})
        return web.json_response(_sent(int(form["chat_id"]), photo=[]))

    async def get_me(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": {"id": 123, "is_bot": True, "first_name": "科技帮",
                                                         "username": "kejibang_bot"}})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/getMe", get_me)
    app.router.add_post(f"/bot{TOKEN}/sendMessage", send_message)
    app.router.add_post(f"/bot{TOKEN}/sendPhoto", send_photo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/bot", received
    await runner.cleanup()


def _bot(base_url: str, **timeouts) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=AiohttpRequest(**timeouts))


@pytest.mark.asyncio
async def test_a_message_and_a_photo_arrive_whole(telegram):
    base_url, received = telegram
    async with _bot(base_url) as bot:
        message = await bot.send_message(42, "猪不吃食 咋个办")
        await bot.send_photo(42, PNG, caption="邀请二维码")
    assert message.text == "猪不吃食 咋个办" and message.chat.id == 42
    assert received[0]["text"] == "猪不吃食 咋个办"
    assert received[1] == {"chat_id": "42", "caption": "邀请二维码", "photo": PNG}


@pytest.mark.asyncio
async def test_a_slow_telegram_is_a_timeout(telegram):
    base_url, _ = telegram
    async with _bot(base_url, read_timeout=0.3) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(42, "慢")


@pytest.mark.asyncio
async def test_an_unreachable_telegram_is_a_network_error():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    bot = _bot(f"http://127.0.0.1:{port}/bot")
    with pytest.raises(NetworkError):
        await bot.initialize()  # asks Telegram who the bot is
    await bot.shutdown()
