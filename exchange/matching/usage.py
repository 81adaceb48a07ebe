"""What a question about using a drug or a fertilizer is for: 一桶水兑好多, 能不能和磷酸二氢钾一起喷,
一亩下好多斤复合肥, 恩诺沙星一斤水兑好多.

Farmers ask how much, diluted how, mixed with what, and whether it may still be used. The expert for
that is not the one who knows the crop or the pest best but the one who teaches the product's use:
reading labels and dilution rates for pesticides, prescribing and withdrawal periods for veterinary and
fishery drugs, fertilizer rates for fertilizers. A need that names a product (``subjects.tsv`` kinds
agrochemical and fertilizer) and asks about its amount or mixing suggests those terms, searched like the
problems a need's signs suggest (``symptoms``).
"""

from __future__ import annotations

import re

from exchange.matching.normalize import normalize
from exchange.matching.subjects import Thing, things_in

# Amounts, dilution, mixing and whether it may be used at all, as farmers ask it.
ASKS_USE = re.compile(
    r"兑|对水|稀释|倍|多少|好多|几(克|斤|两|毫升|毫|桶|包|瓶|袋|次|遍|天|公斤|升|针|片|粒)|比例|配比|配方|"
    r"咋个配|怎么配|咋配|配制|混|复配|一起(打|喷|用|撒|施|灌|拌|喂|吃|泼|下)|一块(打|喷|用|撒)|"
    r"药害|能不能(打|用|喷|撒|施|喂|吃)|还能(打|用)|可以(打|用)不|禁用|禁止|休药|间隔期|用量|剂量")
# What the expert who teaches a product's use writes about it, by the kind of product.
PESTICIDE_USE = ("稀释倍数", "农药安全使用", "农药标签", "药害")
VETERINARY_USE = ("规范用药", "用药", "药敏试验", "休药期")
FERTILIZER_USE = ("施肥", "平衡施肥", "测土配方施肥", "施肥建议")
CROP_PROTECTION = "plant_protection"


def _use_terms(product: Thing) -> tuple[str, ...]:
    if product.kind == "fertilizer":
        return FERTILIZER_USE
    return PESTICIDE_USE if CROP_PROTECTION in product.domains else VETERINARY_USE


def use_problems(text: str) -> list[str]:
    """The terms of a product's use when the need asks how to use a drug or fertilizer it names."""
    normalized = normalize(text)
    if not ASKS_USE.search(normalized):
        return []
    found: dict[str, None] = {}
    for thing in things_in(normalized):
        if thing.kind in ("agrochemical", "fertilizer"):
            found.update(dict.fromkeys(_use_terms(thing)))
    return list(found)
