"""`quckchat`: run the platform, one service, migrations, and print the catalog."""

from __future__ import annotations

import argparse
import asyncio
import sys

from quckchat import catalog


def _cmd_catalog(args: argparse.Namespace) -> int:
    print(catalog.to_json() if args.json else catalog.to_table())
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from quckchat.runner import serve_one

    return serve_one(args.name, host=args.host, port=args.port)


def _cmd_run(args: argparse.Namespace) -> int:
    from quckchat.runner import run_platform

    return run_platform(data_dir=args.data_dir, host=args.host, only=args.only)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from quckchat.core import migrations
    from quckchat.core.settings import Settings
    from quckchat.core.sql import Database

    names = migrations.database_services() if args.all else [args.name]
    if not names or names == [None]:
        print("quckchat migrate: name a service or pass --all", file=sys.stderr)
        return 2

    async def go() -> None:
        for name in names:
            catalog.get(name)
            settings = Settings(service=name)
            url = settings.effective_database_url()
            # Every service with a relational store gets its database, tables or not yet.
            await migrations.ensure_database(url)
            if migrations.metadata_of(name) is None:
                print(f"{name}: database ready, no tables")
                continue
            db = Database(url)
            try:
                await migrations.upgrade(db, name)
                print(f"{name}: at {await migrations.current_revision(db, name)}")
            finally:
                await db.close()

    asyncio.run(go())
    return 0


def _cmd_makemigrations(args: argparse.Namespace) -> int:
    import tempfile

    from quckchat.core import migrations

    with tempfile.TemporaryDirectory() as tmp:
        migrations.make_revision(f"sqlite+aiosqlite:///{tmp}/schema.db", args.name, args.message)
    return 0


def _cmd_search_reindex(args: argparse.Namespace) -> int:
    from quckchat.search.reindex import run

    for workspace_id, count in asyncio.run(run(args.workspace)).items():
        print(f"{workspace_id}: {count} messages indexed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quckchat", description="QuckChat platform runtime")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("catalog", help="print the 32 services")
    p.add_argument("--json", action="store_true", help="as a JSON list")
    p.set_defaults(func=_cmd_catalog)

    p = sub.add_parser("run", help="every implemented service in one process, embedded stores")
    p.add_argument("--data-dir", default=".quckchat", help="where embedded data is kept")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--only", nargs="*", help="run only these services")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("serve", help="one service (what the container runs)")
    p.add_argument("name", choices=catalog.names())
    p.add_argument("--host", default=None, help="default: QUCKCHAT_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: the catalog port")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("migrate", help="bring database schemas up to date")
    p.add_argument("name", nargs="?", choices=catalog.names())
    p.add_argument("--all", action="store_true", help="every service with a relational store")
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser("makemigrations", help="autogenerate a schema revision for a service")
    p.add_argument("name", choices=catalog.names())
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(func=_cmd_makemigrations)

    p = sub.add_parser("search", help="the search service's maintenance")
    search = p.add_subparsers(dest="search_command", required=True)
    p = search.add_parser("reindex", help="rebuild the index from the message service")
    p.add_argument(
        "--workspace",
        action="append",
        help="only this workspace, in place (repeatable); default: every workspace, anew",
    )
    p.set_defaults(func=_cmd_search_reindex)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
