"""Rank experts and articles for a need: words, concepts, domains, place, and fair turns.

score = 0.5 · domain fit + 0.4 · lexical · (¼ + ¾ · domain fit) + place bonus + the expert's fit (the
need's crop or animal, or a kind of it, named in the profile; its pest or disease, or one its signs suggest),
where lexical is BM25 scaled to the best hit: words count fully inside the predicted domain and a quarter
outside it, so a health expert who happens to write 发烧 does not outrank the pig vets for a sick pig.
Among near-equal scores the expert with fewer open requests goes first, so one popular expert does
not receive every need.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import NamedTuple

import numpy as np
from scipy import sparse

from exchange.gazetteer import resolve
from exchange.matching import encoder, knowledge
from exchange.matching.domains import DomainGuess, DomainModel
from exchange.matching.evidence import Evidence, gather, words_of
from exchange.matching.index import Hits, LayeredIndex, TermIndex
from exchange.matching.normalize import normalize
from exchange.matching.subjects import (
    HUSBANDRY_DOMAINS,
    KIN,
    PROBLEM_KINDS,
    SAME,
    SIBLING,
    UNRELATED,
    gazetteer,
    is_open_question,
    kinship,
    lineage,
    read,
    subjects_in,
    things_in,
)
from exchange.matching.symptoms import DIAGNOSIS, suggested_problems
from exchange.matching.usage import use_problems

DOMAIN_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.4
OFF_DOMAIN_LEXICAL = 0.25
SAME_COUNTY = 0.12
SAME_CITY = 0.06
SECONDARY_DOMAIN = 0.8
NEAR_EQUAL = 0.03
MIN_SCORE = 0.2
CANDIDATES = 60
SEMANTIC_WEIGHT = 0.25
# An article that names the need's crop or animal (by any of its names) gets this much more.
SAME_SUBJECT = 0.1
# An expert's crops and animals against the need's (``subjects.kinship``): the specialist of this crop
# beats the domain's generalist (no bonus), who beats the specialist of another crop. Chosen on the
# farmer dev set by a grid (same 0.1-0.3, kind-of 0-0.2, sibling 0-0.1, other 0-0.3): dev recall@5
# 0.805 → 0.821 with these four (0.826 with SAME_PROBLEM); neighbouring values within ±0.005.
EXPERT_SAME_SUBJECT = 0.3
EXPERT_KIN_SUBJECT = 0.2  # a kind of the need's or what it is a kind of: a 家禽 vet for sick chickens
EXPERT_SIBLING_SUBJECT = 0.05  # another kind of the same: the 黄颡鱼 farmer for a 鲫鱼 need
EXPERT_OTHER_SUBJECT = 0.2  # subtracted: names only unrelated crops or animals
# An expert naming the need's pest, disease, drug, fertilizer or symptom (by any name): +0.008 dev
# recall@5 on top of the above (grid 0-0.5; 0.15 gave nothing, 0.3 and 0.5 the same).
SAME_PROBLEM = 0.3
# An expert naming a problem the need's signs suggest (``symptoms``: 小猪拉黄色稀屎 → 仔猪黄痢): the pig vet
# who treats piglet scours before the generic pig farmer. Grid 0-0.5 on the farmer dev set (first version of
# the sign file, SUGGESTED_WEIGHT 0.5): recall@5 0.857 → 0.873 at 0.3 (0.865 at 0.15, 0.871 at 0.5); the
# other figures unchanged.
SUGGESTED_PROBLEM = 0.3
# ... and when the need names nothing at all ("这是啥子病哦", a photo's caption), what its question suggests
# (病害诊断: the diagnosis lab, the photo-recognition tool) is all there is to go on: it weighs this much.
SUGGESTED_ALONE = 0.3
# Pseudo-relevance feedback: the words of the first FEEDBACK_ARTICLES articles shown for the need also
# search the experts (scaled to the best hit, counted fully inside the predicted domain like the lexical
# score). Grid 0-0.3 on the dev set: 0.1 gave +0.009 recall@5 (0.826 → 0.835; 0.05 half of it, 0.2 and
# 0.3 within ±0.002).
ARTICLE_FEEDBACK = 0.1
# Who diagnoses (``subjects.tsv``: 病害诊断 by any of its names, 病原鉴定, 图像识别 …), and from how long a list
# one of them takes its last place (``_with_a_diagnoser``).
DIAGNOSIS_THINGS = frozenset({"病害诊断"})
DIAGNOSER_FROM = 5
# Domains that serve growers whatever they grow: who stores, sells, machines or programs for the kiwifruit
# grower is no one to ask about its canker. In a need about a problem (a pest, disease or sign) their
# experts gain nothing by naming its crop or animal.
SERVICE_DOMAINS = frozenset({"processing", "ecommerce", "machinery", "digital", "manufacturing"})
FEEDBACK_ARTICLES = 2
RECENT_READINGS = 256  # need texts whose reading a matcher keeps (Matcher._reading)
# Only articles nearly as fitting as the best are shown: one right article beats three loose ones.
ARTICLE_CLOSE_TO_BEST = 0.85
# Embedding every profile costs ~0.6 ms each: beyond this many the sentence encoder is left out of
# the index (BM25 and the domain scorer still rank), so a cold start stays bounded.
SEMANTIC_MAX_PROFILES = 50_000


@dataclass(frozen=True)
class Profile:
    """What the matcher needs of an expert or an article."""

    id: str
    text: str
    domains: tuple[str, ...]
    region: str = ""


@dataclass(frozen=True)
class Ranked:
    """One ranked expert or article, with a reason a villager can read."""

    id: str
    score: float
    domains: tuple[str, ...]
    reason: str


class _Reading(NamedTuple):
    """What a need's words say, before any profile is looked at."""

    subjects: frozenset[str]  # the crops and animals it names
    suggested: list[str]  # the problems its signs suggest
    evidence: Evidence
    guess: DomainGuess


@dataclass
class MatchResult:
    """The matcher's answer for one need."""

    domains: DomainGuess
    experts: list[Ranked] = field(default_factory=list)
    articles: list[Ranked] = field(default_factory=list)
    fixes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Changes:
    """Profiles added or edited, and ids removed, since a matcher was built."""

    upserts: tuple[Profile, ...] = ()
    removed: frozenset[str] = frozenset()


class _Collection:
    """Profiles with their BM25 index, domain matrix and places, ready for vectorised scoring.

    A collection is either built whole (``_built``), or layered (``_Collection.changed``): the whole one
    plus a small delta of profiles changed since, with ``hidden`` marking the whole one's rows that were
    removed or edited (so they are never returned, and the delta holds the edited text).
    """

    def __init__(self, profiles: list[Profile], index: TermIndex | LayeredIndex, domain_matrix: sparse.csr_matrix,
                 county: np.ndarray, city: np.ndarray, vectors: np.ndarray | None,
                 rows_about: dict[str, list[int]], rows_naming: dict[str, list[int]],
                 hidden: np.ndarray | None = None) -> None:
        self.profiles = profiles
        self.row_of = {p.id: i for i, p in enumerate(profiles)}  # an edited profile: its delta row
        self.index = index
        self.domain_matrix = domain_matrix
        self.county = county
        self.city = city
        self.vectors = vectors
        self.rows_about = rows_about  # a crop or animal's standard name → the profiles naming it
        self.rows_naming = rows_naming  # any named thing's standard name → the profiles naming it
        self.names_any = np.zeros(len(profiles), dtype=bool)
        for rows in rows_about.values():
            self.names_any[rows] = True
        self.hidden = hidden
        self._whole: _Collection | None = None  # set on a layered collection (no cycle: freed at once)
        self.pending: dict[str, Profile | None] = {}  # id → its profile now (None: removed) since ``whole``

    @property
    def whole(self) -> _Collection:
        """The collection built whole that this one layers its changes over (itself when built whole)."""
        return self if self._whole is None else self._whole

    def changed(self, changes: Changes) -> _Collection:
        """This collection with more changes: the whole collection's rows stay, changed profiles are
        indexed again in a delta weighed with its statistics (a few milliseconds per profile)."""
        if not changes.upserts and not changes.removed:
            return self
        whole = self.whole
        pending = {**self.pending, **{p.id: p for p in changes.upserts}, **dict.fromkeys(changes.removed)}
        pending = {i: p for i, p in pending.items()
                   if (p is not None or i in whole.row_of) and not _holds(whole, i, p)}
        if not pending:
            return whole
        delta = _built([p for p in pending.values() if p is not None], None, whole.vectors is not None,
                       whole.index)
        masked = [whole.row_of[i] for i in pending if i in whole.row_of]
        hidden = np.zeros(len(whole.profiles) + len(delta.profiles), dtype=bool) if masked else None
        if hidden is not None:  # only additions: no mask to apply per query
            hidden[masked] = True
        offset = len(whole.profiles)
        rows_about, rows_naming = _merged(whole.rows_about, delta.rows_about, offset), _merged(
            whole.rows_naming, delta.rows_naming, offset)
        layered = _Collection(
            whole.profiles + delta.profiles, LayeredIndex(whole.index, delta.index),
            sparse.vstack([whole.domain_matrix, delta.domain_matrix], format="csr"),
            np.concatenate([whole.county, delta.county]), np.concatenate([whole.city, delta.city]),
            whole.vectors if delta.vectors is None else np.concatenate([whole.vectors, delta.vectors]),
            rows_about, rows_naming, hidden)
        layered._whole, layered.pending = whole, pending
        return layered

    def profile(self, profile_id: str) -> Profile | None:
        """The profile searchable under an id now (None: never indexed, or removed)."""
        if profile_id in self.pending:
            return self.pending[profile_id]
        row = self.whole.row_of.get(profile_id)
        return None if row is None else self.whole.profiles[row]

    def naming(self, things: frozenset[str]) -> np.ndarray:
        """Per profile: whether it names one of these things (by any of their names)."""
        named = np.zeros(len(self.profiles), dtype=bool)
        for thing in things:
            named[self.rows_naming.get(thing, [])] = True
        return named

    @cached_property
    def serving(self) -> np.ndarray:
        """Per profile: whether its first domain is a service to growers (``SERVICE_DOMAINS``)."""
        return np.array([bool(p.domains) and p.domains[0] in SERVICE_DOMAINS for p in self.profiles], dtype=bool)

    def about(self, subjects: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per profile: whether it names one of the need's crops or animals, and whether it names only
        other ones (a tomato article for a pepper need)."""
        shares = np.zeros(len(self.profiles), dtype=bool)
        for subject in subjects:
            shares[self.rows_about.get(subject, [])] = True
        return shares, self.names_any & ~shares

    def of_domain(self, code: str) -> np.ndarray:
        """Per profile: whether it lists this domain (first or not)."""
        column = list(knowledge.taxonomy()).index(code)
        return np.asarray(self.domain_matrix[:, column].todense()).ravel() > 0

    def kinship(self, subjects: frozenset[str]) -> np.ndarray:
        """Per profile: how close its crops and animals come to the need's (``subjects.kinship``, the
        closest of them), or -1 for a profile naming none (a generalist)."""
        closest = np.full(len(self.profiles), -1, dtype=np.int8)
        for canonical, rows in self.rows_about.items():
            level = max(kinship(subject, canonical) for subject in subjects)
            closest[rows] = np.maximum(closest[rows], level)
        return closest

    def semantic_scores(self, need_vector: np.ndarray | None) -> np.ndarray:
        """Cosine of the need with every profile, scaled so the closest profile scores 1."""
        if self.vectors is None or need_vector is None:
            return np.zeros(len(self.profiles), dtype=np.float32)
        cosine = np.clip(self.vectors @ need_vector, 0.0, None)
        top = float(cosine.max())
        return cosine / top if top > 0 else cosine

    def base_scores(self, evidence: Evidence, guess: DomainGuess, need_vector: np.ndarray | None = None,
                    feedback: dict[str, float] | None = None) -> tuple[np.ndarray, Hits]:
        """Combined score of every profile, and the lexical hits behind it (hidden rows: -1, and they do
        not scale the others' lexical scores); ``feedback``: words of the articles found for the need,
        weighed ARTICLE_FEEDBACK."""
        shares = np.array([guess.shares().get(code, 0.0) for code in knowledge.taxonomy()], dtype=np.float32)
        if shares.max() > 0:
            shares = shares / shares.max()  # the leading domain counts fully, the others in proportion
        domain_fit = np.asarray(self.domain_matrix @ shares).ravel()
        hits = self.index.search(evidence.terms)
        in_domain = OFF_DOMAIN_LEXICAL + (1 - OFF_DOMAIN_LEXICAL) * domain_fit
        semantic = SEMANTIC_WEIGHT * in_domain * self.semantic_scores(need_vector)
        scores = DOMAIN_WEIGHT * domain_fit + LEXICAL_WEIGHT * in_domain * self._scaled(hits) + semantic
        if feedback:
            scores = scores + ARTICLE_FEEDBACK * in_domain * self._scaled(self.index.search(feedback))
        return (scores if self.hidden is None else np.where(self.hidden, -1.0, scores)), hits

    def _scaled(self, hits: Hits) -> np.ndarray:
        """BM25 scores scaled so the best visible profile scores 1 (hidden rows set to 0 first)."""
        if self.hidden is not None:
            hits.scores[self.hidden] = 0.0
        top = float(hits.scores.max()) if hits.scores.size else 0.0
        return hits.scores / top if top > 0 else hits.scores

    def arrays(self, prefix: str) -> tuple[dict[str, np.ndarray], dict]:
        """This collection (built whole) as arrays and JSON-able fields, for ``restored``."""
        terms, matrix, frequency, mean_length = self.index.arrays()
        arrays = {"county": self.county, "city": self.city, "document_frequency": frequency,
                  **_rows_arrays("about", self.rows_about), **_rows_arrays("naming", self.rows_naming),
                  **_sparse_arrays("terms", matrix), **_sparse_arrays("domains", self.domain_matrix)}
        if self.vectors is not None:
            arrays["vectors"] = self.vectors
        fields = {"ids": [p.id for p in self.profiles], "texts": [p.text for p in self.profiles],
                  "domains": [p.domains for p in self.profiles], "regions": [p.region for p in self.profiles],
                  "terms": terms, "mean_length": mean_length, "about": list(self.rows_about),
                  "naming": list(self.rows_naming)}
        return {f"{prefix}.{name}": value for name, value in arrays.items()}, fields

    @classmethod
    def restored(cls, arrays: Mapping[str, np.ndarray], prefix: str, fields: dict) -> _Collection:
        """A collection as ``arrays`` saved it."""
        def array(name: str) -> np.ndarray:
            return arrays[f"{prefix}.{name}"]

        profiles = [Profile(i, t, tuple(d), r) for i, t, d, r in
                    zip(fields["ids"], fields["texts"], fields["domains"], fields["regions"], strict=True)]
        index = TermIndex.restored(fields["terms"], _sparse_matrix(arrays, f"{prefix}.terms", sparse.csc_matrix),
                                   array("document_frequency"), fields["mean_length"])
        vectors = arrays.get(f"{prefix}.vectors")
        return cls(profiles, index, _sparse_matrix(arrays, f"{prefix}.domains", sparse.csr_matrix),
                   array("county"), array("city"), vectors, _restored_rows(array, "about", fields["about"]),
                   _restored_rows(array, "naming", fields["naming"]))


def _holds(whole: _Collection, profile_id: str, profile: Profile | None) -> bool:
    """Whether the whole collection already holds this profile as it is now (an edit undone)."""
    row = whole.row_of.get(profile_id)
    return row is not None and whole.profiles[row] == profile


def _built(profiles: Sequence[Profile], progress: Callable[[int], None] | None, semantic: bool,
           statistics: TermIndex | None = None) -> _Collection:
    """Index profiles: tokenise, weigh (with ``statistics``' BM25 figures for a delta), place and embed."""
    codes = list(knowledge.taxonomy())
    profiles = list(profiles)
    index = TermIndex((p.text for p in profiles), progress, statistics)
    rows, cols, vals = [], [], []
    for row, profile in enumerate(profiles):
        for rank, code in enumerate(dict.fromkeys(profile.domains)):
            if code in codes:
                rows.append(row)
                cols.append(codes.index(code))
                vals.append(1.0 if rank == 0 else SECONDARY_DOMAIN)
    domain_matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(profiles), len(codes)), dtype=np.float32)
    places = [resolve(p.region) for p in profiles]
    county = np.array([int(p.county_code or 0) for p in places], dtype=np.int64)
    city = np.array([int(p.city_code or 0) for p in places], dtype=np.int64)
    vectors = _embed([p.text for p in profiles]) if semantic and profiles else None
    rows_about: dict[str, list[int]] = {}
    rows_naming: dict[str, list[int]] = {}
    for row, profile in enumerate(profiles):
        subjects, things = read(profile.text)
        for canonical in {t.canonical for t in subjects if t.is_living}:
            rows_about.setdefault(canonical, []).append(row)
        for canonical in {t.canonical for t in things}:
            rows_naming.setdefault(canonical, []).append(row)
    return _Collection(profiles, index, domain_matrix, county, city, vectors, rows_about, rows_naming)


def _merged(whole: dict[str, list[int]], delta: dict[str, list[int]], offset: int) -> dict[str, list[int]]:
    """Name → rows of a whole collection, with a delta's rows (numbered after the whole's) added."""
    merged = dict(whole)
    for canonical, rows in delta.items():
        merged[canonical] = whole.get(canonical, []) + [offset + r for r in rows]
    return merged


def _rows_arrays(name: str, rows_of: dict[str, list[int]]) -> dict[str, np.ndarray]:
    """Name → rows as two flat arrays (how many rows each name has, then all rows), names kept in order."""
    return {f"{name}_sizes": np.array([len(rows) for rows in rows_of.values()], dtype=np.int64),
            f"{name}_rows": np.array([r for rows in rows_of.values() for r in rows], dtype=np.int64)}


def _restored_rows(array: Callable[[str], np.ndarray], name: str, names: list[str]) -> dict[str, list[int]]:
    """What ``_rows_arrays`` saved, back as name → rows."""
    bounds = np.cumsum(array(f"{name}_sizes"))
    rows = np.split(array(f"{name}_rows"), bounds[:-1]) if len(bounds) else []
    return {k: r.tolist() for k, r in zip(names, rows, strict=True)}


def _sparse_arrays(name: str, matrix: sparse.spmatrix) -> dict[str, np.ndarray]:
    return {f"{name}.data": matrix.data, f"{name}.indices": matrix.indices, f"{name}.indptr": matrix.indptr,
            f"{name}.shape": np.array(matrix.shape, dtype=np.int64)}


def _sparse_matrix(arrays: Mapping[str, np.ndarray], name: str, kind: type) -> sparse.spmatrix:
    shape = tuple(int(n) for n in arrays[f"{name}.shape"])
    return kind((arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]), shape=shape)


def _serves(lexicon: dict[str, float]) -> bool:
    """Whether a need's own domain terms lead to a service domain (塑料, 工艺 → manufacturing)."""
    return bool(lexicon) and max(lexicon, key=lexicon.__getitem__) in SERVICE_DOMAINS


def _diagnosed_in(guess: DomainGuess) -> frozenset[str]:
    """The domains whose diagnosers fit a need: its two likeliest, and plant protection for a crop's."""
    likeliest = frozenset(guess.codes[:2])
    crops = bool(likeliest) and not likeliest <= HUSBANDRY_DOMAINS
    return likeliest | ({"plant_protection"} if crops else frozenset())


def _place_bonus(collection: _Collection, region: str) -> np.ndarray | float:
    place = resolve(region)
    if not place.known:
        return 0.0
    bonus = np.where(collection.city == int(place.city_code), SAME_CITY, 0.0)
    if place.county_code:
        bonus = np.where(collection.county == int(place.county_code), SAME_COUNTY, bonus)
    return bonus.astype(np.float32)


def _fair_order(candidates: list[tuple[float, int]], load: Callable[[int], int], top: int) -> list[tuple[float, int]]:
    """Best first, but among scores within NEAR_EQUAL of the best remaining, the least loaded first."""
    remaining = sorted(candidates, reverse=True)
    chosen: list[tuple[float, int]] = []
    while remaining and len(chosen) < top:
        best = remaining[0][0]
        band = [c for c in remaining if c[0] >= best - NEAR_EQUAL]
        pick = min(band, key=lambda c: (load(c[1]), -c[0]))
        chosen.append(pick)
        remaining.remove(pick)
    return chosen


class Matcher:
    """Experts and articles indexed for matching; build once, query many times."""

    def __init__(self, experts: Sequence[Profile], articles: Sequence[Profile],
                 progress: Callable[[int], None] | None = None, semantic: bool = True) -> None:
        semantic = semantic and len(experts) + len(articles) <= SEMANTIC_MAX_PROFILES
        self.experts = _built(experts, progress, semantic)
        self.articles = _built(articles, progress, semantic)
        self.domain_model = DomainModel()
        self.domain_model.learn((words_of(normalize(p.text)), list(p.domains)) for p in [*experts, *articles])
        self._readings: dict[tuple[str, tuple[str, ...]], _Reading] = {}

    @property
    def pending(self) -> int:
        """How many profiles changed since the whole index was built (searched in the delta layer)."""
        return len(self.experts.pending) + len(self.articles.pending)

    def with_changes(self, experts: Changes = Changes(), articles: Changes = Changes()) -> Matcher:
        """A matcher sharing this one's whole index, with the changed profiles searchable at once. Until a
        full rebuild, BM25 statistics and the learned domain model stay those of the whole index."""
        changed = copy.copy(self)
        changed.experts = self.experts.changed(experts)
        changed.articles = self.articles.changed(articles)
        return changed

    def arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """The whole index as arrays and JSON-able fields (``exchange.matching.snapshot`` writes them); a
        delta is left out: the next start finds its changes in the database again."""
        expert_arrays, expert_fields = self.experts.whole.arrays("experts")
        article_arrays, article_fields = self.articles.whole.arrays("articles")
        model = self.domain_model  # its learned counts: what a restart must not learn again
        learned = {"counts": {code: dict(counts) for code, counts in model._word_counts.items()},
                   "totals": dict(model._totals), "vocabulary": sorted(model._vocabulary)}
        return ({**expert_arrays, **article_arrays},
                {"experts": expert_fields, "articles": article_fields, "domain_model": learned})

    @classmethod
    def restored(cls, arrays: Mapping[str, np.ndarray], fields: dict) -> Matcher:
        """A matcher as ``arrays`` saved it: no tokenising, no embedding."""
        matcher = cls.__new__(cls)
        matcher.experts = _Collection.restored(arrays, "experts", fields["experts"])
        matcher.articles = _Collection.restored(arrays, "articles", fields["articles"])
        learned = fields["domain_model"]
        matcher.domain_model = DomainModel()
        matcher.domain_model._word_counts.update({code: Counter(c) for code, c in learned["counts"].items()})
        matcher.domain_model._totals = Counter(learned["totals"])
        matcher.domain_model._vocabulary = set(learned["vocabulary"])
        matcher._readings = {}
        return matcher

    def match(self, text: str, region: str = "", domains: Sequence[str] = (), top: int = 5,
              unavailable: frozenset[str] = frozenset(), load: Callable[[str], int] | None = None) -> MatchResult:
        """Rank experts (skipping ``unavailable`` ids) and articles for a need."""
        subjects, suggested, evidence, guess = self._reading(text, domains)
        result = MatchResult(guess, fixes=evidence.fixes)
        if not guess.ranked and not any(t in self.experts.index.vocabulary for t in evidence.terms):
            return result
        place = resolve(region)
        need_vector = _embed([text])[0] if self.experts.vectors is not None else None
        result.articles = self._articles(text, evidence, guess, need_vector, subjects, top)
        scores, hits = self.experts.base_scores(evidence, guess, need_vector, self._feedback(result.articles))
        scores = scores + _place_bonus(self.experts, region) + self._expert_fit(text, subjects, suggested, guess.intent)
        for expert_id in unavailable:
            if expert_id in self.experts.row_of:
                scores[self.experts.row_of[expert_id]] = -1.0
        expert_load = (lambda row: load(self.experts.profiles[row].id)) if load else (lambda row: 0)
        chosen = self._with_a_diagnoser(_fair_order(_top(scores, CANDIDATES), expert_load, top), scores,
                                        text, suggested, guess)
        result.experts = [self._ranked(self.experts, row, score, hits, guess, place) for score, row in chosen]
        return result

    def _with_a_diagnoser(self, chosen: list[tuple[float, int]], scores: np.ndarray, text: str,
                          suggested: list[str], guess: DomainGuess) -> list[tuple[float, int]]:
        """A need that describes signs or asks what is wrong keeps its last place for the best expert who
        diagnoses (a lab that takes samples, a photo-recognition tool) of its domain when no such expert made
        the list: the specialists may each guess, the lab can tell."""
        if len(chosen) < DIAGNOSER_FROM or not (suggested or is_open_question(text)):
            return chosen
        diagnosers = self.experts.naming(DIAGNOSIS_THINGS)
        if any(diagnosers[row] for _, row in chosen):
            return chosen
        fitting = diagnosers & self._of_domains(_diagnosed_in(guess))
        candidates = np.flatnonzero(fitting & (scores >= MIN_SCORE))
        if not candidates.size:
            return chosen
        best = int(candidates[np.argmax(scores[candidates])])
        # the seat is the last one's that names none of the problems the need names or its signs suggest:
        # the 根肿病 specialist in fifth place stays for 莲花白根上长疙瘩
        problems = self.experts.naming(_problems_of(text, suggested))
        seat = next((place for place in range(len(chosen) - 1, -1, -1) if not problems[chosen[place][1]]), None)
        if seat is None:
            return chosen
        return [*chosen[:seat], *chosen[seat + 1:], (float(scores[best]), best)]

    def _of_domains(self, codes: frozenset[str]) -> np.ndarray:
        fitting = np.zeros(len(self.experts.profiles), dtype=bool)
        for code in codes & set(knowledge.taxonomy()):
            fitting |= self.experts.of_domain(code)
        return fitting

    def _reading(self, text: str, domains: Sequence[str]) -> _Reading:
        """What the need's words say, kept for the last RECENT_READINGS texts: a need is matched at its
        read-back and again when it is posted, and neither its words nor the domain model change in between
        (a rebuild makes a new matcher). Reading is most of a match's work."""
        key = (text, tuple(d for d in domains if d in knowledge.taxonomy()))
        reading = self._readings.get(key)
        if reading is None:
            named = subjects_in(text)
            subjects = frozenset(t.canonical for t in named if t.is_living)
            # a product's own signs count too: "茶叶上有小绿虫" is the tea plant's leafhopper
            suggested = suggested_problems(text, frozenset(t.canonical for t in named)) + use_problems(text)
            evidence = gather(text, suggested)
            guess = self.domain_model.predict(evidence, list(key[1]))
            if suggested == list(DIAGNOSIS):
                plain = gather(text)
                if _serves(self.domain_model.lexicon_scores(plain)):
                    # "帮忙看下工艺参数咋调" asks what is wrong with a product, not a plant: nobody is sent to
                    # diagnose it
                    suggested, evidence = [], plain
                    guess = self.domain_model.predict(evidence, list(key[1]))
            reading = _Reading(subjects, suggested, evidence, guess)
            if len(self._readings) >= RECENT_READINGS:
                self._readings.clear()
            self._readings[key] = reading
        return reading

    def _feedback(self, articles: list[Ranked]) -> dict[str, float]:
        """The words of the best articles found for the need: they name what the farmer's words describe
        (猪咳嗽 → 支原体肺炎), and the experts who write the same words are the ones to ask."""
        words: dict[str, float] = {}
        for article in articles[:FEEDBACK_ARTICLES]:
            profile = self.articles.profile(article.id)
            if profile is not None:
                words.update(dict.fromkeys(words_of(normalize(profile.text)), 1.0))
        return words

    def _expert_fit(self, text: str, subjects: frozenset[str], suggested: list[str],
                    intent: str = "") -> np.ndarray | float:
        """What an expert's named crops, animals and problems add: the specialist of this crop or of this
        pest first, the specialist of another crop last (a generic plant-protection expert in between). A
        problem the need's signs suggest (鸡拉绿粪 → 新城疫) counts as one it names: farmers describe, experts
        name. In a need asking for a domain's service (``intent``: 脐橙滞销) the crop says which produce, not
        whom to ask: only that domain's experts gain by naming it (the orange seller, not the orange grower)."""
        fit: np.ndarray | float = 0.0
        problems = _problems_of(text, [])
        guessed = _problems_of("", suggested) - problems
        if subjects:
            closest = self.experts.kinship(subjects)
            gain = (EXPERT_SAME_SUBJECT * (closest == SAME) + EXPERT_KIN_SUBJECT * (closest == KIN)
                    + EXPERT_SIBLING_SUBJECT * (closest == SIBLING))
            if intent:
                gain = gain * self.experts.of_domain(intent)
            elif problems or guessed:
                gain = gain * ~self.experts.serving
            fit = gain - EXPERT_OTHER_SUBJECT * (closest == UNRELATED)
        if problems:
            fit = fit + SAME_PROBLEM * self.experts.naming(problems)
        if guessed:
            weight = SUGGESTED_PROBLEM if subjects or problems else SUGGESTED_PROBLEM + SUGGESTED_ALONE
            fit = fit + weight * self.experts.naming(guessed)
        return fit

    def _articles(self, text: str, evidence: Evidence, guess: DomainGuess, need_vector: np.ndarray | None,
                  subjects: frozenset[str], top: int) -> list[Ranked]:
        """科普 that names something the need names (its crop or animal, pest, disease, drug or symptom),
        never about another crop or animal, and nearly as fitting as the best: a sick pig's owner gets
        articles on pig diseases, not the domain's general reading ("高温天气果园管理" for a split fruit)."""
        named = frozenset(t.canonical for t in things_in(text))
        if not named and not subjects:
            return []  # "这是啥子病哦": no article can be about what was not said (the assistant asks first)
        scores, hits = self.articles.base_scores(evidence, guess, need_vector)
        scores = np.where(self.articles.naming(named | subjects), scores, -1.0)
        if subjects:
            same, _ = self.articles.about(subjects)
            # an article on what the crop or animal is a kind of is no article on another one: 柑橘黄龙病 for
            # a 脐橙, 鸡球虫病 for a 藏鸡 (it still has to name something the need names)
            _, elsewhere = self.articles.about(frozenset(kind for s in subjects for kind in lineage(s)))
            scores = np.where(elsewhere, -1.0, scores + SAME_SUBJECT * same)
        ranked = sorted(_top(scores, top), reverse=True)
        return [self._ranked(self.articles, row, score, hits, guess, None)
                for score, row in ranked if score >= ARTICLE_CLOSE_TO_BEST * ranked[0][0]]

    def _ranked(self, collection: _Collection, row: int, score: float, hits: Hits,
                guess: DomainGuess, place) -> Ranked:
        profile = collection.profiles[row]
        words = sorted((t for t in hits.terms_of(row) if t in _quotable()), key=_problem_first)[:2]
        parts = []
        if words:
            parts.append("擅长：" + "、".join(words) if place is not None else "讲到：" + "、".join(words))
        shared = [c for c in profile.domains if c in guess.codes]
        if shared:
            parts.append(knowledge.taxonomy()[shared[0]].name)
        if place is not None and place.known:
            own = resolve(profile.region)
            if place.county_code and own.county_code == place.county_code:
                parts.append(f"同在{place.county}")
            elif own.city_code == place.city_code:
                parts.append(f"同在{place.city}")
        return Ranked(profile.id, round(float(score), 4), profile.domains, "；".join(parts))


def _problems_of(text: str, suggested: Sequence[str]) -> frozenset[str]:
    """The problems a need names (its pests, diseases, drugs, signs) and those its signs suggest, by canonical name."""
    named = frozenset(t.canonical for t in things_in(text) if t.kind in PROBLEM_KINDS)
    return named | frozenset(gazetteer()[n].canonical for n in suggested if n in gazetteer())


@lru_cache(maxsize=1)
def _quotable() -> frozenset[str]:
    """Words a reason may quote: real domain words, not accidental character pairs (不吃, 几天) nor the
    names of places (岳池 is where an expert works, not what they are good at)."""
    words = knowledge.dictionary_words() | knowledge.domain_vocabulary() | set(gazetteer())
    return frozenset(w for w in words if len(w) >= 2 and w not in knowledge.place_words())


@lru_cache(maxsize=1)
def _problems() -> frozenset[str]:
    """What went wrong or what is done about it: symptoms, diseases, pests, drugs and the concepts
    behind everyday phrases. A reason quotes these before the crop or animal itself."""
    concepts = {c for values in knowledge.colloquial_concepts().values() for c in values}
    return frozenset(concepts | {name for name, thing in gazetteer().items() if not thing.is_subject})


def _problem_first(term: str) -> tuple[bool, int]:
    return term not in _problems(), -len(term)


_PROFILE_VECTORS: dict[str, np.ndarray] = {}


def _embed(texts: list[str]) -> np.ndarray:
    """Sentence vectors from the encoder the NLU pipeline shares (loaded once per process). Profile texts
    are remembered, so a rebuild after an import embeds only what is new."""
    missing = list(dict.fromkeys(t for t in texts if t not in _PROFILE_VECTORS))
    if len(texts) == 1 and missing:
        return encoder.load().embed(texts)
    if len(_PROFILE_VECTORS) + len(missing) > SEMANTIC_MAX_PROFILES:
        _PROFILE_VECTORS.clear()
    for text, vector in zip(missing, encoder.load().embed(missing) if missing else [], strict=True):
        _PROFILE_VECTORS[text] = vector
    return np.stack([_PROFILE_VECTORS[t] for t in texts])


def _top(scores: np.ndarray, count: int) -> list[tuple[float, int]]:
    """The ``count`` best (score, row) pairs above MIN_SCORE, unordered."""
    if not scores.size:
        return []
    count = min(count, scores.size)
    rows = np.argpartition(-scores, count - 1)[:count]
    return [(float(scores[r]), int(r)) for r in rows if scores[r] >= MIN_SCORE]
