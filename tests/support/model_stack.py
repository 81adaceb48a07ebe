"""The local stack behind a villager's message, for the tests that need the trained model.

The model is loaded in-process (trained once per run by the test command) and runs the custom actions
in the same process, as `kejibang run` does; the embedded exchange and the assistant's store are SQLite files in
one folder, seeded as `kejibang run` seeds them. The environment is restored when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.dialogue import InProcessRasa
from kejibang import launcher, model
from kejibang.settings import Settings


@contextmanager
def local_stack(var_dir: Path) -> Iterator[Settings]:
    """Settings that put everything under ``var_dir``, with the exchange seeded; the actions run in-process."""
    patch = pytest.MonkeyPatch()
    patch.setenv("KEJIBANG_VAR_DIR", str(var_dir))
    patch.delenv("KEJIBANG_ACTIONS_URL", raising=False)
    patch.delenv("KEJIBANG_EXCHANGE_URL", raising=False)
    try:
        settings = Settings.from_env()
        launcher.process_environment(settings)
        launcher.prepare_exchange(settings)
        yield settings
    finally:
        patch.undo()


async def loaded_assistant(settings: Settings) -> InProcessRasa:
    """The trained model, loaded with the actions in-process and the stack's tracker store."""
    backend = InProcessRasa(model.train(settings.model_dir), settings.actions_url, settings.tracker_db)
    await backend.load()
    return backend
