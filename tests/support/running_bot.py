"""The project's Telegram channel running against the Bot API emulator, for tests and benchmarks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application

from channels.telegram import build_application
from core.dialogue import DialogueBackend
from kejibang.app import Core, build_core
from kejibang.settings import Settings
from tests.support.bot_api_emulator import BotApiEmulator


@asynccontextmanager
async def environment(values: dict[str, str]) -> AsyncIterator[Settings]:
    """Settings read with ``values`` in the environment (restored afterwards)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield Settings.from_env()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def telegram_settings(emulator: BotApiEmulator) -> dict[str, str]:
    """The environment that points the Telegram channel at the emulator."""
    return {"TELEGRAM_BOT_TOKEN": emulator.token, "TELEGRAM_API_URL": emulator.url}


@asynccontextmanager
async def running_telegram(core: Core) -> AsyncIterator[Application]:
    """The Telegram channel on a built core, long-polling until the block ends."""
    application = build_application(core)
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


@asynccontextmanager
async def running_bot(emulator: BotApiEmulator, backend: DialogueBackend) -> AsyncIterator[Application]:
    """A core on ``backend`` served on Telegram only, pointed at the emulator (its loops are not started: tests
    drive the desks' clocks themselves)."""
    async with environment(telegram_settings(emulator)) as settings, running_telegram(build_core(settings, backend)) as application:
        yield application
