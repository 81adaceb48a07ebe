"""TED is not asked when a rule has already decided the next action: the same answers, less CPU.

Rasa runs every policy for every prediction, two or more a turn (the reply, then listening), and the
ensemble keeps the most confident one, the higher priority on a tie. A rule that applies predicts its
action with confidence 1.0, and RulePolicy has the highest priority of the three, so TED, which cannot
be more confident than 1.0, cannot change that choice. (Only an end-to-end prediction could: TED makes
one only when trained on stories with user text, and none here have it; ``_skippable`` checks.) Yet
TED's run, a featurization and a TensorFlow call, was the largest single cost of a turn in a profile of
`kejibang bench e2e`: about a sixth of the CPU, most of it on turns the rules answer.

At load, the prediction graph's TED node is given RulePolicy's prediction as an input and uses
``RulesFirstTEDPolicy``: when the rule is sure it answers zeros, otherwise it predicts as always. The
trained model is not changed; ``tests/test_model_loading.py`` plays a conversation with and without it
and compares every reply, action, the policy that chose it and its confidence.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.interface import GraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

_PATCHED = "kejibang_rules_first"
RULE_INPUT = "rule_prediction"
PREDICT = "predict_action_probabilities"


class RulesFirstTEDPolicy(TEDPolicy):
    """TEDPolicy that stays silent (all zeros) when RulePolicy has predicted with full confidence."""

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: dict[str, Any] | None = None,
                                     precomputations: Any = None, **kwargs: Any) -> PolicyPrediction:
        rule = kwargs.pop(RULE_INPUT, None)
        if self._skippable(rule):
            return self._prediction(self._default_predictions(domain))
        return super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)

    def _skippable(self, rule: PolicyPrediction | None) -> bool:
        """Whether the rule's prediction wins whatever TED says: a sure rule, and no end-to-end TED."""
        return rule is not None and rule.max_confidence >= 1.0 and TEXT not in self.fake_features


def rules_first(schema: GraphSchema) -> GraphSchema:
    """The prediction graph with each TED node fed RulePolicy's prediction (unchanged without a RulePolicy)."""
    rule = next((name for name, node in schema.nodes.items()
                 if node.fn == PREDICT and issubclass(node.uses, RulePolicy)), None)
    if rule is None:
        return schema
    return GraphSchema({name: replace(node, uses=RulesFirstTEDPolicy, needs={**node.needs, RULE_INPUT: rule})
                        if node.fn == PREDICT and node.uses is TEDPolicy else node
                        for name, node in schema.nodes.items()})


def predict_with_rules_first() -> None:
    """Make every prediction graph Rasa loads from now on ask TED only when no rule is sure (idempotent)."""
    from rasa.engine import loader

    stock = loader.load_predict_graph_runner
    if getattr(stock, _PATCHED, False):
        return

    def load_predict_graph_runner(storage_path: Path, model_archive_path: Path, model_storage_class: type,
                                  graph_runner_class: type[GraphRunner]) -> Any:
        return stock(storage_path, model_archive_path, model_storage_class, _runner(graph_runner_class))

    setattr(load_predict_graph_runner, _PATCHED, True)
    loader.load_predict_graph_runner = load_predict_graph_runner


def _runner(graph_runner_class: type[GraphRunner]) -> type[GraphRunner]:
    """The graph runner class, creating its runners from the rules-first graph."""
    class RulesFirstRunner(graph_runner_class):
        @classmethod
        def create(cls, graph_schema: GraphSchema, *args: Any, **kwargs: Any) -> GraphRunner:
            return graph_runner_class.create(rules_first(graph_schema), *args, **kwargs)

    return RulesFirstRunner
