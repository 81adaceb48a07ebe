"""One read says whether a message must pass the notices and the desks before the dialogue: wrong there, a
farmer talking with their expert or a volunteer in a case would be answered by the bot instead (the journeys
in test_volunteer_desk.py and test_expert_journeys.py run through it too). SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from store.database import store_database
from store.expert_cases import ExpertCases
from store.handoffs import Handoffs
from store.models import ExpertLink
from store.notices import Notices
from store.presence import Presence

FARMER, OTHER, VOLUNTEER, EXPERT_CHAT = "telegram:1", "telegram:2", "telegram:3", "telegram:4"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'assistant.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return store_database(url)


def test_a_farmer_in_nothing_is_in_nothing(db):
    Handoffs(db).open_case(OTHER, "request_human", "别人的事")
    assert not Presence(db).involved(FARMER)


def test_a_notice_waiting_counts_until_it_is_taken(db):
    notices = Notices(db)
    notices.leave(FARMER, "你的志愿者身份已取消")
    assert Presence(db).involved(FARMER)
    notices.take(FARMER)
    assert not Presence(db).involved(FARMER)


def test_a_volunteers_case_counts_for_its_user_and_its_claimer_until_closed(db):
    handoffs, presence = Handoffs(db), Presence(db)
    ticket = handoffs.open_case(FARMER, "request_human", "猪不吃食")
    assert presence.involved(FARMER) and not presence.involved(VOLUNTEER)
    handoffs.claim(ticket.number, VOLUNTEER)
    assert presence.involved(VOLUNTEER)
    handoffs.close(ticket.number, "好了", VOLUNTEER)
    assert not presence.involved(FARMER) and not presence.involved(VOLUNTEER)


def test_an_accepted_expert_case_counts_for_the_farmer_and_the_expert(db):
    with db.transaction() as session:
        session.add(ExpertLink(sender_id=EXPERT_CHAT, expert_id="e-0001"))
    cases, presence = ExpertCases(db), Presence(db)
    request = {"id": "r-1", "need_id": "n-1", "expert_id": "e-0001", "need": {"text": "猪发烧"}}
    number = cases.open(request, FARMER, EXPERT_CHAT)
    assert not presence.involved(FARMER) and not presence.involved(EXPERT_CHAT), "an offer relays nothing yet"
    cases.accept(number, EXPERT_CHAT)
    assert presence.involved(FARMER) and presence.involved(EXPERT_CHAT)
    cases.close(number)
    assert not presence.involved(FARMER) and not presence.involved(EXPERT_CHAT)
