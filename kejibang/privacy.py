"""Personal data kept out of the places it does not belong.

Rasa keeps every message in its tracker store for as long as the conversation lives, so personal numbers
(mobiles, landlines, 身份证 and bank cards) are masked before a message reaches it (the front end keeps the
real mobile number in the assistant's store, where registration reads it). Log lines go to files, terminals
and whoever reads them, so every record passes through ``RedactingFilter``: the same numbers, names where
the line labels them, and the Telegram bot token (which python-telegram-bot and httpx put in request URLs)
are masked.

One detector finds the numbers however villagers write them: full-width or circled digits, Chinese numerals
(幺三八…, 壹贰叁…), zero-width characters, and up to two separator characters of any kind between digits.
It reads the text as *runs* of digits and only cuts a number out of a run where the writer left a gap (or
switched between Arabic and Chinese digits), so a phone number is never pieced together from a date, a
price and a time that happen to sit side by side.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from exchange.people import mainland_mobile, mask_name, mask_phone

# The custom message action_delete_my_data sends: the front end then erases the conversation itself from
# the tracker store (only it can: the turn is saved after the action has run).
ERASE_CONVERSATION = "erase_conversation"
_BOT_TOKEN = re.compile(r"(?<![0-9])\d{5,15}:[A-Za-z0-9_-]{30,}")  # inside URLs too: /bot<token>/getMe
_LABELLED_NAME = re.compile(r"(?P<label>person_name|first_name|last_name|username|\bname|姓名|名字)"
                            r"(?P<sep>['\"]?\s*[:：=]\s*['\"]?|,\s*value:\s*['\"]?)"
                            r"(?P<value>[\u4e00-\u9fff·]{1,10}|[A-Za-z][A-Za-z0-9_ .-]{0,29})")
_TRACEBACKS = logging.Formatter()

# How digits are read. Chinese numerals as people dictate numbers (幺 = 1, 两 = 2), capital (大写) and
# traditional forms; circled digits as NFKC reads them.
_CHINESE_DIGITS = dict(zip("零〇一二三四五六七八九", "00123456789", strict=True)) | {
    "幺": "1", "两": "2", "兩": "2", "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "肆": "4",
    "伍": "5", "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9"}
_CIRCLED = frozenset("①②③④⑤⑥⑦⑧⑨")
_NOT_SEPARATORS = frozenset("*#%‰@&")  # punctuation that means something next to a number (and * is a mask)
_MAX_GAP = 2  # separators allowed between two digits of one number (any whitespace counts as one)
_MAX_DIGITS = 23  # the longest number looked for, with its country prefix: 0086 + a 19-digit card
_MIN_DIGITS = 10  # the shortest: a landline, 0xx + 7 digits
_MAYBE_DIGIT = re.compile(r"[\d①-⑨" + "".join(_CHINESE_DIGITS) + "]")
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                        50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MOBILE = re.compile(r"(?P<country>0086|86)?(?P<number>1[3-9]\d{9})")
_LANDLINE = re.compile(r"(?:(?P<trunk>0)|(?P<country>0086|86))(?P<area>10|2\d|[3-9]\d{2})"
                       r"(?P<local>[2-9]\d{6,7})")
_ID_CARD = re.compile(r"[1-9]\d{16}[\dX]")
_BANK_CARD = re.compile(r"[3-69]\d{15,18}")


@dataclass(frozen=True)
class PersonalNumber:
    """One number found in a text: what it is, where it was written, and its digits (a mobile without its
    country prefix, a landline in its national 0xx form, an ID card with its X)."""

    kind: str  # "mobile", "landline", "id_card" or "bank_card"
    start: int
    end: int
    digits: str

    @property
    def masked(self) -> str:
        """What is written in its place: a phone as the read-backs show it (138****4567); only the last four
        of an ID or a bank card, which is what people check them by."""
        if self.kind in ("mobile", "landline"):
            return mask_phone(self.digits)
        return "*" * (len(self.digits) - 4) + self.digits[-4:]


@dataclass(frozen=True)
class _Digit:
    """One digit as written: where, its value, its script, and how many separators came before it."""

    at: int
    value: str  # "0"-"9", or "X" (the check character of an ID card)
    script: str  # "arabic", "chinese" or "check"
    gap: int  # separator characters between this digit and the previous one of its run


@lru_cache(maxsize=8192)
def _character(char: str) -> tuple[str, str, str]:
    """How one character is read: (role, digit, script). Roles: "digit", "space", "separator", "x",
    "transparent" and "other". Cached: a long log line is mostly the same few characters."""
    if char in _CHINESE_DIGITS:
        return "digit", _CHINESE_DIGITS[char], "chinese"
    category = unicodedata.category(char)
    if category == "Nd":  # full-width and other scripts' digits too
        return "digit", str(unicodedata.decimal(char)), "arabic"
    if char in _CIRCLED:
        return "digit", unicodedata.normalize("NFKC", char), "arabic"
    if category == "Cf":  # zero-width (U+200B-U+200D, U+2060, U+FEFF) and other invisible characters
        return "transparent", "", ""
    text = unicodedata.normalize("NFKC", char)
    if text in ("X", "x"):
        return "x", "X", "check"
    if text.isspace():
        return "space", "", ""
    if text and text not in _NOT_SEPARATORS and all(unicodedata.category(c).startswith("P") for c in text):
        return "separator", "", ""
    return "other", "", ""


def _ends_a_word(text: str, at: int) -> bool:
    """Whether no ASCII letter or digit follows: an X so placed is an ID card's check character, not the x
    of 3x5 or of a word. Invisible characters (read as absent) are skipped; Chinese may follow (…123X号)."""
    after = next((c for c in text[at + 1:] if _character(c)[0] != "transparent"), "")
    role, _, _ = _character(after) if after else ("other", "", "")
    letter = unicodedata.normalize("NFKC", after)
    return role != "digit" and not (letter.isascii() and letter.isalnum())


def _gap(punctuation: int, spaced: bool) -> int:
    """How wide a gap between two digits counts: each punctuation mark, and any amount of whitespace as one
    (so 138 - 8123 - 4567 and a double space still hold a number together)."""
    return punctuation + spaced


def _runs(text: str) -> Iterator[list[_Digit]]:
    """The text's runs of digits: digits with at most two separators between neighbours."""
    run: list[_Digit] = []
    punctuation, spaced = 0, False
    for at, char in enumerate(text):
        role, value, script = _character(char)
        if role == "transparent":
            continue
        if role == "x" and not (run and _ends_a_word(text, at)):
            role = "other"
        if role in ("digit", "x"):
            run.append(_Digit(at, value, script, _gap(punctuation, spaced) if run else 0))
            punctuation, spaced = 0, False
            continue
        wider = punctuation + (role == "separator"), spaced or role == "space"
        if run and role in ("space", "separator") and _gap(*wider) <= _MAX_GAP:
            punctuation, spaced = wider
        elif run:
            yield run
            run, punctuation, spaced = [], 0, False
    if run:
        yield run


def _boundaries(run: list[_Digit]) -> list[int]:
    """Where a number may begin or end in a run: at its ends, at a gap, and where the writer switched
    between Arabic and Chinese digits (我13881234567一直打不通: the 一 is a word, not a twelfth digit)."""
    inner = [i for i in range(1, len(run)) if run[i].gap or run[i].script != run[i - 1].script]
    return [0, *inner, len(run)]


def _ends(run: list[_Digit], bounds: list[int]) -> list[int]:
    """Where a number may end: at a boundary, or after any Chinese digit, since the Chinese word that
    follows a dictated number may itself start with a numeral (幺三八…七一直打不通)."""
    return sorted(set(bounds) | {i for i in range(1, len(run)) if run[i - 1].script == "chinese"})


def _groups(digits: list[_Digit]) -> list[int]:
    """The sizes of the groups the writer typed (138 8123 4567 → 3, 4, 4)."""
    sizes = [0]
    for i, digit in enumerate(digits):
        if i and digit.gap:
            sizes.append(0)
        sizes[-1] += 1
    return sizes


def _grouped_like_a_number(sizes: list[int], last_may_be_short: bool = False) -> bool:
    """Numbers are typed whole, digit by digit, or in groups of three or more (a card's last group may be
    shorter: 6222 0212 3456 7890 12). Groups of two are dates, times and coordinates (08-15 13:45,
    30.6598,104.0657), so no number is read out of them."""
    middle = sizes[:-1] if last_may_be_short else sizes
    return len(sizes) == 1 or all(s == 1 for s in sizes) or all(s >= 3 for s in middle)


def _without_prefix(sizes: list[int], prefix: int) -> list[int]:
    """The group sizes after a country prefix typed as groups of its own (+86 138…, 0086 138…)."""
    total = 0
    for k, size in enumerate(sizes):
        if total == prefix:
            return sizes[k:]
        total += size
    return sizes


def _mobile(digits: str, sizes: list[int]) -> str | None:
    """A mainland mobile (1[3-9] and 9 more, after +86 / 0086 / 86), as its 11 digits."""
    match = _MOBILE.fullmatch(digits)
    if match is None:
        return None
    prefix = len(match["country"] or "")
    return match["number"] if _grouped_like_a_number(_without_prefix(sizes, prefix)) else None


def _landline(digits: str, sizes: list[int]) -> str | None:
    """A landline with its area code (028-85123456, 0826-2345678, +86 28 8512 3456), as 0xx…"""
    match = _LANDLINE.fullmatch(digits)
    if match is None:
        return None
    sizes = _without_prefix(sizes, len(match["country"] or ""))
    area = len(match["trunk"] or "") + len(match["area"])
    if not (_grouped_like_a_number(sizes) or (sizes[0] == area and all(s >= 3 for s in sizes[1:]))):
        return None
    return "0" + match["area"] + match["local"]


def _id_card(digits: str, sizes: list[int]) -> str | None:
    """An 18-digit 身份证 number: a province, a real birth date and the GB 11643 check character."""
    if _ID_CARD.fullmatch(digits) is None or int(digits[:2]) not in _PROVINCES:
        return None
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None
    check = "10X98765432"[sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS, strict=False)) % 11]
    grouped = _grouped_like_a_number(sizes, last_may_be_short=True)
    return digits if 1900 <= born.year <= 2100 and digits[17] == check and grouped else None


def _luhn(digits: str) -> bool:
    """The Luhn check every bank card number carries in its last digit."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _bank_card(digits: str, sizes: list[int]) -> str | None:
    """A 16-19 digit bank card number (UnionPay 62…, Visa, Mastercard, old 9… cards) that passes Luhn."""
    if _BANK_CARD.fullmatch(digits) is None or not _luhn(digits):
        return None
    return digits if _grouped_like_a_number(sizes, last_may_be_short=True) else None


_KINDS = (("id_card", _id_card), ("bank_card", _bank_card), ("mobile", _mobile), ("landline", _landline))


def _read(digits: list[_Digit]) -> tuple[str, str] | None:
    """What a stretch of digits is (kind, normalized digits), or None."""
    text, sizes = "".join(d.value for d in digits), _groups(digits)
    for kind, reader in _KINDS:
        found = reader(text, sizes)
        if found is not None:
            return kind, found
    return None


def _widened(text: str, start: int, end: int) -> int:
    """Where the masked stretch starts: the + of +86 and an opening bracket closed inside the number
    ((028)8512…, （+86）138…) go with it, so no stray half of it is left."""
    while start > 0:
        before = unicodedata.normalize("NFKC", text[start - 1])
        if before == "+" or (before in "([{" and ")]}"["([{".index(before)] in
                             unicodedata.normalize("NFKC", text[start:end])):
            start -= 1
        else:
            break
    return start


def _in_run(text: str, run: list[_Digit]) -> Iterator[PersonalNumber]:
    """The numbers in one run, left to right, the longest reading at each place a number may begin."""
    bounds = _boundaries(run)
    ends = _ends(run, bounds)
    start = 0
    while start < len(run):
        best = None
        for end in (e for e in ends if e > start):
            if end - start > _MAX_DIGITS:
                break
            read = _read(run[start:end]) if end - start >= _MIN_DIGITS else None
            best = (end, read) if read is not None else best
        if best is None:
            start = next(b for b in bounds if b > start)
            continue
        end, (kind, digits) = best
        first, last = run[start].at, run[end - 1].at + 1
        yield PersonalNumber(kind, _widened(text, first, last), last, digits)
        start = end


def find_personal_numbers(text: str) -> list[PersonalNumber]:
    """Every mobile, landline, 身份证 and bank card number in the text, in order."""
    if len(_MAYBE_DIGIT.findall(text)) < _MIN_DIGITS:  # most messages and log lines: nothing to look at
        return []
    return [number for run in _runs(text) if len(run) >= _MIN_DIGITS for number in _in_run(text, run)]


def mask_personal_numbers(text: str) -> tuple[str, list[PersonalNumber]]:
    """The text with every personal number masked in place (the words around it untouched), and them."""
    found = find_personal_numbers(text)
    for number in reversed(found):
        text = text[:number.start] + number.masked + text[number.end:]
    return text, found


def mask_phones(text: str) -> tuple[str, list[str]]:
    """The text with every personal number masked (mobiles as 138****4567), and the mobile numbers found,
    11 digits each, in order: those the exchange would accept, so registration can take the real one."""
    masked, found = mask_personal_numbers(text)
    phones = [n.digits for n in found if n.kind == "mobile" and mainland_mobile(n.digits) is not None]
    return masked, phones


def redact(text: str) -> str:
    """A log line fit to be kept: personal numbers, labelled names and bot tokens masked."""
    text = _BOT_TOKEN.sub("<bot-token>", mask_phones(text)[0])
    return _LABELLED_NAME.sub(lambda m: m["label"] + m["sep"] + mask_name(m["value"]), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record once, message and traceback, before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed logging call: the handler reports it as it always does
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default), once.

    On the handlers, not the logger: a logger's own filters never see the records its children propagate.
    """
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
