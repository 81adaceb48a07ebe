"""One dialogue worker of `kejibang run --workers N`: the model and the custom actions in a process of its own.

Why processes: a turn is CPU-bound Python (jieba, TensorFlow's small graphs, the policies, the actions),
so one process uses one core. With N workers `kejibang run` keeps the channels, the desks and the loops
in its own process and sends each person's messages to one worker, chosen by a stable hash of the
address (``core.dialogue.RasaServer`` with ``sticky``): one person's turns never run in two processes
at once, so the embedded default needs no cross-process lock store (the production profile keeps
Redis's). The worker answers the REST channel's URL and shape, behind the internal secret, like the
production Rasa servers; it listens only once the model has loaded (``/health`` answers then).

``python -m kejibang.worker --port P --model PATH`` (started by the launcher, never by hand).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from core.dialogue import InProcessRasa
from exchange.api import connected, warm
from kejibang.internal import MISSING, SECRET_HEADER, current_secret, is_the_bot
from kejibang.settings import Settings

MESSAGE_PATH = "/webhooks/rest/webhook"


def application(backend: InProcessRasa, secret: str) -> web.Application:
    """The worker's HTTP face: the REST channel's turn and a readiness check."""
    async def turn(request: web.Request) -> web.Response:
        if not is_the_bot(request.headers.get(SECRET_HEADER), secret):
            return web.json_response({"error": "forbidden"}, status=403)
        body = await request.json()
        messages = await backend.messages(str(body["sender"]), str(body.get("message") or ""),
                                          body.get("metadata") or {})
        return web.json_response(messages)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ready": True})  # served only once the model has loaded

    app = web.Application()
    app.router.add_post(MESSAGE_PATH, turn)
    app.router.add_get("/health", health)
    return app


async def serve(settings: Settings, model_path: Path, port: int) -> None:
    """Load the model and warm the exchange's matcher, then answer turns on 127.0.0.1:port until stopped."""
    secret = current_secret()
    if not secret:
        raise SystemExit(MISSING)
    backend = InProcessRasa(model_path, settings.actions_url, settings.tracker_db, secret)
    await asyncio.gather(backend.load(), asyncio.to_thread(warm, connected(
        settings.exchange_url, settings.exchange_api_key, settings.exchange_db)))
    runner = web.AppRunner(application(backend, secret), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", type=Path, required=True)
    arguments = parser.parse_args()
    from kejibang.launcher import configure_logging, process_environment, quiet_rasa_structlog

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    process_environment(settings)
    quiet_rasa_structlog(settings.log_level)
    asyncio.run(serve(settings, arguments.model, arguments.port))


if __name__ == "__main__":
    main()
