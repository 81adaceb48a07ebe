"""The custom actions run inside the process that holds the model (rasa_plugins/action_executor.py): Rasa's
own action call path gets what the action server would have answered, without a server."""

from __future__ import annotations

import pytest
from jsonschema.exceptions import ValidationError
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from kejibang.settings import PROJECT_ROOT
from rasa_plugins.action_executor import InProcessActions, check_action_results_once_compiled


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain"))


@pytest.fixture(scope="module")
def endpoint() -> InProcessActions:
    return InProcessActions()


def said(text: str, intent: str, domain: Domain) -> DialogueStateTracker:
    """A conversation whose last event is the farmer's message."""
    return DialogueStateTracker.from_events("telegram:7", [
        ActionExecuted("action_listen"), UserUttered(text, {"name": intent, "confidence": 0.97})], domain.slots)


async def run(name: str, tracker: DialogueStateTracker, domain: Domain, endpoint: InProcessActions) -> list:
    return await RemoteAction(name, endpoint).run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(
        domain.responses), tracker, domain)


@pytest.mark.asyncio
async def test_a_need_is_read_back_through_rasas_own_action_call(wired, sqlite_service, domain, endpoint):
    events = await run("action_read_back_need", said("猪拉稀不吃食咋个办", "describe_need", domain), domain, endpoint)
    [read_back] = [e for e in events if isinstance(e, BotUttered)]
    assert "猪" in read_back.text, "the farmer sees the read-back of the need, naming the animal"
    assert SlotSet("pending", "confirm_need") in events


@pytest.mark.asyncio
async def test_an_action_that_does_not_exist_fails_as_it_would_on_the_server(wired, domain, endpoint):
    with pytest.raises(RasaException) as raised:
        await run("action_no_such_thing", said("你好", "greet", domain), domain, endpoint)
    assert not isinstance(raised.value, ActionExecutionRejection), "404, not a rejection other policies could take"


def test_an_answer_outside_rasas_schema_is_refused_in_rasas_words() -> None:
    check_action_results_once_compiled()
    action = RemoteAction("action_read_back_need", InProcessActions())
    assert action._validate_action_result({"events": [SlotSet("pending", "confirm_need").as_dict()], "responses": []})
    with pytest.raises(ValidationError) as refused:
        action._validate_action_result({"events": "not a list", "responses": []})
    assert "Failed to validate Action server response from API" in str(refused.value)
