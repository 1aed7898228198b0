"""The orchestrator's collections. `notices`: one document a decision, `_id` its notice id (so
a redelivery or a second replica cannot store it twice), its own outbox entry. `withdrawals`:
one a withdrawn notice, likewise. `threads_seen`: one a thread reply whose followers were
handled (`<parent>:<seq>`), so a thread change that is no new reply tells nobody."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from quckchat.core.documents import Index, stored_now
from quckchat.core.events import DomainEvent
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.runtime import Runtime
from quckchat.notification_orchestrator.events import NoticeDecided, NoticeWithdrawn, Reason

NOTICES = "notices"
WITHDRAWALS = "withdrawals"
THREADS_SEEN = "threads_seen"

INDEXES = (
    Index(NOTICES, (("source", ASCENDING), ("user_id", ASCENDING))),
    Index(NOTICES, (("message_id", ASCENDING),)),
)


async def _decided(runtime: Runtime, doc: dict[str, Any]) -> Sequence[tuple[str, DomainEvent]]:
    return [(f"{doc['_id']}.decided", NoticeDecided.model_validate(doc["notice"]))]


async def _withdrawn(runtime: Runtime, doc: dict[str, Any]) -> Sequence[tuple[str, DomainEvent]]:
    withdrawn = NoticeWithdrawn(notice_id=doc["_id"], user_id=doc["user_id"])
    return [(f"{doc['_id']}.withdrawn", withdrawn)]


DECIDED = DocumentOutbox("notice decided outbox", NOTICES, _decided)
WITHDRAWN = DocumentOutbox("notice withdrawn outbox", WITHDRAWALS, _withdrawn)


async def _insert(collection: Any, doc: dict[str, Any]) -> bool:
    """Whether this call wrote it (False: a repeat, or another replica's)."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def store_notice(runtime: Runtime, notice: NoticeDecided, *, source: str) -> bool:
    """Store the decision once by its notice id and announce it; False when it was stored
    before (then whoever stored it announces it)."""
    doc = {
        "_id": notice.notice_id,
        "source": source,
        "user_id": notice.user_id,
        "message_id": notice.message_id,
        "tenant": notice.tenant,
        "notice": notice.model_dump(mode="json"),
        "published": False,
        "created_at": stored_now(),
    }
    if not await _insert(runtime.document_db[NOTICES], doc):
        return False
    await DECIDED.publish(runtime, doc)
    return True


async def told(runtime: Runtime, source: str) -> dict[str, Reason]:
    """Who was told of the source already, and why."""
    cursor = runtime.document_db[NOTICES].find({"source": source}, {"user_id": 1, "notice": 1})
    return {doc["user_id"]: Reason(doc["notice"]["reason"]) for doc in await cursor.to_list(None)}


async def _withdraw(runtime: Runtime, query: dict[str, Any]) -> int:
    """Withdraw every notice `query` finds; how many were new withdrawals."""
    cursor = runtime.document_db[NOTICES].find(query, {"user_id": 1, "tenant": 1})
    withdrawn = 0
    for notice in await cursor.to_list(None):
        doc = {
            "_id": notice["_id"],
            "user_id": notice["user_id"],
            "tenant": notice.get("tenant"),
            "published": False,
            "created_at": stored_now(),
        }
        if await _insert(runtime.document_db[WITHDRAWALS], doc):
            await WITHDRAWN.publish(runtime, doc)
            withdrawn += 1
    return withdrawn


async def withdraw_message(runtime: Runtime, message_id: str) -> int:
    """Withdraw every notice about the message; how many were new withdrawals."""
    return await _withdraw(runtime, {"message_id": message_id})


async def withdraw_told(runtime: Runtime, source: str, user_ids: list[str]) -> int:
    """Withdraw the notices of the source told to these users (an edit took their reason)."""
    if not user_ids:
        return 0
    return await _withdraw(runtime, {"source": source, "user_id": {"$in": user_ids}})


async def thread_reply_seen(runtime: Runtime, parent_id: str, seq: int) -> bool:
    found = await runtime.document_db[THREADS_SEEN].find_one({"_id": f"{parent_id}:{seq}"})
    return found is not None


async def mark_thread_reply(runtime: Runtime, parent_id: str, seq: int) -> None:
    await _insert(
        runtime.document_db[THREADS_SEEN], {"_id": f"{parent_id}:{seq}", "at": stored_now()}
    )


async def notice(runtime: Runtime, notice_id: str) -> NoticeDecided | None:
    found = await runtime.document_db[NOTICES].find_one({"_id": notice_id})
    return None if found is None else NoticeDecided.model_validate(found["notice"])
