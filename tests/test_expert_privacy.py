"""Issue #12 A: an expert's private fields never leave the exchange through a public read.

An expert imported with a phone, ``share_contact: false``, a home address and an id-card number got all
four back from ``GET /v1/experts/{id}``, ``?q=`` and ``?domain=pig&top=50`` with no key. Public reads now
return the contract's allow-list only (shared/contracts §1); the operator's key (the keyed client, or
``operator=True`` in-process) still sees everything, and a contact request shows the expert's phone only
with the expert's consent. Every transport and both databases.
"""

from __future__ import annotations

import json

import pytest
import requests
import sqlalchemy

from common.database import open_engine
from exchange.database import MIGRATIONS
from exchange.service import ExchangeService
from tests.conftest import API_KEY, ServerThread

PUBLIC = {"id", "name", "title", "organization", "domains", "expertise", "region"}
SECRETS = {"phone": "13912345678", "wechat": "wx-zhang-99", "email": "zhang@example.cn",
           "home_address": "岳池县坪滩镇幸福村3组18号", "id_card": "511621197001011234"}
EXPERT = {"id": "e-private-1", "name": "张保密", "title": "兽医师", "organization": "岳池县畜牧站", "domains": ["pig"],
          "expertise": "猪瘟防控，母猪难产助产，仔猪腹泻诊治", "region": "四川省广安市岳池县",
          "share_contact": False, **SECRETS}
SEARCH_SCORES = {"score", "reason"}


def _no_secret_in(payload: object) -> None:
    text = json.dumps(payload, ensure_ascii=False)
    for field, value in SECRETS.items():
        assert value not in text, f"{field} leaked"
    assert "share_contact" not in text


@pytest.fixture
def imported(exchange):
    exchange.import_records("experts", [EXPERT])
    return exchange


def test_public_reads_return_only_the_contracts_fields(imported):
    expert = imported.get_expert(EXPERT["id"])
    assert set(expert) == PUBLIC and expert["name"] == "张保密"
    found = imported.search_experts("猪瘟 母猪难产", top=50)
    by_domain = imported.search_experts(domain="pig", top=50)
    assert EXPERT["id"] in [e["id"] for e in found] and EXPERT["id"] in [e["id"] for e in by_domain]
    for listed in found + by_domain:
        assert set(listed) <= PUBLIC | SEARCH_SCORES
    _no_secret_in([expert, found, by_domain])


def test_the_operator_still_sees_every_field(imported):
    expert = imported.get_expert(EXPERT["id"], operator=True)
    assert {k: expert[k] for k in SECRETS} == SECRETS and expert["share_contact"] is False
    assert expert["accepting"] is True and expert["capacity"] == 10, "what the expert desk shows (/mine)"
    [listed] = [e for e in imported.search_experts(domain="pig", top=50, operator=True) if e["id"] == EXPERT["id"]]
    assert listed["home_address"] == SECRETS["home_address"]


def test_the_experts_phone_reaches_a_farmer_only_with_the_experts_consent(imported):
    need = imported.create_need({"text": "母猪难产怎么办", "region": "岳池县坪滩镇"})
    hidden = imported.request_contact(need["id"], EXPERT["id"])
    assert hidden["expert"]["phone"] is None
    _no_secret_in(hidden)
    imported.import_records("experts", [{**EXPERT, "share_contact": True}])
    other = imported.create_need({"text": "仔猪拉稀", "region": "岳池县坪滩镇"})
    shown = imported.request_contact(other["id"], EXPERT["id"])
    assert shown["expert"]["phone"] == SECRETS["phone"]


@pytest.mark.asyncio
async def test_the_expert_desk_still_shows_an_expert_their_availability(imported, tmp_path):
    """/mine reads accepting and capacity, which are not public: the desk asks for the operator's view."""
    from desks.experts import ExpertDesk
    from store.database import store_database
    from store.expert_cases import ExpertCases
    from store.handoffs import Handoffs
    from store.photos import NeedPhotos
    from store.roles import Roles
    from tests.support.reliability import RecordingOutbound

    db = store_database(f"sqlite:///{tmp_path / 'assistant.db'}")
    roles = Roles(db)
    code, _ = roles.issue("expert", expert_id=EXPERT["id"])
    assert roles.redeem("telegram:501", code)
    desk = ExpertDesk(ExpertCases(db), imported, roles, Handoffs(db), NeedPhotos(db), RecordingOutbound())
    [mine] = await desk.mine("telegram:501")
    assert "正在接收新需求（最多同时 10 个）" in mine.text
    await desk.pause("telegram:501")
    [paused] = await desk.mine("telegram:501")
    assert "已暂停接收新需求" in paused.text


def test_over_http_without_a_key_nothing_private_comes_back(storage_service):
    storage_service.import_records("experts", [EXPERT])
    server = ServerThread(storage_service).start()
    try:
        base = server.url + "/v1/experts"
        answers = [requests.get(f"{base}/{EXPERT['id']}", timeout=5),
                   requests.get(base, params={"q": "猪瘟 母猪难产"}, timeout=5),
                   requests.get(base, params={"domain": "pig", "top": 50}, timeout=5)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert set(answers[0].json()) == PUBLIC
        _no_secret_in([a.json() for a in answers])
        keyed = requests.get(f"{base}/{EXPERT['id']}", headers={"X-API-Key": API_KEY}, timeout=5).json()
        assert keyed["id_card"] == SECRETS["id_card"]
        wrong = requests.get(f"{base}/{EXPERT['id']}", headers={"X-API-Key": "wrong"}, timeout=5)
        assert wrong.status_code == 401, "a wrong key is told so, not silently given the public view"
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path) -> str:
    """An empty database on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("postgres_url")


def test_contacts_in_the_extra_fields_move_to_their_own_columns_on_upgrade(empty_database):
    """A database imported before the contact columns existed: the upgrade moves them out of ``extra``."""
    engine = open_engine(empty_database)
    _migrate(engine, "0004")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "INSERT INTO experts (id, name, title, organization, domains, expertise, region, extra, accepting,"
            " capacity, serves, updated_at) VALUES ('e-old', '老专家', '', '', '[\"pig\"]', '猪病', '',"
            " :extra, true, 10, '[]', CURRENT_TIMESTAMP)"),
            {"extra": json.dumps({**SECRETS, "share_contact": True})})
    engine.dispose()
    service = ExchangeService(empty_database)
    try:
        assert service.get_expert("e-old", operator=True)["phone"] == SECRETS["phone"]
        assert set(service.get_expert("e-old")) == PUBLIC
        with service.db.transaction() as session:
            extra, phone, shared = session.execute(sqlalchemy.text(
                "SELECT extra, phone, share_contact FROM experts WHERE id = 'e-old'")).one()
        extra = json.loads(extra) if isinstance(extra, str) else extra
        assert (phone, bool(shared)) == (SECRETS["phone"], True)
        assert set(extra) == {"home_address", "id_card"}
    finally:
        service.close()


def _migrate(engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
