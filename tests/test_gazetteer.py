"""Places: what a villager or a profile writes, resolved to Sichuan's divisions."""

from __future__ import annotations

import pytest

from exchange.gazetteer import resolve


@pytest.mark.parametrize("text,expected", [
    ("四川省广安市岳池县", "四川省广安市岳池县"),
    ("岳池县坪滩镇", "四川省广安市岳池县坪滩镇"),
    ("岳池兴隆镇", "四川省广安市岳池县兴隆镇"),
    ("凉山州会理", "四川省凉山彝族自治州会理市"),
    ("雅安名山区", "四川省雅安市名山区"),
])
def test_places_resolve_down_to_the_most_precise_level(text, expected):
    assert resolve(text).full_name == expected


def test_a_township_name_shared_by_several_counties_needs_its_county():
    assert resolve("兴隆镇").township == ""
    assert resolve("岳池县兴隆镇").township == "兴隆镇"


@pytest.mark.parametrize("text", ["", "北京", "火星乡", "<script>", "'; drop table"])
def test_unknown_places_resolve_to_nothing(text):
    assert not resolve(text).known
