"""The personal-number detector against the ways villagers actually write numbers, and against the numbers
that only look like them (prices, dates, areas, ids…).

Both corpora are generated: a few dozen real-looking numbers × the formats people type × the sentences
they type them in. Every caught form must leave no 7 consecutive digits of the number behind, in any digit
form; every look-alike must come through unchanged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.assistant import Assistant
from kejibang.privacy import find_personal_numbers, mask_phones, redact
from tests.test_telegram_adapter import ScriptedDialogue

# --- the numbers -------------------------------------------------------------------------------------------

MOBILES = ["13881234567", "13912345678", "15008123456", "15928765432", "18980012345", "17708231234",
           "19938475610", "13608012345", "18628934567", "16623456789", "14781234567", "19182736450",
           "17381230987", "13550001234"]
LANDLINES = ["02885123456", "08262345678", "01062345678", "08172223344", "08386123456", "02363451234",
             "081622345678"]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_card(first17: str) -> str:
    """An 18-digit 身份证 number with its GB 11643 check character."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_card_ending_in_x(region_and_birth: str) -> str:
    """The first sequence number that gives the check character X (so X forms are tested too)."""
    numbers = (id_card(f"{region_and_birth}{seq:03d}") for seq in range(1000))
    return next(n for n in numbers if n.endswith("X"))


def bank_card(body: str) -> str:
    """A card number: the body and its Luhn check digit."""
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (1 if i % 2 else 2)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


ID_CARDS = [id_card("51010419900101123"), id_card("51162119750623401"), id_card("51052519880815002"),
            id_card("51372219620302571"), id_card("50010119991231009"), id_card("11010520010909456"),
            id_card_ending_in_x("51162119830405"), id_card_ending_in_x("51010419700101"),
            id_card_ending_in_x("44030519951120"), id_card("37020219580707133")]
BANK_CARDS = [bank_card("622202123456789012"), bank_card("621700381001234567"),
              bank_card("622848040256489001"),
              bank_card("436742123456789"), bank_card("955880123456789012"), bank_card("625965087654321"),
              bank_card("621799123456789"), bank_card("520000123412341")]

# --- how they are written ----------------------------------------------------------------------------------

_DICTATED = str.maketrans("0123456789", "零幺两三四五六七八九")
_CHINESE = str.maketrans("0123456789", "〇一二三四五六七八九")
_CAPITAL = str.maketrans("0123456789", "零壹贰叁肆伍陆柒捌玖")
_CIRCLED = str.maketrans("123456789", "①②③④⑤⑥⑦⑧⑨")
_FULL = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def groups(number: str, *sizes: int) -> list[str]:
    """The number cut as people group it (3-4-4 for a mobile); the rest goes in the last group."""
    parts, at = [], 0
    for size in sizes:
        parts.append(number[at:at + size])
        at += size
    return parts + ([number[at:]] if at < len(number) else [])


def invisible(number: str) -> str:
    """A zero-width character between every two digits."""
    return "".join(d + _ZERO_WIDTH[i % len(_ZERO_WIDTH)] for i, d in enumerate(number))[:-1]


Format = Callable[[str], str]
MOBILE_FORMATS: dict[str, Format] = {
    "plain": lambda n: n,
    "spaces 3-4-4": lambda n: " ".join(groups(n, 3, 4)),
    "dashes": lambda n: "-".join(groups(n, 3, 4)),
    "dots": lambda n: ".".join(groups(n, 3, 4)),
    "slashes": lambda n: "/".join(groups(n, 3, 4)),
    "full-width": lambda n: n.translate(_FULL),
    "full-width spaced": lambda n: "　".join(groups(n, 3, 4)).translate(_FULL),
    "full-width dashes": lambda n: "－".join(groups(n, 3, 4)).translate(_FULL),
    "+86 spaced": lambda n: "+86 " + " ".join(groups(n, 3, 4)),
    "+86-": lambda n: "+86-" + n,
    "0086": lambda n: "0086 " + n,
    "86 glued": lambda n: "86" + n,
    "(+86)": lambda n: "(+86)" + n,
    "full-width +86": lambda n: "＋８６ " + " ".join(groups(n, 3, 4)).translate(_FULL),
    "0086 dashes": lambda n: "0086-" + "-".join(groups(n, 3, 4)),
    "every digit spaced": lambda n: " ".join(n),
    "dictated 幺两": lambda n: n.translate(_DICTATED),
    "dictated spaced": lambda n: " ".join(n.translate(_DICTATED)),
    "Chinese 〇一二": lambda n: n.translate(_CHINESE),
    "capital 壹贰": lambda n: n.translate(_CAPITAL),
    "circled": lambda n: n.translate(_CIRCLED),
    "zero-width": invisible,
    "、": lambda n: "、".join(groups(n, 3, 4)),
    "·": lambda n: "·".join(groups(n, 3, 4)),
    "_": lambda n: "_".join(groups(n, 3, 4)),
    "／": lambda n: "／".join(groups(n, 3, 4)),
    "．": lambda n: "．".join(groups(n, 3, 4)),
    "two separators": lambda n: "- ".join(groups(n, 3, 4)),
    "dictated groups": lambda n: " ".join(groups(n, 3, 4)).translate(_DICTATED),
    "spaced dashes": lambda n: " - ".join(groups(n, 3, 4)),
    "double spaces": lambda n: "  ".join(groups(n, 3, 4)),
}
LANDLINE_FORMATS: dict[str, Format] = {
    "plain": lambda n: n,
    "area-dash": lambda n: "-".join(groups(n, area(n))),
    "(area)": lambda n: "({}){}".format(*groups(n, area(n))),
    "（area）spaced": lambda n: "（{}） {}".format(*groups(n, area(n))),
    "area 4-4": lambda n: " ".join(groups(n, area(n), 4)),
    "full-width": lambda n: "－".join(groups(n, area(n))).translate(_FULL),
    "dictated": lambda n: n.translate(_DICTATED),
    "+86 without the 0": lambda n: "+86 " + " ".join(groups(n[1:], area(n) - 1, 4)),
    "0086-": lambda n: "0086-" + "-".join(groups(n[1:], area(n) - 1)),
    "every digit spaced": lambda n: " ".join(n),
}
CARD_FORMATS: dict[str, Format] = {
    "plain": lambda n: n,
    "lower x": lambda n: n.lower(),
    "groups of 4": lambda n: " ".join(groups(n, 4, 4, 4, 4)),
    "6-8-4": lambda n: " ".join(groups(n, 6, 8)),
    "dashes 4": lambda n: "-".join(groups(n, 4, 4, 4, 4)),
    "every digit spaced": lambda n: " ".join(n),
    "full-width": lambda n: n.translate(_FULL),
    "full-width groups": lambda n: "　".join(groups(n, 4, 4, 4, 4)).translate(_FULL),
    "Chinese": lambda n: n.translate(_CHINESE),
    "zero-width": invisible,
    "dots": lambda n: ".".join(groups(n, 6, 8)),
}


def area(landline: str) -> int:
    """The length of a landline's area code with its 0: 010 and 02x have three digits, the others four."""
    return 3 if landline[1] in "12" else 4


MOBILE_SENTENCES = ["我电话是{}", "我电话是{}，白天打", "有事打{}找我嘛", "幺妹儿，帮我记一下{}", "你打{}嘛，我都在屋头",
                    "莫得问题，号码{}", "联系人张德明{}", "{}", "电话：{}。谢谢老师", "手机 {} 微信同号",
                    "我屋头的猪不吃食了，电话{}，岳池县坪滩镇", "打这个{}就找得到我", "我的号码是{}哈", "我{}一直打不通",
                    "号码{}两个都可以"]
LANDLINE_SENTENCES = ["座机{}", "打村委会电话{}嘛", "农技站的电话是 {} 上班时间打"]
ID_SENTENCES = ["身份证{}", "我身份证号是{}，帮我登记下", "身份证：{}", "老汉儿的身份证 {} 要不要"]
BANK_SENTENCES = ["卡号{}，补贴打这里", "银行卡 {} 农行的", "补贴打到我的卡{}上头"]


@dataclass(frozen=True)
class Written:
    """One message as typed, with the number hidden in it."""

    kind: str
    number: str  # its digits (a mobile's 11, a landline with its 0)
    form: str
    before: str
    typed: str
    after: str

    @property
    def text(self) -> str:
        return self.before + self.typed + self.after


def _written(kind: str, numbers: list[str], formats: dict[str, Format], sentences: list[str],
             per_form: int) -> list[Written]:
    """Every number in every format, in ``per_form`` of the sentences (taken in turn)."""
    out, turn = [], 0
    for number in numbers:
        for form, write in formats.items():
            if form == "lower x" and not number.endswith("X"):
                continue
            for _ in range(per_form):
                before, after = sentences[turn % len(sentences)].split("{}")
                out.append(Written(kind, number, form, before, write(number), after))
                turn += 1
    return out


CAUGHT = (_written("mobile", MOBILES, MOBILE_FORMATS, MOBILE_SENTENCES, 2)
          + _written("landline", LANDLINES, LANDLINE_FORMATS, LANDLINE_SENTENCES, 1)
          + _written("id_card", ID_CARDS, CARD_FORMATS, ID_SENTENCES, 1)
          + _written("bank_card", BANK_CARDS, {k: v for k, v in CARD_FORMATS.items() if k != "6-8-4"},
                     BANK_SENTENCES, 1))

LOOK_ALIKES = [
    # prices
    "3.5元一斤", "1200块", "一斤3块5", "每斤2.80元", "12.8元/斤", "一共1350.50元", "卖了3000多块钱", "¥1288",
    "单价 0.85 元/株", "3.5、4.2、5.8元都有",
    # dates and times
    "2026-08-15", "2026/8/15", "2026.08.15", "2026年8月15号", "8月15号", "20260815", "2026-08-15 13:45:30",
    "08-15 13:45", "从2026-08-01到2026-08-15", "2026年08月15日 下午3点", "15/08/2026", "13:45",
    "早上8:30到11:30", "下午3点半", "08:30-11:30, 14:00-17:30", "2026-08-15 08:30:00,123",
    # areas, quantities, weights
    "20亩", "每亩20斤", "500毫升兑水30斤", "1:500 稀释", "每15天打一次", "兑水 15 公斤", "0.5公斤",
    "20亩地每亩施肥50斤", "3.5亩 2000株", "两三亩", "一两个月", "三五天", "猪有120斤", "一头猪 250.5 斤",
    "每天喂 2.5 公斤", "第1、2、3号棚", "1000头猪 500只鸡",
    # ids, case and order numbers shorter than the rules
    "n-000123", "e-0001", "#12", "/done 12 已解决", "编号 n-2026-000123", "需求 n-000123 和 n-000124",
    "case #1234", "订单 2026081512", "订单号 1388123456", "快递 7312345678", "12345678901", "订单 12345678901234",
    "工单 0012345678", "流水号 2026081513450012", "telegram:1234567890", "/talk 3",
    # temperatures, percentages, versions, addresses
    "40.5度", "38.5℃", "零下5度", "-3.5°C", "25%", "12.5%", "含量 99.5%", "湿度 85%，温度 28.5 度",
    "v3.6.1", "rasa 3.6.0", "python 3.10.12", "2.13.1-rc1", "版本 1.0.0.1234", "192.168.1.100",
    "127.0.0.1:5055", "第一二三四五六七八九十期", "一二三四五", "幺二三四五六七八九",
    # coordinates and long sums
    "30.659812,104.065734", "104.0657342,30.6598123", "经纬度 30.66, 104.07", "花了 1,380,812,345.67 元",
    "亩产 1,200 斤，价格 3.5 元，共 84,000 元", "时间 2026-08-15 13:45 至 2026-08-16 08:30", "库存 15 , 381 , 234 , 567",
]
FRAMES = ["{}", "我屋头{}", "{}，咋个办嘛", "请问{}要得不", "帮我看下：{}。", "老师说{}", "{} 行不行", "去年{}"]
UNCHANGED = [frame.format(x) for x in LOOK_ALIKES for frame in FRAMES]

# --- reading what is left ----------------------------------------------------------------------------------

_DIGITS = str.maketrans({**dict(zip("零〇一二三四五六七八九幺两兩", "00123456789122", strict=True)),
                         **dict(zip("壹贰叁肆伍陆柒捌玖", "123456789", strict=True))})


def digits_left(text: str) -> str:
    """The text as the digits someone could still read out of it: every digit form read as a digit, and
    every separator (however many) and invisible character dropped; only masks (*) and words stay."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).upper()
    return "".join(c for c in text if c == "*" or not (c.isspace() or unicodedata.category(c)[0] in "PC"))


def leaks(text: str, number: str) -> list[str]:
    """Every 7 consecutive digits of the number still readable in the text."""
    left = digits_left(text)
    return [number[i:i + 7] for i in range(len(number) - 6) if number[i:i + 7] in left]


# --- the tests ---------------------------------------------------------------------------------------------


def test_the_corpora_are_big_enough_and_every_number_is_real():
    assert len(CAUGHT) >= 300 and len(UNCHANGED) >= 300, (len(CAUGHT), len(UNCHANGED))
    assert all(mask_phones(m)[1] == [m] for m in MOBILES), "every mobile is one the exchange accepts"
    assert sum(n.endswith("X") for n in ID_CARDS) >= 3


@pytest.mark.parametrize("form", sorted(MOBILE_FORMATS))
def test_each_mobile_format_is_masked_and_the_number_kept(form):
    written = [w for w in CAUGHT if w.kind == "mobile" and w.form == form]
    for w in written:
        masked, phones = mask_phones(w.text)
        assert phones == [w.number], (w.text, masked)
        assert masked == w.before + w.number[:3] + "****" + w.number[-4:] + w.after, w.text


def test_no_written_form_leaks_and_the_words_around_it_stay():
    leaked, wrong_kind, mangled = [], [], []
    for w in CAUGHT:
        masked, _ = mask_phones(w.text)
        kinds = [n.kind for n in find_personal_numbers(w.text)]
        if leaks(masked, w.number):
            leaked.append((w.kind, w.form, w.text, masked))
        if kinds != [w.kind]:
            wrong_kind.append((w.kind, w.form, w.text, kinds))
        if not (masked.startswith(w.before) and masked.endswith(w.after) and "*" in masked):
            mangled.append((w.text, masked))
    print(f"\ncaught corpus: {len(CAUGHT)} written forms, {len(leaked)} leaks")
    assert leaked == [] and wrong_kind == [] and mangled == [], (leaked[:5], wrong_kind[:5], mangled[:5])


def test_id_and_bank_cards_keep_only_their_last_four():
    card = BANK_CARDS[0]
    assert mask_phones(f"身份证{ID_CARDS[6]}")[0] == "身份证" + "*" * 14 + ID_CARDS[6][-4:]
    assert mask_phones(f"卡号 {' '.join(groups(card, 4, 4, 4, 4))} 农行")[0] == f"卡号 {'*' * 15 + card[-4:]} 农行"
    assert mask_phones("座机028-85123456")[0] == "座机028****3456"


def test_several_numbers_in_one_message_are_all_masked():
    text = (f"我叫张德明，电话幺三八 八幺两三 四五六七，身份证{ID_CARDS[0]}，卡号{BANK_CARDS[1]}，"
            f"座机(0826)2345678，2026-08-15 来过，20亩地")
    masked, phones = mask_phones(text)
    assert phones == ["13881234567"]
    for number in ("13881234567", ID_CARDS[0], BANK_CARDS[1], "08262345678"):
        assert leaks(masked, number) == [], masked
    assert masked.endswith("2026-08-15 来过，20亩地") and masked.startswith("我叫张德明，电话138****4567，")


def test_the_checks_decide_near_misses():
    bad_check = ID_CARDS[0][:17] + str((int(ID_CARDS[0][17]) + 1) % 10 if ID_CARDS[0][17] != "X" else 0)
    bad_luhn = BANK_CARDS[0][:-1] + str((int(BANK_CARDS[0][-1]) + 1) % 10)
    assert "id_card" not in [n.kind for n in find_personal_numbers(f"身份证{bad_check}")]
    assert find_personal_numbers(f"卡号{bad_luhn}") == []
    assert find_personal_numbers("身份证510104199013011234") == [], "no 13th month"


def test_look_alikes_are_left_alone():
    changed = [(text, mask_phones(text)[0]) for text in UNCHANGED if mask_phones(text)[0] != text]
    rate = len(changed) / len(UNCHANGED)
    print(f"\nlook-alike corpus: {len(UNCHANGED)} messages, false-positive rate {rate:.2%}")
    assert rate == 0, changed[:10]


def test_already_masked_text_stays_as_it_is():
    for w in CAUGHT[:200]:
        once = mask_phones(w.text)[0]
        assert mask_phones(once) == (once, []), once


def test_log_lines_lose_id_and_bank_card_numbers_too():
    line = redact(f"update {{'text': '身份证 {ID_CARDS[1]} 卡号 {BANK_CARDS[2]}'}} at 2026-08-15 13:45:30,123")
    assert leaks(line, ID_CARDS[1]) == [] and leaks(line, BANK_CARDS[2]) == []
    assert line.endswith("at 2026-08-15 13:45:30,123")


@pytest.mark.asyncio
async def test_the_dialogue_never_gets_a_number_raw_however_it_is_written(wired):
    dialogue = ScriptedDialogue()
    assistant = Assistant(dialogue, accounts=wired.accounts)
    sent = [w for w in CAUGHT if w.form in ("dictated 幺两", "zero-width", "full-width +86", "0086 dashes",
                                            "every digit spaced", "Chinese", "groups of 4", "(area)")]
    for i, w in enumerate(sent):
        await assistant.on_text(f"user-{i}", w.text)
    assert len(dialogue.received) == len(sent)
    raw = [(w.text, text) for w, (_, text) in zip(sent, dialogue.received, strict=True)
           if leaks(text, w.number)]
    assert raw == []
    for i, w in enumerate(sent):
        kept = wired.accounts.kept_phone(f"user-{i}")
        assert kept == (w.number if w.kind == "mobile" else None), (w.text, kept)
