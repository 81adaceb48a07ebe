"""Which of the 21 domains a need belongs to.

Three sources of evidence, added up: the reviewed domain terms (``domain_terms.yml``) found in the
need or among its concepts and homophone fixes; the things the need names (``subjects.tsv``: a crop
or an animal by any of its names weighs most, so 儿菜 is a vegetable and a 大棚 alone decides
nothing); and a multinomial naive-Bayes model learned from what the exchange's experts and articles
write about each domain, which covers words nobody put in the lists. The lexicon dominates when it
fires; the learned part breaks ties and fills gaps. A need that says what it wants done (an intent
phrase: 卖不出去 asks to sell, 冷库 to store) belongs first to the domain that does it, whatever it names.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from exchange.matching import knowledge
from exchange.matching.evidence import Evidence
from exchange.matching.subjects import gazetteer, located, things_in

LEARNED_WEIGHT = 0.6
PRIOR_SMOOTHING = 0.5
CONFIDENT_SHARE = 0.55
MIN_SHARE = 0.05
CLOSE_TO_LEADER = 0.5
# Weight of a named thing for its first domain (its other domains get half): the crop or animal a
# need is about outweighs the pest, drug or structure it mentions.
SUBJECT_WEIGHT = 1.5
THING_WEIGHT = 1.0
# Named things whose home domain, when it leads, is read back without asking (not symptoms or equipment,
# which belong to many domains).
ANCHORS = frozenset({"animal", "crop", "product", "pest", "disease", "agrochemical", "fertilizer"})
SYMPTOM_WEIGHT = 0.4
# A need that names no crop or animal ("叶子全黄了咋回事") still points somewhere: the problems its signs
# suggest (``symptoms``: 缺素症, 病害诊断) count for their domains like a named symptom. Farmer dev sets
# (domain top-1): dev 0.987 unchanged, hold-out 0.966 → 0.975, fresh 0.936 → 0.932, unseen 0.930 unchanged.
SUGGESTED_WEIGHT = 0.4
NEARLY_LEVEL = 0.8  # 发烧 or 黄叶 belong to many domains: a hint, never a decision
# An intent phrase lifts its domain to this many times the leader's score: 脐橙滞销 is a selling need first
# (the marketers), and the orange's domain keeps a share to say which produce. Farmer dev recall@5 (with the
# colloquial rows of the same change): 0.929 at 1.0 (a shared top), 0.931 at 1.5, 0.933 at 2.0 and 3.0.
INTENT_LEAD = 2.0
TROUBLE_KINDS = frozenset({"disease", "pest", "symptom"})


@dataclass(frozen=True)
class DomainGuess:
    """Predicted domains, best first, with shares that add up to 1."""

    ranked: list[tuple[str, float]]
    # the leading domain is the home of a thing the need names (辣椒 → vegetables, 多菌灵 → plant_protection)
    anchored: bool = False
    # the domain whose service the need asks for (卖不出去 → ecommerce), leading; "" when it asks none
    intent: str = ""

    @property
    def codes(self) -> list[str]:
        """The leading domain and any close to it (at least half its share), best first."""
        if not self.ranked:
            return []
        floor = max(MIN_SHARE, self.ranked[0][1] * CLOSE_TO_LEADER)
        return [code for i, (code, share) in enumerate(self.ranked) if i == 0 or share >= floor]

    @property
    def confident(self) -> bool:
        """True when one domain clearly leads, or leads as the home of the crop or animal named: otherwise
        the assistant asks the user to choose."""
        return bool(self.ranked) and (self.anchored or bool(self.intent) or self.ranked[0][1] >= CONFIDENT_SHARE)

    def shares(self) -> dict[str, float]:
        """Code → share."""
        return dict(self.ranked)


class DomainModel:
    """Lexicon scores plus a naive-Bayes model trained on labelled documents (expertise, articles)."""

    def __init__(self) -> None:
        self._word_counts: dict[str, Counter[str]] = {code: Counter() for code in knowledge.taxonomy()}
        self._totals: Counter[str] = Counter()
        self._vocabulary: set[str] = set()

    def learn(self, documents: Iterable[tuple[list[str], list[str]]]) -> None:
        """Count words per domain from (words, domain codes) pairs."""
        for words, codes in documents:
            for code in codes:
                if code in self._word_counts:
                    self._word_counts[code].update(words)
                    self._totals[code] += len(words)
            self._vocabulary.update(words)

    def lexicon_scores(self, evidence: Evidence) -> dict[str, float]:
        """Sum of the weights of each domain's terms that the need mentions (or means); a term written
        only inside the name of a living thing or a pest of other domains is not mentioned (the 蜂 of 栗瘿蜂
        or 蜂糖李, the 鱼 of 鱼腥草, the 羊 of 羊肚菌), while what is made of it still says it (猪粪, 苞谷秆)."""
        readable = evidence.readable
        foreign = _names_by_domain(evidence.text)
        scores: dict[str, float] = {}
        for code, terms in knowledge.domain_terms().items():
            score = sum(weight for term, weight in terms.items()
                        if term in readable and _said_outside(term, readable, foreign.get(code, ())))
            if score:
                scores[code] = score
        things = things_in(evidence.text)
        for thing in things:
            weight = (SUBJECT_WEIGHT if thing.is_living or thing.kind == "product"
                      else SYMPTOM_WEIGHT if thing.kind == "symptom" else THING_WEIGHT)
            for rank, code in enumerate(thing.domains):
                scores[code] = scores.get(code, 0.0) + (weight if rank == 0 else weight / 2)
        if not any(thing.is_living for thing in things):
            for name in evidence.suggested:
                thing = gazetteer().get(name)
                for rank, code in enumerate(thing.domains if thing else ()):
                    scores[code] = scores.get(code, 0.0) + (SUGGESTED_WEIGHT if rank == 0 else SUGGESTED_WEIGHT / 2)
        return scores

    def learned_scores(self, words: list[str]) -> dict[str, float]:
        """Posterior over domains from the learned word counts (uniform prior), as shares."""
        known = [w for w in words if w in self._vocabulary]
        if not known or not self._totals:
            return {}
        size = len(self._vocabulary)
        logits = {
            code: sum(math.log((counts[w] + PRIOR_SMOOTHING) / (self._totals[code] + PRIOR_SMOOTHING * size))
                      for w in known)
            for code, counts in self._word_counts.items() if self._totals[code]
        }
        top = max(logits.values())
        weights = {code: math.exp(logit - top) for code, logit in logits.items()}
        total = sum(weights.values())
        return {code: w / total for code, w in weights.items()}

    def predict(self, evidence: Evidence, hint: list[str] | None = None) -> DomainGuess:
        """Rank the domains for a need; codes the user already chose (``hint``) come first."""
        combined: Counter[str] = Counter()
        lexicon = self.lexicon_scores(evidence)
        top_lexicon = max(lexicon.values(), default=0.0)
        for code, score in lexicon.items():
            combined[code] += score / top_lexicon
        for code, share in self.learned_scores(evidence.words).items():
            combined[code] += LEARNED_WEIGHT * share
        intent = _intent(evidence) if not _troubled(evidence) else ""
        if intent:
            combined[intent] = max(combined[intent], INTENT_LEAD * max(combined.values()))
        for code in hint or []:
            combined[code] += 10.0
        total = sum(combined.values())
        if not total:
            return DomainGuess([])
        ranked = sorted(((code, score / total) for code, score in combined.items()), key=lambda kv: -kv[1])
        return _anchored(ranked, things_in(evidence.text), intent if ranked[0][0] == intent else "")


def _names_by_domain(text: str) -> dict[str, list[tuple[int, int]]]:
    """Per domain code, the spans of the text's named crops, animals and pests that are not of that domain."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for start, thing in located(text):
        if not (thing.is_living or thing.kind == "pest"):
            continue
        for code in knowledge.taxonomy():
            if code not in thing.domains:
                spans.setdefault(code, []).append((start, start + len(thing.name)))
    return spans


def _said_outside(term: str, readable: str, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether ``term`` occurs in ``readable`` anywhere but strictly inside one of ``spans``."""
    at = readable.find(term)
    while at >= 0:
        if not any(start <= at and at + len(term) <= end and end - start > len(term) for start, end in spans):
            return True
        at = readable.find(term, at + 1)
    return False


def _troubled(evidence: Evidence) -> bool:
    """Whether the need tells of a sign, a disease or a pest (named, or suggested by what it describes):
    then a selling or storing phrase says what the trouble cost ("去年卖不脱烂了一地", "放几天就烂"), not
    whom to ask."""
    return bool(evidence.suggested) or any(t.kind in TROUBLE_KINDS for t in things_in(evidence.text))


def _intent(evidence: Evidence) -> str:
    """The domain whose service the need asks for (the first in the file when phrases of several fire), or "".
    Read in what the need says and the concepts of its phrases, not in homophone guesses: 返情 sounds like
    行情, and a guess must never decide a domain."""
    said = " ".join([evidence.text, *evidence.concepts])
    return next((code for code, phrases in knowledge.intent_terms().items()
                 if any(phrase in said for phrase in phrases)), "")


def _anchored(ranked: list[tuple[str, float]], things: list, intent: str = "") -> DomainGuess:
    """The home domain of the crop or animal named leads when it is nearly level with the leader
    (辣椒叶子卷: vegetables first, plant_protection second), unless the need asks for the leader's service
    (``intent``); any named thing's home that leads anchors."""
    living = [t.domains[0] for t in things if t.is_living]
    if living and not intent and ranked[0][0] not in living:
        for index, (code, share) in enumerate(ranked[1:3], start=1):
            if code in living and share >= NEARLY_LEVEL * ranked[0][1]:
                ranked = [ranked[index], *ranked[:index], *ranked[index + 1:]]
                break
    homes = {t.domains[0] for t in things if t.kind in ANCHORS}
    return DomainGuess(ranked, anchored=ranked[0][0] in homes, intent=intent)
