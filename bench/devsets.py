"""The dev sets the benchmarks read, and the rules for scoring them.

``bench/data/farmer_dev/*.jsonl``: questions written the way farmers write on agricultural Q&A
sites and in WeChat groups (polite wraps, pests and drugs, mixing and dosage, case histories,
regional names, content-free photo captions, status questions in many wordings), by other hands
than the training data and kept out of it (``tests/test_nlu_data.py``). Each line carries the gold
intent, domains, subject, the 1-3 experts that fit best and the articles that fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data"
FARMER_DEV = DATA / "farmer_dev"
# A second set by yet another hand, written after the tuning was done and never used for it: its
# figures are the honest ones (the first set's are optimistic, its weights were chosen on it).
FARMER_HOLDOUT = DATA / "farmer_holdout"
# A third, by a helper session that saw neither the training data nor the other sets, covering every
# intent (no expert or article gold): read-as-need and intent figures only, never tuned on.
FARMER_FRESH = DATA / "farmer_fresh"
# A fourth, by another helper that saw no training data, no other set and no matcher knowledge, written
# on 2026-12-07 before that day's matcher changes were measured on it: needs with expert and article gold
# and the other intents. The honest figure for every change made after it.
FARMER_UNSEEN = DATA / "farmer_unseen"
# A fifth, written on 2026-12-07 by a helper that likewise saw nothing of the project's knowledge, to be read:
# its misses showed what the matcher did not know (new crops, animals, everyday words). Tuned on, so its
# figures after that day are optimistic; "unseen" stays the honest one.
FARMER_TUNE = DATA / "farmer_tune"
# A sixth, written on 2026-12-07 (evening) by a helper that saw nothing of the project's knowledge, in the
# shapes the others lack: speech-to-text without punctuation, pinyin typos in crop and pest names, very short
# messages, senders from every region, co-ops and small firms, rambling messages. Read and tuned on.
FARMER_TUNE2 = DATA / "farmer_tune2"
# A seventh, written on 2026-12-07 (evening) by a helper that saw nothing of the project's knowledge, after that
# evening's changes were made: all shapes and regions mixed as real traffic mixes them. Held out: its misses
# are never read; the honest figure for the code as it stood when it was written, beside "unseen".
FARMER_UNSEEN2 = DATA / "farmer_unseen2"
# An eighth and a ninth, written on 2026-12-07 (night) by four helpers that saw nothing of the project's knowledge,
# each set in two halves by two hands: questions as farmers post them on agricultural Q&A sites and extension apps
# (titles, long posts with varieties, doses and dates, all over China), and chat messages (dialect, speech-to-text,
# typos, very short, rambling, firms). "tune3" is read and tuned on; "unseen3", written at the same time, is held
# out: its misses are never read, and the code of the session's start was measured on it for a before/after pair.
FARMER_TUNE3 = DATA / "farmer_tune3"
FARMER_UNSEEN3 = DATA / "farmer_unseen3"
# A tenth and an eleventh, written the same night in the same two halves by four more helpers, after the changes
# made on tune3 (and asked for crops, animals, regions and writers the others used less): "tune4" to read,
# "unseen4" held out, the honest figure for the code as it stood when they were written.
FARMER_TUNE4 = DATA / "farmer_tune4"
FARMER_UNSEEN4 = DATA / "farmer_unseen4"
# A twelfth and a thirteenth, written on 2026-12-07 (late night) by four more helpers in the same two halves, after
# all the changes above: "tune5" to read, "unseen5" held out (the session's start code was measured on both).
FARMER_TUNE5 = DATA / "farmer_tune5"
FARMER_UNSEEN5 = DATA / "farmer_unseen5"
# A fourteenth and a fifteenth, written on 2026-12-08 by four more helpers in the same two halves, after all the
# changes above and asked to spread subjects over everything the sample experts cover: "tune6" to read, "unseen6"
# held out (the session's start code was measured on both).
FARMER_TUNE6 = DATA / "farmer_tune6"
FARMER_UNSEEN6 = DATA / "farmer_unseen6"
# A sixteenth and a seventeenth, written on 2026-12-08 by two more helpers, mostly of the other intents (100 each:
# status, thanks, 科普, help, chit-chat, a person, registering, subscribing, deleting, yes and no), written hard the
# way people are (naming crops, animals and places), and 40 needs each made to look like them: "tune7" to read,
# "unseen7" held out (measured on the code they were written against before anything changed for them).
FARMER_TUNE7 = DATA / "farmer_tune7"
FARMER_UNSEEN7 = DATA / "farmer_unseen7"
# An eighteenth and a nineteenth, the same brief after the tune7 changes, asked for what the obvious phrasings miss:
# several purposes in one message, indirect wordings, elders dictating, official co-op Chinese, pinyin mixed in.
FARMER_TUNE8 = DATA / "farmer_tune8"
FARMER_UNSEEN8 = DATA / "farmer_unseen8"
# A twentieth and a twenty-first, the same brief as those two, after the tune8 changes.
FARMER_TUNE9 = DATA / "farmer_tune9"
FARMER_UNSEEN9 = DATA / "farmer_unseen9"
# A twenty-second and a twenty-third, the same brief again, after the tune9 changes.
FARMER_TUNE10 = DATA / "farmer_tune10"
FARMER_UNSEEN10 = DATA / "farmer_unseen10"
# A twenty-fourth and a twenty-fifth, the same brief, after the tune10 changes.
FARMER_TUNE11 = DATA / "farmer_tune11"
FARMER_UNSEEN11 = DATA / "farmer_unseen11"
# A twenty-sixth and a twenty-seventh, the same brief, after the tune11 changes.
FARMER_TUNE12 = DATA / "farmer_tune12"
FARMER_UNSEEN12 = DATA / "farmer_unseen12"
FARMER_SETS = {"dev": FARMER_DEV, "holdout": FARMER_HOLDOUT, "fresh": FARMER_FRESH, "unseen": FARMER_UNSEEN,
               "tune": FARMER_TUNE, "tune2": FARMER_TUNE2, "unseen2": FARMER_UNSEEN2,
               "tune3": FARMER_TUNE3, "unseen3": FARMER_UNSEEN3, "tune4": FARMER_TUNE4, "unseen4": FARMER_UNSEEN4,
               "tune5": FARMER_TUNE5, "unseen5": FARMER_UNSEEN5,
               "tune6": FARMER_TUNE6, "unseen6": FARMER_UNSEEN6, "tune7": FARMER_TUNE7, "unseen7": FARMER_UNSEEN7,
               "tune8": FARMER_TUNE8, "unseen8": FARMER_UNSEEN8, "tune9": FARMER_TUNE9, "unseen9": FARMER_UNSEEN9,
               "tune10": FARMER_TUNE10, "unseen10": FARMER_UNSEEN10, "tune11": FARMER_TUNE11, "unseen11": FARMER_UNSEEN11,
               "tune12": FARMER_TUNE12, "unseen12": FARMER_UNSEEN12}
NLU_TEST = DATA / "nlu_test.yml"


@dataclass(frozen=True)
class FarmerQuestion:
    """One realistic message with its gold labels."""

    id: str
    text: str
    intent: str
    domains: tuple[str, ...]
    subject: str
    experts: tuple[str, ...]
    articles: tuple[str, ...]
    shape: str
    photo: bool


def farmer_questions(folder: Path = FARMER_DEV) -> list[FarmerQuestion]:
    """Every question of the realistic dev set, in file order."""
    questions = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                questions.append(FarmerQuestion(r["id"], r["text"], r["intent"], tuple(r.get("domains") or ()),
                                                r.get("subject") or "", tuple(r.get("experts") or ()),
                                                tuple(r.get("articles") or ()), r.get("shape", ""),
                                                bool(r.get("photo"))))
    return questions


def nlu_test_examples(path: Path = NLU_TEST) -> list[tuple[str, str]]:
    """(text, gold intent) pairs of the older test file (written in the training data's hand)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        if "intent" in block:
            for line in block["examples"].splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    pairs.append((text, block["intent"]))
    return pairs


def subject_correct(predicted: list[str], gold: str) -> bool:
    """The read-back's subject is right when it names the gold thing: the same word, one inside the
    other (母猪 for 猪 and back), or the same thing by the farmer's own name or a kind of it as the
    gazetteer knows them (海椒 for 辣椒, 沃柑 for 柑橘: the read-back shows the farmer's word, and the
    sets' writers gave standard names); with no gold subject, right when none is claimed."""
    if not gold:
        return not predicted
    return bool(predicted) and (predicted[0] in gold or gold in predicted[0] or _same_or_kind(predicted[0], gold))


def _same_or_kind(name: str, gold: str) -> bool:
    from exchange.matching.normalize import normalize
    from exchange.matching.subjects import gazetteer, lineage

    named, wanted = gazetteer().get(normalize(name)), gazetteer().get(normalize(gold))
    return named is not None and (wanted.canonical if wanted else gold) in lineage(named.canonical)
