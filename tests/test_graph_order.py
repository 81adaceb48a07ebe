"""Rasa's graphs run in a remembered order (rasa_plugins/graph_order.py) and give what dask's runner gives:
every target's output, each node fed its needs and the run's inputs by name, only what the targets need run.
(tests/test_model_loading.py compares a whole conversation through the trained model too.)"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from rasa_plugins.graph_order import InOrderGraphRunner

CALLS: list[str] = []


class Step(GraphComponent):
    """Joins its inputs behind its own name, and notes that it ran."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: Any, resource: Any, execution_context: Any) -> Step:
        return cls(config["name"])

    def run(self, **inputs: Any) -> str:
        CALLS.append(self.name)
        return self.name + "(" + ",".join(str(inputs[k]) for k in sorted(inputs)) + ")"


def node(name: str, **needs: str) -> SchemaNode:
    return SchemaNode(needs=needs, uses=Step, constructor_name="create", fn="run", config={"name": name})


SCHEMA = GraphSchema({
    "read": node("read", text="__message__"),
    "left": node("left", x="read"),
    "right": node("right", x="read"),
    "join": node("join", a="left", b="right"),
    "unused": node("unused", x="read"),
})


def runner(kind: type, tmp_path) -> Any:
    return kind.create(SCHEMA, LocalModelStorage(tmp_path), ExecutionContext(SCHEMA, "test"))


@pytest.mark.parametrize("targets", [["join"], ["left", "join"], ["right"]])
def test_the_targets_come_out_as_dask_gives_them_and_only_what_they_need_runs(tmp_path, targets):
    outputs = {}
    for kind in (DaskGraphRunner, InOrderGraphRunner):
        CALLS.clear()
        outputs[kind] = (runner(kind, tmp_path / kind.__name__).run({"__message__": "猪发烧"}, targets), sorted(CALLS))
    assert outputs[InOrderGraphRunner] == outputs[DaskGraphRunner]
    assert "unused" not in outputs[InOrderGraphRunner][1]


def test_an_input_named_like_a_node_is_refused(tmp_path):
    with pytest.raises(GraphRunError):
        runner(InOrderGraphRunner, tmp_path).run({"read": "x"}, ["join"])
