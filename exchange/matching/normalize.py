"""Text normalization: what the matcher reads, never what the user sees.

Villagers type traditional characters, full-width digits, emoji floods and stray spaces; the
matcher folds all of them away so that the same need always produces the same evidence.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

MAX_MATCH_CHARS = 2000
_NOISE = re.compile(r"[^\w\u4e00-\u9fff]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Simplified, half-width, lower-case text with emoji, symbols and extra spaces removed.

    Only the first ``MAX_MATCH_CHARS`` characters count: a 10,000-character paste is still matched,
    on its beginning, in bounded time.
    """
    text = unicodedata.normalize("NFKC", text[:MAX_MATCH_CHARS])
    text = _to_simplified().convert(text).lower()
    text = _NOISE.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def is_chinese(word: str) -> bool:
    """Whether every character is a Chinese one (a window of a need that could be a word of the domain)."""
    return all("\u4e00" <= c <= "\u9fff" for c in word)


CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def cjk_runs(text: str) -> list[str]:
    """The runs of Chinese characters in normalized text (where character n-grams make sense)."""
    return CJK_RUN.findall(text)
