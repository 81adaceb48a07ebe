"""What a farmer's description of signs suggests: 小猪拉黄色稀屎 → 仔猪黄痢, 鸡拉绿粪 → 新城疫.

Farmers describe what they see; the experts who can help name the diseases and problems behind it.
``exchange/knowledge/symptom_problems.tsv`` holds reviewed veterinary and agronomic facts, one row per
(crop or animal, signs): a regular expression over the normalized need, and the problems those signs
suggest for that crop or animal. The same signs mean different things on a pig and on a chicken (a
green dropping is Newcastle disease in poultry, nothing in particular in a pig), so a row applies only
to a need about its crops or animals, or a kind of them (``subjects.kinship``); a row naming none
applies to every need (根上长疙瘩 is a root-knot sign whatever the crop).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from exchange.matching.evidence import homophone_fixes
from exchange.matching.knowledge import KNOWLEDGE_DIR
from exchange.matching.normalize import normalize
from exchange.matching.subjects import KIN, is_open_question, kinship, things_in

SIGNS_FILE = KNOWLEDGE_DIR / "symptom_problems.tsv"


@dataclass(frozen=True)
class Signs:
    """One row: for these crops or animals (empty: any), signs matching ``pattern`` suggest ``problems``."""

    subjects: frozenset[str]
    pattern: re.Pattern[str]
    problems: tuple[str, ...]

    def applies_to(self, subjects: frozenset[str]) -> bool:
        """Whether the row is about the need's crop or animal, or a kind of it (鸡 for a 家禽 row)."""
        return not self.subjects or any(kinship(need, own) >= KIN for need in subjects for own in self.subjects)


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split("|") if part.strip()]


@lru_cache(maxsize=1)
def signs() -> tuple[Signs, ...]:
    """The reviewed rows; a row whose pattern does not compile, or that suggests nothing, is refused loudly."""
    if not SIGNS_FILE.exists():
        return ()
    rows: list[Signs] = []
    with SIGNS_FILE.open(encoding="utf-8", newline="") as stream:
        for number, row in enumerate(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            problems = tuple(_split(row.get("problems")))
            try:
                pattern = re.compile(row.get("signs") or "")
            except re.error as error:
                raise ValueError(f"{SIGNS_FILE.name}:{number}: bad pattern ({error})") from error
            if not problems or not pattern.pattern:
                raise ValueError(f"{SIGNS_FILE.name}:{number}: a row needs signs and problems")
            rows.append(Signs(frozenset(_split(row.get("subjects"))), pattern, problems))
    return tuple(rows)


# What a question that names nothing and asks what is wrong calls for ("看哈这个叶子咋个了", a photo's
# "这是啥子", "急！这咋整 看图"): someone who diagnoses, the lab or the photo-recognition tool, or who
# teaches to tell pests and diseases apart (识虫、查病).
DIAGNOSIS = ("病害诊断", "病原鉴定", "识病", "病虫识别")


def suggested_problems(text: str, subjects: frozenset[str]) -> list[str]:
    """The problems the need's signs suggest for its crops or animals, in file order, without repeats;
    diagnosis for an open question about nothing named."""
    normalized = normalize(text)
    meant = _as_meant(normalized)
    found: dict[str, None] = {}
    for row in signs():
        if row.applies_to(subjects) and (row.pattern.search(normalized) or row.pattern.search(meant)):
            found.update(dict.fromkeys(row.problems))
    if set(found) <= set(DIAGNOSIS) and (found or is_open_question(normalized)) and not things_in(normalized):
        # "这是啥病" names nothing to narrow it: all who diagnose, the 识虫查病 teacher too
        found.update(dict.fromkeys(DIAGNOSIS))
    return list(found)


def _as_meant(normalized: str) -> str:
    """The text with each word typed by sound written as meant (羊子拉希 → 羊子拉稀): the sign rows are
    patterns of the right words. Read beside the text as written, never instead: a wrong guess (黄水 →
    换水) may add a suggestion, never take one away."""
    for written, meant in homophone_fixes(normalized):
        if len(written) == len(meant):
            normalized = normalized.replace(written, meant)
    return normalized
