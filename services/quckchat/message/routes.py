"""The message service's HTTP API: thin routes over logic, receipts and timers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel

from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep
from quckchat.core.errors import not_found, problem_docs
from quckchat.core.runtime import Runtime
from quckchat.core.values import EMOJI_PATTERN, ID_PATTERN
from quckchat.message import logic, receipts, store, timers
from quckchat.message.schemas import (
    DeleteScope,
    Forward,
    Limit,
    MessageCreate,
    MessagePage,
    MessagePublic,
    MessageUpdate,
    ReadMark,
    Receipt,
    ScheduledCreate,
    ScheduledPublic,
)

# At the root: the gateway serves this under /api/v1/messages.
router = APIRouter(tags=["messages"])
internal = APIRouter(prefix="/internal/messages", tags=["internal"])

MessageId = Annotated[str, Path(pattern=ID_PATTERN)]
EmojiPath = Annotated[str, Path(pattern=EMOJI_PATTERN)]
OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN)]


PROBLEMS = {
    400: "the request cannot be read",
    401: "no valid access token",
    403: "not allowed in this channel",
    404: "no such message or channel, or not a member",
    409: "the message or channel does not allow it now",
    422: "a field is not valid",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


async def _public(runtime: Runtime, doc: dict[str, Any]) -> MessagePublic:
    """A stored message as the API shows it, with its reactions."""
    (shown,) = await store.shown(runtime, [doc])
    return MessagePublic.model_validate(shown)


def _scheduled(doc: dict[str, Any]) -> ScheduledPublic:
    return ScheduledPublic(
        id=doc["_id"],
        channel_id=doc["channel_id"],
        text=doc["text"],
        scheduled_at=doc["due_at"],
        status=doc["status"],
        message_id=doc.get("message_id"),
    )


@router.post(
    "/",
    response_model=MessagePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "a retry of a send with the same client_id"},
        **_problems(403, 404, 409),
    },
)
async def send(
    body: MessageCreate, runtime: RuntimeDep, user: CurrentUser, response: Response
) -> MessagePublic:
    """Post a message (or a thread reply with parent_id); 201, or 200 for a retried client_id."""
    draft = logic.Draft(
        channel_id=body.channel_id,
        text=body.text,
        file_ids=tuple(a.id for a in body.attachments),
        client_id=body.client_id,
        parent_id=body.parent_id,
        quote_id=body.quote_id,
        priority=body.priority,
    )
    doc, created = await logic.post(runtime, user, draft)
    if created:
        return MessagePublic.model_validate(store.public(doc, {}))  # new: no reactions yet
    response.status_code = status.HTTP_200_OK
    return await _public(runtime, doc)


@router.get("/", response_model=MessagePage, responses=_problems(404))
async def history(
    runtime: RuntimeDep,
    user: CurrentUser,
    channel_id: OptionalId = None,
    parent_id: OptionalId = None,
    before: OptionalId = None,
    after: OptionalId = None,
    around: OptionalId = None,
    limit: Annotated[Limit, Query()] = 50,
) -> MessagePage:
    """A channel's messages (or one thread's replies), oldest first, before/after/around one."""
    return await logic.history(
        runtime,
        user,
        channel_id=channel_id,
        parent_id=parent_id,
        before=before,
        after=after,
        around=around,
        limit=limit,
    )


@router.post(
    "/scheduled",
    response_model=ScheduledPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(403, 404, 409),
)
async def schedule(
    body: ScheduledCreate, runtime: RuntimeDep, user: CurrentUser
) -> ScheduledPublic:
    return _scheduled(await timers.schedule(runtime, user, body))


@router.get("/scheduled", response_model=list[ScheduledPublic], responses=_problems())
async def list_scheduled(runtime: RuntimeDep, user: CurrentUser) -> list[ScheduledPublic]:
    return [_scheduled(d) for d in await timers.list_scheduled(runtime, user)]


@router.delete(
    "/scheduled/{scheduled_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404)
)
async def cancel_scheduled(scheduled_id: MessageId, runtime: RuntimeDep, user: CurrentUser) -> None:
    if not await timers.cancel_scheduled(runtime, user, scheduled_id):
        raise not_found("pending scheduled message")


@router.post("/read", response_model=ReadMark, responses=_problems(404))
async def mark_read(body: ReadMark, runtime: RuntimeDep, user: CurrentUser) -> ReadMark:
    """Move the caller's read pointer in a channel forward (never back)."""
    seq = await receipts.mark(runtime, user, body.channel_id, body.seq, "read")
    return ReadMark(channel_id=body.channel_id, seq=seq)


@router.post("/delivered", response_model=ReadMark, responses=_problems(404))
async def mark_delivered(body: ReadMark, runtime: RuntimeDep, user: CurrentUser) -> ReadMark:
    """Move the caller's delivery pointer in a channel forward (never back)."""
    seq = await receipts.mark(runtime, user, body.channel_id, body.seq, "delivered")
    return ReadMark(channel_id=body.channel_id, seq=seq)


@router.get("/{message_id}", response_model=MessagePublic, responses=_problems(404))
async def get_message(
    message_id: MessageId, runtime: RuntimeDep, user: CurrentUser
) -> MessagePublic:
    doc, _ = await logic.get_for(runtime, user, message_id)
    return await _public(runtime, doc)


@router.patch("/{message_id}", response_model=MessagePublic, responses=_problems(403, 404, 409))
async def edit(
    message_id: MessageId, body: MessageUpdate, runtime: RuntimeDep, user: CurrentUser
) -> MessagePublic:
    """Change the text (sender only); the previous text is kept in the message's history."""
    return await _public(runtime, await logic.edit(runtime, user, message_id, body.text))


@router.delete(
    "/{message_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(403, 404)
)
async def delete(
    message_id: MessageId,
    runtime: RuntimeDep,
    user: CurrentUser,
    scope: Annotated[DeleteScope, Query(alias="for")] = DeleteScope.EVERYONE,
) -> None:
    """`for=everyone` (sender or channel admin) or `for=me` (hidden for the caller only)."""
    await logic.delete(runtime, user, message_id, scope)


@router.put(
    "/{message_id}/reactions/{emoji}",
    response_model=MessagePublic,
    responses=_problems(404, 409),
)
async def add_reaction(
    message_id: MessageId, emoji: EmojiPath, runtime: RuntimeDep, user: CurrentUser
) -> MessagePublic:
    return await _public(runtime, await logic.react(runtime, user, message_id, emoji, add=True))


@router.delete(
    "/{message_id}/reactions/{emoji}", response_model=MessagePublic, responses=_problems(404, 409)
)
async def remove_reaction(
    message_id: MessageId, emoji: EmojiPath, runtime: RuntimeDep, user: CurrentUser
) -> MessagePublic:
    return await _public(runtime, await logic.react(runtime, user, message_id, emoji, add=False))


@router.post(
    "/{message_id}/forward",
    response_model=MessagePublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(403, 404, 409),
)
async def forward(
    message_id: MessageId, body: Forward, runtime: RuntimeDep, user: CurrentUser
) -> MessagePublic:
    doc, _ = await logic.forward(runtime, user, message_id, body.channel_id, body.text)
    return await _public(runtime, doc)


@router.get(
    "/{message_id}/receipts", response_model=dict[str, list[Receipt]], responses=_problems(404)
)
async def message_receipts(
    message_id: MessageId, runtime: RuntimeDep, user: CurrentUser
) -> dict[str, list[Receipt]]:
    """Who received and who read the message (up to 50 each): `delivered_to`, `read_by`."""
    return await receipts.receipts(runtime, user, message_id)


class MessageBatch(BaseModel):
    items: list[MessagePublic]
    next_after_id: str | None


@internal.get("", response_model=MessageBatch)
async def internal_scan(
    runtime: RuntimeDep,
    _: InternalCaller,
    workspace_id: Annotated[str, Query(pattern=ID_PATTERN)],
    after_id: OptionalId = None,
    limit: Annotated[Limit, Query()] = 200,
) -> MessageBatch:
    """Every live message of a workspace in id order, a batch at a time (search reindexes)."""
    docs = await store.scan(runtime, workspace_id, after_id, limit)
    next_after = docs[-1]["_id"] if len(docs) == limit else None
    items = [MessagePublic.model_validate(shown) for shown in await store.shown(runtime, docs)]
    return MessageBatch(items=items, next_after_id=next_after)


@internal.get("/{message_id}", response_model=MessagePublic)
async def internal_get(
    message_id: MessageId, runtime: RuntimeDep, _: InternalCaller
) -> MessagePublic:
    """A message for another service (bookmark, reminder, search), whoever may see it."""
    doc = await runtime.document_db[store.MESSAGES].find_one(
        {"_id": message_id, "expired": {"$ne": True}}
    )
    if doc is None:
        raise not_found("message")
    return await _public(runtime, doc)
