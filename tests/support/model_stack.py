"""The local stack behind a villager's message, for the tests that need the trained model.

The model is loaded in-process (trained once per run by the test command); the action server runs as a
child process on a port of its own; the embedded exchange and the assistant's store are SQLite files in
one folder, seeded as `kejibang run` seeds them. The environment is restored when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.dialogue import InProcessRasa
from kejibang import launcher, model
from kejibang.internal import SECRET_VARIABLE
from kejibang.settings import Settings
from tests.conftest import free_port


@contextmanager
def local_stack(var_dir: Path) -> Iterator[Settings]:
    """Settings that put everything under ``var_dir``, with the exchange seeded and the action server up."""
    patch = pytest.MonkeyPatch()
    patch.setenv("KEJIBANG_VAR_DIR", str(var_dir))
    patch.setenv("KEJIBANG_ACTIONS_PORT", str(free_port()))
    patch.setenv("KEJIBANG_ACTIONS_URL", "")  # process_environment sets it; undo() then removes it again
    patch.delenv("KEJIBANG_EXCHANGE_URL", raising=False)
    patch.setenv(SECRET_VARIABLE, "")  # the action server makes this run's secret; undo() removes it again
    try:
        settings = Settings.from_env()
        launcher.process_environment(settings)
        launcher.prepare_exchange(settings)
        process = launcher.start_action_server(settings, settings.var_dir / "actions.log")
        try:
            yield settings
        finally:
            process.terminate()
            process.wait(timeout=10)
    finally:
        patch.undo()


async def loaded_assistant(settings: Settings) -> InProcessRasa:
    """The trained model, loaded and talking to the stack's action server and tracker store."""
    backend = InProcessRasa(model.train(settings.model_dir), settings.actions_url, settings.tracker_db)
    await backend.load()
    return backend
