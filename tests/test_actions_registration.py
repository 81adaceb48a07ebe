"""Registration, greeting, correction and deletion actions against the real stores and exchange."""

from __future__ import annotations

import pytest

from actions.registration import (
    ActionCorrectRegistration,
    ActionDeleteMyData,
    ActionGreet,
    ActionRegisterUser,
    ValidateRegistrationForm,
    clean_name,
    role_of,
)
from exchange.errors import NotFound
from tests.test_actions_need import run, slots_of, tracker

FILLED = {"person_name": "张德明", "phone": "138****4567", "township": "四川省广安市岳池县坪滩镇",
          "user_role": "农户", "share_contact": True}


@pytest.mark.parametrize("answer,name", [("张德明", "张德明"), ("我叫李秀英", "李秀英"), ("你好", None),
                                         ("13881234567", None), ("我家猪不吃食了怎么办呢", None)])
def test_names_are_taken_from_natural_answers(answer, name):
    assert clean_name(answer) == name


@pytest.mark.parametrize("answer,role", [("我是种地的", "农户"), ("我们是合作社", "合作社"), ("开了个小厂", "小微企业"),
                                         ("家庭农场", "家庭农场"), ("随便", None)])
def test_roles_from_everyday_words(answer, role):
    assert role_of(answer) == role


@pytest.mark.asyncio
async def test_the_phone_is_kept_out_of_the_dialogue(wired):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = await ValidateRegistrationForm().validate_phone("１３８ ８１２３ ４５６７", dispatcher,
                                                             tracker("138..."), {})
    assert result == {"phone": "138****4567"}
    assert wired.accounts.kept_phone("user-1") == "13881234567"
    bad = await ValidateRegistrationForm().validate_phone("12345", dispatcher, tracker("12345"), {})
    assert bad == {"phone": None} and dispatcher.messages[-1]["response"] == "utter_invalid_phone"


def test_a_misspelt_township_offers_the_closest_as_buttons():
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = ValidateRegistrationForm().validate_township("岳池县平滩镇", dispatcher, tracker("岳池县平滩镇"), {})
    assert result == {"township": None}
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0] == "岳池县坪滩镇" and titles[-1].startswith("都不是")


@pytest.mark.asyncio
async def test_registering_twice_keeps_one_user_and_greets_by_name(wired, sqlite_service):
    wired.accounts.keep_phone("user-1", "13881234567")
    messages, events = await run(ActionRegisterUser(), tracker("同意", "affirm", FILLED))
    assert messages[0]["response"] == "utter_registered" and messages[0]["phone"] == "138****4567"
    user_id = wired.accounts.user_of("user-1")
    assert sqlite_service.get_user(user_id)["phone"] == "13881234567"
    again, _ = await run(ActionRegisterUser(), tracker("注册", "register", FILLED))
    assert again[0]["response"] == "utter_already_registered"
    assert wired.accounts.user_of("user-1") == user_id
    hello, _ = await run(ActionGreet(), tracker("你好", "greet"))
    assert hello[0] == {**hello[0], "response": "utter_greet_known", "person_name": "张德明"}


@pytest.mark.asyncio
async def test_a_correction_after_registration_updates_the_same_user(wired, sqlite_service):
    wired.accounts.keep_phone("user-1", "13881234567")
    await run(ActionRegisterUser(), tracker("同意", "affirm", FILLED))
    _, events = await run(ActionCorrectRegistration(), tracker("电话写错了", "correct", FILLED))
    assert slots_of(events) == {"phone": None}
    wired.accounts.keep_phone("user-1", "13981234567")
    messages, _ = await run(ActionRegisterUser(), tracker("13981234567", "inform", {**FILLED, "phone": "139****4567"}))
    assert messages[0]["response"] == "utter_registration_updated"
    assert sqlite_service.get_user(wired.accounts.user_of("user-1"))["phone"] == "13981234567"


@pytest.mark.asyncio
async def test_deleting_my_data_erases_exchange_user_link_and_subscriptions(wired, sqlite_service):
    wired.accounts.keep_phone("user-1", "13881234567")
    await run(ActionRegisterUser(), tracker("同意", "affirm", FILLED))
    user_id = wired.accounts.user_of("user-1")
    wired.subscriptions.subscribe("user-1", "pig")
    messages, events = await run(ActionDeleteMyData(), tracker("确定", "affirm", {"pending": "confirm_delete"}))
    assert messages[0]["response"] == "utter_data_deleted"
    with pytest.raises(NotFound):
        sqlite_service.get_user(user_id)
    assert wired.accounts.user_of("user-1") is None and wired.accounts.kept_phone("user-1") is None
    assert wired.subscriptions.domains_of("user-1") == []
    assert slots_of(events)["person_name"] is None and slots_of(events)["registered"] is False
