"""A farmer who asks how much of a product to use, diluted how or mixed with what is sent the expert who
teaches its use (labels and dilution for pesticides, prescribing and withdrawal for veterinary drugs, rates
for fertilizers); one who names no crop at all gets the expert who diagnoses any crop; white frost on the
soil of an old greenhouse is salt, not powdery mildew."""

from __future__ import annotations

import pytest

from exchange.matching.matcher import Matcher, Profile
from exchange.matching.usage import FERTILIZER_USE, PESTICIDE_USE, VETERINARY_USE, use_problems

ARTICLES = [Profile("a-1", "春季果园管理要点", ("fruit",))]
EXPERTS = [
    Profile("label", "农药安全使用培训：读懂农药标签、换算稀释倍数，误用造成的药害鉴定", ("plant_protection",)),
    Profile("peach", "桃树修剪、疏果与桃蚜、桃蛀螟防治", ("fruit", "plant_protection")),
    Profile("citrus-mite", "柑橘红蜘蛛与锈壁虱综合防控，捕食螨释放", ("plant_protection", "fruit")),
    Profile("weeds", "稻田杂草化学防除与除草剂轮换", ("plant_protection", "grain_oil")),
    Profile("moth", "草地贪夜蛾监测与玉米螟生物防治", ("plant_protection", "grain_oil")),
    Profile("aphid", "小麦蚜虫与条锈病统防统治", ("plant_protection", "grain_oil")),
    Profile("poultry-drugs", "禽病药敏试验，按药敏结果指导规范用药，减少抗生素残留", ("poultry",)),
    Profile("layers", "蛋鸡笼养管理与产蛋率提升", ("poultry",)),
    Profile("broilers", "肉鸡饲养密度与通风管理", ("poultry",)),
    Profile("soil-test", "测土配方施肥，平衡施肥与施肥建议", ("soil_fertilizer",)),
    Profile("potato", "马铃薯脱毒种薯繁育与高山栽培", ("grain_oil",)),
    Profile("diagnosis", "作物病害诊断与病原鉴定，接收病样镜检", ("plant_protection",)),
    Profile("salted-soil", "设施菜地次生盐渍化与板结治理，深翻晒垡改土", ("soil_fertilizer", "vegetables")),
    Profile("mildew", "瓜类白粉病、霜霉病防控，棚内湿度管理", ("plant_protection", "vegetables")),
]


def ranked(need: str, top: int = 3) -> list[str]:
    matcher = Matcher(EXPERTS, ARTICLES, semantic=False)
    return [e.id for e in matcher.match(need, top=top).experts]


@pytest.mark.parametrize(("need", "terms"), [
    ("吡虫啉一桶水兑好多", PESTICIDE_USE),
    ("多菌灵能不能和磷酸二氢钾一起喷", PESTICIDE_USE),
    ("恩诺沙星给鸡饮水 一斤水放好多", VETERINARY_USE),
    ("复合肥种洋芋一亩下好多斤", FERTILIZER_USE),
])
def test_a_question_about_amounts_or_mixing_asks_for_the_products_use(need: str, terms: tuple[str, ...]):
    assert set(terms) <= set(use_problems(need))


@pytest.mark.parametrize("need", ["吡虫啉打蚜虫效果好不好", "我家桃树长蚜虫了", "鸡拉稀了"])
def test_naming_a_product_or_a_pest_without_asking_how_much_is_no_use_question(need: str):
    assert use_problems(need) == []


def test_the_pesticide_label_teacher_answers_how_much_to_dilute():
    assert "label" in ranked("氟啶虫酰胺一包兑几桶水 打桃树蚜虫")


def test_the_drug_testing_vet_answers_how_much_drug_in_the_chickens_water():
    assert ranked("恩诺沙星给鸡饮水 一斤水兑好多", top=1) == ["poultry-drugs"]


def test_the_fertilizer_rate_expert_answers_how_much_fertilizer_an_acre():
    assert "soil-test" in ranked("15-15-15的复合肥 种洋芋一亩下好多斤", top=2)


def test_a_disease_question_that_names_no_crop_goes_to_the_diagnostician():
    assert ranked("叶子发黄 是啥子病哦", top=1) == ["diagnosis"]


def test_white_frost_on_the_soil_is_salt_for_the_soil_expert_not_mildew():
    assert ranked("大棚种了五年 土面上一层白霜 种啥都长不好", top=1) == ["salted-soil"]


def test_signs_that_name_no_crop_or_animal_still_point_to_the_plant_domains():
    """叶子全黄了 names no crop, but yellow leaves are a plant's: never a pig question."""
    matcher = Matcher(EXPERTS, ARTICLES, semantic=False)
    assert matcher.match("叶子全黄了咋回事").domains.codes[0] in ("plant_protection", "soil_fertilizer")
