"""The dialogue backend: what every messaging adapter talks to.

An adapter turns its app's events into ``(user_id, text, metadata)`` and renders the ``Reply``
list that comes back; it never sees Rasa. Two backends: the trained model loaded in-process
(default) and a Rasa server over HTTP (``RASA_URL``). TensorFlow is imported only when the
in-process model is loaded, so adapters and their tests stay light.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp

log = logging.getLogger(__name__)
RASA_TIMEOUT = 20.0


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

    def __init__(self, model_path: Path, actions_url: str, tracker_db: str) -> None:
        self.model_path = model_path
        self.actions_url = actions_url
        self.tracker_db = tracker_db
        self._agent = None
        self._ready = asyncio.Event()

    async def load(self) -> float:
        """Load the model (seconds elapsed are returned); replies wait until this has finished."""
        started = time.perf_counter()
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        from bot.tracker_store import sql_tracker_store

        self._agent = await asyncio.to_thread(Agent.load, str(self.model_path),
                                              action_endpoint=EndpointConfig(url=self.actions_url),
                                              tracker_store=sql_tracker_store(self.tracker_db))
        if self._agent is None or not self._agent.is_ready():
            raise RuntimeError(f"could not load the model {self.model_path}")
        self._ready.set()
        return time.perf_counter() - started

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        await self._ready.wait()
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        output = CollectingOutputChannel()
        await self._agent.handle_message(UserMessage(text, output, user_id, metadata=metadata or {}))
        return [reply_from_rasa(m) for m in output.messages]


class RasaServer:
    """A Rasa server reached over its REST channel (``RASA_URL``)."""

    def __init__(self, url: str, token: str = "") -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    async def respond(self, user_id: str, text: str, metadata: dict | None = None) -> list[Reply]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RASA_TIMEOUT))
        params = {"token": self.token} if self.token else None
        body = {"sender": user_id, "message": text, "metadata": metadata or {}}
        async with self._session.post(f"{self.url}/webhooks/rest/webhook", json=body, params=params) as response:
            response.raise_for_status()
            return [reply_from_rasa(m) for m in await response.json()]

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
