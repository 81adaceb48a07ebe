"""The matcher's saved index: a restart reads it instead of tokenising every profile again, a change to
the knowledge or code rebuilds it, and imported or removed experts count within seconds, without a rebuild."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from exchange import live_matcher
from exchange.matching import index, knowledge, snapshot
from exchange.matching.matcher import Matcher
from exchange.models import Expert
from exchange.service import ExchangeService

NEEDS = ["猪不吃食还发烧咋个办", "辣椒叶子卷起来了，用什么药", "柑橘黄龙病怎么防", "鸡拉白色稀粪", "水稻稻瘟病",
         "我家母牛产后不起来", "茶叶采摘后怎么加工", "鱼塘水发绿鱼浮头"]
NEW_EXPERT = {"id": "e-new-1", "name": "新来的专家", "domains": ["aquaculture"], "region": "岳池县",
              "expertise": "大鲵（娃娃鱼）人工繁育、大鲵腐皮病和烂尾病的防治"}


@pytest.fixture
def database(seeded_sqlite: Path, tmp_path: Path) -> Path:
    """A copy of the seeded exchange database, without a saved index."""
    path = tmp_path / "exchange.db"
    shutil.copy(seeded_sqlite, path)
    return path


@pytest.fixture
def open_service(database: Path) -> Iterator[Callable[[], ExchangeService]]:
    """Opens services on the copy (each one a fresh process's view); all are closed afterwards."""
    opened: list[ExchangeService] = []

    def open_one() -> ExchangeService:
        opened.append(ExchangeService(f"sqlite:///{database}"))
        return opened[-1]

    yield open_one
    for service in opened:
        service.close()


@pytest.fixture
def tokenised(monkeypatch) -> list[str]:
    """Every profile text tokenised from now on."""
    texts: list[str] = []
    original = index.document_terms

    def counting(text: str):
        texts.append(text)
        return original(text)

    monkeypatch.setattr(index, "document_terms", counting)
    return texts


def answers(matcher: Matcher) -> list:
    """What the matcher says for the needs: experts, articles, scores and reasons."""
    results = [matcher.match(need, "岳池县", top=5) for need in NEEDS]
    return [(r.domains.ranked, [(e.id, e.score, e.reason) for e in r.experts],
             [(a.id, a.score, a.reason) for a in r.articles]) for r in results]


def fresh_build(service: ExchangeService) -> Matcher:
    """A whole index built from the database's content as it is now."""
    with service.db.transaction() as session:
        content = live_matcher._read_all(session)
    return Matcher(content.experts, content.articles)


def expert_ids(service: ExchangeService, text: str) -> list[str]:
    return [e.id for e in service.matcher().match(text, top=10).experts]


def test_a_restart_loads_the_saved_index_without_tokenising(open_service, database: Path, tokenised: list[str]):
    first = open_service()
    built = answers(first.matcher())
    assert snapshot.load(live_matcher.snapshot_path(f"sqlite:///{database}")) is not None
    assert database.with_name("exchange.db.matcher.npz").is_file()
    tokenised.clear()

    second = open_service()
    loaded = answers(second.matcher())
    assert tokenised == [] and second._live.whole_builds == 0
    assert loaded == built == answers(fresh_build(second))


def test_changed_knowledge_or_code_forces_a_whole_build(open_service, monkeypatch, tmp_path: Path):
    open_service().matcher()
    knowledge_copy = tmp_path / "knowledge"
    shutil.copytree(knowledge.KNOWLEDGE_DIR, knowledge_copy)
    with (knowledge_copy / "subjects.tsv").open("a", encoding="utf-8") as stream:
        stream.write("大鲵\t大鲵\tanimal\taquaculture\n")
    before = snapshot.knowledge_version()
    monkeypatch.setattr(knowledge, "KNOWLEDGE_DIR", knowledge_copy)
    snapshot.knowledge_version.cache_clear()
    try:
        assert snapshot.knowledge_version() != before  # a gazetteer row added: the saved index is stale
        restarted = open_service()
        restarted.matcher()
        assert restarted._live.whole_builds == 1
    finally:
        snapshot.knowledge_version.cache_clear()


def test_an_imported_expert_is_found_within_seconds_without_a_rebuild(open_service, tokenised: list[str]):
    service = open_service()
    service.matcher()
    importer = open_service()  # another process: `kejibang exchange import` beside a running bot
    tokenised.clear()
    started = time.monotonic()
    importer.import_records("experts", [NEW_EXPERT])
    while "e-new-1" not in expert_ids(service, "娃娃鱼烂尾巴了咋办"):
        assert time.monotonic() - started < 5, "the imported expert is not searchable after 5 s"
        time.sleep(0.1)
    assert service._live.whole_builds == 1 and len(tokenised) == 1
    assert service.search_experts("大鲵腐皮病", top=3)[0]["id"] == "e-new-1"


def test_an_edited_expert_is_found_by_the_new_text_only(open_service):
    service = open_service()
    old = service.get_expert("e-0001", operator=True)
    assert "e-0001" in expert_ids(service, old["expertise"])
    service.import_records("experts", [{**old, "expertise": NEW_EXPERT["expertise"], "domains": ["aquaculture"]}])
    assert "e-0001" in expert_ids(service, "大鲵烂尾病")
    assert "e-0001" not in expert_ids(service, old["expertise"])


def test_a_deleted_expert_is_never_returned(open_service):
    service = open_service()
    gone = service.get_expert("e-0001")
    assert "e-0001" in expert_ids(service, gone["expertise"])
    with service.db.transaction() as session:
        session.execute(delete(Expert).where(Expert.id == "e-0001"))
    service._content_stamp = None  # as after an import: check the database now rather than in a few seconds
    assert "e-0001" not in expert_ids(service, gone["expertise"])
    restarted = open_service()  # the saved index still holds it: a restart must mask it too
    assert "e-0001" not in expert_ids(restarted, gone["expertise"])
    assert restarted._live.whole_builds == 0


def test_a_merged_index_equals_a_fresh_build(open_service, monkeypatch):
    service = open_service()
    service.matcher()
    monkeypatch.setattr(live_matcher, "MERGE_AT", 0)  # the next change starts a background rebuild
    service.import_records("experts", [NEW_EXPERT])
    assert "e-new-1" in expert_ids(service, "大鲵烂尾病")  # answered from the delta while the rebuild runs
    assert service._live.wait_for_rebuild(120)
    assert service._live.whole_builds == 2 and service.matcher().pending == 0
    assert answers(service.matcher()) == answers(fresh_build(service))
    restarted = open_service()
    assert answers(restarted.matcher()) == answers(fresh_build(service)) and restarted._live.whole_builds == 0


@pytest.mark.postgres
def test_a_postgres_exchange_saves_its_index_under_the_var_folder(postgres_service, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("KEJIBANG_VAR_DIR", str(tmp_path))
    url = postgres_service.db.engine.url.render_as_string(hide_password=False)
    path = live_matcher.snapshot_path(url)
    assert path.parent == tmp_path / "matcher" and str(postgres_service.db.engine.url.password) not in path.name
    service = ExchangeService(url)
    try:
        built = answers(service.matcher())
        assert path.is_file()
    finally:
        service.close()
    restarted = ExchangeService(url)
    try:
        assert answers(restarted.matcher()) == built and restarted._live.whole_builds == 0
    finally:
        restarted.close()


def test_a_need_matched_at_its_read_back_and_again_when_posted_is_read_once(monkeypatch) -> None:
    """Reading a need's words is most of a match: the second match of the same words reuses it, with the same
    experts; a domain the farmer chose makes it another reading."""
    from exchange.matching import matcher as matching
    from exchange.matching.matcher import Profile

    experts = [Profile("pig-vet", "生猪疫病防治，猪发烧、不吃食、咳嗽的诊断", ("pig",)),
               Profile("cattle", "肉牛养殖与饲料配方", ("herbivore",))]
    matcher = Matcher(experts, [Profile("a-1", "猪发烧怎么办", ("pig",))], semantic=False)
    read: list[str] = []
    gather = matching.gather
    monkeypatch.setattr(matching, "gather", lambda text, suggested=None: read.append(text) or gather(text, suggested))
    first, second = matcher.match("我家猪发烧不吃食"), matcher.match("我家猪发烧不吃食")
    assert [e.id for e in first.experts] == [e.id for e in second.experts] and first.experts[0].id == "pig-vet"
    assert read == ["我家猪发烧不吃食"]
    matcher.match("我家猪发烧不吃食", domains=["pig"])
    assert len(read) == 2
