"""What a trained model answers, as JSON: ``python -m tests.support.model_answers MODEL [--stock|--all-policies]``.

Each line of standard input is one message of one conversation, played whole (actions, forms, slots)
against a fresh local stack. Recorded per turn: the intent, its confidence and the entities (DIET), the
replies, and every probability TED gave on the way (TED's features include the slots and the active
form, so a weight read wrongly shows there), and each action with the policy that chose it and its
confidence. ``--stock`` loads the model with Rasa's own ``RasaModel.load``; ``--all-policies`` builds the
weights eagerly but asks every policy every time; with neither, the model loads as every kejibang process
loads it (``rasa_plugins/model_loading.py``). Run in a process of its own, so two loads never share
TensorFlow state.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path

NEED_NUMBER = re.compile(r"n-[0-9a-f]{12}")  # a posted need's number is new every time


def _recording_ted(probabilities: list[list[float]]) -> None:
    """Keep every prediction TED makes (rounded: float noise is not a different answer)."""
    from rasa.core.policies.ted_policy import TEDPolicy

    predict = TEDPolicy.predict_action_probabilities

    def recorded(self, *args, **kwargs):
        prediction = predict(self, *args, **kwargs)
        probabilities.append([round(p, 4) for p in prediction.probabilities])
        return prediction

    TEDPolicy.predict_action_probabilities = recorded


async def answers(model_path: str, mode: str, messages: list[str]) -> dict:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from kejibang.launcher import quiet_rasa_structlog
    from rasa_plugins.action_executor import InProcessActions
    from rasa_plugins.model_loading import load_agent
    from rasa_plugins.tracker_store import sql_tracker_store
    from tests.support.model_stack import local_stack

    quiet_rasa_structlog("WARNING")
    ted: list[list[float]] = []
    _recording_ted(ted)
    with tempfile.TemporaryDirectory() as var, local_stack(Path(var)) as settings:
        started = time.perf_counter()
        endpoints = {"action_endpoint": InProcessActions(), "tracker_store": sql_tracker_store(settings.tracker_db)}
        agent = (Agent.load(model_path, **endpoints) if mode == "--stock"
                 else load_agent(model_path, rules_first=mode != "--all-policies", **endpoints))
        load_s = time.perf_counter() - started
        endpoints["action_endpoint"].warm()  # the matcher built before the first need, as a started bot has it
        turns = []
        for text in messages:
            output = CollectingOutputChannel()
            await agent.handle_message(UserMessage(text, output, "probe"))
            tracker = await agent.tracker_store.retrieve("probe")
            parsed = tracker.latest_message.parse_data
            turns.append({"text": text, "intent": parsed["intent"]["name"],
                          "confidence": round(parsed["intent"]["confidence"], 5),
                          "entities": sorted((e["entity"], str(e["value"])) for e in parsed["entities"]),
                          "replies": [NEED_NUMBER.sub("n-…", m.get("text") or "") for m in output.messages],
                          "actions": _actions_since_user(tracker)})
    return {"load_s": load_s, "turns": turns, "ted": ted}


def _actions_since_user(tracker) -> list[list]:
    """This turn's actions: name, the policy that chose it and its confidence (rounded)."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    turn: list[list] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            turn = []
        elif isinstance(event, ActionExecuted):
            turn.append([event.action_name, event.policy, round(event.confidence or 0.0, 4)])
    return turn


if __name__ == "__main__":
    lines = [line.strip() for line in sys.stdin if line.strip()]
    print(json.dumps(asyncio.run(answers(sys.argv[1], (sys.argv[2:] or [""])[0], lines)), ensure_ascii=False))
