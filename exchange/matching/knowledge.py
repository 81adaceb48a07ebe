"""The reviewable data the matcher runs on, loaded once per process.

- ``exchange/knowledge/domains.yml``: the 21 domain codes (a copy of the shared taxonomy);
- ``exchange/knowledge/domain_terms.yml``: words that point to each domain (strong / weak), and the
  phrases of a need that asks for a domain's service whatever it names (intent: 卖不出去, 冷库);
- ``exchange/knowledge/colloquial.tsv``: everyday words mapped to the concepts experts write;
- ``exchange/knowledge/subjects.tsv``: crops, animals, pests, drugs… by every name farmers use;
- ``exchange/knowledge/subject_kinds.tsv``: which crop is a kind of which where the names do not say it
  (脐橙 of 柑橘, 空心菜 of 叶菜; read by ``exchange.matching.subjects.lineage``);
- ``exchange/knowledge/symptom_problems.tsv``: signs farmers describe → the problems they suggest
  (read by ``exchange.matching.symptoms``);
- ``nlu/jieba/*.txt``: the jieba dictionary shared with the Rasa tokenizer.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

from exchange.matching.normalize import normalize

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
JIEBA_DIR = Path(__file__).resolve().parent.parent.parent / "nlu" / "jieba"
STRONG, WEAK = 1.0, 0.4


@dataclass(frozen=True)
class Domain:
    """One taxonomy entry: a stable code and the Chinese name users see."""

    code: str
    name: str
    scope: str


@lru_cache(maxsize=1)
def taxonomy() -> dict[str, Domain]:
    """Domain code → Domain, in taxonomy order."""
    data = yaml.safe_load((KNOWLEDGE_DIR / "domains.yml").read_text(encoding="utf-8"))
    return {d["code"]: Domain(d["code"], d["name"], d["scope"]) for d in data["domains"]}


@lru_cache(maxsize=1)
def domain_terms() -> dict[str, dict[str, float]]:
    """Domain code → {term: weight}; strong terms weigh 1.0, weak ones 0.4."""
    path = KNOWLEDGE_DIR / "domain_terms.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    unknown = set(data) - set(taxonomy())
    if unknown:
        raise ValueError(f"{path.name}: unknown domain codes {sorted(unknown)}")
    terms: dict[str, dict[str, float]] = {}
    for code, groups in data.items():
        weights = {str(t): WEAK for t in groups.get("weak") or []}
        weights.update({str(t): STRONG for t in [*(groups.get("strong") or []), *(groups.get("intent") or [])]})
        terms[code] = weights
    return terms


@lru_cache(maxsize=1)
def intent_terms() -> dict[str, tuple[str, ...]]:
    """Domain code → phrases saying the need asks for that domain's service (selling, storing), whatever
    crop or animal it names; they also weigh as strong terms in ``domain_terms``."""
    data = yaml.safe_load((KNOWLEDGE_DIR / "domain_terms.yml").read_text(encoding="utf-8")) or {}
    return {code: tuple(str(t) for t in groups["intent"]) for code, groups in data.items() if groups.get("intent")}


@lru_cache(maxsize=1)
def colloquial_concepts() -> dict[str, tuple[str, ...]]:
    """Everyday phrase → the professional concepts it stands for."""
    path = KNOWLEDGE_DIR / "colloquial.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as stream:
        rows = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {
            row["colloquial"].strip(): tuple(c.strip() for c in row["concepts"].split("|") if c.strip())
            for row in rows
            if row.get("colloquial") and row.get("concepts")
        }


@lru_cache(maxsize=1)
def domain_vocabulary() -> frozenset[str]:
    """Every reviewed domain term and every professional concept the colloquial map points to."""
    words: set[str] = set()
    for terms in domain_terms().values():
        words.update(terms)
    for concepts in colloquial_concepts().values():
        words.update(concepts)
    return frozenset(words)


@lru_cache(maxsize=1)
def subject_rows() -> tuple[dict[str, str], ...]:
    """The rows of the gazetteer of named things (name, canonical, kind, domains), as written."""
    with (KNOWLEDGE_DIR / "subjects.tsv").open(encoding="utf-8", newline="") as stream:
        return tuple(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))


@lru_cache(maxsize=1)
def subject_kinds() -> dict[str, str]:
    """Standard name of a crop or animal → the standard name it is a kind of, where its own name does
    not end in it (脐橙 → 橙子 → 柑橘, 榨菜 → 芥菜), or "" where its name ends in one it is no kind of (猕猴桃 is no
    桃); ``subjects`` checks the names are in the gazetteer."""
    path = KNOWLEDGE_DIR / "subject_kinds.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as stream:
        rows = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["narrower"].strip(): (row.get("broader") or "").strip() for row in rows if row.get("narrower")}


def dictionary_files() -> list[Path]:
    """The jieba dictionary files, in a stable order (Rasa's JiebaTokenizer loads the same folder)."""
    return sorted(JIEBA_DIR.glob("*.txt"))


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Every word of the shared jieba dictionary."""
    words = set()
    for path in dictionary_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                words.add(line.split()[0])
    return frozenset(words)


@lru_cache(maxsize=1)
def place_words() -> frozenset[str]:
    """Place names of the shared dictionary (tagged ``ns``): never quoted as someone's skill."""
    words = set()
    for path in dictionary_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "ns":
                words.add(parts[0])
    return frozenset(words)


class _DictionaryAsLoaded(Mapping):
    """A jieba frequency table as it was before some words were added, read through the table with them:
    the words added, and the prefixes only they brought, are hidden; a frequency they overwrote reads as
    it was. Built from ``_Growing`` (below)."""

    def __init__(self, grown: dict[str, int], before: dict[str, int | None]) -> None:
        self._grown, self._before = grown, before

    def __getitem__(self, word: str) -> int:
        if word in self._before:
            frequency = self._before[word]
            if frequency is None:
                raise KeyError(word)
            return frequency
        return self._grown[word]

    def __contains__(self, word: object) -> bool:
        if word in self._before:
            return self._before[word] is not None
        return word in self._grown

    def __iter__(self):
        return (word for word in self._grown if word in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class _Growing:
    """Words added to a loaded jieba tokenizer, with what the table held for them (and their prefixes) before."""

    tok: jieba.Tokenizer
    before: dict[str, int | None]

    def add(self, word: str, frequency: int) -> None:
        for end in range(1, len(word) + 1):
            self.before.setdefault(word[:end], self.tok.FREQ.get(word[:end]))
        self.tok.add_word(word, frequency)


@lru_cache(maxsize=1)
def _tokenizers() -> tuple[jieba.Tokenizer, jieba.Tokenizer]:
    """The matcher's tokenizer and the NLU's, over one frequency table (jieba's dictionary is ~80 MB of
    Python objects: a dialogue process held two, Rasa's global one and the matcher's).

    Both read jieba's dictionary and ``nlu/jieba``. The matcher's also knows every everyday phrase, every
    name of a crop or animal and every professional term as one word (母鸡, not 母|鸡不下蛋; 肥料配比, not
    肥料|配比: a need is searched with the whole word). The NLU's sees the table as it was before those
    were added, so it cuts a message exactly as Rasa's JiebaTokenizer with ``nlu/jieba`` does."""
    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    for path in dictionary_files():
        tok.load_userdict(str(path))
    nlu = jieba.Tokenizer()
    nlu.total, nlu.initialized = tok.total, True
    growing = _Growing(tok, {})
    for phrase in colloquial_concepts():
        growing.add(phrase, 2000)
    for row in subject_rows():
        if row.get("name") and len(row["name"]) > 1:
            growing.add(row["name"].strip(), 3000)
    for term in map(normalize, professional_terms()):
        if len(term) > 1 and not tok.FREQ.get(term):
            growing.add(term, 2000)
    nlu.FREQ = _DictionaryAsLoaded(tok.FREQ, growing.before)
    return tok, nlu


def tokenizer() -> jieba.Tokenizer:
    """The matcher's jieba tokenizer (not the global one): the shared dictionary and every domain word whole."""
    return _tokenizers()[0]


def nlu_tokenizer() -> jieba.Tokenizer:
    """The NLU's jieba tokenizer: jieba's dictionary and ``nlu/jieba`` only, sharing the matcher's table."""
    return _tokenizers()[1]


@lru_cache(maxsize=1)
def professional_terms() -> frozenset[str]:
    """The concepts the everyday phrases stand for and the problems described signs suggest
    (``symptom_problems.tsv``): a need is searched with them whole, so a profile must yield them whole too."""
    from exchange.matching.symptoms import signs  # it reads this module's files: imported when first needed

    concepts = {c for values in colloquial_concepts().values() for c in values}
    return frozenset(concepts | {problem for row in signs() for problem in row.problems})
