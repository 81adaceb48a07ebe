"""What a need says, as weighted evidence: the user's words, the concepts behind them, and the
words they probably meant where pinyin input produced a homophone.

Nothing here rewrites the user's text; corrections and concepts are extra evidence with lower
weights, so a wrong guess can only add a little, never erase what was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from exchange.matching import knowledge
from exchange.matching.normalize import CJK_RUN, cjk_runs, is_chinese, normalize

WORD_WEIGHT = 1.0
CONCEPT_WEIGHT = 0.8
TYPO_WEIGHT = 0.6
# Problems the need's signs suggest (``symptoms``: 鸡拉绿粪 → 新城疫): a guess from the farmer's words,
# weighed below what they wrote and the concepts their phrases stand for. Farmer dev recall@5 with
# SUGGESTED_PROBLEM 0.3: 0.875 at 0, 0.892 at 0.5, no better at 1.0.
SUGGESTED_WEIGHT = 0.5
BIGRAM_WEIGHT = 0.3
# Sichuan speakers (and their pinyin input) fold these sounds together.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("h", "f"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
# A word of everyday speech this common (jieba's count) is written as meant, not mistyped: 今年播种 sounds like
# 精量播种 to a Sichuan ear, but 今年 is "this year"; 晚上 is no 网上, 甘肃 no 甘薯. Rarer words may be typos
# (直拨 for 直播: 19). Costs one real typo seen (修建 for 修剪, 2,616).
COMMON_WORD = 1000
# Endings that make a word colloquial, not what it names (眼儿, 羊儿, 秆子, 柑子).
SUFFIXES = frozenset("儿子")
# Characters of grammar, not of things: a window holding one is not a mistyped domain word.
_FUNCTION_CHARS = frozenset("的了是在有也就都还又很太把被给和与个这那些么吗嘛呢吧哦噻呀啊得地着过我你他她它们咋啥")
_STOPWORDS = frozenset(
    ["的", "了", "是", "我", "你", "他", "她", "它", "们", "我们", "你们", "啊", "吗", "嘛", "呢", "吧", "哦", "噻", "哈", "呀", "和", "与", "在", "有", "没", "也", "就", "都", "还", "又", "很", "太", "这", "那", "个", "些", "一", "不", "要", "想", "会", "能", "可以", "怎么", "咋个", "咋", "啥子", "什么", "请问", "请", "帮", "帮忙", "一下", "现在", "今天", "最近", "这几天", "家", "屋头", "我家", "我屋", "老师", "专家", "问", "问下", "问一下", "办", "咋办", "怎么办", "咋整", "好", "得", "地", "着", "过", "把", "被", "让", "给", "对", "从", "到", "说"]
)


@lru_cache(maxsize=65536)
def fuzzy_key(word: str) -> str:
    """A pinyin key under which homophones and Sichuan near-homophones collide (猪温 ≈ 猪瘟)."""
    syllables = []
    for syllable in lazy_pinyin(word, style=Style.NORMAL, errors="ignore"):
        for long, short in _FUZZY_INITIALS:
            if syllable.startswith(long):
                syllable = short + syllable[len(long):]
                break
        for long, short in _FUZZY_FINALS:
            if syllable.endswith(long):
                syllable = syllable[: -len(long)] + short
                break
        syllables.append(syllable)
    return " ".join(syllables)


@lru_cache(maxsize=1)
def _homophone_index() -> dict[str, tuple[str, ...]]:
    """Fuzzy pinyin key → domain words (2-4 characters) that sound like it."""
    vocabulary = knowledge.domain_vocabulary() | set(knowledge.colloquial_concepts())
    index: dict[str, list[str]] = {}
    for word in vocabulary:
        if 2 <= len(word) <= 4 and is_chinese(word):
            index.setdefault(fuzzy_key(word), []).append(word)
    return {key: tuple(sorted(words)) for key, words in index.items()}


def _candidate_windows(text: str) -> Iterator[tuple[int, str]]:
    """(start, window) of the windows of normalized text that could be a mistyped word: 2-4 Chinese
    characters without a function character."""
    for run in CJK_RUN.finditer(text):
        for size in (2, 3, 4):
            for start in range(run.start(), run.end() - size + 1):
                window = text[start:start + size]
                if not _FUNCTION_CHARS.intersection(window):
                    yield start, window


def word_ends(text: str) -> set[int]:
    """Where the words of jieba's cut (without guessing new words) end in a text, and 0: a typo is a
    window with a boundary at both ends (那种塑料 holds no 种塑, a homophone of 种薯)."""
    return _ends(_cut(text))


def _ends(spans: list[tuple[int, int, str]]) -> set[int]:
    return {0} | {end for _, end, _ in spans}


def _cut(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of jieba's cut, without guessing new words."""
    spans, place = [], 0
    for word in knowledge.tokenizer().lcut(text, HMM=False):
        spans.append((place, place + len(word), word))
        place += len(word)
    return spans


def _common_places(spans: list[tuple[int, int, str]]) -> set[int]:
    """Where the text holds an everyday word of two or more characters (see COMMON_WORD), by jieba's own
    counts: the matcher's tokenizer also knows misspelt names (草梅, 川穹) as words, and they stay typos."""
    frequency = knowledge.nlu_tokenizer().FREQ
    return {place for start, end, word in spans
            if end - start > 1 and frequency.get(word, 0) >= COMMON_WORD for place in range(start, end)}


def _anchored(written: str, meant: str) -> bool:
    """Pinyin typos keep at least one character right (猪温/猪瘟, 直拨/直播); chance homophones do not (都浮/豆腐),
    nor those that share only a suffix (一个眼儿 is no 羊儿)."""
    return written != meant and any(a == b and a not in SUFFIXES for a, b in zip(written, meant, strict=True))


@lru_cache(maxsize=256)
def homophone_fixes(text: str) -> tuple[tuple[str, str], ...]:
    """(written, meant) pairs: windows of the text that cut no word, sound like a domain word and share a
    character with it, where what differs is not an everyday word written as meant. Kept for the last few
    texts: a need's sign rows and its evidence both read them."""
    index = _homophone_index()
    known = knowledge.dictionary_words()
    fixes: list[tuple[str, str]] = []
    cut: tuple[set[int], set[int]] | None = None  # (word ends, places in everyday words), once a window sounds right
    for start, window in _candidate_windows(text):
        if window in known:
            continue
        meant = [m for m in index.get(fuzzy_key(window), ()) if _anchored(window, m)]
        if meant:
            if cut is None:
                spans = _cut(text)
                cut = _ends(spans), _common_places(spans)
            ends, common = cut
            if start in ends and start + len(window) in ends:
                fixes.extend((window, m) for m in meant if not _differs_in(common, start, window, m))
    return tuple(dict.fromkeys(fixes))


def _differs_in(common: set[int], start: int, written: str, meant: str) -> bool:
    """Whether every character that differs lies in an everyday word of the text."""
    return all(start + i in common for i, (a, b) in enumerate(zip(written, meant, strict=True)) if a != b)


def char_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of the Chinese runs: partial overlaps still count a little."""
    return [run[i:i + 2] for run in cjk_runs(text) for i in range(len(run) - 1)]


def concepts_in(text: str) -> list[str]:
    """Professional concepts behind the everyday phrases found in the text."""
    found: list[str] = []
    for phrase, concepts in knowledge.colloquial_concepts().items():
        if phrase in text:
            found.extend(concepts)
    return found


def words_of(text: str) -> list[str]:
    """Content words of normalized text (search-mode jieba, so long words also yield their parts)."""
    words = knowledge.tokenizer().lcut_for_search(text)
    return [w for w in dict.fromkeys(words) if w.strip() and w not in _STOPWORDS]


@dataclass
class Evidence:
    """A need turned into weighted terms for ranking and matched words for domain scoring."""

    text: str
    words: list[str]
    concepts: list[str]
    fixes: list[tuple[str, str]]
    suggested: list[str] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)

    @property
    def readable(self) -> str:
        """Everything the need is taken to mention, for substring look-ups of domain terms."""
        return " ".join([self.text, *self.concepts, *(meant for _, meant in self.fixes)])


def gather(raw_text: str, suggested: list[str] | None = None) -> Evidence:
    """Build the evidence for one need text (any length, any characters); ``suggested``: the problems
    its signs suggest, searched too at SUGGESTED_WEIGHT."""
    text = normalize(raw_text)
    evidence = Evidence(text, words_of(text), concepts_in(text), list(homophone_fixes(text)),
                        list(suggested or ()))
    weighted: list[tuple[list[str], float]] = [
        (char_bigrams(text), BIGRAM_WEIGHT),
        (evidence.suggested, SUGGESTED_WEIGHT),
        ([meant for _, meant in evidence.fixes], TYPO_WEIGHT),
        (evidence.concepts, CONCEPT_WEIGHT),
        (evidence.words, WORD_WEIGHT),
    ]
    for terms, weight in weighted:
        for term in terms:
            evidence.terms[term] = max(evidence.terms.get(term, 0.0), weight)
    return evidence
