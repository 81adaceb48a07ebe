"""Checks on what people tell the exchange about themselves: phone, role, township, consent."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from exchange.errors import InputRejected
from exchange.gazetteer import Place, township_answer
from exchange.limits import storable

ROLES = ("农户", "家庭农场", "合作社", "小微企业", "专家", "其他")
_DIGITS = re.compile(r"\D+")


def mainland_mobile(raw: str) -> str | None:
    """The 11-digit mainland mobile number in a messy answer (full-width digits, spaces, +86), or None."""
    text = unicodedata.normalize("NFKC", raw or "")
    digits = _DIGITS.sub("", text)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1"):
        return None
    number = phonenumbers.parse(digits, "CN")
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return digits


def mask_phone(phone: str) -> str:
    """138****5678: what logs, read-backs and other people see."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_name(name: str) -> str:
    """张** : enough to recognise, not enough to identify."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def checked_name(raw: str) -> str:
    """A person's name: 1-50 characters after trimming."""
    name = " ".join((raw or "").split())
    if not name or len(name) > 50:
        raise InputRejected("invalid_name", "姓名应为 1 到 50 个字")
    return storable(name, "name", "姓名")


def checked_phone(raw: str) -> str:
    """A valid mainland mobile, or an InputRejected that says so in Chinese."""
    phone = mainland_mobile(raw)
    if phone is None:
        raise InputRejected("invalid_phone", "手机号码不对，请填 11 位大陆手机号")
    return phone


def checked_role(raw: str) -> str:
    """One of the exchange's roles."""
    if raw not in ROLES:
        raise InputRejected("invalid_role", "身份应为：" + "、".join(ROLES))
    return raw


def checked_township(raw: str) -> Place:
    """A township of Sichuan, resolved through the gazetteer (county context may be needed).

    A former township (merged since 2019) is accepted under its county: its code is the county's.
    """
    answer = township_answer(raw or "")
    if answer.place is not None and answer.place.township_code:
        return answer.place
    if answer.place is not None and answer.former:
        county = answer.place
        return Place(county.city, county.county, answer.former, county.city_code, county.county_code,
                     county.county_code)
    raise InputRejected("invalid_township", "没有找到这个乡镇，请写上县名和乡镇名，例如：岳池县坪滩镇")
