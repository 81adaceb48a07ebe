"""The REST channel of the production Rasa servers, for the bot alone.

Rasa's own ``rest`` channel believes whatever ``sender`` a request names, so any process that reaches
the port could talk as any farmer, chair or volunteer. This one is the same channel (same URL,
``/webhooks/rest/webhook``) that first asks for the internal secret (``kejibang.internal``) and answers
403 without it. ``deploy/credentials.yml`` names it; a server without ``KEJIBANG_INTERNAL_SECRET``
does not start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kejibang.internal import MISSING, SECRET_HEADER, current_secret, is_the_bot


class BotOnlyRestInput(RestInput):
    """Rasa's REST channel behind the internal secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError(MISSING)
        self.secret = secret

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> BotOnlyRestInput:
        """The secret comes from the environment (deploy/kejibang.env), never from the credentials file."""
        return cls(current_secret())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Rasa's routes, each behind the check."""
        routes = super().blueprint(on_new_message)

        async def only_the_bot(request: Request) -> HTTPResponse | None:
            if is_the_bot(request.headers.get(SECRET_HEADER), self.secret):
                return None
            return response.json({"error": "forbidden"}, status=403)

        routes.middleware(only_the_bot, "request")
        return routes
