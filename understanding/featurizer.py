"""A Rasa 3.6 message featurizer: one dense sentence vector per message from the shared encoder.

DIET then sees both today's sparse features (words, character n-grams, regexes) and what a
pretrained encoder knows about sentences nobody wrote into ``nlu/``. The encoder gives sentence
vectors only, so only the sentence-level feature is added; DIET projects it beside the sparse
sentence features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from exchange.matching import encoder

BATCH = 256


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the sentence encoder's vector of each message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "encoder": encoder.DEFAULT_ENCODER}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("encoder") not in encoder.names():
            raise ValueError(f"SentenceEncoderFeaturizer: encoder must be one of {', '.join(encoder.names())}")

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEncoderFeaturizer:
        return cls(execution_context.node_name, config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages (a parse, or a batch in `rasa test`)."""
        self._featurize([m for m in messages if m.get(TEXT)])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example with text, in batches (fast: the encoder is batched)."""
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def _featurize(self, messages: list[Message]) -> None:
        model = encoder.load(self._config["encoder"])
        for start in range(0, len(messages), BATCH):
            batch = messages[start:start + BATCH]
            vectors = model.embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(None, np.asarray(vector, dtype=np.float32)[np.newaxis, :], TEXT,
                                             message)
