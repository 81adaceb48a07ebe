"""The need actions against the real embedded exchange (rasa-demo style: tracker + collecting dispatcher)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.need import ActionAnswerPending, ActionMoreExperts, ActionPostNeed, ActionReadBackNeed


@pytest.fixture
def embedded(wired, sqlite_service):
    """Actions on a seeded embedded exchange."""
    return sqlite_service


@pytest.fixture
def down(monkeypatch, wired):
    """An exchange that cannot be reached (nothing listens on the port)."""
    from exchange.client import ExchangeClient
    from tests.conftest import free_port

    client = ExchangeClient(f"http://127.0.0.1:{free_port()}", "k", retry_delays=())
    monkeypatch.setattr(services, "exchange", lambda: client)
    return client


def tracker(text: str, intent: str = "describe_need", slots: dict | None = None, entities=None) -> Tracker:
    return Tracker("user-1", slots or {}, {"text": text, "intent": {"name": intent, "confidence": 0.9},
                                          "entities": entities or []},
                   [], False, None, {}, "action_listen")


def slots_of(events) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run(action, track: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    return dispatcher.messages, events


@pytest.mark.asyncio
async def test_a_clear_need_is_read_back_with_its_domain_and_nothing_is_posted(embedded):
    messages, events = await run(ActionReadBackNeed(), tracker("我家猪这几天不吃食还发烧",
                                                               entities=[{"entity": "animal", "value": "猪"}]))
    assert messages[0]["response"] == "utter_need_read_back"
    assert "生猪养殖" in messages[0]["need_summary"] and "对象：猪" in messages[0]["need_summary"]
    assert slots_of(events)["pending"] == "confirm_need"
    from exchange.models import Need
    with embedded.db.transaction() as session:
        assert session.query(Need).count() == 0


@pytest.mark.asyncio
async def test_urgent_words_are_flagged_in_the_read_back(embedded):
    messages, _ = await run(ActionReadBackNeed(), tracker("鸡死了好多 急死了"))
    assert "紧急" in messages[0]["need_summary"]


@pytest.mark.asyncio
async def test_a_confirmed_need_is_posted_once_and_three_experts_are_shown(embedded):
    track = tracker("/affirm", "affirm", {"need_text": "柑橘叶子发黄还掉果", "need_domains": ["fruit"]})
    messages, events = await run(ActionPostNeed(), track)
    responses = [m["response"] for m in messages]
    assert responses[0] == "utter_need_posted"
    assert responses.count("utter_expert_card") == 3
    assert "utter_expert_choices" in responses
    again, _ = await run(ActionPostNeed(), track)
    assert slots_of(events)["need_id"] == again[0]["need_id"], "the same confirmed text is one need"


@pytest.mark.asyncio
async def test_another_batch_never_repeats_an_expert(embedded):
    first, events = await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "猪拉稀不吃食"}))
    shown = slots_of(events)["shown_experts"]
    more, more_events = await run(ActionMoreExperts(), tracker("/more_experts", "more_experts",
                                                               {"need_text": "猪拉稀不吃食", "shown_experts": shown}))
    new_ids = [m["expert_id"] for m in more if m.get("response") == "utter_expert_card"]
    assert new_ids and not set(new_ids) & set(shown)
    assert slots_of(more_events)["shown_experts"] == shown + new_ids


@pytest.mark.asyncio
async def test_when_the_exchange_is_down_the_need_is_kept_for_the_outbox_once(down, wired):
    for _ in range(2):  # the person confirms again: still one write waiting (delivery: tests/test_outbox.py)
        messages, events = await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "鱼浮头"}))
        assert messages[0]["response"] == "utter_need_queued"
        assert slots_of(events) == {"pending": None}
    [waiting] = wired.outbox.pending()
    assert (waiting.command, waiting.arguments[0]["text"]) == ("create_need", "鱼浮头")


@pytest.mark.asyncio
async def test_saying_no_to_a_read_back_asks_to_retell(embedded):
    messages, events = await run(ActionAnswerPending(), tracker("不对", "deny", {"pending": "confirm_need"}))
    assert messages[0]["response"] == "utter_need_retell"
    assert events == [SlotSet("pending", None)]


@pytest.mark.asyncio
async def test_the_place_named_in_the_message_is_read_back(embedded):
    messages, events = await run(ActionReadBackNeed(), tracker(
        "岳池县的猪不吃食", entities=[{"entity": "region", "value": "岳池县"}, {"entity": "animal", "value": "猪"}]))
    assert "地点：四川省广安市岳池县" in messages[0]["need_summary"]
    assert slots_of(events)["need_region"] == "岳池县"


@pytest.mark.asyncio
async def test_a_location_shared_today_places_a_need_that_names_no_place(embedded, wired):
    wired.places.remember("user-1", "四川省广安市")
    messages, events = await run(ActionReadBackNeed(), tracker("猪不吃食还发烧"))
    assert "地点：四川省广安市" in messages[0]["need_summary"]
    assert slots_of(events)["need_region"] == "四川省广安市"


@pytest.mark.asyncio
async def test_contacting_an_expert_opens_a_volunteer_case_and_feedback_resolves_the_need(embedded, wired):
    from actions.handoff import ActionContactExpert, ActionRecordFeedback

    _, events = await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "猪拉稀不吃食"}))
    need_id, expert_id = slots_of(events)["need_id"], slots_of(events)["shown_experts"][0]
    slots = {"need_id": need_id, "need_text": "猪拉稀不吃食", "expert_id": expert_id}
    messages, _ = await run(ActionContactExpert(), tracker("/contact_expert", "contact_expert", slots))
    assert messages[0]["response"] == "utter_contact_requested"
    case = wired.handoffs.active_case_of("user-1")
    assert case is not None and case[1] == "open"
    assert expert_id in wired.handoffs.queue()[0].summary
    thanks, _ = await run(ActionRecordFeedback(), tracker("/feedback", "feedback", {**slots, "verdict": "helpful"}))
    assert thanks[0]["response"] == "utter_feedback_thanks"
    assert embedded.get_need(need_id)["status"] == "resolved"


def _link_expert(wired, sender_id: str, expert_id: str) -> None:
    from store.roles import Roles

    code, _ = Roles(wired.db).issue("expert", expert_id=expert_id)
    assert Roles(wired.db).redeem(sender_id, code).expert_id == expert_id


@pytest.mark.asyncio
async def test_contacting_an_expert_who_uses_the_app_offers_the_need_in_their_chat(embedded, wired):
    from actions.handoff import ActionContactExpert

    _, events = await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "猪拉稀不吃食"}))
    need_id, expert_id = slots_of(events)["need_id"], slots_of(events)["shown_experts"][0]
    _link_expert(wired, "telegram:77", expert_id)
    slots = {"need_id": need_id, "need_text": "猪拉稀不吃食", "expert_id": expert_id}
    messages, _ = await run(ActionContactExpert(), tracker("/contact_expert", "contact_expert", slots))
    assert messages[0]["response"] == "utter_contact_sent"
    [case] = wired.experts.to_deliver()
    assert (case.expert_chat, case.farmer, case.number) == ("telegram:77", "user-1", messages[0]["case_number"])
    assert wired.handoffs.active_case_of("user-1") is None, "no volunteer needed"

    embedded.set_expert_availability(expert_id, {"accepting": False})
    other = slots_of((await run(ActionPostNeed(), tracker("/affirm", "affirm", {"need_text": "小猪拉稀还发烧"})))[1])
    assert other["need_id"] != need_id
    refused, _ = await run(ActionContactExpert(), tracker("/contact_expert", "contact_expert",
                                                          {**slots, "need_id": other["need_id"]}))
    assert refused[0]["response"] == "utter_expert_unavailable" and "暂时不接" in refused[0]["reason"]


@pytest.mark.asyncio
async def test_a_handoff_keeps_the_needs_domain_by_name_for_the_volunteers_group(wired):
    from actions.handoff import ActionOpenHandoff

    messages, _ = await run(ActionOpenHandoff(), tracker("转人工", "request_human",
                                                         {"need_text": "猪不吃食", "need_domains": ["pig"]}))
    assert messages[0]["response"] == "utter_handoff_opened"
    assert wired.handoffs.queue()[0].domain == "生猪养殖"
