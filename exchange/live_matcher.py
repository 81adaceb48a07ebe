"""The exchange's matcher, kept current with its database without rebuilding it on the serving path.

- **Start:** the index saved beside the database (``exchange.matching.snapshot``) is loaded with each
  row's ``updated_at`` at save time; rows changed since are read and indexed as a delta, so a warm
  start reads only ``(id, updated_at)`` of every row. With no usable file (first start, or the
  gazetteer, dictionary or matcher code changed) the index is built whole and saved.
- **Changes:** when the content stamp moves, the rows whose ``updated_at`` changed are read and the
  profiles that really changed (not an availability switch) are indexed in a small delta searched
  beside the whole index; removed ids are masked. An imported expert is searchable in milliseconds
  (plus one ``(id, updated_at)`` scan: ~0.3 s at 250,000 experts).
- **Merge:** past ``MERGE_AT`` delta profiles (or a bulk change past ``MAX_DELTA``, which is then only
  masked, not indexed, until the merge) a background thread builds the whole index again, saves it
  and swaps it in; the old one answers meanwhile. Until then the delta is weighed with the whole
  index's BM25 statistics and domain model, which drift slightly from a fresh build's.

The rebuild thread shares the interpreter lock with the serving threads (jieba is pure Python):
matches stay correct while it runs, only slower on a busy core.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session

from common.database import Database
from exchange.matching import snapshot
from exchange.matching.matcher import Changes, Matcher, Profile
from exchange.models import Article, Expert

# More changed profiles than this at once (a bulk import) are left to the background rebuild: indexing
# them on the serving path would stall matching for seconds.
MAX_DELTA = 5_000
# A delta this large is merged into a fresh whole index in the background.
MERGE_AT = 1_000
_IN_CHUNK = 500
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_EXPERT_COLUMNS = (Expert.id, Expert.title, Expert.organization, Expert.expertise, Expert.domains, Expert.region,
                   Expert.serves, Expert.updated_at)
_ARTICLE_COLUMNS = (Article.id, Article.title, Article.summary, Article.tags, Article.body, Article.domains,
                    Article.updated_at)

log = logging.getLogger(__name__)


def snapshot_path(database_url: str) -> Path | None:
    """Where the index of a database is saved: beside an SQLite file, else under KEJIBANG_VAR_DIR/matcher/
    (named by the URL without its password); None for an in-memory database."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        if not url.database or url.database == ":memory:":
            return None
        database = Path(url.database)
        return database.with_name(f"{database.name}.matcher.npz")
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    var_dir = Path(os.environ.get("KEJIBANG_VAR_DIR", "").strip() or "var")
    var_dir = var_dir if var_dir.is_absolute() else _PROJECT_ROOT / var_dir
    return var_dir / "matcher" / f"{url.database or 'exchange'}-{key}.npz"


def expert_profile(row) -> Profile:
    """What the matcher reads of an expert: title, organization and expertise."""
    return Profile(row.id, f"{row.title} {row.organization} {row.expertise}", tuple(row.domains), row.region)


def article_profile(row) -> Profile:
    """What the matcher reads of an article: title, summary, tags and the body's beginning."""
    return Profile(row.id, f"{row.title} {row.summary} {' '.join(row.tags)} {row.body[:500]}", tuple(row.domains))


@dataclass
class _Content:
    """Profiles read from the database, with each row's ``updated_at`` and the experts' served places."""

    experts: list[Profile] = field(default_factory=list)
    articles: list[Profile] = field(default_factory=list)
    stamps: dict[str, dict[str, str]] = field(default_factory=lambda: {"experts": {}, "articles": {}})
    serves: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add_experts(self, rows: Iterable) -> None:
        for row in rows:
            self.experts.append(expert_profile(row))
            self.stamps["experts"][row.id] = _stamp(row.updated_at)
            self.serves[row.id] = tuple(row.serves or ())

    def add_articles(self, rows: Iterable) -> None:
        for row in rows:
            self.articles.append(article_profile(row))
            self.stamps["articles"][row.id] = _stamp(row.updated_at)


def _read_all(session: Session) -> _Content:
    content = _Content()
    content.add_experts(session.execute(select(*_EXPERT_COLUMNS).order_by(Expert.id)))
    content.add_articles(session.execute(select(*_ARTICLE_COLUMNS).order_by(Article.id)))
    return content


def _stamp(updated_at: datetime) -> str:
    """A row's ``updated_at`` as compared and saved (only ever compared for equality)."""
    return updated_at.isoformat()


def _read_stamps(session: Session) -> dict[str, dict[str, str]]:
    return {kind: {row_id: _stamp(at) for row_id, at in session.execute(select(model.id, model.updated_at))}
            for kind, model in (("experts", Expert), ("articles", Article))}


def _read_rows(session: Session, experts: list[str], articles: list[str]) -> _Content:
    content = _Content()
    for start in range(0, len(experts), _IN_CHUNK):
        content.add_experts(session.execute(select(*_EXPERT_COLUMNS)
                                            .where(Expert.id.in_(experts[start:start + _IN_CHUNK]))))
    for start in range(0, len(articles), _IN_CHUNK):
        content.add_articles(session.execute(select(*_ARTICLE_COLUMNS)
                                             .where(Article.id.in_(articles[start:start + _IN_CHUNK]))))
    return content


class LiveMatcher:
    """The matcher of one exchange database: loaded or built once, then changed by deltas and merges."""

    def __init__(self, db: Database, path: Path | None) -> None:
        self._db = db
        self._path = path
        self._matcher: Matcher | None = None
        self._stamps: dict[str, dict[str, str]] = {}  # kind → id → updated_at of the rows indexed
        self.serves: dict[str, tuple[str, ...]] = {}  # experts who serve only some places → those places
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None
        self._closed = False
        self.whole_builds = 0  # whole indexes built by this process (the costly part: tokenising everything)

    @property
    def matcher(self) -> Matcher | None:
        """The index answering now (None before the first ``refresh``)."""
        return self._matcher

    def _built(self) -> Matcher:
        """The index, once built (what changes is indexed only after the first build)."""
        if self._matcher is None:
            raise RuntimeError("the index is not built yet")
        return self._matcher

    def refresh(self, session: Session) -> None:
        """Bring the index up to the database: load or build it on first use, then index what changed."""
        with self._lock:
            if self._matcher is None:
                self._start(session)
            else:
                self._catch_up(session)

    def close(self) -> None:
        """A rebuild still running is dropped when it ends (its database is closing)."""
        self._closed = True

    def wait_for_rebuild(self, timeout: float | None = None) -> bool:
        """Wait for a background rebuild (benchmarks and tests); True when none is running any more."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _start(self, session: Session) -> None:
        """Load the saved index and index the rows changed since it was saved; or build it whole."""
        stored = snapshot.load(self._path) if self._path else None
        if stored is None:
            content = _read_all(session)
            self._matcher = self._build(content)
            self._stamps, self.serves = content.stamps, _limited(content.serves)
            return
        self._matcher, saved = stored
        self._stamps = saved["stamps"]
        self.serves = {expert: tuple(places) for expert, places in saved["serves"].items()}
        self._catch_up(session)

    def _build(self, content: _Content) -> Matcher:
        """A whole index of the content, saved for the next start."""
        matcher = Matcher(content.experts, content.articles)
        self.whole_builds += 1
        if self._path is not None:
            try:
                snapshot.save(matcher, self._path, {"stamps": content.stamps, "serves": _limited(content.serves)})
            except OSError as error:
                log.warning("matcher index not saved to %s (%s): the next start builds it again", self._path, error)
        return matcher

    def _catch_up(self, session: Session) -> None:
        """Index the rows whose ``updated_at`` moved, mask removed ones (called under the lock)."""
        stamps = _read_stamps(session)
        moved = {kind: [i for i, at in stamps[kind].items() if self._stamps[kind].get(i) != at] for kind in stamps}
        removed = {kind: frozenset(self._stamps[kind].keys() - stamps[kind].keys()) for kind in stamps}
        rows = _read_rows(session, moved["experts"], moved["articles"])
        self._apply((_edits(self._built().experts, rows.experts, removed["experts"]),
                     _edits(self._built().articles, rows.articles, removed["articles"])))
        self._stamps = stamps
        self.serves = _limited({**{e: s for e, s in self.serves.items() if e not in removed["experts"]},
                                **rows.serves})

    def _apply(self, changes: tuple[Changes, Changes]) -> None:
        """Index changes as a delta, or (a bulk change) mask removals and rebuild in the background."""
        experts, articles = changes
        if len(experts.upserts) + len(articles.upserts) > MAX_DELTA:
            experts, articles = Changes(removed=experts.removed), Changes(removed=articles.removed)
            self._rebuild_in_background()
        self._matcher = self._built().with_changes(experts, articles)
        if self._matcher.pending > MERGE_AT:
            self._rebuild_in_background()

    def _rebuild_in_background(self) -> None:
        """Start a whole rebuild unless one is under way (one finishing may start the next: changes that
        arrived while it built can be another bulk import)."""
        current = self._rebuilding
        if current is None or not current.is_alive() or current is threading.current_thread():
            self._rebuilding = threading.Thread(target=self._rebuild, name="matcher-rebuild", daemon=True)
            self._rebuilding.start()

    def _rebuild(self) -> None:
        """Build the whole index off the serving path, swap it in, then index what changed meanwhile."""
        try:
            with self._db.transaction() as session:
                content = _read_all(session)
            matcher = self._build(content)
            with self._lock, self._db.transaction() as session:
                if self._closed:
                    return
                self._matcher, self._stamps, self.serves = matcher, content.stamps, _limited(content.serves)
                self._catch_up(session)
        except Exception:
            log.exception("matcher rebuild failed: the current index keeps answering")


def _edits(collection, profiles: list[Profile], removed: frozenset[str]) -> Changes:
    """The profiles that differ from what the index holds (a row touched only for availability does not)."""
    return Changes(tuple(p for p in profiles if collection.profile(p.id) != p), removed)


def _limited(serves: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Only the experts who limit where they serve (an empty list: everywhere)."""
    return {expert: places for expert, places in serves.items() if places}
