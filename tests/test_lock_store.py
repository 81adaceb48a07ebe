"""The lock store of the production profile against the local Redis: two servers, one ticket queue.

Two store objects stand for two Rasa servers; both issue tickets for one conversation from many
threads at once. Rasa's own RedisLockStore hands out the same number twice under this load (its
read-change-write is not atomic); the atomic one must not.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from rasa_plugins.lock_store import AtomicRedisLockStore

THREADS, TICKETS = 8, 200


@pytest.fixture
def stores() -> list[AtomicRedisLockStore]:
    prefix = "kjbtest" + uuid.uuid4().hex[:8]
    config = EndpointConfig(url="127.0.0.1", type="rasa_plugins.lock_store.AtomicRedisLockStore", port=6379, db=1,
                            key_prefix=prefix)
    found = [AtomicRedisLockStore(config), AtomicRedisLockStore(config)]
    try:
        found[0].red.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis on 127.0.0.1:6379 is needed (.ci/run starts it): {error}")
    return found


def test_two_servers_issuing_tickets_at_once_never_share_a_number(stores):
    with ThreadPoolExecutor(THREADS) as pool:
        tickets = list(pool.map(lambda i: stores[i % 2].issue_ticket("telegram:1"), range(TICKETS)))
    assert sorted(tickets) == list(range(TICKETS))
    assert stores[1].get_lock("telegram:1").now_serving == 0


def test_the_lock_is_gone_once_every_ticket_is_released(stores):
    first, second = stores[0].issue_ticket("telegram:2"), stores[1].issue_ticket("telegram:2")
    stores[1].cleanup("telegram:2", first)
    assert stores[0].get_lock("telegram:2").now_serving == second
    stores[0].cleanup("telegram:2", second)
    assert stores[0].get_lock("telegram:2") is None
