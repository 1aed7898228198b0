"""Storage use: a file service reserves bytes before it keeps them and releases them after.

Each change is keyed by its caller (a reservation or a release id). The key is inserted in
the change's transaction, so a retry, or a duplicate running at the same time (it waits on the
key), finds it and changes nothing again. The count moves in one guarded UPDATE, evaluated on
the row's latest version on every backend: concurrent reservations can never pass the quota.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.errors import Problem, not_found
from quckchat.core.sql import get_or_add
from quckchat.workspace.models import RELEASE, RESERVE, StorageChange, Workspace
from quckchat.workspace.schemas import StorageUsage


def storage_exceeded(usage: StorageUsage, asked: int) -> Problem:
    return Problem(
        409,
        f"the workspace stores {usage.storage_used_bytes} of its quota of "
        f"{usage.max_storage_bytes} bytes; {asked} more do not fit",
        slug="storage-quota-exceeded",
        quota="max_storage_bytes",
        limit=usage.max_storage_bytes,
        used=usage.storage_used_bytes,
        asked=asked,
    )


async def usage(session: AsyncSession, workspace_id: str) -> StorageUsage:
    """The workspace's storage as last committed (a locking read: MySQL's snapshot may lag)."""
    query = (
        select(Workspace.id, Workspace.max_storage_bytes, Workspace.storage_used_bytes)
        .where(Workspace.id == workspace_id)
        .with_for_update(read=True)
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise not_found("workspace")
    return StorageUsage(
        workspace_id=row.id,
        max_storage_bytes=row.max_storage_bytes,
        storage_used_bytes=row.storage_used_bytes,
    )


async def _first_time(
    session: AsyncSession, *, workspace_id: str, kind: str, change_id: str, size: int
) -> bool:
    """Record the change's key; False when it was applied before (409 if with other bytes)."""
    change, inserted = await get_or_add(
        session,
        StorageChange,
        (workspace_id, kind, change_id),
        lambda: StorageChange(workspace_id=workspace_id, kind=kind, change_id=change_id, size=size),
    )
    if change.size != size:
        raise Problem(
            409,
            f"the {kind} {change_id} was made for {change.size} bytes, not {size}",
            slug="storage-change-reused",
        )
    return inserted


async def _move(
    session: AsyncSession, workspace_id: str, *, guard: bool, to: ColumnElement[int]
) -> bool:
    """Set the usage to `to` in one UPDATE (with `guard`: only while it stays within quota)."""
    query = update(Workspace).where(Workspace.id == workspace_id)
    if guard:
        query = query.where(to <= Workspace.max_storage_bytes)
    # Usage is no edit of the workspace: updated_at stays.
    values = {"storage_used_bytes": to, "updated_at": Workspace.updated_at}
    result = await session.execute(
        query.values(values).execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 1))


async def reserve(
    session: AsyncSession, *, workspace_id: str, reservation_id: str, size: int
) -> tuple[StorageUsage, bool]:
    """Count `size` more bytes in, within the quota; False: this reservation was made before."""
    first = await _first_time(
        session, workspace_id=workspace_id, kind=RESERVE, change_id=reservation_id, size=size
    )
    if first and not await _move(
        session, workspace_id, guard=True, to=Workspace.storage_used_bytes + size
    ):
        # Refused (or no such workspace): the key rolls back with it, so a retry is judged anew.
        raise storage_exceeded(await usage(session, workspace_id), size)
    return await usage(session, workspace_id), first


async def release(
    session: AsyncSession, *, workspace_id: str, release_id: str, size: int
) -> tuple[StorageUsage, bool]:
    """Count `size` bytes out, never below 0; False: this release was made before."""
    first = await _first_time(
        session, workspace_id=workspace_id, kind=RELEASE, change_id=release_id, size=size
    )
    if first:
        used = Workspace.storage_used_bytes
        await _move(
            session, workspace_id, guard=False, to=case((used > size, used - size), else_=0)
        )
    return await usage(session, workspace_id), first
