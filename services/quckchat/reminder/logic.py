"""What the reminder API does: keyword-only functions over a session and the runtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel.client import membership
from quckchat.core.errors import Problem, conflict, not_found
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.core.tokens import Principal
from quckchat.message.client import visible_message
from quckchat.reminder.models import CANCELLED, COMPLETED, FIRED, FIRING, PENDING, Reminder
from quckchat.reminder.schedule import first_occurrence
from quckchat.reminder.schemas import HORIZON, ReminderCreate, ReminderPublic

# What a list shows unless asked: the reminders still to come or still to be dealt with.
OPEN = (PENDING, FIRING, FIRED)


@dataclass(frozen=True)
class Target:
    workspace_id: str | None
    channel_id: str | None
    message_id: str | None


def view(row: Reminder) -> ReminderPublic:
    return ReminderPublic.model_validate(row, from_attributes=True)


async def _target(runtime: Runtime, principal: Principal, body: ReminderCreate) -> Target:
    """What the reminder is about and whom it reminds; 404 for what the caller cannot see."""
    workspace_id = None
    if body.message_id is not None:
        message, member = await visible_message(
            runtime, user_id=principal.user_id, message_id=body.message_id
        )
        if body.channel_id is not None and message.channel_id != body.channel_id:
            raise Problem(422, "the message is not in that channel", slug="bad-message")
        workspace_id = member.workspace_id
    if body.channel_id is not None:
        channel = await membership(runtime, body.channel_id, principal.user_id)
        channel.require_post()
        workspace_id = channel.workspace_id
    return Target(workspace_id, body.channel_id, body.message_id)


def _due(body: ReminderCreate, now: datetime) -> datetime:
    due = body.at if body.at is not None else now + timedelta(seconds=body.after_seconds or 0)
    if due <= now:
        raise Problem(422, "the reminder's time has passed", slug="past-time")
    if due > now + HORIZON:
        raise Problem(422, "reminders reach at most five years ahead", slug="too-far")
    return due.astimezone(UTC)


async def create(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, body: ReminderCreate
) -> ReminderPublic:
    zone = ZoneInfo(body.timezone)
    due = first_occurrence(_due(body, utcnow()), body.repeat, zone)
    target = await _target(runtime, principal, body)
    row = Reminder(
        tenant=principal.tenant,
        user_id=principal.user_id,
        channel_id=target.channel_id,
        workspace_id=target.workspace_id,
        message_id=target.message_id,
        text=body.text,
        repeat=body.repeat,
        timezone=body.timezone,
        wall_time=due.astimezone(zone).time().isoformat(),
        scheduled_at=due,
        due_at=due,
        status=PENDING,
        occurrence=0,
    )
    session.add(row)
    await session.flush()
    return view(row)


async def _mine(session: AsyncSession, principal: Principal, reminder_id: str) -> Reminder:
    row = await session.get(Reminder, reminder_id)
    if row is None or row.user_id != principal.user_id:
        raise not_found("reminder")
    return row


async def get(session: AsyncSession, *, principal: Principal, reminder_id: str) -> ReminderPublic:
    return view(await _mine(session, principal, reminder_id))


async def listed(
    session: AsyncSession,
    *,
    principal: Principal,
    status: str | None,
    paging: PageQuery,
) -> Page[ReminderPublic]:
    """The caller's reminders, soonest first: the open ones, or those of one status."""
    statuses = OPEN if status is None else (status,)
    query = select(Reminder).where(
        Reminder.user_id == principal.user_id, Reminder.status.in_(statuses)
    )
    rows, next_cursor = await read_page(
        session,
        cast(Select[Any], query),
        Reminder.due_at,
        Reminder.id,
        paging=paging,
        descending=False,
        parse=parse_datetime,
    )
    return Page[ReminderPublic](items=[view(r) for r in rows], next_cursor=next_cursor)


async def delete(session: AsyncSession, *, principal: Principal, reminder_id: str) -> None:
    await session.delete(await _mine(session, principal, reminder_id))
    await session.flush()


async def complete(
    session: AsyncSession, *, principal: Principal, reminder_id: str
) -> ReminderPublic:
    """Done: it never fires again (a repeating one ends its series). Again changes nothing."""
    row = await _mine(session, principal, reminder_id)
    if row.status == CANCELLED:
        raise conflict("the reminder was cancelled", slug="reminder-cancelled")
    row.status, row.claimed_at = COMPLETED, None
    await session.flush()
    return view(row)


async def snooze(
    session: AsyncSession, *, principal: Principal, reminder_id: str, seconds: int
) -> ReminderPublic:
    """Fire (again) in `seconds`; a repeating one then goes on with its series."""
    row = await _mine(session, principal, reminder_id)
    if row.status not in (PENDING, FIRING, FIRED):
        raise conflict(f"the reminder is {row.status}", slug="reminder-closed")
    if row.status == FIRING:
        # The claimed firing counts as done: the snoozed one is the next occurrence, its own event.
        row.occurrence += 1
    row.status, row.claimed_at = PENDING, None
    row.due_at = utcnow() + timedelta(seconds=seconds)
    await session.flush()
    return view(row)
