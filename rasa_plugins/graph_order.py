"""Rasa's prediction graphs run node after node in an order worked out once, not by dask on every call.

Rasa 3.6 runs each graph (the NLU pipeline once a message, the policies twice or more a turn) through
``DaskGraphRunner``: every call cuts the schema down to what the targets need, rebuilds a dask graph from
it and has dask's synchronous scheduler order and run it, in the calling thread. The nodes and their
order are the same every time for the same targets, yet that bookkeeping cost about a tenth of a turn's
CPU in a profile of `kejibang bench turn`. ``InOrderGraphRunner`` keeps Rasa's nodes and their inputs and
outputs as they are, and only remembers the order per set of targets.

``tests/test_model_loading.py`` plays a conversation through Rasa's own load (dask) and through
``load_agent`` (this runner) and compares every intent, reply, action, policy, confidence and TED
probability.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner


class InOrderGraphRunner(DaskGraphRunner):
    """Dask's runner with its ``run`` replaced: the same nodes, called in a remembered topological order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._orders: dict[tuple[str, ...], list[str]] = {}

    def run(self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        """The targets' outputs; each node is given the outputs of the nodes it needs, or the inputs by name."""
        wanted = tuple(targets or self._graph_schema.target_names)
        given = dict(inputs or {})
        clash = set(given) & set(self._graph_schema.nodes)
        if clash:
            raise GraphRunError(f"Input names {sorted(clash)} clash with node names of the graph.")
        # an input reaches a node as (name, value), as dask hands it over
        results: dict[str, Any] = {name: (name, value) for name, value in given.items()}
        for name in self._order(wanted):
            needs = self._graph_schema.nodes[name].needs.values()
            results[name] = self._instantiated_nodes[name](*(results[need] for need in needs))
        return dict(results[target] for target in wanted)

    def _order(self, targets: tuple[str, ...]) -> list[str]:
        """The nodes the targets need, each after what it needs (worked out on the first call)."""
        if targets not in self._orders:
            self._orders[targets] = _topological(self._graph_schema.minimal_graph_schema(list(targets)), targets)
        return self._orders[targets]


def _topological(schema: GraphSchema, targets: tuple[str, ...]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in schema.nodes:  # not a node: an input given to ``run``
            return
        seen.add(name)
        for need in schema.nodes[name].needs.values():
            visit(need)
        order.append(name)

    for target in targets:
        visit(target)
    return order


def run_graphs_in_order() -> None:
    """Make every model Rasa loads from now on in this process run its graphs with ``InOrderGraphRunner``."""
    from rasa.core import processor

    processor.DaskGraphRunner = InOrderGraphRunner
