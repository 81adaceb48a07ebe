"""The tracker store without Rasa's COUNT per save keeps exactly what Rasa's own store keeps: every turn's
events once, across new sessions, and when a save comes without a retrieve before it. The conversations it
keeps in memory are never older than the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from kejibang.settings import PROJECT_ROOT
from rasa_plugins.session_tracker_store import SessionSQLTrackerStore
from rasa_plugins.tracker_store import forget_conversation


def turn(text: str, at: float) -> list:
    return [UserUttered(text, {"name": "describe_need", "confidence": 0.9}, timestamp=at),
            ActionExecuted("action_read_back_need", timestamp=at + 0.1), BotUttered("收到", timestamp=at + 0.2),
            SlotSet("pending", "confirm_need", timestamp=at + 0.3), ActionExecuted("action_listen", timestamp=at + 0.4)]


async def conversation(store: SQLTrackerStore, domain: Domain) -> list[dict]:
    """Turns as Rasa's processor runs them (retrieve, append, save): a first one, a second saved twice (the
    second save with no retrieve before it), a third that starts a new session; what the store holds then,
    across every session."""
    tracker = DialogueStateTracker.from_events("telegram:1", [ActionExecuted("action_session_start", timestamp=1),
                                                              SessionStarted(timestamp=1.5)], domain.slots)
    assert await store.retrieve("telegram:1") is None
    for event in turn("猪不吃食", 2):
        tracker.update(event)
    await store.save(tracker)
    tracker = await store.retrieve("telegram:1")
    for events in (turn("是的", 10), turn("谢谢", 15)):
        for event in events:
            tracker.update(event)
        await store.save(tracker)
    tracker = await store.retrieve("telegram:1")
    for event in [ActionExecuted("action_session_start", timestamp=20), SessionStarted(timestamp=20.5),
                  *turn("鸡拉稀", 21)]:
        tracker.update(event)
    await store.save(tracker)
    full = await store.retrieve_full_tracker("telegram:1")
    return [event.as_dict() for event in full.events]


@pytest.mark.asyncio
async def test_every_event_is_kept_once_as_rasas_store_keeps_it(tmp_path: Path) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    ours = await conversation(SessionSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "ours.db")), domain)
    rasas = await conversation(SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db")), domain)
    assert ours == rasas
    assert sum(e["event"] == "user" for e in ours) == 4


@pytest.mark.asyncio
async def test_an_sqlite_conversation_can_be_read_while_a_turn_is_being_written(tmp_path: Path) -> None:
    """Another worker (or the erasure) reads a conversation while a save is under way: the file is in
    write-ahead-log mode, so the reader sees the last saved turn instead of waiting on a lock."""
    import sqlite3

    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    path = tmp_path / "tracker.db"
    store = SessionSQLTrackerStore(domain, dialect="sqlite", db=str(path))
    await conversation(store, domain)
    writer = sqlite3.connect(path, timeout=0.1)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("DELETE FROM events")
    try:
        full = await store.retrieve_full_tracker("telegram:1")
    finally:
        writer.rollback()
        writer.close()
    assert sum(e.as_dict()["event"] == "user" for e in full.events) == 4


async def saved_turn(store: SessionSQLTrackerStore, domain: Domain, sender: str = "telegram:2") -> DialogueStateTracker:
    """A first turn of a conversation, saved, and the tracker the next turn gets."""
    tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_session_start", timestamp=1),
                                                        SessionStarted(timestamp=1.5), *turn("猪不吃食", 2)],
                                               domain.slots)
    await store.save(tracker)
    return await store.retrieve(sender)


@pytest.mark.asyncio
async def test_the_next_turn_gets_the_conversation_this_process_saved_without_rereading_it(tmp_path: Path) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    store = SessionSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = await saved_turn(store, domain)
    for event in turn("是的", 10):
        tracker.update(event)
    await store.save(tracker)
    assert await store.retrieve("telegram:2") is tracker
    other_server = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert [e.as_dict() for e in (await other_server.retrieve_full_tracker("telegram:2")).events] == \
        [e.as_dict() for e in tracker.events]


@pytest.mark.asyncio
async def test_a_kept_conversation_never_outlives_what_the_database_says(tmp_path: Path) -> None:
    """An erased person starts afresh, a turn another Rasa server took is seen, and a turn that failed
    before its save leaves the conversation as it was stored."""
    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    path = tmp_path / "tracker.db"
    store = SessionSQLTrackerStore(domain, dialect="sqlite", db=str(path))

    await saved_turn(store, domain, "telegram:erased")
    await store.save(await store.retrieve("telegram:erased"))
    assert forget_conversation(f"sqlite:///{path}", "telegram:erased") > 0
    assert await store.retrieve("telegram:erased") is None

    await store.save(await saved_turn(store, domain, "telegram:moved"))
    other_server = SQLTrackerStore(domain, dialect="sqlite", db=str(path))
    elsewhere = await other_server.retrieve("telegram:moved")
    for event in turn("鸡拉稀", 30):
        elsewhere.update(event)
    await other_server.save(elsewhere)
    assert [e.as_dict() for e in (await store.retrieve("telegram:moved")).events] == \
        [e.as_dict() for e in elsewhere.events]

    half_done = await saved_turn(store, domain, "telegram:failed")
    await store.save(half_done)
    half_done = await store.retrieve("telegram:failed")
    half_done.update(UserUttered("这个消息没存上", timestamp=40))
    again = await store.retrieve("telegram:failed")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["猪不吃食"]


@pytest.mark.asyncio
async def test_a_new_session_is_read_back_alone(tmp_path: Path) -> None:
    """After a turn that opened a new session the next turn sees that session only, as Rasa's retrieve
    gives it, not every session the conversation ever had."""
    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    store = SessionSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = await saved_turn(store, domain)
    for event in [ActionExecuted("action_session_start", timestamp=20), SessionStarted(timestamp=20.5),
                  *turn("鸡拉稀", 21)]:
        tracker.update(event)
    await store.save(tracker)
    again = await store.retrieve("telegram:2")
    assert again.events[0].as_dict()["event"] == "session_started"
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["鸡拉稀"]
