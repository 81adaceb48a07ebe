"""Test doubles for the reliability tests: an outbound that records, and an exchange service that fails
on demand (served over HTTP by tests.conftest.ServerThread, it answers 5xx or slowly, as a sick one does)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from core.dialogue import Reply
from exchange.service import ExchangeService

WRITES = ("register_user", "update_user", "delete_user", "create_need", "add_feedback", "set_need_status")


@dataclass
class RecordingOutbound:
    """What the outbox worker told whom."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, sender_id: str, replies: list[Reply]) -> None:
        self.sent.extend((sender_id, reply.text) for reply in replies)

    def to(self, sender_id: str) -> list[str]:
        return [text for sender, text in self.sent if sender == sender_id]


class SickService:
    """An ExchangeService whose writes fail (a 500 over HTTP) or take ``delay`` seconds before they are
    done (a client that gave up has still delivered them), as set by ``mode``."""

    def __init__(self, service: ExchangeService) -> None:
        self.service = service
        self.mode = "well"
        self.delay = 1.0

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.service, name)
        if name not in WRITES:
            return operation

        def sick(*args: Any, **kwargs: Any) -> Any:
            if self.mode == "failing":
                raise RuntimeError("injected failure")
            if self.mode == "slow":
                time.sleep(self.delay)
            return operation(*args, **kwargs)

        return sick
