"""The outbox: writes the actions could not send (the exchange down, slow or failing) are kept in the
assistant's store and delivered later by the worker, exactly once, in order, and the person is told.

The actions run against an exchange nobody listens to (the ``down`` fixture); the worker then delivers
to the real embedded exchange, as if it had come back.
"""

from __future__ import annotations

import pytest

from actions import services
from actions.handoff import ActionRecordFeedback
from actions.need import ActionPostNeed
from actions.registration import ActionDeleteMyData, ActionRegisterUser
from core.outbox import EVERY_SECONDS, LONGEST_WAIT_SECONDS, OutboxWorker
from core.texts import Farmer
from exchange.errors import NotFound
from exchange.models import Feedback, Need, User
from store.outbox import Write
from tests.support.reliability import RecordingOutbound
from tests.test_actions_need import down, run, slots_of, tracker  # noqa: F401  (the exchange-down fixture)
from tests.test_actions_registration import FILLED

PHONE = "13881234567"


@pytest.fixture
def worker(wired, sqlite_service) -> OutboxWorker:
    """The outbox worker delivering to the embedded exchange (the exchange is back)."""
    return OutboxWorker(wired.outbox, wired.accounts, sqlite_service, RecordingOutbound())


def count(service, model, *where) -> int:
    with service.db.transaction() as session:
        return session.query(model).filter(*where).count()


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_a_need_kept_while_the_exchange_was_down_is_posted_once_and_the_person_told(wired, worker,
                                                                                          sqlite_service):
    messages_, _ = await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "鱼塘里的鱼早上浮头"}))
    assert messages_[0]["response"] == "utter_need_queued"
    assert (await worker.deliver_due()).delivered == 1
    assert (await worker.deliver_due()).delivered == 0, "delivered writes leave the outbox"
    [need_id] = wired.accounts.needs_of("user-1")
    assert count(sqlite_service, Need, Need.text == "鱼塘里的鱼早上浮头") == 1
    [told] = worker.outbound.to("user-1")
    assert need_id in told and told.startswith("✅")


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_a_registration_and_a_need_made_while_down_arrive_in_order_and_belong_together(wired, worker,
                                                                                           sqlite_service):
    wired.accounts.keep_phone("user-1", PHONE)
    registered, events = await run(ActionRegisterUser(), tracker("同意", "affirm", FILLED))
    assert registered[0]["response"] == "utter_registration_queued" and registered[0]["phone"] == "138****4567"
    assert slots_of(events) == {"registered": False}
    posted, _ = await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "猪拉稀不吃食"}))
    assert posted[0]["response"] == "utter_need_queued"
    assert [item.command for item in wired.outbox.pending()] == ["register_user", "create_need"]

    assert (await worker.deliver_due()).delivered == 2
    user_id = wired.accounts.user_of("user-1")
    assert sqlite_service.get_user(user_id)["phone"] == PHONE
    assert [n["text"] for n in sqlite_service.list_needs(user_id)] == ["猪拉稀不吃食"]
    assert worker.outbound.to("user-1")[0] == Farmer.REGISTRATION_SUBMITTED


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_the_worker_stops_at_the_first_write_the_exchange_cannot_take_and_keeps_them_all(wired):
    for text in ("鸡瘟了", "鸭不下蛋"):
        await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": text}))
    still_down = OutboxWorker(wired.outbox, wired.accounts, services.exchange(), RecordingOutbound())
    result = await still_down.deliver_due()
    assert (result.delivered, result.blocked) == (0, True)
    assert [i.arguments[0]["text"] for i in wired.outbox.pending()] == ["鸡瘟了", "鸭不下蛋"]
    assert still_down.outbound.sent == [], "nobody is told anything until it has arrived"


@pytest.mark.asyncio
async def test_a_write_the_exchange_refuses_is_not_retried_and_the_person_is_told(wired, worker):
    wired.outbox.enqueue("user-1", Write.CREATE_NEED, [{"text": ""}, "k-empty", 6], "k-empty")
    result = await worker.deliver_due()
    assert (result.delivered, result.refused, result.blocked) == (0, 1, False)
    assert wired.outbox.pending() == []
    assert worker.outbound.to("user-1")[0].startswith("😥 你之前的需求平台没有收下")


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_feedback_given_while_down_arrives_once_however_often_it_is_sent(wired, worker, sqlite_service):
    need = sqlite_service.create_need({"text": "柑橘叶子发黄"}, "need-1")
    slots = {"need_id": need["id"], "expert_id": need["match"]["experts"][0]["id"], "verdict": "helpful"}
    for _ in range(2):
        thanks, _ = await run(ActionRecordFeedback(), tracker("/feedback", "feedback", slots))
        assert thanks[0]["response"] == "utter_feedback_thanks"
    assert [i.command for i in wired.outbox.pending()] == ["add_feedback", "set_need_status"]
    [feedback_key] = [i.key for i in wired.outbox.pending() if i.command is Write.ADD_FEEDBACK]
    sqlite_service.add_feedback(need["id"], "helpful", slots["expert_id"], "", feedback_key)  # the timed-out try
    assert (await worker.deliver_due()).delivered == 2
    assert count(sqlite_service, Feedback, Feedback.need_id == need["id"]) == 1
    assert sqlite_service.get_need(need["id"])["status"] == "resolved"


def test_the_same_feedback_key_records_one_feedback_on_every_transport_and_database(exchange):
    need = exchange.create_need({"text": "稻田里好多稻飞虱"}, idempotency_key="need-fb")
    first = exchange.add_feedback(need["id"], "not_helpful", None, "都不合适", "fb-1")
    again = exchange.add_feedback(need["id"], "not_helpful", None, "都不合适", "fb-1")
    other = exchange.add_feedback(need["id"], "not_helpful", None, "都不合适")
    assert first["id"] == again["id"] != other["id"]


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_erasing_a_person_withdraws_the_registration_still_waiting(wired, worker, sqlite_service):
    wired.accounts.keep_phone("user-1", PHONE)
    await run(ActionRegisterUser(), tracker("同意", "affirm", FILLED))
    sqlite_service.register_user(_body(PHONE), "register:user-1")  # the timed-out first try had arrived
    erased, _ = await run(ActionDeleteMyData(), tracker("确定", "affirm", {"pending": "confirm_delete"}))
    assert erased[0]["response"] == "utter_data_deleted"
    assert (await worker.deliver_due()).delivered == 1
    assert count(sqlite_service, User, User.phone == PHONE) == 0
    assert wired.accounts.user_of("user-1") is None and wired.outbox.pending() == []


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_a_deletion_made_while_down_is_done_when_the_exchange_is_back(wired, worker, sqlite_service):
    user_id = sqlite_service.register_user(_body(PHONE), "register:user-1")["id"]
    wired.accounts.link("user-1", user_id)
    erased, _ = await run(ActionDeleteMyData(), tracker("确定", "affirm", {"pending": "confirm_delete"}))
    assert erased[0]["response"] == "utter_delete_queued"
    assert wired.accounts.user_of("user-1") is None, "the assistant's own copy goes at once"
    assert (await worker.deliver_due()).delivered == 1
    with pytest.raises(NotFound):
        sqlite_service.get_user(user_id)
    assert worker.outbound.to("user-1") == [Farmer.DELETION_SUBMITTED]


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_the_latest_answer_wins_even_over_a_first_try_that_arrived(wired, worker, sqlite_service):
    wired.accounts.keep_phone("user-1", PHONE)
    await run(ActionRegisterUser(), tracker("同意", "affirm", FILLED))
    sqlite_service.register_user(_body(PHONE), "register:user-1")  # the timed-out first try had arrived
    wired.accounts.keep_phone("user-1", "13981234567")  # 电话写错了: corrected while it waits
    await run(ActionRegisterUser(), tracker("13981234567", "inform", {**FILLED, "phone": "139****4567"}))
    assert len(wired.outbox.pending()) == 1
    assert (await worker.deliver_due()).delivered == 1
    assert sqlite_service.get_user(wired.accounts.user_of("user-1"))["phone"] == "13981234567"
    assert count(sqlite_service, User, User.name == FILLED["person_name"]) == 1


@pytest.mark.usefixtures("down")
@pytest.mark.asyncio
async def test_the_worker_waits_longer_while_the_exchange_stays_down(wired, monkeypatch):
    import core.outbox

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 8:
            raise RuntimeError("enough")

    monkeypatch.setattr(core.outbox.asyncio, "sleep", sleep)
    await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "鱼浮头"}))
    with pytest.raises(RuntimeError, match="enough"):
        await OutboxWorker(wired.outbox, wired.accounts, services.exchange(), RecordingOutbound()).run_forever()
    assert waits == [min(EVERY_SECONDS * 2 ** n, LONGEST_WAIT_SECONDS) for n in range(1, 9)]
    assert waits[-1] == LONGEST_WAIT_SECONDS
    assert wired.outbox.pending()[0].arguments[0]["text"] == "鱼浮头"


def _body(phone: str) -> dict:
    return {"name": FILLED["person_name"], "phone": phone, "role": FILLED["user_role"], "township": FILLED["township"],
            "consent": {"purpose": "注册", "scope": "姓名、手机号", "share_contact": True}}

