"""The custom-action server: rasa-sdk's own, answering only callers that carry the internal secret.

``python -m kejibang.action_server --actions actions --port N`` takes rasa-sdk's arguments and runs its
server; a rasa-sdk plugin adds one request middleware to the Sanic app, so every path but ``/health``
(the launcher's readiness check, which reveals nothing) answers 403 without ``X-Kejibang-Secret``.
"""

from __future__ import annotations

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.services import exchange
from exchange.api import warm
from kejibang.internal import MISSING, SECRET_HEADER, current_secret, is_the_bot

hookimpl = pluggy.HookimplMarker("rasa_sdk")
OPEN_PATHS = ("/health",)


def require_secret(app: Sanic, secret: str) -> None:
    """Refuse every request without the secret, before rasa-sdk reads its body."""
    async def only_the_bot(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or is_the_bot(request.headers.get(SECRET_HEADER), secret):
            return None
        return response.json({"error": "forbidden"}, status=403)

    app.register_middleware(only_the_bot, "request")


class OnlyTheBot:
    """The rasa-sdk plugin that puts ``require_secret`` on the app it creates."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        require_secret(app, self.secret)


def main() -> None:
    """Run rasa-sdk's server with the check; without a secret it does not start at all."""
    secret = current_secret()
    if not secret:
        raise SystemExit(MISSING)
    warm(exchange())  # before the health check answers, so no first read-back waits for the matcher
    import rasa_sdk.__main__
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().register(OnlyTheBot(secret))
    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()
