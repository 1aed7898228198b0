"""Delivery and read receipts: each member's pointer per channel, moved forward only."""

from __future__ import annotations

from typing import Any

from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.core.tokens import Principal
from quckchat.message import store
from quckchat.message.access import membership
from quckchat.message.logic import get_for
from quckchat.message.schemas import Receipt

# Who read a message is listed for small channels; larger ones see only their own pointer.
MAX_LISTED = 50
KINDS = {"read": store.READS, "delivered": store.DELIVERIES}


async def mark(runtime: Runtime, principal: Principal, channel_id: str, seq: int, kind: str) -> int:
    """Move the caller's pointer to `seq` (never back); the pointer as it now stands."""
    member = await membership(runtime, channel_id, principal.user_id)
    collection = store.db(runtime)[KINDS[kind]]
    key = f"{channel_id}:{principal.user_id}"
    now = utcnow()
    before = await collection.find_one({"_id": key})
    await collection.update_one(
        {"_id": key},
        {
            "$max": {"seq": seq},
            "$set": {"channel_id": channel_id, "user_id": principal.user_id, "at": now},
        },
        upsert=True,
    )
    if before is None or before["seq"] < seq:
        await runtime.emit(
            f"message.{kind}",
            key=channel_id,
            data={
                "workspace_id": member.workspace_id,
                "channel_id": channel_id,
                "user_id": principal.user_id,
                "seq": seq,
                "actor": principal.user_id,
            },
            tenant=principal.tenant,
        )
    found: dict[str, Any] = await collection.find_one({"_id": key})
    return int(found["seq"])


async def receipts(
    runtime: Runtime, principal: Principal, message_id: str
) -> dict[str, list[Receipt]]:
    """Who has received and read a message, other than its sender."""
    doc, _ = await get_for(runtime, principal, message_id)
    answer: dict[str, list[Receipt]] = {}
    for kind, name in (("read_by", store.READS), ("delivered_to", store.DELIVERIES)):
        query = {
            "channel_id": doc["channel_id"],
            "seq": {"$gte": doc["seq"]},
            "user_id": {"$ne": doc["sender_id"]},
        }
        rows = await store.db(runtime)[name].find(query).limit(MAX_LISTED).to_list(None)
        answer[kind] = [Receipt(user_id=r["user_id"], seq=r["seq"], at=r["at"]) for r in rows]
    return answer
