"""A Rasa 3.6 tokenizer: Rasa's JiebaTokenizer over the project's one jieba table in memory.

Rasa's JiebaTokenizer loads ``nlu/jieba`` into jieba's global tokenizer, and the matcher keeps a jieba
tokenizer of its own (it knows every crop, animal and professional term as one word): two copies of
jieba's dictionary, about 80 MB each, in every dialogue process. This one cuts with
``exchange.matching.knowledge.nlu_tokenizer``, which reads the matcher's table as it was before the
domain words were added: the same tokens as Rasa's JiebaTokenizer with ``nlu/jieba`` (``tests``
compare them on every training example and dev-set message), one table. The dictionary files are read
from ``nlu/jieba`` at run time, like the rest of the training inputs (``kejibang/model.py``
fingerprints them), so nothing is copied into the model.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from exchange.matching import knowledge


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SharedJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer's tokens from the shared table; ``dictionary_path`` is not used (always ``nlu/jieba``)."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SharedJiebaTokenizer:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SharedJiebaTokenizer:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = [Token(word, start) for word, start, _ in knowledge.nlu_tokenizer().tokenize(message.get(attribute))]
        return self._apply_token_pattern(tokens)
