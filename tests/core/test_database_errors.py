"""A value the database itself refuses is the client's error (422), not a server error."""

from __future__ import annotations

from pathlib import Path

from quckchat.core.settings import Settings
from tests.support import TestKeys, running_app


async def test_a_nul_character_is_a_422_on_every_backend(
    sql_url: str, tmp_path: Path, keys: TestKeys
) -> None:
    settings = Settings(service="user", database_url=sql_url, data_dir=tmp_path)
    async with running_app("user", settings, keys=keys) as (_, client, _runtime):
        headers = keys.header("u1")
        r = await client.patch("/me", headers=headers, json={"display_name": "nul\u0000name"})
        # SQLite and MariaDB store the character; PostgreSQL refuses it: never a 5xx.
        refused = sql_url.startswith("postgresql")
        assert r.status_code == (422 if refused else 200), r.text
        if refused:
            assert r.json()["type"].endswith("/unstorable-value")
        assert (await client.get("/me", headers=headers)).status_code == 200
