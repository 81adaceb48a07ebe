"""NLU training data checks that need no training: entity alignment with jieba, intents of the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kejibang.settings import PROJECT_ROOT

CONTRACT_INTENTS = {"greet", "goodbye", "thank", "affirm", "deny", "register", "describe_need", "ask_science",
                    "request_human", "check_status", "help", "out_of_scope", "delete_my_data", "subscribe"}


@pytest.fixture(scope="module")
def training_data():
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return TrainingData().merge(*(load_data(str(path)) for path in sorted((PROJECT_ROOT / "nlu").glob("*.yml"))))


@pytest.fixture(scope="module")
def tokenizer():
    """The pipeline's tokenizer (config.yml), built directly (as Rasa's tests build theirs)."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from understanding.tokenizer import SharedJiebaTokenizer

    storage = LocalModelStorage(Path("/tmp/kejibang-jieba-test"))
    return SharedJiebaTokenizer.create(SharedJiebaTokenizer.get_default_config(), storage, Resource("jieba"),
                                       ExecutionContext(GraphSchema({}), "test"))


def test_every_annotated_entity_starts_and_ends_on_a_jieba_token_boundary(training_data, tokenizer):
    """Rasa silently drops misaligned entities in training: none may be misaligned."""
    from rasa.shared.nlu.constants import TEXT

    misaligned = []
    for example in training_data.training_examples:
        entities = example.get("entities") or []
        if not entities:
            continue
        tokens = tokenizer.tokenize(example, TEXT)
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        misaligned += [(example.get(TEXT), e["value"]) for e in entities
                       if e["start"] not in starts or e["end"] not in ends]
    assert misaligned == []


def test_every_contract_intent_has_forty_varied_examples(training_data):
    counts = {intent: 0 for intent in CONTRACT_INTENTS}
    for example in training_data.intent_examples:
        if example.get("intent") in counts:
            counts[example.get("intent")] += 1
    assert {i: c for i, c in counts.items() if c < 40} == {}


def test_domain_lists_exactly_the_contract_intents_and_more(training_data):
    intents = set()
    for path in (PROJECT_ROOT / "domain").glob("*.yml"):
        intents |= set(yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or [])
    assert intents >= CONTRACT_INTENTS
    assert set(training_data.intents) >= CONTRACT_INTENTS


def test_the_dev_sets_are_kept_apart_from_the_training_data(training_data):
    """Neither the old test file nor the realistic dev and hold-out sets may be trained on, not even with
    other punctuation, spacing, emoji or traditional characters."""
    from bench.devsets import FARMER_SETS, farmer_questions, nlu_test_examples
    from exchange.matching.normalize import normalize

    trained = {normalize(example.get("text")) for example in training_data.intent_examples}
    held_out = [text for text, _ in nlu_test_examples()]
    held_out += [q.text for folder in FARMER_SETS.values() for q in farmer_questions(folder)]
    assert len(held_out) > 1200
    assert [text for text in held_out if normalize(text) in trained] == []


def test_the_nlu_cuts_every_message_as_jieba_with_the_project_dictionary_does(training_data, tokenizer):
    """The NLU's tokenizer shares the matcher's table (one jieba dictionary per process) but must not see
    the matcher's extra words: every training example and dev-set message is cut as a jieba of its own
    with nlu/jieba (files in name order) cuts it."""
    import jieba
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bench.devsets import FARMER_SETS, farmer_questions
    from exchange.matching import knowledge

    reference = jieba.Tokenizer()
    for path in sorted((PROJECT_ROOT / "nlu" / "jieba").glob("*.txt")):
        reference.load_userdict(str(path))
    texts = [example.get(TEXT) for example in training_data.training_examples if example.get(TEXT)]
    texts += [q.text for folder in FARMER_SETS.values() for q in farmer_questions(folder)]
    cut = {text: [t.text for t in tokenizer.tokenize(Message({TEXT: text}), TEXT)] for text in texts}
    assert {t: c for t, c in cut.items() if c != reference.lcut(t)} == {}
    assert knowledge.tokenizer().lcut("母鸡不下蛋")[0] == "母鸡"  # the matcher's own words stay its own
    assert "母鸡" not in knowledge.nlu_tokenizer().lcut("母鸡不下蛋")


def test_a_dialogue_process_loads_jiebas_dictionary_once():
    """The NLU's tokenizer and the matcher read one table: jieba's global dictionary (another ~80 MB) is
    never loaded in a process that parses messages and matches needs."""
    import subprocess
    import sys

    script = ("import jieba\n"
              "from rasa.shared.nlu.constants import TEXT\n"
              "from rasa.shared.nlu.training_data.message import Message\n"
              "from understanding.tokenizer import SharedJiebaTokenizer\n"
              "from exchange.matching.matcher import Matcher, Profile\n"
              "SharedJiebaTokenizer(SharedJiebaTokenizer.get_default_config(), None, None)"
              ".tokenize(Message({TEXT: '我家母猪发烧不吃食'}), TEXT)\n"
              "Matcher([Profile('e', '猪病诊治', ('pig',))], [], semantic=False).match('我家母猪发烧不吃食')\n"
              "print(jieba.dt.initialized)\n")
    ran = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert ran.stdout.strip().splitlines()[-1:] == ["False"], ran.stderr[-2000:]


def test_a_set_read_without_a_confusion_still_prints_its_table():
    """`kejibang bench nlu` prints each set's commonest confusions; a set with none printed a traceback instead."""
    from bench.report import table

    assert table(["gold", "predicted", "count"], []).splitlines()[0].split() == ["gold", "predicted", "count"]
