"""The model loads in seconds (rasa_plugins/model_loading.py), its graphs run in a remembered order
(rasa_plugins/graph_order.py), and it answers exactly as Rasa's own load does; TED asked only where no rule is
sure (rasa_plugins/rules_first.py) changes no action, policy or confidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

from kejibang import model
from kejibang.settings import PROJECT_ROOT, Settings

# One conversation in a villager's words: registering (a form, its slots), a need and its read-back, a
# status question, thanks, a question about mixing drugs, goodbye.
CONVERSATION = ["你好", "咋个注册嘛", "张德明", "13881234567", "岳池县坪滩镇", '/inform{"user_role":"农户"}', "同意",
                "我家母猪发烧不吃食咋办", "是的", "我的问题发出去没有", "谢谢", "多菌灵和磷酸二氢钾可以混用不", "再见"]


@cache
def _answers(model_path: str, *flags: str) -> dict:
    """The model's answers to the conversation, loaded in a fresh process (tests.support.model_answers
    says what each flag loads)."""
    done = subprocess.run([sys.executable, "-m", "tests.support.model_answers", model_path, *flags],
                          input="\n".join(CONVERSATION), capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_fast_load_answers_every_turn_as_rasas_own_load_does() -> None:
    model_path = str(model.train(Settings.from_env().model_dir))
    stock, eager = _answers(model_path, "--stock"), _answers(model_path, "--all-policies")
    assert eager["turns"] == stock["turns"]
    assert eager["ted"] == stock["ted"]  # TED sees the slots and the form: every probability it gave, the same
    assert len(eager["ted"]) >= len(CONVERSATION)
    assert [t["intent"] for t in eager["turns"]][7:9] == ["describe_need", "affirm"]


def test_with_rules_first_every_action_is_chosen_as_before_and_ted_runs_less() -> None:
    model_path = str(model.train(Settings.from_env().model_dir))
    every_policy, rules_first = _answers(model_path, "--all-policies"), _answers(model_path)
    assert rules_first["turns"] == every_policy["turns"]  # replies, and each action's policy and confidence
    assert any(action[1] == "RulePolicy" for turn in rules_first["turns"] for action in turn["actions"])
    assert len(rules_first["ted"]) < len(every_policy["ted"]) / 2
