"""Adding a channel is one module in channels/ and its settings: the dialogue (actions, domain, stories,
pipeline), the core and the desks name no messaging app, and one core serves several apps at once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core.dialogue import Reply
from kejibang.app import Router, build_core
from kejibang.settings import PROJECT_ROOT, Settings

APPS = re.compile(r"telegram|wechat|weixin", re.IGNORECASE)
DIALOGUE_FILES = ["config.yml", "endpoints.yml", *(f"{folder}/**/*.yml" for folder in ("domain", "stories"))]
NEUTRAL_CODE = ["actions/**/*.py", "core/**/*.py", "desks/**/*.py", "rasa_plugins/**/*.py", "kejibang/app.py"]


def _code_words(path: Path) -> list[str]:
    """Names and string literals of a module, without its comments and docstrings (those may explain)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.append(node.value)
        elif isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            words += [getattr(node, "module", "") or ""] + [alias.name for alias in node.names]
    return words


def test_the_dialogue_and_the_core_name_no_messaging_app():
    named = {str(path.relative_to(PROJECT_ROOT)): [w for w in _code_words(path) if APPS.search(w)]
             for pattern in NEUTRAL_CODE for path in PROJECT_ROOT.glob(pattern)}
    named.update({str(path.relative_to(PROJECT_ROOT)): APPS.findall(path.read_text(encoding="utf-8"))
                  for pattern in DIALOGUE_FILES for path in PROJECT_ROOT.glob(pattern)})
    assert len(named) > 20
    assert {path: words for path, words in named.items() if words} == {}


class Recorded:
    """A channel that keeps what it was given to send."""

    def __init__(self, name: str) -> None:
        self.name, self.sent = name, []

    async def send(self, address: str, replies: list[Reply]) -> None:
        self.sent.append((address, [reply.text for reply in replies]))

    async def link(self, payload: str) -> str:
        return f"{self.name}://{payload}"


@pytest.mark.asyncio
async def test_the_router_sends_each_address_to_its_own_app_and_links_for_the_askers_app():
    router, one, two = Router(), Recorded("one"), Recorded("two")
    router.register(one)
    router.register(two)
    await router.send("one:1", [Reply("甲")])
    await router.send("two:oX", [Reply("乙")])
    await router.send("three:9", [Reply("丙")])  # an app not served here: dropped, nobody else gets it
    assert one.sent == [("one:1", ["甲"])] and two.sent == [("two:oX", ["乙"])]
    assert await router.link("two:oX", "inv-abc") == "two://inv-abc"


@pytest.mark.asyncio
async def test_one_core_answers_people_on_two_apps_and_its_desks_reach_both(monkeypatch, tmp_path):
    from tests.test_telegram_adapter import ScriptedDialogue

    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    dialogue = ScriptedDialogue()
    core = build_core(Settings.from_env(), dialogue)
    one, two = Recorded("one"), Recorded("two")
    core.router.register(one)
    core.router.register(two)
    assert await core.assistant.on_text("one:1", "你好") == [Reply("收到：你好")]
    assert await core.assistant.on_text("two:1", "你好") == [Reply("收到：你好")]
    assert dialogue.received == [("one:1", "你好"), ("two:1", "你好")]
    await core.outbox.outbound.send("two:1", [Reply("平台恢复了")])
    await core.desk.outbound.send("one:1", [Reply("志愿者：你好")])
    assert one.sent == [("one:1", ["志愿者：你好"])] and two.sent == [("two:1", ["平台恢复了"])]
