"""The typed exchange interface: both transports offer every operation, and every write the outbox keeps
names one of them (mypy checks the signatures: ``make typecheck``)."""

from __future__ import annotations

import inspect

import pytest

from exchange.api import Exchange
from exchange.client import ExchangeClient
from exchange.service import ExchangeService
from store.outbox import Write

OPERATIONS = [name for name, _ in inspect.getmembers(Exchange, inspect.isfunction) if not name.startswith("_")]


@pytest.mark.parametrize("transport", [ExchangeService, ExchangeClient])
def test_both_transports_offer_every_operation_with_the_same_parameters(transport):
    for name in OPERATIONS:
        wanted = list(inspect.signature(getattr(Exchange, name)).parameters)
        assert list(inspect.signature(getattr(transport, name)).parameters)[:len(wanted)] == wanted, name


def test_every_write_the_outbox_keeps_is_stored_under_its_exchange_method(sqlite_service):
    for write in Write:
        if write is Write.WITHDRAW_REGISTRATION:  # the worker's: a registration, then its deletion
            continue
        assert write.value in OPERATIONS
        assert write.operation(sqlite_service).__name__ == write.value


def test_the_assistants_store_knows_the_exchange_only_by_its_interface():
    """store/ stands on common/ and exchange/api.py: a change inside the exchange (its tables, its service)
    cannot break the assistant's store, and the exchange can move to its own server without it."""
    import ast

    from kejibang.settings import PROJECT_ROOT

    reached = set()
    for path in (PROJECT_ROOT / "store").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("exchange"):
                reached.add((path.name, node.module))
    assert {module for _, module in reached} <= {"exchange.api"}, sorted(reached)
