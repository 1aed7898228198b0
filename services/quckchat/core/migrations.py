"""Alembic migrations per service, sharing one env.py; each service keeps only its versions.

A service's revisions live in `quckchat/<service>/migrations/`, its version table is
`alembic_version_<service>` so services may share one database if a platform team wants that.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from quckchat import catalog
from quckchat.core.sql import Database

_ENV_DIR = Path(__file__).with_name("alembic")


def metadata_of(service: str) -> MetaData | None:
    """The service's table metadata, or None for a service without relational tables."""
    module = catalog.get(service).module
    try:
        models = importlib.import_module(f"quckchat.{module}.models")
    except ModuleNotFoundError as exc:
        if exc.name == f"quckchat.{module}.models":
            return None
        raise
    metadata = getattr(models, "metadata", None)
    return metadata if isinstance(metadata, MetaData) else None


def versions_dir(service: str) -> Path:
    module = catalog.get(service).module
    package = importlib.import_module(f"quckchat.{module}")
    return Path(next(iter(package.__path__))) / "migrations"


def version_table(service: str) -> str:
    return f"alembic_version_{catalog.get(service).module}"


def alembic_config(service: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_ENV_DIR))
    cfg.set_main_option("version_locations", str(versions_dir(service)))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["service"] = service
    cfg.attributes["metadata"] = metadata_of(service)
    cfg.attributes["version_table"] = version_table(service)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrated_services() -> list[str]:
    """Implemented services that own relational tables, in dependency order."""
    return [
        s.name
        for s in catalog.startup_order(catalog.implemented())
        if s.relational_store is not None and metadata_of(s.name) is not None
    ]


def database_services() -> list[str]:
    """Implemented services with a relational store, in dependency order: each has a database."""
    return [s.name for s in catalog.startup_order(catalog.implemented()) if s.relational_store]


async def upgrade(db: Database, service: str, revision: str = "head") -> None:
    """Bring the service's schema to `revision` (idempotent: a migrated database is left alone)."""

    def _run(conn: Connection) -> None:
        command.upgrade(alembic_config(service, conn), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(db: Database, service: str) -> str | None:
    def _read(conn: Connection) -> str | None:
        ctx = MigrationContext.configure(conn, opts={"version_table": version_table(service)})
        return ctx.get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_read)


async def require_current(db: Database, service: str) -> None:
    """Refuse to run on a schema older than the code (the migration has not run yet).

    A schema this code does not know (newer, from a later version) is accepted: migrations
    only add, so the code before them still works on it.
    """
    current, head = await current_revision(db, service), head_revision(service)
    if current == head:
        return
    if current is None or _known(service, current):
        raise SchemaBehind(
            f"{service}: the schema is at {current or 'nothing'}, the code needs {head}; "
            f"run `quckchat migrate {service}` (on Kubernetes, the version's migration Job)"
        )


def _known(service: str, revision: str) -> bool:
    try:
        ScriptDirectory.from_config(alembic_config(service)).get_revision(revision)
    except CommandError:
        return False
    return True


class SchemaBehind(RuntimeError):
    """The database's schema is older than the code, and this process may not migrate it."""


async def ensure_database(url: str) -> None:
    """Create the URL's database on its server when missing (SQLite creates files itself)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or not parsed.database:
        return
    # A database every account may open on each server, to create the service's from.
    maintenance = parsed.set(
        database="postgres" if parsed.get_backend_name() == "postgresql" else "information_schema"
    )
    engine = create_async_engine(maintenance, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            if parsed.get_backend_name() == "postgresql":
                exists = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": parsed.database},
                )
                if not exists:
                    await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            else:
                await conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{parsed.database}`"))
    finally:
        await engine.dispose()


def head_revision(service: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service)).get_current_head()


def make_revision(db_url: str, service: str, message: str) -> None:
    """Autogenerate a revision for the service by diffing its models with a migrated database."""
    import asyncio

    db = Database(db_url)

    async def _go() -> None:
        await upgrade(db, service)

        def _rev(conn: Connection) -> None:
            versions_dir(service).mkdir(exist_ok=True)
            command.revision(alembic_config(service, conn), message=message, autogenerate=True)

        async with db.engine.begin() as conn:
            await conn.run_sync(_rev)
        await db.close()

    asyncio.run(_go())
