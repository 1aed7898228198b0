"""Every service's migrations on SQLite, MariaDB and PostgreSQL, and the models they must match."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, String, inspect, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from quckchat import catalog, cli
from quckchat.catalog import Store
from quckchat.core import migrations
from quckchat.core.app import create_app
from quckchat.core.settings import Settings
from quckchat.core.sql import Database, new_metadata
from tests.support import server

SERVICES = migrations.migrated_services()


@pytest.fixture
async def db(sql_url: str) -> AsyncIterator[Database]:
    database = Database(sql_url)
    yield database
    await database.close()


def schema_of(conn: Connection) -> dict[str, Any]:
    """Tables, columns and indexes as the database reports them."""
    inspector = inspect(conn)
    return {
        table: (
            [c["name"] for c in inspector.get_columns(table)],
            sorted(i["name"] or "" for i in inspector.get_indexes(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def test_the_implemented_sql_services_all_have_migrations() -> None:
    assert "auth" in SERVICES and "audit" in SERVICES
    for service in SERVICES:
        assert migrations.head_revision(service) is not None, service
        assert migrations.version_table(service).startswith("alembic_version_")


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_reach_head_and_match_the_models(db: Database, service: str) -> None:
    assert await migrations.current_revision(db, service) is None
    await migrations.upgrade(db, service)
    assert await migrations.current_revision(db, service) == migrations.head_revision(service)

    metadata = migrations.metadata_of(service)
    assert metadata is not None

    def drift(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn,
            opts={"version_table": migrations.version_table(service), "compare_type": True},
        )
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(drift)
    assert differences == [], f"{service}: the models and the migrations disagree"


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrading_again_changes_nothing(db: Database, service: str) -> None:
    await migrations.upgrade(db, service)
    async with db.engine.connect() as conn:
        before = await conn.run_sync(schema_of)
    await migrations.upgrade(db, service)
    async with db.engine.connect() as conn:
        after = await conn.run_sync(schema_of)
        versions = (
            await conn.execute(text(f"SELECT version_num FROM {migrations.version_table(service)}"))
        ).all()
    assert after == before
    assert [row[0] for row in versions] == [migrations.head_revision(service)]


async def test_services_sharing_one_database_keep_their_own_versions(db: Database) -> None:
    for service in SERVICES:
        await migrations.upgrade(db, service)
    for service in SERVICES:
        assert await migrations.current_revision(db, service) == migrations.head_revision(service)


def test_migrate_all_creates_each_services_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUCKCHAT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUCKCHAT_DATABASE_URL", raising=False)
    assert cli.main(["migrate", "--all"]) == 0
    out = capsys.readouterr().out
    for service in SERVICES:
        path = tmp_path / f"{service}.db"
        assert path.exists(), service
        with sqlite3.connect(path) as conn:
            table = migrations.version_table(service)
            (version,) = conn.execute(f"SELECT version_num FROM {table}").fetchone()
        assert version == migrations.head_revision(service)
        assert f"{service}: at {version}" in out
    # Running it again is a no-op that still succeeds.
    assert cli.main(["migrate", "--all"]) == 0


def test_migrate_without_a_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["migrate"]) == 2
    assert "--all" in capsys.readouterr().err


async def test_the_drift_check_sees_a_model_the_migrations_do_not_have(db: Database) -> None:
    service = "audit"
    await migrations.upgrade(db, service)
    metadata = migrations.metadata_of(service)
    assert metadata is not None
    changed = new_metadata()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    first = next(iter(sorted(changed.tables)))
    changed.tables[first].append_column(Column("added_later", String(20), nullable=True))

    def drift(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"version_table": migrations.version_table(service)}
        )
        return list(compare_metadata(context, changed))

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(drift)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", first, "added_later")]


async def _drop_databases(url: str, names: list[str]) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for name in names:
                if url.startswith("postgresql"):
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                else:
                    await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        await engine.dispose()


async def _revision_in(server_url: str, database: str, service: str) -> str | None:
    url = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    db = Database(url)
    try:
        return await migrations.current_revision(db, service)
    finally:
        await db.close()


@pytest.mark.mysql
@pytest.mark.postgres
async def test_migrate_all_gives_each_service_its_own_database_on_its_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the operator's migration Job runs: server URLs only, never one shared database."""
    servers = {Store.MYSQL: server("mysql"), Store.POSTGRESQL: server("postgres")}
    monkeypatch.delenv("QUCKCHAT_DATABASE_URL", raising=False)
    monkeypatch.setenv("QUCKCHAT_MYSQL_URL", servers[Store.MYSQL])
    monkeypatch.setenv("QUCKCHAT_POSTGRESQL_URL", servers[Store.POSTGRESQL])
    # Every service with a relational store, admin too, whose database holds no tables yet.
    specs = [catalog.get(name) for name in migrations.database_services()]
    assert "admin" in {s.name for s in specs} - set(SERVICES)
    on = {store: [s.module for s in specs if s.relational_store == store] for store in servers}
    assert on[Store.MYSQL] and on[Store.POSTGRESQL]
    for store, url in servers.items():
        await _drop_databases(url, on[store])
    try:
        # The CLI runs its own event loop: off this test's.
        assert await asyncio.to_thread(cli.main, ["migrate", "--all"]) == 0
        for spec in specs:
            store = spec.relational_store
            assert store is not None
            head = migrations.head_revision(spec.name) if spec.name in SERVICES else None
            assert await _revision_in(servers[store], spec.module, spec.name) == head
            other = next(s for s in servers if s != store)
            # The other server holds no database of this service.
            with pytest.raises(Exception, match=spec.module):
                await _revision_in(servers[other], spec.module, spec.name)
    finally:
        for store, url in servers.items():
            await _drop_databases(url, on[store])


async def test_without_auto_migrate_a_service_refuses_an_old_schema_and_never_changes_it(
    sql_url: str, tmp_path: Path
) -> None:
    settings = Settings(service="user", database_url=sql_url, data_dir=tmp_path, auto_migrate=False)
    app = create_app("user", settings)
    with pytest.raises(migrations.SchemaBehind, match="quckchat migrate user"):
        async with app.router.lifespan_context(app):
            pass
    db = Database(sql_url)
    try:
        assert await migrations.current_revision(db, "user") is None
        async with db.engine.connect() as conn:
            assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == []
        # Once the migration ran, the same service starts.
        await migrations.upgrade(db, "user")
    finally:
        await db.close()
    app = create_app("user", settings)
    async with app.router.lifespan_context(app):
        assert app.state.runtime.db is not None
