"""Contact requests on the exchange, through both transports and both databases: 联系TA reaches one
expert at a time, a decline or time-out moves the need to the next-best expert, and the farmer's
follow-up answer closes the loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.clock import utcnow
from exchange.errors import InputRejected

FARMER = {"name": "王秀英", "phone": "13881234567", "role": "农户", "township": "岳池县坪滩镇",
          "consent": {"purpose": "匹配专家", "scope": "姓名、电话", "share_contact": True}}
PIG_NEED = "我家猪这几天不吃食还发烧，耳朵发紫"


def _need(exchange, share_contact: bool = True) -> dict:
    consent = {**FARMER["consent"], "share_contact": share_contact}
    farmer = exchange.register_user({**FARMER, "consent": consent})
    return exchange.create_need({"text": PIG_NEED, "region": "岳池县坪滩镇", "user_id": farmer["id"]})


def test_a_contact_request_shows_the_need_and_the_farmers_contact_only_with_consent(exchange):
    need = _need(exchange)
    expert_id = need["match"]["experts"][0]["id"]
    request = exchange.request_contact(need["id"], expert_id)
    assert request["status"] == "offered" and request["need"]["text"] == PIG_NEED
    assert request["farmer"] == {"name": "王秀英", "phone": "13881234567"}
    assert exchange.request_contact(need["id"], expert_id)["id"] == request["id"], "asking twice is one request"

    private = _need(exchange, share_contact=False)
    hidden = exchange.request_contact(private["id"], private["match"]["experts"][0]["id"])
    assert hidden["farmer"] is None and "13881234567" not in str(hidden)


def test_accepting_marks_the_need_contacted_and_a_resolved_answer_resolves_it(exchange):
    need = _need(exchange)
    request = exchange.request_contact(need["id"], need["match"]["experts"][0]["id"])
    accepted = exchange.answer_contact(request["id"], "accept")
    assert accepted["request"]["status"] == "accepted" and accepted["next"] is None
    assert exchange.get_need(need["id"])["status"] == "contacted"
    outcome = exchange.record_outcome(request["id"], "resolved")
    assert outcome["request"]["status"] == "resolved"
    assert exchange.get_need(need["id"])["status"] == "resolved"
    assert exchange.record_outcome(request["id"], "resolved")["request"]["status"] == "resolved", "a retry is harmless"


def test_a_decline_offers_the_need_to_the_next_best_expert_not_asked_before(exchange):
    need = _need(exchange)
    ranked = [e["id"] for e in need["match"]["experts"]]
    request = exchange.request_contact(need["id"], ranked[0])
    step = exchange.answer_contact(request["id"], "decline", "出差中")
    assert step["request"]["status"] == "declined"
    assert step["next"]["expert_id"] == ranked[1] and step["next"]["status"] == "offered"
    timed_out = exchange.answer_contact(step["next"]["id"], "timeout")
    assert timed_out["next"]["expert_id"] not in ranked[:2]
    with pytest.raises(InputRejected):
        exchange.answer_contact(request["id"], "accept")


def test_unreachable_after_contact_re_matches_and_not_yet_reopens(exchange):
    need = _need(exchange)
    request = exchange.request_contact(need["id"], need["match"]["experts"][0]["id"])
    exchange.answer_contact(request["id"], "accept")
    step = exchange.record_outcome(request["id"], "unreachable")
    assert step["next"] and step["next"]["expert_id"] != request["expert_id"]
    assert exchange.get_need(need["id"])["status"] == "matched"
    exchange.answer_contact(step["next"]["id"], "accept")
    exchange.record_outcome(step["next"]["id"], "not_yet")
    assert exchange.get_need(need["id"])["status"] == "open"


def test_a_paused_or_full_expert_is_not_offered_and_not_matched(exchange):
    need = _need(exchange)
    first = need["match"]["experts"][0]["id"]
    exchange.set_expert_availability(first, {"accepting": False})
    with pytest.raises(InputRejected) as refused:
        exchange.request_contact(need["id"], first)
    assert refused.value.code == "expert_unavailable"
    again = exchange.create_need({"text": PIG_NEED, "region": "岳池县坪滩镇"})
    assert first not in [e["id"] for e in again["match"]["experts"]]

    second = need["match"]["experts"][1]["id"]
    exchange.set_expert_availability(second, {"capacity": 1})
    exchange.request_contact(need["id"], second)
    other = exchange.create_need({"text": PIG_NEED, "region": "岳池县坪滩镇"})
    with pytest.raises(InputRejected):
        exchange.request_contact(other["id"], second)


def test_an_expert_who_serves_one_county_is_not_offered_needs_from_elsewhere(exchange):
    need = _need(exchange)
    expert_id = need["match"]["experts"][0]["id"]
    assert exchange.set_expert_availability(expert_id, {"serves": ["岳池县"]})["serves"] == ["511621"]
    exchange.request_contact(need["id"], expert_id)
    far = exchange.create_need({"text": PIG_NEED, "region": "凉山州昭觉县"})
    assert expert_id not in [e["id"] for e in far["match"]["experts"]]
    with pytest.raises(InputRejected) as refused:
        exchange.set_expert_availability(expert_id, {"serves": ["火星县"]})
    assert refused.value.code == "unknown_place"


def test_an_experts_view_and_weekly_summary_count_what_happened(exchange):
    need = _need(exchange)
    expert_id = need["match"]["experts"][0]["id"]
    request = exchange.request_contact(need["id"], expert_id)
    assert [c["id"] for c in exchange.expert_contacts(expert_id)] == [request["id"]]
    exchange.answer_contact(request["id"], "accept")
    exchange.record_outcome(request["id"], "resolved")
    assert exchange.expert_contacts(expert_id) == []
    summary = exchange.expert_summary(expert_id, utcnow() - timedelta(days=7))
    assert (summary["received"], summary["accepted"], summary["resolved"]) == (1, 1, 1)
