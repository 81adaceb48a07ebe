"""The project's Telegram application running against the Bot API emulator, for tests and benchmarks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application

from bot.dialogue import DialogueBackend
from bot.telegram_app import build_application
from kejibang.settings import Settings
from tests.support.bot_api_emulator import BotApiEmulator


@asynccontextmanager
async def running_bot(emulator: BotApiEmulator, backend: DialogueBackend) -> AsyncIterator[Application]:
    """build_application pointed at the emulator, long-polling until the block ends (environment restored)."""
    saved = {name: os.environ.get(name) for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL")}
    os.environ.update({"TELEGRAM_BOT_TOKEN": emulator.token, "TELEGRAM_API_URL": emulator.url})
    try:
        application = build_application(Settings.from_env(), backend)
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
