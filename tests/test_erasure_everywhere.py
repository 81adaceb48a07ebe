"""删除我的信息 reaches everything (issue #12): one person with every kind of record in every store (the exchange,
the assistant's store, the conversations), two chats linked to one user, a need posted before registering, a
write waiting in the outbox and a dead letter; after the deletion, 0 rows about them are left in any store,
on SQLite and on PostgreSQL. The counts per store are printed and named in the assertion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from rasa_sdk import Tracker
from sqlalchemy import create_engine, func, or_, select, text

from actions import services
from actions.need import ActionPostNeed
from actions.registration import ActionDeleteMyData, ActionRegisterUser
from common.clock import utcnow
from core.assistant import _erased_chats
from core.outbox import OutboxWorker
from exchange.models import ContactRequest, Feedback, Match, Need, User
from kejibang.privacy import ERASE_CONVERSATION
from rasa_plugins.tracker_store import forget_conversation
from store import models as s
from store.database import store_database
from store.erasure import ERASED, sender_ref
from tests.support.databases import create_database, drop_database
from tests.support.reliability import RecordingOutbound
from tests.test_actions_registration import FILLED

CHAT, OTHER, STRANGER = "telegram:7001", "telegram:7002", "telegram:7999"
PHONE = "13881234567"
KEYED_BY_CHAT = (s.Account, s.RegistrationDraft, s.PostedNeed, s.Subscription, s.HandoffCase, s.Role, s.InviteUse,
                 s.ExpertLink, s.NeedPhoto, s.SharedPlace, s.PendingNotice, s.InboxEntry, s.OutboxEntry, s.DeadLetter)


def _tracker(sender: str, text_: str, intent: str, slots: dict) -> Tracker:
    return Tracker(sender, slots, {"text": text_, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
                   [], False, None, {}, "action_listen")


async def _run(action, track: Tracker) -> list[dict]:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, track, {})
    return dispatcher.messages


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, monkeypatch, tmp_path) -> Iterator[dict]:
    """The exchange, the assistant's store and a tracker store, all on SQLite or all on PostgreSQL."""
    exchange = request.getfixturevalue(f"{request.param}_service")
    names: list[str] = []
    if request.param == "sqlite":
        store_url, tracker_url = f"sqlite:///{tmp_path / 'assistant.db'}", f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        names = ["kejibang_store_" + uuid.uuid4().hex[:8], "kejibang_tracker_" + uuid.uuid4().hex[:8]]
        store_url, tracker_url = (create_database(name) for name in names)
    found = services.stores_on(store_database(store_url))
    monkeypatch.setattr(services, "exchange", lambda: exchange)
    monkeypatch.setattr(services, "stores", lambda: found)
    yield {"exchange": exchange, "stores": found, "tracker": tracker_url}
    found.db.close()
    for name in names:
        drop_database(name)


async def _exchange_records(world: dict) -> str:
    """Needs before and after registering, from both chats; a contact request with a note; feedback."""
    accounts, exchange = world["stores"].accounts, world["exchange"]
    early = {"need_text": "我叫张德明，坪滩镇三组，猪拉稀不吃食", "need_region": "岳池县坪滩镇"}
    await _run(ActionPostNeed(), _tracker(CHAT, "/affirm", "affirm", early))
    [early_need] = accounts.needs_of(CHAT)
    assert exchange.get_need(early_need)["user_id"] is None, "posted before registering: no user link"
    accounts.keep_phone(CHAT, PHONE)
    await _run(ActionRegisterUser(), _tracker(CHAT, "同意", "affirm", FILLED))
    user_id = accounts.user_of(CHAT)
    assert user_id
    accounts.link(OTHER, user_id)  # a chair's hand-over moved the account into a second chat
    for chat, need_text in ((CHAT, "鱼塘里的鱼早上浮头"), (OTHER, "辣椒叶子发黄卷曲")):
        await _run(ActionPostNeed(), _tracker(chat, "/affirm", "affirm", {"need_text": need_text}))
    need_id = accounts.needs_of(CHAT)[0]
    expert = exchange.get_need(need_id)["match"]["experts"][0]["id"]
    request_ = exchange.request_contact(need_id, expert)
    exchange.answer_contact(request_["id"], "decline", "张德明电话打不通")
    exchange.add_feedback(need_id, "helpful", expert, "张德明说专家很好")
    exchange.create_need({"text": "别人的需求：稻飞虱", "sender": sender_ref(STRANGER)})
    return user_id


def _store_records(world: dict, user_id: str) -> None:
    """One row of every kind the assistant's store keeps about a person, in both chats."""
    handoffs, now = world["stores"].handoffs, utcnow()
    ticket = handoffs.open_case(CHAT, "request_human", "张德明 猪拉稀")
    handoffs.add_message(ticket.number, "user", "我电话13881234567")
    world["stores"].subscriptions.subscribe(CHAT, "animal_husbandry")
    with world["stores"].db.transaction() as session:
        session.add(s.Invite(code="inv-1", township_code="511621106", chair="telegram:1"))
        session.flush()
        session.add_all([
            s.Role(sender_id=OTHER, role="chair", township_code="511621106"),
            s.InviteUse(sender_id=CHAT, code="inv-1", township_code="511621106"),
            s.ExpertLink(sender_id=OTHER, expert_id="e-erase-me"),
            s.NeedPhoto(sender_id=CHAT, file_ref="photo-1"), s.SharedPlace(sender_id=CHAT, region="广安市"),
            s.PendingNotice(sender_id=OTHER, text="你的身份已取消"),
            s.ExpertCase(request_id="r-erase", need_id="n-x", expert_id="e-1", farmer=CHAT, summary="猪拉稀"),
            s.InboxEntry(key="telegram:1", sender_id=CHAT, status="processed"),
            s.OutboxEntry(idempotency_key="fb-waiting", sender_id=OTHER, method="add_feedback", arguments="[]"),
            s.DeadLetter(id=999, idempotency_key="dead", sender_id=CHAT, method="update_user", arguments="[]",
                         code="invalid_name", reason="姓名太长"),
            s.AccountHandover(code_hash="h" * 64, user_id=user_id, chair="telegram:1",
                              expires_at=now + timedelta(hours=72)),
            s.AuditEntry(actor=OTHER, action="became_chair", detail="511621106"),
            s.AuditEntry(actor="operator", action="revoke_chair", detail=OTHER),
            s.AuditEntry(actor="operator", action="issue_chair_code", detail="511621106"),
        ])


def _tracker_records(url: str) -> None:
    """Conversation events of both chats and of someone else (a minimal ``events`` table)."""
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                                "type_name VARCHAR(255), timestamp FLOAT, data TEXT)"))
        for number, chat in enumerate((CHAT, CHAT, OTHER, STRANGER), start=1):
            connection.execute(text("INSERT INTO events VALUES (:id, :sender, 'user', 0, '张德明')"),
                               {"id": number, "sender": chat})
    engine.dispose()


def _left(world: dict, user_id: str, refs: list[str], need_ids: list[str]) -> dict[str, int]:
    """Rows still about the person, per store."""
    with world["exchange"].db.transaction() as session:
        needs = session.execute(select(func.count()).select_from(Need).where(or_(
            Need.id.in_(need_ids), Need.user_id == user_id, Need.sender.in_(refs)))).scalar()
        hanging = sum(session.execute(select(func.count()).select_from(model).where(model.need_id.in_(need_ids)))
                      .scalar() for model in (Match, ContactRequest, Feedback))
        exchange = needs + hanging + (session.get(User, user_id) is not None)
    chats = [CHAT, OTHER]
    with world["stores"].db.transaction() as session:
        store = sum(session.execute(select(func.count()).select_from(model).where(model.sender_id.in_(chats)))
                    .scalar() for model in KEYED_BY_CHAT)
        store += session.execute(select(func.count()).select_from(s.ExpertCase).where(
            s.ExpertCase.farmer.in_(chats))).scalar()
        store += session.execute(select(func.count()).select_from(s.HandoffMessage)).scalar()
        store += session.execute(select(func.count()).select_from(s.AccountHandover)).scalar()
        store += session.execute(select(func.count()).select_from(s.AuditEntry).where(or_(
            s.AuditEntry.actor.in_(chats), *(s.AuditEntry.detail.contains(v) for v in [*chats, user_id])))).scalar()
    engine = create_engine(world["tracker"], future=True)
    with engine.connect() as connection:
        tracker = connection.execute(text("SELECT count(*) FROM events WHERE sender_id IN (:a, :b)"),
                                     {"a": CHAT, "b": OTHER}).scalar()
    engine.dispose()
    return {"exchange": exchange, "assistant store": store, "tracker": tracker}


@pytest.mark.asyncio
async def test_deleting_my_data_leaves_nothing_about_me_in_any_store(world):
    user_id = await _exchange_records(world)
    _store_records(world, user_id)
    _tracker_records(world["tracker"])
    refs = [sender_ref(CHAT), sender_ref(OTHER)]
    need_ids = world["stores"].accounts.needs_of(CHAT) + world["stores"].accounts.needs_of(OTHER)
    before = _left(world, user_id, refs, need_ids)
    assert len(need_ids) == 3 and all(before.values()), before

    replies = await _run(ActionDeleteMyData(), _tracker(CHAT, "确定", "affirm", {"pending": "confirm_delete"}))
    assert replies[0]["response"] == "utter_delete_queued"  # the second chat's deletion waits behind its write
    [erase] = [r["custom"][ERASE_CONVERSATION] for r in replies if ERASE_CONVERSATION in (r.get("custom") or {})]
    for chat in _erased_chats(erase, CHAT):  # what the front end does once the turn is saved
        forget_conversation(world["tracker"], chat)
    worker = OutboxWorker(world["stores"].outbox, world["stores"].accounts, world["exchange"],
                          RecordingOutbound())
    assert (await worker.deliver_due()).delivered == 1

    left = _left(world, user_id, refs, need_ids)
    print(f"\nbefore deletion: {before}\nleft after deletion: {left}")
    assert left == {"exchange": 0, "assistant store": 0, "tracker": 0}, f"left per store: {left}"
    with world["stores"].db.transaction() as session:
        audit = [(a.actor, a.action, a.detail) for a in session.execute(select(s.AuditEntry)).scalars()]
    assert sorted(audit) == [(ERASED, ERASED, ""), (ERASED, ERASED, ""),
                             ("operator", "issue_chair_code", "511621106")]
    assert world["exchange"].search_experts("猪") and _strangers_need_kept(world)


def _strangers_need_kept(world: dict) -> bool:
    with world["exchange"].db.transaction() as session:
        return session.execute(select(Need).where(Need.sender == sender_ref(STRANGER))).scalar() is not None
