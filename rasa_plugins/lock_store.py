"""Rasa's Redis lock store, made safe for several Rasa servers (deploy/endpoints.production.yml).

Rasa 3.6's ``RedisLockStore`` changes a conversation's ticket lock by reading it from Redis, changing
it in Python and writing it back. Two servers that take one person's messages at the same moment can
both read "no ticket", both issue ticket 0 and both run a turn of the same conversation at once; one
turn's events are then lost in the tracker store (tests/test_production_profile.py caught it; Rasa's
issue #9213). Here every change of a lock is one Redis transaction (WATCH/MULTI/EXEC, redone when
another server changed the lock in between), so tickets are unique and one conversation's turns never
overlap, whichever servers take them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.client import Pipeline

Outcome = TypeVar("Outcome")


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket issue, expiry and release are each one Redis transaction."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Built by Rasa from ``lock_store: type: rasa_plugins.lock_store.AtomicRedisLockStore`` with the keys of
        Rasa's own ``type: redis`` (url, port, db, password, key_prefix)."""
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock], Outcome]) -> Outcome:
        """Apply ``change`` to the stored lock in one transaction; a lock left without tickets is deleted."""
        key = self.key_prefix + conversation_id

        def attempt(pipe: Pipeline) -> Outcome:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else self.create_lock(conversation_id)
            outcome = change(lock)
            pipe.multi()
            if lock.is_someone_waiting():
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)
            return outcome

        return self.red.transaction(attempt, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket, numbered after every ticket any server holds for this conversation."""
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets (of servers that died mid-turn)."""
        self._change(conversation_id, TicketLock.remove_expired_tickets)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release the ticket; the lock goes when nobody else holds one."""
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))
