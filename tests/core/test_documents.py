"""The document store: the same PyMongo calls on the embedded store and a real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo.errors import DuplicateKeyError

from quckchat.core.documents import Documents, Index, claim


async def test_unique_index_sort_and_update_behave_alike(documents_url: str | None) -> None:
    docs = Documents(documents_url, database="quckchat_test")
    await docs.start()
    try:
        await docs.ping()
        messages = docs.collection("messages")
        declared = (Index("messages", (("channel", 1), ("client_id", 1)), unique=True),)
        await docs.ensure_indexes(declared)
        await docs.ensure_indexes(declared)  # every start makes them again: a no-op
        info = await messages.index_information()
        assert [v["key"] for v in info.values() if v.get("unique")] == [
            [("channel", 1), ("client_id", 1)]
        ]
        sent = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
        for n in range(3):
            await messages.insert_one({"channel": "c1", "client_id": f"m{n}", "n": n, "at": sent})
        with pytest.raises(DuplicateKeyError):
            await messages.insert_one({"channel": "c1", "client_id": "m1", "n": 9})
        newest = await messages.find({"channel": "c1"}).sort("n", -1).limit(2).to_list(None)
        assert [m["n"] for m in newest] == [2, 1]
        assert newest[0]["at"] == sent  # time zone kept, millisecond precision
        updated = await messages.find_one_and_update(
            {"channel": "c1", "client_id": "m0"}, {"$inc": {"n": 10}}, return_document=True
        )
        assert updated["n"] == 10
    finally:
        await docs.close()


async def test_the_embedded_store_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    snapshot = tmp_path / "message.documents.json"
    first = Documents(None, database="restart_test", snapshot=snapshot)
    await first.start()
    await first.collection("messages").insert_one({"text": "kept", "at": datetime.now(UTC)})
    await first.close()
    assert snapshot.exists()

    second = Documents(None, database="restart_test_again", snapshot=snapshot)
    await second.start()
    try:
        found = await second.collection("messages").find_one({"text": "kept"})
        assert found is not None and found["at"].tzinfo is not None
    finally:
        await second.close()


async def test_a_claim_has_exactly_one_winner_under_contention(documents_url: str | None) -> None:
    # Separate clients on a real server, as replicas would be (the embedded store is per process).
    clients = 3 if documents_url else 1
    opened = [Documents(documents_url, database="quckchat_claims") for _ in range(clients)]
    stores = [opened[i % clients] for i in range(3)]
    for docs in opened:
        await docs.start()
    try:
        await stores[0].collection("claims").delete_many({})
        attempts = [claim(stores[i % 3].collection("claims"), "job-1", by=i) for i in range(30)]
        won = await asyncio.gather(*attempts)
        assert sum(won) == 1
        (holder,) = await stores[0].collection("claims").find({}).to_list(None)
        assert holder["by"] == won.index(True)
    finally:
        await stores[0].collection("claims").delete_many({})
        for docs in opened:
            await docs.close()
