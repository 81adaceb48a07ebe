"""The production profile holds together: two Rasa servers, one conversation store, one lock store.

Two `kejibang rasa serve` processes (as deploy/ runs them) share Rasa's SQL tracker store on
PostgreSQL and the Redis lock store, with the action server as its own process. Many people's turns
are spread over both servers at once, each person's turns alternating between them; what each
server's API then reads back must be exactly what was said, in order, once. The lock store gets its
own test: one person's messages sent at the same moment to both servers still make whole turns.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
import requests

from core.dialogue import RasaServer, Reply
from kejibang.internal import SECRET_HEADER
from tests.support.production_stack import Stack, production_stack

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.postgres]

PEOPLE = 20
NEEDS = ("我家猪这几天不吃食还发烧", "我屋头的猪莫得精神 不吃食还发烧", "我的土鸡这个月都不下蛋了 饲料也没换过",
         "鱼塘的鱼早上浮头 死了一大片")
AT_ONCE = ("你好", "在吗", "谢谢你", "好的")
LISTEN, LOOPBACK = "0A", "0100007F"  # as /proc/net/tcp writes them


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with production_stack(tmp_path_factory.mktemp("production"), servers=2) as running:
        yield running


def _script(person: int) -> list[str]:
    """Hello, a need, a typed yes (the need is posted: the turn needs the previous one's state), thanks."""
    return ["你好", NEEDS[person % len(NEEDS)], "对的", "谢谢"]


async def _tracker_events(session: aiohttp.ClientSession, url: str, token: str, sender: str) -> list[dict]:
    params = {"token": token, "include_events": "ALL"}
    async with session.get(f"{url}/conversations/{sender}/tracker", params=params) as response:
        response.raise_for_status()
        return (await response.json())["events"]


async def _read_back(stack: Stack, senders: list[str]) -> dict[str, list[list[dict]]]:
    """Every sender's events as each server reads them (the store is shared, so they must agree)."""
    found: dict[str, list[list[dict]]] = {}
    async with aiohttp.ClientSession() as session:
        for sender in senders:
            found[sender] = [await _tracker_events(session, url, stack.token, sender) for url in stack.urls]
    return found


def _said(events: list[dict]) -> list[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def _whole_turns(events: list[dict]) -> bool:
    """Each message was taken only after the previous turn ended (listening), never in the middle of one."""
    return all(index > 0 and events[index - 1].get("name") == "action_listen"
               for index, event in enumerate(events) if event["event"] == "user")


def _text(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def _converse(servers: list[RasaServer], person: int) -> list[str]:
    """One person's turns, each sent to the other server than the turn before; the posting turn's reply."""
    posted = []
    for turn, text in enumerate(_script(person)):
        replies = await servers[(person + turn) % len(servers)].respond(f"person-{person}", text)
        if text == "对的":
            posted.append(_text(replies))
    return posted


async def _interleaved(stack: Stack) -> list[list[str]]:
    servers = [RasaServer((url,), stack.token) for url in stack.urls]
    try:
        return await asyncio.gather(*(_converse(servers, person) for person in range(PEOPLE)))
    finally:
        for server in servers:
            await server.close()


def test_interleaved_conversations_over_two_servers_keep_every_turn_once_and_in_order(stack: Stack):
    posted = asyncio.run(_interleaved(stack))
    assert all("已经帮你发出去了" in text for texts in posted for text in texts), posted

    trackers = asyncio.run(_read_back(stack, [f"person-{person}" for person in range(PEOPLE)]))
    for person in range(PEOPLE):
        first, second = trackers[f"person-{person}"]
        assert first == second
        assert _said(first) == _script(person), f"person-{person}: lost, duplicated or reordered turns"
        assert _whole_turns(first)


async def _all_at_once(stack: Stack, people: int) -> None:
    backend = stack.backend()
    try:
        await asyncio.gather(*(backend.respond(f"hasty-{person}", text)
                               for person in range(people) for text in AT_ONCE))
    finally:
        await backend.close()


def test_one_persons_simultaneous_messages_on_both_servers_are_taken_one_turn_at_a_time(stack: Stack):
    people = 6
    asyncio.run(_all_at_once(stack, people))

    trackers = asyncio.run(_read_back(stack, [f"hasty-{person}" for person in range(people)]))
    for person in range(people):
        events = trackers[f"hasty-{person}"][0]
        assert Counter(_said(events)) == Counter(AT_ONCE), f"hasty-{person}: lost or duplicated messages"
        assert _whole_turns(events), f"hasty-{person}: two servers worked on one conversation at once"


def test_the_http_api_refuses_requests_without_the_token(stack: Stack):
    url = stack.urls[0]
    for params in ({}, {"token": "wrong"}):
        assert requests.get(f"{url}/status", params=params, timeout=5).status_code == 401
        assert requests.get(f"{url}/conversations/person-0/tracker", params=params, timeout=5).status_code == 401
        assert requests.put(f"{url}/model", params=params, json={"model_file": "/tmp/x.tar.gz"},
                            timeout=5).status_code == 401
    assert requests.get(f"{url}/status", params={"token": stack.token}, timeout=5).ok


def test_only_the_bot_reaches_the_rest_channel_and_the_action_server(stack: Stack):
    url = stack.urls[0]
    body = {"sender": "person-0", "message": "我是别人"}
    for headers in ({}, {SECRET_HEADER: "wrong"}):
        assert requests.post(f"{url}/webhooks/rest/webhook", json=body, headers=headers, timeout=5).status_code == 403
        assert requests.get(stack.actions_url.replace("/webhook", "/actions"), headers=headers,
                            timeout=5).status_code == 403


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as the kernel lists them) of the sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_servers_listen_on_loopback_only(stack: Stack):
    for url in (*stack.urls, stack.actions_url):
        assert _listening_addresses(urlsplit(url).port) == {LOOPBACK}, url
