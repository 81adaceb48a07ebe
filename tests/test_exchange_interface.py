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
