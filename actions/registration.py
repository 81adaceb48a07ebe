"""Registration: a five-step form (name, phone, township, role, consent), corrections, greeting by name,
and deletion of one's data.

The full phone number never goes into the dialogue: the front end (core/assistant.py) keeps it in the
assistant's store and hands Rasa the message with the number masked (138****4567), which is all the slot
ever holds. Writes to the exchange go through the outbox (actions/services.py ``write``): a registration,
a change or a deletion made while the exchange is down is delivered when it is back.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import (
    UNAVAILABLE,
    Sent,
    call,
    chats_of_person,
    chats_that_posted,
    erase_person,
    in_store,
    write,
)
from core.texts import Farmer
from exchange.errors import ExchangeError, InputRejected, NotFound
from exchange.gazetteer import township_answer
from exchange.people import ROLES, mainland_mobile, mask_phone
from kejibang.privacy import ERASE_CONVERSATION
from store.erasure import sender_ref
from store.outbox import Write

log = logging.getLogger(__name__)
FORM_SLOTS = ("person_name", "phone", "township", "user_role", "share_contact")
CONSENT_PURPOSE = Farmer.CONSENT_PURPOSE
CONSENT_SCOPE = Farmer.CONSENT_SCOPE
_NAME_PREFIX = re.compile(r"^(我叫|我是|我的名字是|名字是|名字叫|叫|姓名[:：]?)")
_MASKED_PHONE = re.compile(r"1\d{2}\*{4}\d{4}")
_NAME_SHAPE = re.compile(r"^[\u4e00-\u9fa5·]{2,10}$|^[A-Za-z][A-Za-z .'-]{1,29}$")
_NOT_NAMES = {"你好", "您好", "哈喽", "不知道", "不告诉你", "注册", "帮助", "没有", "不想说"}
_ROLE_WORDS = (
    ("家庭农场", "家庭农场"), ("合作社", "合作社"), ("专家", "专家"), ("老师", "专家"), ("技术员", "专家"),
    ("厂", "小微企业"), ("公司", "小微企业"), ("企业", "小微企业"), ("店", "小微企业"), ("作坊", "小微企业"),
    ("种", "农户"), ("养", "农户"), ("农", "农户"),
)
_FIELD_WORDS = (("phone", ("电话", "手机", "号码", "号")), ("person_name", ("名字", "姓名", "叫")),
                ("township", ("镇", "乡", "地址", "住", "村")), ("user_role", ("身份", "类型", "角色")))


def clean_name(text: str) -> str | None:
    """A person's name from an answer such as 我叫张德明, or None when it does not look like one."""
    name = _NAME_PREFIX.sub("", (text or "").strip()).strip(" 。，,.!！")
    return name if _NAME_SHAPE.match(name) and name not in _NOT_NAMES else None


def role_of(text: str) -> str | None:
    """One of the exchange's roles from a button value or everyday words (我是种地的 → 农户)."""
    text = (text or "").strip()
    if text in ROLES:
        return text
    return next((role for word, role in _ROLE_WORDS if word in text), None)


def field_to_correct(tracker: Tracker) -> str | None:
    """Which registration answer the user wants to fix, from a button or from their words."""
    chosen = next(tracker.get_latest_entity_values("field"), None)
    if chosen in FORM_SLOTS:
        return chosen
    text = tracker.latest_message.get("text") or ""
    return next((slot for slot, words in _FIELD_WORDS if any(w in text for w in words)), None)


class ValidateRegistrationForm(FormValidationAction):
    """Checks each answer; a wrong one is asked again with a short reason."""

    def name(self) -> str:
        return "validate_registration_form"

    def validate_person_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict) -> dict:
        name = clean_name(str(value))
        if name is None:
            dispatcher.utter_message(response="utter_invalid_name")
        return {"person_name": name}

    async def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict) -> dict:
        phone = mainland_mobile(str(value))
        if phone is not None:
            await in_store(lambda s: s.accounts.keep_phone(tracker.sender_id, phone))
            return {"phone": mask_phone(phone)}
        masked = _MASKED_PHONE.search(str(value))
        kept = await in_store(lambda s: s.accounts.kept_phone(tracker.sender_id)) if masked else None
        if masked and kept is not None and mask_phone(kept) == masked.group():  # the front end kept and masked it
            return {"phone": masked.group()}
        dispatcher.utter_message(response="utter_invalid_phone")
        return {"phone": None}

    def validate_township(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: dict) -> dict:
        answer = township_answer(str(value))
        if answer.place is not None and answer.former:
            place = answer.place
            township = place.full_name if place.township_code else place.full_name + answer.former
            dispatcher.utter_message(response="utter_township_former", former=answer.former, township=township)
            return {"township": township}
        if answer.place is not None:
            return {"township": answer.place.full_name}
        if answer.choices:
            buttons = [{"title": f"{p.county}{p.township}",
                        "payload": f'/inform{{"township":"{p.full_name}"}}'} for p in answer.choices]
            buttons.append({"title": Farmer.NONE_OF_THESE_RETYPE, "payload": '/inform{"township":"-"}'})
            dispatcher.utter_message(response="utter_township_choices", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_township_unknown")
        return {"township": None}

    def validate_user_role(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: dict) -> dict:
        role = role_of(str(value))
        if role is None:
            dispatcher.utter_message(response="utter_invalid_role")
        return {"user_role": role}


def _consent(share: bool) -> dict:
    return {"purpose": CONSENT_PURPOSE, "scope": CONSENT_SCOPE, "share_contact": bool(share)}


async def _update(sender_id: str, user_id: str, body: dict) -> Sent | None:
    """Change the linked user's record; None when it already says all this. A record that cannot be read
    (the exchange is down) is changed anyway: the change is idempotent."""
    try:
        before: Mapping[str, Any] = await call(lambda ex: ex.get_user(user_id))
    except UNAVAILABLE:
        before = {}
    if all(before.get(k) == body[k] for k in ("name", "phone", "role", "township")):
        return None
    return await write(sender_id, f"update:{sender_id}", Write.UPDATE_USER, user_id, body)


class ActionRegisterUser(Action):
    """Submit the form: register once (the chat is the idempotency key) or update the linked user."""

    def name(self) -> str:
        return "action_register_user"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        sender = tracker.sender_id
        phone = await in_store(lambda s: s.accounts.kept_phone(sender))
        if phone is None:
            dispatcher.utter_message(response="utter_ask_phone")
            return [SlotSet("phone", None), FollowupAction("registration_form")]
        body = {"name": tracker.get_slot("person_name"), "phone": phone, "role": tracker.get_slot("user_role"),
                "township": tracker.get_slot("township"), "consent": _consent(tracker.get_slot("share_contact"))}
        shown = {"person_name": body["name"], "phone": mask_phone(phone), "township": body["township"],
                 "user_role": body["role"]}
        user_id = await in_store(lambda s: s.accounts.user_of(sender))
        try:
            sent = await (_update(sender, user_id, body) if user_id
                          else write(sender, f"register:{sender}", Write.REGISTER_USER, body, f"register:{sender}"))
        except InputRejected as error:
            dispatcher.utter_message(response="utter_input_rejected", reason=error.message)
            return [SlotSet("registered", False)]
        except (ExchangeError, TimeoutError):
            log.warning("the exchange refused a registration")
            dispatcher.utter_message(response="utter_registration_failed")
            return [SlotSet("registered", False)]
        if sent is None:
            dispatcher.utter_message(response="utter_already_registered", **shown)
        elif sent.queued:  # the outbox worker submits it when the exchange is back, and tells the person
            dispatcher.utter_message(response="utter_registration_queued", **shown)
            return [SlotSet("registered", bool(user_id))]
        elif user_id:
            dispatcher.utter_message(response="utter_registration_updated", **shown)
        else:
            await in_store(lambda s: s.accounts.link(sender, sent.result["id"]))
            note = Farmer.CONTACT_SHARED if body["consent"]["share_contact"] else Farmer.CONTACT_NOT_SHARED
            dispatcher.utter_message(response="utter_registered", consent_note=note, **shown)
        return [SlotSet("registered", True)]


class ActionCorrectRegistration(Action):
    """电话写错了: clear that answer and let the form ask it again."""

    def name(self) -> str:
        return "action_correct_registration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        field = field_to_correct(tracker)
        if field is None:
            dispatcher.utter_message(response="utter_ask_which_correction")
            return []
        return [SlotSet(field, None), FollowupAction("registration_form")]


class ActionGreet(Action):
    """Hello, by name when the chat is registered."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        try:
            user_id = await in_store(lambda s: s.accounts.user_of(tracker.sender_id))
            user = await call(lambda ex: ex.get_user(user_id)) if user_id else None
        except (ExchangeError, TimeoutError):
            user = None
        if user:
            dispatcher.utter_message(response="utter_greet_known", person_name=user["name"])
            return [SlotSet("registered", True)]
        dispatcher.utter_message(response="utter_greet")
        return []


class ActionConfirmDelete(Action):
    """Ask before deleting: deletion cannot be undone."""

    def name(self) -> str:
        return "action_confirm_delete"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(response="utter_confirm_delete")
        return [SlotSet("pending", "confirm_delete")]


class ActionDeleteMyData(Action):
    """Erase the person at the exchange (the user and every need any of their chats posted, registered or
    not) and in the assistant's store (every chat linked to the same user), and forget the form's answers;
    the conversations themselves are erased by the front end once this turn is saved (see ``Assistant``)."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        sender = tracker.sender_id
        user_id = await in_store(lambda s: s.accounts.user_of(sender))
        waiting = await in_store(lambda s: s.outbox.holds(sender))  # e.g. a registration the exchange has not got yet
        chats = await chats_of_person(sender)
        try:
            queued, needs = await _erase_at_exchange(sender, user_id, chats)
        except (ExchangeError, TimeoutError):
            dispatcher.utter_message(response="utter_delete_failed")
            return [SlotSet("pending", None)]
        await erase_person(sender)
        response = "utter_delete_queued" if queued else "utter_data_deleted" if user_id or waiting or needs \
            else "utter_nothing_to_delete"
        dispatcher.utter_message(response=response)
        dispatcher.utter_message(json_message={ERASE_CONVERSATION: chats})  # the front end empties the trackers
        cleared = [SlotSet(slot, None) for slot in (*FORM_SLOTS, "need_text", "need_region", "need_id")]
        return [*cleared, SlotSet("registered", False), SlotSet("pending", None)]


async def _erase_at_exchange(sender: str, user_id: str | None, chats: list[str]) -> tuple[bool, int]:
    """The user row, then every need each linked chat posted (found by the chat's reference, so a need
    posted before registering goes too); (whether any of it waits in the outbox, needs deleted now)."""
    queued, needs = False, 0
    if user_id:
        with contextlib.suppress(NotFound):  # already gone: that is what was asked
            queued = (await write(sender, f"delete:{user_id}", Write.DELETE_USER, user_id)).queued
    for chat in await chats_that_posted(chats):
        reference = sender_ref(chat)
        sent = await write(chat, f"delete-needs:{reference}", Write.DELETE_SENDER_NEEDS, reference)
        queued, needs = queued or sent.queued, needs + (sent.result or 0)
    return queued, needs
