"""The dialogue backend: what every messaging adapter talks to.

An adapter turns its app's events into ``(user_id, text, metadata)`` and renders the ``Reply``
list that comes back; it never sees Rasa. Two backends: the trained model loaded in-process
(default) and one or more Rasa servers over HTTP (``RASA_URL``). TensorFlow is imported only when the
in-process model is loaded, so adapters and their tests stay light.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from core.texts import Operator
from kejibang.internal import current_secret, secret_headers

log = logging.getLogger(__name__)
RASA_TIMEOUT = 20.0
# People a front process remembers the worker of (``RasaServer`` with ``sticky``), the longest silent forgotten
# first: one forgotten has been quiet for this many other people's messages, and is given a worker afresh.
REMEMBERED_PEOPLE = 100_000
WARM_UP_TEXT = "你好"


@dataclass(frozen=True)
class Button:
    """A choice offered to the user: the label shown and the payload sent back when chosen."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message of the assistant, channel-neutral."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str = ""
    custom: dict = field(default_factory=dict)
    photo: bytes = b""


def reply_from_rasa(message: dict) -> Reply:
    """Rasa's output dict (REST channel / Agent) → Reply."""
    buttons = tuple(Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in message.get("buttons") or [])
    return Reply(text=message.get("text") or "", buttons=buttons, image=message.get("image") or "",
                 custom=message.get("custom") or {})


class DialogueBackend(Protocol):
    """Turns one user message into the assistant's replies."""

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]: ...


class InProcessRasa:
    """The trained model loaded in this process (Rasa Agent), with the configured stores."""

    def __init__(self, model_path: Path, actions_url: str, tracker_db: str, secret: str | None = None) -> None:
        self.model_path = model_path
        self.actions_url = actions_url  # "": the actions run in this process (rasa_plugins/action_executor.py)
        self.tracker_db = tracker_db
        self.secret = secret  # the action server's internal secret; None: KEJIBANG_INTERNAL_SECRET
        self._agent: Any = None  # rasa.core.agent.Agent once loaded (Rasa ships no type information)
        self._ready = asyncio.Event()

    async def load(self) -> float:
        """Load the model (seconds elapsed are returned); replies wait until this has finished."""
        started = time.perf_counter()
        from rasa.utils.endpoints import EndpointConfig

        from rasa_plugins.model_loading import load_agent
        from rasa_plugins.tracker_store import sql_tracker_store

        try:
            endpoint = self._action_endpoint(EndpointConfig)
            self._agent = await asyncio.to_thread(load_agent, str(self.model_path), action_endpoint=endpoint,
                                                  tracker_store=sql_tracker_store(self.tracker_db))
            if self._agent is None or not self._agent.is_ready():
                raise RuntimeError(f"could not load the model {self.model_path}")
            await self._agent.parse_message(WARM_UP_TEXT)  # the first inference builds TensorFlow's graphs
            await _warm_actions(endpoint)
        except Exception:
            self._agent = None  # waiting replies fail (the user is told) instead of waiting forever
            raise
        finally:
            self._ready.set()
        return time.perf_counter() - started

    def _action_endpoint(self, endpoint_config: type) -> Any:
        """The custom actions: run in this process (no ``actions_url``), or an action server called with the
        internal secret (it answers nobody else)."""
        if not self.actions_url:
            from rasa_plugins.action_executor import InProcessActions

            return InProcessActions()
        secret = current_secret() if self.secret is None else self.secret
        return endpoint_config(url=self.actions_url, headers=secret_headers(secret))

    @property
    def ready(self) -> bool:
        """False while the model is still loading (adapters then tell the user to wait a moment)."""
        return self._ready.is_set()

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        return [reply_from_rasa(m) for m in await self.messages(user_id, text, metadata)]

    async def messages(self, user_id: str, text: str, metadata: dict | None = None) -> list[dict]:
        """The turn's output as Rasa's REST channel gives it (a worker of ``--workers N`` sends it on)."""
        await self._ready.wait()
        if self._agent is None:
            raise RuntimeError(f"the model {self.model_path} is not loaded")
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        output = CollectingOutputChannel()
        await self._agent.handle_message(UserMessage(text, output, user_id, metadata=metadata or {}))
        return output.messages


async def _warm_actions(endpoint: Any) -> None:
    """Actions running in this process get their exchange's matcher built before anyone waits for it; if
    that fails (the exchange's database is down), the first read-back tries again and says what failed."""
    if not hasattr(endpoint, "warm"):  # an action server warms itself
        return
    try:
        await asyncio.to_thread(endpoint.warm)
    except Exception:
        log.exception("the actions' matcher could not be built at start: the first read-back will try again")


class RasaUnavailable(RuntimeError):
    """No Rasa server took the message; the adapter answers with its apology (``texts.Farmer.BROKEN``)."""


class RasaServer:
    """Rasa servers reached over their REST channel (``RASA_URL``, or the workers of ``--workers N``).

    With ``RASA_URL`` the turn goes round-robin per message, not per user: any server must be able to
    carry on any conversation, which is what the shared tracker store and the Redis lock store are for,
    and a restarted server loses nobody. The workers are ``sticky``: a person's turns always go to the
    same one, so no lock is shared between them (kejibang/worker.py). Which one is chosen at the person's
    first message: the worker with the fewest turns running then (then the fewest people), not a hash of the
    address, which with ten people at once gave one worker eight of them. A server that refuses the connection (down, restarting) is skipped
    for the next one. Once a server has accepted the request the message is never sent again, not even
    after a timeout: the turn may still be running there, and a second copy would be a duplicated turn.
    """

    def __init__(self, urls: Sequence[str], token: str = "", secret: str | None = None, sticky: bool = False) -> None:
        if not urls:
            raise ValueError("RasaServer needs at least one URL")
        self.urls = tuple(url.rstrip("/") for url in urls)
        self.token = token
        self.sticky = sticky  # each person to one server (``kejibang run --workers N``), not in turn
        # the REST channel answers only the bot (kejibang.rest_channel); None: KEJIBANG_INTERNAL_SECRET
        self.secret = current_secret() if secret is None else secret
        self._turns = itertools.count()
        self._own: OrderedDict[str, int] = OrderedDict()  # person → their worker's index (sticky)
        self._people = [0] * len(self.urls)  # people remembered per worker
        self._running = [0] * len(self.urls)  # turns sent and not yet answered, per server
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RASA_TIMEOUT))
        return self._session

    def _rotation(self, user_id: str) -> list[int]:
        """Every server once (by index), starting with the person's own (sticky) or one further along than
        the previous message did."""
        start = self._own_server(user_id) if self.sticky else next(self._turns) % len(self.urls)
        return [(start + step) % len(self.urls) for step in range(len(self.urls))]

    def _own_server(self, user_id: str) -> int:
        """The person's worker: the one they had, or for someone new the least busy (turns running, then
        people), ties broken by a stable hash of the address (crc32: the same in every process)."""
        own = self._own.pop(user_id, None)
        if own is None:
            offset = zlib.crc32(user_id.encode())
            own = min(range(len(self.urls)),
                      key=lambda i: (self._running[i], self._people[i], (i - offset) % len(self.urls)))
            self._people[own] += 1
            if len(self._own) >= REMEMBERED_PEOPLE:
                _, forgotten = self._own.popitem(last=False)
                self._people[forgotten] -= 1
        self._own[user_id] = own
        return own

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        body = {"sender": user_id, "message": text, "metadata": metadata or {}}
        refused: list[str] = []
        for index in self._rotation(user_id):
            url = self.urls[index]
            self._running[index] += 1
            try:
                async with self._client().post(f"{url}/webhooks/rest/webhook", json=body,
                                                   headers=secret_headers(self.secret)) as response:
                    response.raise_for_status()
                    return [reply_from_rasa(m) for m in await response.json()]
            except aiohttp.ClientConnectorError as error:
                log.warning("Rasa server %s refused the connection (%s); trying the next", url, error)
                refused.append(url)
            finally:
                self._running[index] -= 1
        raise RasaUnavailable(f"no Rasa server is reachable: {', '.join(refused)}")

    async def status(self) -> dict[str, str]:
        """Each server's loaded model (``GET /status``, which needs the token), or why it cannot say.

        Asked once at start-up, so that a wrong token or a server without the model shows in the
        operator's terminal and not in a villager's chat.
        """
        found: dict[str, str] = {}
        for url in self.urls:
            try:
                async with self._client().get(f"{url}/status", params={"token": self.token}) as response:
                    response.raise_for_status()
                    found[url] = Path((await response.json()).get("model_file") or "?").name
            except aiohttp.ClientResponseError as error:
                found[url] = (Operator.RASA_TOKEN_REFUSED.format(status=error.status) if error.status == 401
                              else f"HTTP {error.status}")
            except aiohttp.ClientError as error:
                found[url] = Operator.RASA_UNREACHABLE.format(error=error.__class__.__name__)
        return found

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
