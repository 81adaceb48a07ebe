"""Crop and animal names typed as homophones: 油才 for 油菜, 四季都 for 四季豆, 翻茄 for 番茄, 目耳 for 木耳.

Pinyin input offers every character that sounds right, and voice input writes what it heard: the read-back
should still say what the need is about. Windows of a message that are no word of the dictionary and
sound like a crop or an animal are read as that crop or animal, written the farmer's way (its label
reads 油才（油菜）), under rules that keep chance homophones out (网红叫啥 is no 红椒, 杨工 no 羊公):

- the window keeps one character of the name (two when the others are grammar: 菜都 is no 菜豆), or sounds
  exactly like the name itself, tones and all;
- it splits no word of the text (jieba's cut, without guessing new words, has a boundary at both ends);
- the message names no other crop or animal (bar a one-character one of the same domain: 羊肚军出菇少): a
  typo is recovered only where nothing else says what the need is about, and one at most;
- the name is a crop or an animal of its own, not a group (蔬菜, 药材), and a common word (jieba's own
  dictionary counts it at least ``COMMON`` times: 番茄 and 四季豆, not the cultivar 东红 or 快菜, which a
  homophone is far likelier to be something else);
- the window starts with no measure word (这只鸡 is no 雉鸡) and holds no name of two characters or more
  (烘花椒 is no 红花椒).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import jieba
from pypinyin import Style, lazy_pinyin

from exchange.matching import knowledge
from exchange.matching.evidence import word_ends
from exchange.matching.normalize import is_chinese

if TYPE_CHECKING:
    from exchange.matching.subjects import Thing

SIZES = (4, 3, 2)  # the longest first: 花交树 is a 花椒树 before it is a 花椒
COMMON = 20
MEASURE_WORDS = frozenset("只头条匹窝群棵株亩斤个口尾")
# Characters of grammar and place, which a sentence puts next to any name.
GRAMMAR = frozenset("的了是在有也就都还又很太把被给和与个这那些么吗嘛呢吧哦呀啊得地着过里上下中")


@lru_cache(maxsize=8192)
def _syllable(character: str, tone: bool) -> str:
    style = Style.TONE3 if tone else Style.NORMAL
    return "".join(lazy_pinyin(character, style=style, errors="ignore"))


def _sound(word: str, tone: bool = False) -> str:
    return " ".join(_syllable(c, tone) for c in word)


@lru_cache(maxsize=1)
def _by_sound() -> dict[str, tuple[Thing, ...]]:
    """Toneless pinyin → the crops and animals (names of 2-4 characters) that sound like it."""
    from exchange.matching.subjects import GROUP_NAMES, gazetteer  # subjects reads this module

    living = {name: thing for name, thing in gazetteer().items()
              if thing.is_living and 2 <= len(name) <= max(SIZES) and is_chinese(name)
              and thing.canonical not in GROUP_NAMES}
    index: dict[str, list[Thing]] = {}
    for name, count in _stock_counts(frozenset(living)).items():
        if count >= COMMON:
            index.setdefault(_sound(name), []).append(living[name])
    return {key: tuple(things) for key, things in index.items()}


def _stock_counts(names: frozenset[str]) -> dict[str, int]:
    """How often jieba's own dictionary (not the project's, which lists every cultivar) counts each name."""
    counts = {}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as dictionary:
        for line in dictionary:
            word, count = line.split(" ", 2)[:2]
            if word in names:
                counts[word] = int(count)
    return counts


def _typed_for(window: str, thing: Thing) -> bool:
    """Whether the window is a plausible typo of the name: one character kept (油才/油菜), two when what
    differs is only grammar (四季都/四季豆, but 菜都长不好 and 鱼塘里鱼 name no 菜豆 or 鲤鱼), or no character
    kept but the very sound of the standard name, tones and all (目耳/木耳)."""
    changed = [a for a, b in zip(window, thing.name, strict=True) if a != b]
    kept = len(window) - len(changed)
    if kept:
        return kept >= 2 or not set(changed) <= GRAMMAR
    return thing.name == thing.canonical and _sound(window, tone=True) == _sound(thing.name, tone=True)


def _is_word(window: str) -> bool:
    tokenizer = knowledge.tokenizer()
    tokenizer.check_initialized()
    return tokenizer.FREQ.get(window, 0) > 0


def with_misspelt_name(text: str, found: list[tuple[int, Thing]]) -> list[tuple[int, Thing]]:
    """``found`` (the located names of normalized text) with one misspelt crop or animal added where the
    text names none outside it: the names inside the window (翻茄's 茄) give way to it."""
    living = [(s, t) for s, t in found if t.is_living]
    if sum(len(t.name) > 1 for _, t in living) > 1:
        return found
    index, ends = _by_sound(), None
    sounds = [_syllable(c, False) if is_chinese(c) else "" for c in text]
    for size in SIZES:
        for start in range(len(text) - size + 1):
            window, end = text[start:start + size], start + size
            if not all(sounds[start:end]):
                continue
            meant = {t.canonical: t for t in index.get(" ".join(sounds[start:end]), ()) if _typed_for(window, t)}
            if (len(meant) != 1 or window[0] in MEASURE_WORDS or _is_word(window) or window in _not_names()
                    or _holds_a_name(found, start, end)):
                continue
            thing = next(iter(meant.values()))
            if not all(start <= s < end or _generic_of(t, thing) for s, t in living):
                continue
            ends = ends if ends is not None else word_ends(text)
            if start in ends and end in ends:
                thing = replace(thing, name=window)
                kept = [(s, t) for s, t in found if not start <= s < end]
                return sorted([*kept, (start, thing)], key=lambda pair: pair[0])
    return found


@lru_cache(maxsize=1)
def _not_names() -> frozenset[str]:
    """The words that only sound or look like names (``subjects.NOT_NAMES``: 哥子 is "folks", not 鸽子)."""
    from exchange.matching.subjects import NOT_NAMES  # subjects reads this module

    return NOT_NAMES


def _generic_of(named: Thing, meant: Thing) -> bool:
    """A one-character crop or animal of the same domain elsewhere in the text (羊肚军出菇少: the 菇 is the
    羊肚菌's) says nothing against the misspelt name."""
    return len(named.name) == 1 and bool(set(named.domains) & set(meant.domains))


def _holds_a_name(found: list[tuple[int, Thing]], start: int, end: int) -> bool:
    """Whether a located name sticks out of the window (it would be cut in two) or is a name of two
    characters or more inside it (written right: 烘花椒 is 花椒 dried, not 红花椒)."""
    return any(s < end and s + len(t.name) > start and (len(t.name) > 1 or s < start or s + len(t.name) > end)
               for s, t in found)
