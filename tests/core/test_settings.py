"""Where each service's database is, and `quckchat migrate` creating it on a real server."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from quckchat.cli import main
from quckchat.core.settings import Settings
from tests.support import server


def test_each_service_uses_its_own_database_on_its_store_server() -> None:
    settings = Settings(
        mysql_url="mysql+aiomysql://u:p@db:3306",
        postgresql_url="postgresql+asyncpg://u:p@pg:5432/postgres",
    )
    auth = settings.model_copy(update={"service": "auth"}).effective_database_url()
    gateway = settings.model_copy(update={"service": "backend-gateway"}).effective_database_url()
    assert auth == "mysql+aiomysql://u:p@db:3306/auth"
    assert gateway == "postgresql+asyncpg://u:p@pg:5432/backend_gateway"
    explicit = Settings(service="auth", database_url="sqlite+aiosqlite:///x.db", mysql_url="m://")
    assert explicit.effective_database_url() == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize("kind", ["mysql", "postgres"])
async def test_migrate_creates_the_service_database_on_the_server(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = make_url(server(kind))
    monkeypatch.delenv("QUCKCHAT_DATABASE_URL", raising=False)
    variable = "QUCKCHAT_MYSQL_URL" if kind == "mysql" else "QUCKCHAT_POSTGRESQL_URL"
    monkeypatch.setenv(variable, base.render_as_string(hide_password=False))
    service = "auth" if kind == "mysql" else "backend-gateway"
    database = service.replace("-", "_")
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            drop = f"DROP DATABASE IF EXISTS {database}" + (
                " WITH (FORCE)" if kind == "postgres" else ""
            )
            await conn.execute(text(drop))
        # The CLI runs its own event loop, as it does in the migration Job.
        assert await asyncio.to_thread(main, ["migrate", service]) == 0
        target = create_async_engine(base.set(database=database))
        async with target.connect() as conn:
            version_table = f"alembic_version_{database}"
            assert await conn.scalar(text(f"SELECT COUNT(*) FROM {version_table}")) == 1
        await target.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(drop))
    finally:
        await admin.dispose()
