"""Project-wide promises: the shared taxonomy copy, the documented configuration, the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from common.database import open_engine
from exchange.models import Base
from kejibang.settings import PROJECT_ROOT, VARIABLES, Settings, markdown_table

SHARED_TAXONOMY = PROJECT_ROOT.parent / "shared" / "taxonomy" / "domains.yml"


@pytest.mark.skipif(not SHARED_TAXONOMY.exists(), reason="no ../shared/ beside this clone (a user's clone)")
def test_the_taxonomy_copy_is_identical_to_the_shared_one():
    ours = PROJECT_ROOT / "exchange" / "knowledge" / "domains.yml"
    assert ours.read_bytes() == SHARED_TAXONOMY.read_bytes()


def test_the_readme_lists_every_variable_exactly_as_the_code_reads_it():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README's configuration table is out of date: paste `kejibang admin config`"
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    for variable in VARIABLES:
        assert f"{variable.name}=" in example


def test_defaults_are_safe_and_local(monkeypatch):
    for variable in VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    settings = Settings.from_env()
    assert settings.exchange_url == "" and settings.rasa_urls == () and settings.telegram_token == ""
    assert settings.exchange_db.startswith("sqlite:///") and settings.assistant_db.startswith("sqlite:///")
    assert settings.actions_url == "", "the custom actions run inside kejibang run"


@pytest.mark.parametrize("store", ["exchange", "store"])
def test_migrations_build_exactly_the_schema_of_the_models(tmp_path: Path, store: str):
    from common.database import migrate
    from exchange.database import MIGRATIONS
    from store.database import MIGRATIONS as STORE_MIGRATIONS
    from store.models import Base as StoreBase

    migrations, metadata = (MIGRATIONS, Base.metadata) if store == "exchange" else (STORE_MIGRATIONS, StoreBase.metadata)
    engine = open_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    migrate(engine, migrations)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": "store_alembic_version"}
                                             if store == "store" else {})
        differences = compare_metadata(context, metadata)
    assert differences == []
