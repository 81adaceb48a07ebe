"""The WeChat Official Account channel (公众号; wechatpy 1.8.18 for the XML, signatures and safe mode).

WeChat posts each message to ``/wechat`` and waits 5 seconds for the answer, retrying three times; a
dialogue turn can take longer. So the POST is answered at once with "success" once the message is in the
inbox (a retry is then known by its MsgId), and the replies go out through the customer-service message
API (客服消息), which may write to a person for 48 hours after their last message. A WeChat chat has no
buttons: they are numbered, and a bare number picks one, as in the terminal chat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException
from wechatpy.messages import BaseMessage
from wechatpy.utils import check_signature

from channels.rendering import CHOOSE_BY_NUMBER, choice_lines, chosen_payload, chunks, numbered
from core.assistant import HANDOVER_PREFIX
from core.dialogue import Button, Reply
from core.pushes import PUSH
from core.texts import Channel, Farmer, Operator
from kejibang.app import Core

log = logging.getLogger(__name__)
NAME = "wechat"
PATH = "/wechat"
MAX_TEXT = 600  # characters per customer-service text (WeChat takes 2048 bytes; a Chinese character is 3)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # the access token is invalid or expired: fetch a new one
OUTSIDE_WINDOW = frozenset({45015, 45047})  # 48 hours since the person wrote, or too many replies since
TOKEN_MARGIN_SECONDS = 300.0
HANDOVER_QR_SECONDS = 72 * 3600  # a hand-over link lives 72 hours; its QR code need not outlive it
REMEMBERED_CHOOSERS = 50_000
MENU = tuple((title, key) for key, title in Channel.MENU.items())  # (title, the payload it sends)


class WeChatApiError(RuntimeError):
    """An answer of the WeChat API with a non-zero errcode."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code


class WeChatApi:
    """The WeChat server's HTTP API: an access token cached until shortly before it expires (and fetched
    again when WeChat calls it invalid), customer-service messages, media and QR codes."""

    def __init__(self, base_url: str, app_id: str, app_secret: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url, self.app_id, self.app_secret, self.clock = base_url, app_id, app_secret, clock
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def access_token(self, stale: str | None = None) -> str:
        """The cached token; a new one when it is about to expire or WeChat refused ``stale`` (only one
        caller fetches it, the others wait and share it)."""
        async with self._token_lock:
            if self._token and self._token[0] != stale and self.clock() < self._token[1]:
                return self._token[0]
            answer = _checked(await self._fetch("GET", "/cgi-bin/token", {
                "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}))
            self._token = (answer["access_token"],
                           self.clock() + float(answer.get("expires_in", 7200)) - TOKEN_MARGIN_SECONDS)
            return self._token[0]

    async def _fetch(self, method: str, path: str, params: Mapping[str, str], body: Any = None) -> bytes:
        async with self._session().request(method, self.base_url + path, params=params, data=body) as response:
            response.raise_for_status()
            return await response.read()

    async def call(self, method: str, path: str, body: Callable[[], Any] | None = None,
                   params: Mapping[str, str] | None = None) -> bytes:
        """One API call with the access token; once more with a new token when WeChat says it expired.
        ``body`` makes the request body afresh for each try (a multipart form is read only once)."""
        async def once(token: str) -> tuple[bytes, WeChatApiError | None]:
            answer = await self._fetch(method, path, {**(params or {}), "access_token": token},
                                       body() if body else None)
            return answer, _error_of(answer)

        token = await self.access_token()
        answer, error = await once(token)
        if error is not None and error.code in TOKEN_ERRORS:
            answer, error = await once(await self.access_token(stale=token))
        if error is not None:
            raise error
        return answer

    async def call_json(self, path: str, payload: dict) -> dict:
        """A POST of JSON (Chinese kept as UTF-8: WeChat shows \\u escapes literally in some places)."""
        encoded = json.dumps(payload, ensure_ascii=False).encode()
        return json.loads(await self.call("POST", path, lambda: encoded))

    async def send(self, message: dict) -> None:
        """One customer-service message (text or image) to one person."""
        await self.call_json("/cgi-bin/message/custom/send", message)

    async def media(self, media_id: str) -> bytes:
        """A file the person sent (a voice message's AMR), kept by WeChat for 3 days."""
        return await self.call("GET", "/cgi-bin/media/get", params={"media_id": media_id})

    async def upload_image(self, image: bytes) -> str:
        """An image uploaded as temporary media (3 days), for an image message; its media_id."""
        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("media", image, filename="image.png", content_type="image/png")
            return data

        answer = await self.call("POST", "/cgi-bin/media/upload", form, params={"type": "image"})
        return json.loads(answer)["media_id"]

    async def download(self, url: str) -> bytes:
        """A picture WeChat keeps at a URL (what an image message carries as PicUrl)."""
        async with self._session().get(url) as response:
            response.raise_for_status()
            return await response.read()

    async def qr_url(self, scene: str, seconds: int | None) -> str:
        """What a QR code with this scene value must encode: scanning it opens (or subscribes to) the account
        with the scene in the event. Permanent without ``seconds``, else temporary."""
        info = {"action_info": {"scene": {"scene_str": scene}}}
        request: dict[str, object] = ({"action_name": "QR_LIMIT_STR_SCENE", **info} if seconds is None
                                  else {"action_name": "QR_STR_SCENE", "expire_seconds": seconds, **info})
        return (await self.call_json("/cgi-bin/qrcode/create", request))["url"]

    async def create_menu(self, menu: tuple[tuple[str, str], ...]) -> None:
        """The account's menu: each entry a CLICK whose key is the payload it sends."""
        await self.call_json("/cgi-bin/menu/create", {"button": [{"type": "click", "name": name, "key": key}
                                                                 for name, key in menu]})


def _error_of(answer: bytes) -> WeChatApiError | None:
    """The API's error in a JSON answer, or None (a media download answers with the file itself)."""
    if not answer.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(answer)
    except ValueError:
        return None
    code = int(data.get("errcode", 0) or 0)
    return WeChatApiError(code, str(data.get("errmsg", ""))) if code else None


def _checked(answer: bytes) -> dict:
    error = _error_of(answer)
    if error is not None:
        raise error
    return json.loads(answer)


def inbox_key(message: BaseMessage) -> str:
    """The message's own id; events have none, so WeChat's advice is to tell them by sender and time."""
    if message.id:
        return f"{NAME}:{message.id}"
    return f"{NAME}:{message.source}:{message.time}:{getattr(message, 'event', message.type)}"


class WeChatChannel:
    """The callback (verification, signature, safe mode, inbox) and the way back (customer-service API)."""

    name = NAME

    def __init__(self, core: Core, api: WeChatApi) -> None:
        settings = core.settings
        self.core, self.api, self.token = core, api, settings.wechat_token
        self.crypto = (WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)
                       if settings.wechat_aes_key else None)
        self._choices: OrderedDict[str, list[Button]] = OrderedDict()
        self._turns: set[asyncio.Task] = set()
        self._unreachable: set[str] = set()  # the volunteers were told; until the person writes again

    def web_app(self) -> web.Application:
        """The callback's aiohttp application: GET to verify the URL, POST for messages."""
        app = web.Application(client_max_size=256 * 1024)
        app.router.add_get(PATH, self.verify)
        app.router.add_post(PATH, self.receive)
        return app

    def _signed(self, query: Mapping[str, str]) -> bool:
        """Whether the request was signed with our token (nobody else can talk as a follower)."""
        try:
            check_signature(self.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
        except WeChatException:
            return False
        return True

    async def verify(self, request: web.Request) -> web.Response:
        """When the server address is saved, WeChat checks it answers echostr, signed with our token."""
        if not self._signed(request.query):
            raise web.HTTPForbidden()
        return web.Response(text=request.query.get("echostr", ""))

    def _plain(self, body: bytes, query: Mapping[str, str]) -> str:
        """The message XML: decrypted in safe mode (where an unencrypted message is refused)."""
        if self.crypto is None:
            return body.decode()
        if query.get("encrypt_type") != "aes":
            raise WeChatException(-1, "safe mode: unencrypted message")
        return self.crypto.decrypt_message(body, query.get("msg_signature", ""), query.get("timestamp", ""),
                                           query.get("nonce", ""))

    async def receive(self, request: web.Request) -> web.Response:
        """A message or event: written to the inbox, acknowledged at once, answered in the background."""
        if not self._signed(request.query):
            raise web.HTTPForbidden()
        try:
            xml = self._plain(await request.read(), request.query)
            message = parse_message(xml)
        except WeChatException as error:
            log.warning("wechat: refused a message that could not be read (%s)", type(error).__name__)
            raise web.HTTPForbidden() from error
        except Exception as error:  # not XML at all
            raise web.HTTPBadRequest() from error
        await self.take(xml, message)
        return web.Response(text="success")

    async def take(self, xml: str, message: BaseMessage) -> bool:
        """Start answering a message unless it was seen before (a retry); False for a retry."""
        key, sender = inbox_key(message), f"{NAME}:{message.source}"
        if not await asyncio.to_thread(self.core.inbox.receive, key, sender, {"xml": xml}):
            return False
        self._unreachable.discard(sender)  # their message opens the window: a new refusal is news again
        task = asyncio.create_task(self._answer(key, sender, message))
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)
        return True

    async def replay_unfinished(self) -> int:
        """At start-up: messages acknowledged before the last stop but never answered go round once more."""
        payloads = await asyncio.to_thread(self.core.inbox.to_replay, NAME)
        for payload in payloads:
            await self.take(payload["xml"], parse_message(payload["xml"]))
        return len(payloads)

    async def _answer(self, key: str, sender: str, message: BaseMessage) -> None:
        """One message, in turn for its sender; marked processed even when it failed (not run twice)."""
        assistant = self.core.assistant
        async with assistant.turn(sender):
            try:
                if assistant.warming_up:
                    await self.send(sender, [Reply(Farmer.WARMING_UP)])
                await self.send(sender, await self._replies(sender, message))
            except Exception:
                log.exception("wechat: answering a message failed")
            await asyncio.to_thread(self.core.inbox.processed, key)

    async def _replies(self, sender: str, message: BaseMessage) -> list[Reply]:
        """The core's answer to each kind of message and event (unsubscribe and others: nothing)."""
        assistant = self.core.assistant
        kinds: dict[str, Callable[[], Awaitable[list[Reply]]]] = {
            "text": lambda: self._text(sender, message.content or ""),
            "image": lambda: assistant.on_photo(sender, message.image or message.media_id),
            "voice": lambda: assistant.on_voice(sender, lambda: self._voice(sender, message), "audio/amr"),
            "location": lambda: assistant.on_location(sender, float(message.location_x), float(message.location_y)),
            "subscribe": lambda: assistant.on_start(sender),
            "subscribe_scan": lambda: assistant.on_start(sender, message.scene_id or ""),
            "scan": lambda: assistant.on_start(sender, message.scene_id or ""),
            "click": lambda: assistant.on_button(sender, message.key or ""),
        }
        kind = message.event if message.type == "event" else message.type
        answer = kinds.get(kind)
        return await answer() if answer else []

    async def _text(self, sender: str, text: str) -> list[Reply]:
        """Typed text: a start code ("/start inv-…", as a chair's message says), a number picking one of the
        last choices offered, or words for the dialogue."""
        command, _, code = text.strip().partition(" ")
        if command == "/start":
            return await self.core.assistant.on_start(sender, code.strip())
        picked = chosen_payload(text, self.offered(sender))
        if picked is not None:
            return await self.core.assistant.on_button(sender, picked)
        return await self.core.assistant.on_text(sender, text)

    async def _voice(self, sender: str, message: BaseMessage) -> bytes:
        """The voice message's AMR, kept in the person's folder under var/voice/ for a recognizer (WeChat
        deletes it after 3 days; a deletion of the person's data deletes it here)."""
        audio = await self.api.media(message.media_id)
        voices = self.core.assistant.voices
        if voices is not None:
            await asyncio.to_thread(voices.keep, sender, str(message.id), audio)
        return audio

    def offered(self, address: str) -> list[Button]:
        """The choices a bare number picks for this person now (those of the last message sent to them)."""
        return self._choices.get(address, [])

    def _remember(self, sender: str, buttons: list[Button]) -> None:
        """The choices a number picks are those of the last message sent to the person (bounded memory)."""
        self._choices[sender] = buttons
        self._choices.move_to_end(sender)
        while len(self._choices) > REMEMBERED_CHOOSERS:
            self._choices.popitem(last=False)

    async def send(self, address: str, replies: list[Reply]) -> None:
        """Replies as customer-service messages. Past the 48-hour window WeChat refuses them: the texts are
        kept as notices and told when the person next writes (their message opens the window again), and
        the volunteers hear of it."""
        openid = address.partition(":")[2]
        self._remember(address, numbered(replies))
        outgoing = [message for reply in _numbered_texts(replies) for message in await self._messages(openid, reply)]
        for index, message in enumerate(outgoing):
            try:
                await self.api.send(message)
            except WeChatApiError as error:
                if error.code not in OUTSIDE_WINDOW:
                    raise
                log.warning("wechat: outside the 48-hour window (%s); %d message(s) kept", error.code,
                            len(outgoing) - index)
                kept = await asyncio.to_thread(self._keep_for_later, address, outgoing[index:])
                if not all(reply.custom.get(PUSH) for reply in replies):  # a missed 科普 push alarms nobody
                    await self._tell_volunteers(address, kept)
                return

    def _keep_for_later(self, address: str, outgoing: list[dict]) -> int:
        """The texts kept as the person's notices; how many."""
        texts = [message["text"]["content"] for message in outgoing if message["msgtype"] == "text"]
        for text in texts:
            self.core.notices.leave(address, text)
        return len(texts)

    async def _tell_volunteers(self, address: str, kept: int) -> None:
        """The volunteer desk hears once per person until they write again, not once per refused reply (a
        turn of three replies would be three alarms). Held in memory: after a restart they may hear twice.
        Telling them failing (their app down) must not fail this send: the messages are kept either way."""
        if address in self._unreachable:
            return
        self._unreachable.add(address)
        try:
            await self.core.desk.unreachable(address, kept)
        except Exception:
            log.warning("wechat: the volunteers could not be told of an unreachable person", exc_info=True)

    async def _messages(self, openid: str, reply: Reply) -> list[dict]:
        """One reply as WeChat messages: its text in pieces WeChat takes, then its picture."""
        texts = [_text_message(openid, part) for part in chunks(reply.text, MAX_TEXT)]
        picture = await self._picture(openid, reply)
        return texts + ([picture] if picture else [])

    async def _picture(self, openid: str, reply: Reply) -> dict | None:
        """The reply's picture as an image message; a note in its place when no WeChat user could open it
        (another app's file id)."""
        if reply.photo:
            media_id = await self.api.upload_image(reply.photo)
        elif reply.image.startswith(("http://", "https://")):
            media_id = await self.api.upload_image(await self.api.download(reply.image))
        else:
            return _text_message(openid, Channel.PHOTO_ELSEWHERE) if reply.image else None
        return {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}

    async def link(self, payload: str) -> str:
        """What a chair's QR code encodes: WeChat's own QR address with the start code as its scene (an
        invitation's is permanent, a hand-over's lasts as long as its link); when WeChat cannot make one,
        the words to send instead."""
        seconds = HANDOVER_QR_SECONDS if payload.startswith(HANDOVER_PREFIX) else None
        try:
            return await self.api.qr_url(payload, seconds)
        except (WeChatApiError, aiohttp.ClientError, asyncio.TimeoutError):
            log.warning("wechat: no QR code for a start code; the chair gets the code to send")
            return Channel.SEND_START_CODE.format(payload=payload)

    async def finish(self) -> None:
        """Stop answering: turns still running are cut off (the inbox has them for the next start)."""
        for task in list(self._turns):
            task.cancel()
        await asyncio.gather(*self._turns, return_exceptions=True)


def _numbered_texts(replies: list[Reply]) -> list[Reply]:
    """The replies with their buttons written under their text as numbered choices, numbered on across the
    batch, so "2" means the second choice offered, wherever it stood."""
    written, offered = [], 0
    for reply in replies:
        lines = choice_lines(reply.buttons, offered + 1)
        offered += len(reply.buttons)
        text = "\n".join([reply.text, CHOOSE_BY_NUMBER, *lines] if lines else [reply.text]).strip()
        written.append(Reply(text, image=reply.image, photo=reply.photo))
    return written


def _text_message(openid: str, text: str) -> dict:
    return {"touser": openid, "msgtype": "text", "text": {"content": text}}


@asynccontextmanager
async def serving(core: Core) -> AsyncIterator[WeChatChannel]:
    """The WeChat callback on 127.0.0.1:KEJIBANG_WECHAT_PORT/wechat until the block ends (the reverse proxy
    forwards WeChat's requests to it), registered with the core's router."""
    settings = core.settings
    api = WeChatApi(settings.wechat_api_url, settings.wechat_app_id, settings.wechat_app_secret)
    channel = WeChatChannel(core, api)
    core.router.register(channel)
    runner = web.AppRunner(channel.web_app())
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", settings.wechat_port).start()
        await _menu(api)
        replayed = await channel.replay_unfinished()
        mode = Operator.SAFE_MODE if channel.crypto else Operator.PLAIN_MODE
        print(Operator.ACCOUNT_STARTED.format(mode=mode, port=settings.wechat_port, path=PATH)
              + (Operator.REPLAYED.format(count=replayed) if replayed else ""), flush=True)
        yield channel
    finally:
        await channel.finish()
        await runner.cleanup()
        await api.close()


async def _menu(api: WeChatApi) -> None:
    """The account's menu, set at each start (a failure only costs the menu: typing still works)."""
    try:
        await api.create_menu(MENU)
    except (WeChatApiError, aiohttp.ClientError, asyncio.TimeoutError) as error:
        log.warning("wechat: the menu could not be set (%s)", error)
