"""Experts a farmer would expect first when the crop's own name does not say what it is a kind of
(脐橙 is a citrus, 青菜头 a mustard, 空心菜 a leafy green, 南瓜 a cucurbit), and when the need is searched
with a professional word the expert writes whole (肥料配比, not 肥料 and 配比 apart)."""

from __future__ import annotations

import pytest

from exchange.matching import knowledge
from exchange.matching.index import document_terms
from exchange.matching.matcher import Matcher, Profile
from exchange.matching.subjects import KIN, SIBLING, UNRELATED, _kinds, kinship, lineage

ARTICLES = [Profile("a-1", "果园春季施肥与修剪要点", ("fruit", "soil_fertilizer"))]


def ranked(experts: list[Profile], need: str, region: str = "") -> list[str]:
    """Expert ids for a need, best first (no sentence encoder: words, domains and named things only)."""
    matcher = Matcher(experts, ARTICLES, semantic=False)
    return [e.id for e in matcher.match(need, region, top=len(experts)).experts]


@pytest.mark.parametrize(("need", "named", "level"), [
    ("脐橙", "柑橘", KIN),  # a citrus grower answers for the navel orange
    ("柑橘", "不知火", KIN),
    ("脐橙", "沃柑", SIBLING),  # two citrus
    ("榨菜", "芥菜", KIN),  # 青菜头 is a stem mustard
    ("儿菜", "榨菜", SIBLING),
    ("空心菜", "叶菜", KIN),
    ("南瓜", "西瓜", SIBLING),  # two cucurbits: the same powdery mildew, the same pollination
    ("辣椒", "叶菜", UNRELATED),  # a pepper is no leafy green
    ("脐橙", "苹果", UNRELATED),
    ("猕猴桃", "桃", UNRELATED),  # the name ends in 桃, the plant is none: the peach grower knows no kiwi canker
    ("樱桃", "桃", UNRELATED),
    ("水蜜桃", "桃", KIN),  # the head rule still holds where the name says it
])
def test_kinds_the_names_do_not_say(need: str, named: str, level: int):
    assert kinship(need, named) == level


def test_a_kind_of_chain_reads_through_the_table_and_then_the_names():
    assert lineage("脐橙") == ("脐橙", "橙子", "柑橘")
    assert lineage("乐至黑山羊") == ("乐至黑山羊", "山羊", "羊")  # the head rule still holds


def test_every_kind_row_names_crops_or_animals_of_the_gazetteer():
    assert len(_kinds()) == len(knowledge.subject_kinds()) > 0  # a bad row would raise here


def test_the_citrus_grower_comes_before_the_pear_grower_for_a_navel_orange():
    experts = [
        Profile("pear", "梨树转色期控水防裂果，梨园修剪与套袋", ("fruit",)),
        Profile("citrus", "晚熟柑橘和杂柑的栽培，树势诊断与留树保鲜", ("fruit",)),
    ]
    assert ranked(experts, "我们这边脐橙快转色了 水该怎么控")[0] == "citrus"


def test_the_leafy_greens_grower_comes_before_the_leek_grower_for_water_spinach():
    experts = [
        Profile("leek", "韭菜、韭黄软化栽培，种下去以后的水肥管理", ("vegetables",)),
        Profile("greens", "上海青、菠菜等叶菜的防雨棚周年生产", ("vegetables",)),
    ]
    assert ranked(experts, "藤藤菜种下去长不快 叶子发黄")[0] == "greens"


def test_a_professional_word_stays_whole_in_a_profile():
    assert "肥料配比" in document_terms("蔬菜水肥一体化，肥料配比与灌溉制度制定")


def test_the_fertigation_expert_is_found_by_the_professional_word_behind_the_farmers_phrase():
    experts = [
        Profile("fertigation", "水肥一体化滴灌系统设计，肥料配比与灌溉制度制定", ("soil_fertilizer", "machinery")),
        Profile("compost", "有机种植基地土壤培肥，堆肥腐熟度判断", ("soil_fertilizer",)),
    ]
    assert ranked(experts, "地里一亩肥下多少才合适")[0] == "fertigation"  # 肥下多少: 肥料配比


def test_the_pig_vet_comes_before_a_neighbour_who_only_shares_the_county():
    experts = [
        Profile("neighbour", "脐橙栽培与果园管理", ("fruit",), "四川省广安市岳池县"),
        Profile("pig-vet", "猪瘟、猪丹毒等猪病诊治，发烧不吃食的病猪处置", ("pig",), "四川省内江市东兴区"),
    ]
    assert ranked(experts, "我家架子猪发烧不吃东西 耳朵发红", "四川省广安市岳池县")[0] == "pig-vet"
