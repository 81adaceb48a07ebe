"""Shared fixtures: real databases (SQLite files, the local PostgreSQL), real HTTP on loopback."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy

from exchange.importer import seed_sample
from exchange.service import ExchangeService
from kejibang.settings import Settings
from tests.support.databases import create_database, drop_database

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
API_KEY = "test-key"


@pytest.fixture(scope="session", autouse=True)
def scratch_var_dir(tmp_path_factory) -> Iterator[Path]:
    """Everything a test writes under KEJIBANG_VAR_DIR (saved matcher indexes of PostgreSQL test databases,
    logs) goes to a temporary folder, never the checkout's var/; a test may still point it elsewhere."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("var")
        patch.setenv("KEJIBANG_VAR_DIR", str(folder))
        yield folder


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    """An exchange database file seeded once with the sample content; tests get copies."""
    path = tmp_path_factory.mktemp("seed") / "exchange.db"
    service = ExchangeService(f"sqlite:///{path}")
    seed_sample(service, show_progress=False)
    service.matcher()  # as a serving process does at start: the encoder and the profiles' vectors are warm
    service.close()
    return path


@pytest.fixture
def sqlite_service(seeded_sqlite: Path, tmp_path: Path) -> Iterator[ExchangeService]:
    """A seeded embedded exchange on its own SQLite file (not var/exchange.db, which a bot under test opens)."""
    path = tmp_path / "seeded-exchange.db"
    shutil.copy(seeded_sqlite, path)
    service = ExchangeService(f"sqlite:///{path}")
    yield service
    service.close()


def _create_database(name: str, template: str | None = None) -> str:
    try:
        return create_database(name, template)
    except sqlalchemy.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed (.ci/run starts it): {error}")


@pytest.fixture(scope="session")
def seeded_postgres_template() -> Iterator[str]:
    """A PostgreSQL database seeded once with the sample content, cloned by each test."""
    name = "kejibang_seed_" + uuid.uuid4().hex[:8]
    service = ExchangeService(_create_database(name))
    seed_sample(service, show_progress=False)
    service.close()
    yield name
    drop_database(name)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    name = "kejibang_test_" + uuid.uuid4().hex[:8]
    yield _create_database(name)
    drop_database(name)


@pytest.fixture
def postgres_service(seeded_postgres_template: str) -> Iterator[ExchangeService]:
    """A seeded exchange on its own PostgreSQL database."""
    name = "kejibang_test_" + uuid.uuid4().hex[:8]
    service = ExchangeService(_create_database(name, template=seeded_postgres_template))
    yield service
    service.close()
    drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_service(request) -> ExchangeService:
    """A seeded exchange on SQLite and on PostgreSQL: the same behaviour is required of both."""
    return request.getfixturevalue(f"{request.param}_service")


class ServerThread:
    """The reference exchange's aiohttp app served from a background thread on loopback."""

    def __init__(self, service: ExchangeService, port: int | None = None) -> None:
        self.service = service
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        from aiohttp import web

        from exchange.server import create_app

        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(create_app(self.service, API_KEY))
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()

    def start(self) -> ServerThread:
        self._thread.start()
        assert self._started.wait(10), "exchange server did not start"
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def exchange_server(sqlite_service: ExchangeService) -> Iterator[ServerThread]:
    """The seeded exchange served over real HTTP on loopback."""
    server = ServerThread(sqlite_service).start()
    yield server
    server.stop()


@pytest.fixture(params=["in-process", "http"])
def exchange(request, storage_service: ExchangeService):
    """The same exchange through both transports and both databases: behaviour must not differ."""
    if request.param == "in-process":
        yield storage_service
        return
    from exchange.client import ExchangeClient

    server = ServerThread(storage_service).start()
    client = ExchangeClient(server.url, API_KEY, retry_delays=(0.05, 0.1))
    yield client
    client.close()
    server.stop()


@pytest.fixture
def wired(monkeypatch, sqlite_service, tmp_path):
    """Custom actions wired to a seeded embedded exchange and a fresh assistant store."""
    from actions import services
    from store.database import store_database

    found = services.stores_on(store_database(f"sqlite:///{tmp_path / 'assistant.db'}"))
    monkeypatch.setattr(services, "exchange", lambda: sqlite_service)
    monkeypatch.setattr(services, "stores", lambda: found)
    return found


@pytest.fixture(scope="module")
def stack_settings(tmp_path_factory) -> Iterator[Settings]:
    """The local stack of one test module: seeded exchange, assistant store and action server under one folder."""
    from tests.support.model_stack import local_stack

    with local_stack(tmp_path_factory.mktemp("var")) as settings:
        yield settings


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def assistant(stack_settings: Settings):
    """The trained model loaded in-process, talking to the module's stack (loaded once per module)."""
    from tests.support.model_stack import loaded_assistant

    return await loaded_assistant(stack_settings)
