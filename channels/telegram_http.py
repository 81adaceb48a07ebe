"""The Bot API client's HTTP transport: python-telegram-bot's requests sent with aiohttp instead of httpx.

Why: every turn costs two or three Bot API calls (typing, the answer, a card), and httpx's connection
pool (httpcore 1.0) rescans every open connection, with a readiness syscall each, whenever a request
starts or ends. With 50 people answered at once that was ~6 ms of CPU per call against ~0.2 ms with
aiohttp (client and a loopback server together), and the bot's throughput fell as people were added.
aiohttp is already the WeChat channel's and the exchange server's HTTP library.

The contract is PTB's ``BaseRequest``: send a request, return the status and body; PTB turns both into
its own results and errors. Timeouts keep PTB's meaning (connect, read, pool); aiohttp has no write
timeout, so a slow upload is bounded by the read timeout that follows it.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

READ_TIMEOUT = 5.0  # PTB's own defaults
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
CONNECTIONS = 256  # PTB's default pool for the bot's calls; long polling needs one


class AiohttpRequest(BaseRequest):
    """PTB's ``BaseRequest`` over one ``aiohttp.ClientSession`` (made in ``initialize``, on the bot's loop)."""

    __slots__ = ("_connections", "_read_timeout", "_connect_timeout", "_pool_timeout", "_session")

    def __init__(self, connections: int = CONNECTIONS, read_timeout: float | None = READ_TIMEOUT,
                 connect_timeout: float | None = CONNECT_TIMEOUT,
                 pool_timeout: float | None = POOL_TIMEOUT) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout) as response:
                return response.status, await response.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error

    def _timeout(self, read: ODVInput[float], connect: ODVInput[float], pool: ODVInput[float]) -> aiohttp.ClientTimeout:
        """PTB's three timeouts as aiohttp's: its ``connect`` is the wait for a pooled connection and the
        connecting together, ``sock_connect`` the connecting alone."""
        read = self._read_timeout if isinstance(read, DefaultValue) else read
        connect = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        waiting = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect, sock_read=read)


def _body(request_data: RequestData | None) -> Any:
    """Form fields as PTB encodes them (JSON values), and the files as multipart parts when there are any."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        # encoded here: aiohttp's own form encoding builds a multipart writer, with a random boundary read from
        # the kernel, for every call
        return aiohttp.BytesPayload(urlencode(fields).encode(), content_type="application/x-www-form-urlencoded")
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
