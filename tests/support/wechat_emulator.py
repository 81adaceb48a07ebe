"""A WeChat Official Account server emulator on loopback: both sides of WeChat, as the channel meets them.

Why it exists: no WeChat emulator exists, and the bugs that matter sit at the boundary: a signature
computed over the wrong fields, a retried message answered twice, an access token that expired, a
person outside the 48-hour window, a safe-mode body that does not decrypt. So the tests play WeChat:

- the API side (``url``, for WECHAT_API_URL): ``/cgi-bin/token``, ``/cgi-bin/message/custom/send``
  (every message recorded), ``/cgi-bin/media/get``, ``/cgi-bin/media/upload``, ``/cgi-bin/qrcode/create``,
  ``/cgi-bin/menu/create``, and ``/pic/<name>`` where the pictures people send are kept (their PicUrl);
- the callback side: ``user_sends`` and friends post signed XML to the channel's ``/wechat`` as WeChat
  does (plain, or encrypted in safe mode), and ``retry`` posts the same body again.

The signature is computed here from the documented rule (sha1 of the sorted token, timestamp and nonce),
not with wechatpy, so the channel's use of wechatpy is checked against the rule itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from tests.conftest import free_port

TOKEN_SECONDS = 7200
# "#!AMR\n" and one silent frame: the voice files WeChat keeps are AMR-NB
TINY_AMR = b"#!AMR\n" + bytes([0x3C]) + bytes(31)
TINY_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                         "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def signature(*parts: str) -> str:
    """WeChat's signature: sha1 over the parts sorted as strings and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(value: Any) -> str:
    return f"<![CDATA[{value}]]>" if isinstance(value, str) else str(value)


def message_xml(fields: dict[str, Any]) -> str:
    """A message as WeChat posts it."""
    return "<xml>" + "".join(f"<{name}>{_cdata(value)}</{name}>" for name, value in fields.items()) + "</xml>"


@dataclass
class Posted:
    """What the channel answered to one POST, with the body (to post again as WeChat's retry)."""

    status: int
    text: str
    body: str
    params: dict[str, str]


class WeChatEmulator:
    """WeChat's API server and its callback client; all state in memory, on the test's event loop."""

    def __init__(self, callback_url: str, token: str = "wx-callback-token", app_id: str = "wx0123456789abcdef",
                 app_secret: str = "wx-app-secret", aes_key: str = "", account: str = "gh_kejibang") -> None:
        self.callback_url, self.token, self.app_id, self.app_secret = callback_url, token, app_id, app_secret
        self.aes_key, self.account = aes_key, account
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sent: list[dict] = []  # every customer-service message, in order
        self.sent_at: list[float] = []  # when each of them arrived (time.perf_counter), for the WeChat bench
        self.tokens_issued: list[str] = []
        self.media: dict[str, bytes] = {}
        self.menus: list[dict] = []
        self.scenes: list[dict] = []
        self.outside_window: set[str] = set()  # openids whose last message is more than 48 hours old
        self._valid_tokens: set[str] = set()
        self._ids = itertools.count(time.time_ns() // 1000)  # MsgIds are unique across accounts and runs
        self._changed = asyncio.Condition()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> WeChatEmulator:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_post("/cgi-bin/qrcode/create", self._qrcode)
        app.router.add_post("/cgi-bin/menu/create", self._menu)
        app.router.add_get("/pic/{name}", self._picture)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    def settings(self, port: int) -> dict[str, str]:
        """The environment that points the channel at this emulator and serves the callback on ``port``."""
        return {"WECHAT_TOKEN": self.token, "WECHAT_APP_ID": self.app_id, "WECHAT_APP_SECRET": self.app_secret,
                "WECHAT_AES_KEY": self.aes_key, "WECHAT_API_URL": self.url, "KEJIBANG_WECHAT_PORT": str(port)}

    # --- the API side ---------------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, message: str) -> web.Response:
        return web.json_response({"errcode": code, "errmsg": message})

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (WeChat's 42001 until a new one is fetched)."""
        self._valid_tokens.clear()

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if token in self._valid_tokens:
            return None
        return self._error(42001, "access_token expired") if token in self.tokens_issued else \
            self._error(40001, "invalid credential")

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential" or query.get("appid") != self.app_id:
            return self._error(40013, "invalid appid")
        if query.get("secret") != self.app_secret:
            return self._error(40125, "invalid appsecret")
        token = secrets.token_urlsafe(24)
        self.tokens_issued.append(token)
        self._valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": TOKEN_SECONDS})

    async def _custom_send(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        message = json.loads(await request.read())
        if message.get("touser") in self.outside_window:
            return self._error(45015, "response out of time limit or subscription is canceled")
        if message.get("msgtype") == "text" and len(message["text"]["content"].encode()) > 2048:
            return self._error(45002, "content size out of limit")
        async with self._changed:
            self.sent.append(message)
            self.sent_at.append(time.perf_counter())
            self._changed.notify_all()
        return self._error(0, "ok")

    async def _media_get(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        content = self.media.get(request.query.get("media_id", ""))
        if content is None:
            return self._error(40007, "invalid media_id")
        return web.Response(body=content, content_type="audio/amr")

    async def _media_upload(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        form = await request.post()
        media_id = "up-" + secrets.token_hex(8)
        self.media[media_id] = form["media"].file.read()
        return web.json_response({"type": request.query.get("type"), "media_id": media_id, "created_at": 0})

    async def _qrcode(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        asked = json.loads(await request.read())
        self.scenes.append(asked)
        scene = asked["action_info"]["scene"]["scene_str"]
        return web.json_response({"ticket": "t-" + scene, "expire_seconds": asked.get("expire_seconds", 0),
                                  "url": f"http://weixin.qq.com/q/{scene}"})

    async def _menu(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        self.menus.append(json.loads(await request.read()))
        return self._error(0, "ok")

    async def _picture(self, request: web.Request) -> web.Response:
        return web.Response(body=self.media.get(request.match_info["name"], b""), content_type="image/jpeg")

    # --- what the tests read --------------------------------------------------------------------------

    def texts(self, openid: str) -> list[str]:
        """The texts sent to one person, in order."""
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid and m["msgtype"] == "text"]

    async def wait_for_text(self, openid: str, contains: str, timeout: float = 10.0,
                            after: int = 0) -> str:
        """The first text to ``openid`` (from the ``after``-th on) that contains ``contains``."""
        def found() -> str | None:
            return next((t for t in self.texts(openid)[after:] if contains in t), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        return found() or ""

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Until ``condition`` holds after a message was sent."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    # --- the callback side ------------------------------------------------------------------------------

    def _fields(self, openid: str, kind: str, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"ToUserName": self.account, "FromUserName": openid, "CreateTime": int(time.time()),
                                "MsgType": kind}
        if kind != "event":
            fields["MsgId"] = next(self._ids)
        return {**base, **fields}

    def signed_params(self, body: str = "", good: bool = True) -> tuple[dict[str, str], str]:
        """The query WeChat adds to a callback (and the body, encrypted in safe mode)."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        params = {"signature": signature(self.token if good else "forged", timestamp, nonce),
                  "timestamp": timestamp, "nonce": nonce}
        if self.crypto is None or not body:
            return params, body
        sealed = self.crypto.encrypt_message(body, nonce, timestamp)
        encrypt = sealed.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
        params.update(encrypt_type="aes", msg_signature=signature(self.token, timestamp, nonce, encrypt))
        return params, f"<xml><ToUserName>{_cdata(self.account)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"

    async def post(self, body: str, params: dict[str, str]) -> Posted:
        """One POST to the callback, as WeChat makes it."""
        assert self._session is not None
        async with self._session.post(self.callback_url, params=params, data=body.encode(),
                                      headers={"Content-Type": "text/xml"}) as response:
            return Posted(response.status, await response.text(), body, params)

    async def deliver(self, fields: dict[str, Any], good: bool = True) -> Posted:
        """A message or event, signed (with a forged token when not ``good``) and encrypted in safe mode."""
        params, body = self.signed_params(message_xml(fields), good)
        return await self.post(body, params)

    async def retry(self, posted: Posted) -> Posted:
        """WeChat's retry of a POST it got no answer to in 5 seconds: the very same request."""
        return await self.post(posted.body, posted.params)

    async def verify_url(self, echostr: str, good: bool = True) -> tuple[int, str]:
        """The GET WeChat sends when the server address is saved."""
        assert self._session is not None
        params, _ = self.signed_params(good=good)
        async with self._session.get(self.callback_url, params={**params, "echostr": echostr}) as response:
            return response.status, await response.text()

    async def user_sends(self, openid: str, content: str) -> Posted:
        return await self.deliver(self._fields(openid, "text", Content=content))

    async def user_sends_image(self, openid: str) -> Posted:
        name = "pic-" + secrets.token_hex(4)
        self.media[name] = TINY_PNG
        return await self.deliver(self._fields(openid, "image", PicUrl=f"{self.url}/pic/{name}", MediaId=name))

    async def user_sends_voice(self, openid: str) -> Posted:
        media_id = "voice-" + secrets.token_hex(4)
        self.media[media_id] = TINY_AMR
        return await self.deliver(self._fields(openid, "voice", MediaId=media_id, Format="amr"))

    async def user_sends_location(self, openid: str, latitude: float, longitude: float) -> Posted:
        return await self.deliver(self._fields(openid, "location", Location_X=latitude, Location_Y=longitude,
                                               Scale=15, Label="四川省广安市岳池县"))

    async def user_follows(self, openid: str, scene: str = "") -> Posted:
        """Subscribe: from a QR code with a scene, WeChat sends EventKey qrscene_<scene> and its Ticket."""
        extra = {"EventKey": f"qrscene_{scene}", "Ticket": "t-" + scene} if scene else {}
        return await self.deliver(self._fields(openid, "event", Event="subscribe", **extra))

    async def user_scans(self, openid: str, scene: str) -> Posted:
        """A follower scanning a QR code with a scene: SCAN, the scene as it is."""
        return await self.deliver(self._fields(openid, "event", Event="SCAN", EventKey=scene, Ticket="t-" + scene))

    async def user_clicks(self, openid: str, key: str) -> Posted:
        return await self.deliver(self._fields(openid, "event", Event="CLICK", EventKey=key))

    async def user_unfollows(self, openid: str) -> Posted:
        return await self.deliver(self._fields(openid, "event", Event="unsubscribe"))
