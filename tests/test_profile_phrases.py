"""Phrase knowledge written from the expert profiles (issue #11): a farmer who describes, in everyday or
Sichuan words, the problem an expert's profile names in professional terms finds that expert.

The sentences are invented for this test (not taken from any bench set)."""

from __future__ import annotations

from functools import lru_cache

import pytest

from bench.matching import SAMPLE, _jsonl, article_profiles, expert_profiles
from exchange.matching.matcher import Matcher


@lru_cache(maxsize=1)
def matcher() -> Matcher:
    return Matcher(expert_profiles(_jsonl(SAMPLE / "experts.jsonl")), article_profiles(_jsonl(SAMPLE / "articles.jsonl")),
                   semantic=False)


def ranked(need: str) -> list[str]:
    return [e.id for e in matcher().match(need, top=5).experts]


def test_dying_bees_with_ragged_wings_reach_the_bee_mite_expert():
    # 残翅、翅膀烂 → 蜂螨 (symptom_problems.tsv): e-0090 checks for and treats 大蜂螨、小蜂螨
    assert "e-0090" in ranked("蜂子死了好多 翅膀烂的")


@pytest.mark.parametrize(("need", "expert"), [
    ("柑子里头生蛆了 还没熟就黄了掉", "e-0229"),  # 生蛆 → 柑橘大实蝇
    ("稻子根根上好多小虫 一窝一窝的枯了", "e-0221"),  # 基部密虫、成团枯死 → 稻飞虱
    ("鸽子嘴巴头有黄色的疙瘩", "e-0059"),  # 口腔黄色干酪物 → 鸽毛滴虫病
    ("想在水库头养鱼 不喂饲料行不", "e-0080"),  # 水库养鱼 → 大水面生态渔业
])
def test_a_profile_derived_phrase_puts_its_specialist_first(need, expert):
    assert ranked(need)[0] == expert
