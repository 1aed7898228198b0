"""Workspace handlers: each change and a periodic check provision the tenant and keep it at its
spec; deletion deprovisions it behind Kopf's finalizer (see `reconcile_workspace`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import kopf

from quckchat_operator import naming
from quckchat_operator import reconcile_workspace as workspaces
from quckchat_operator import status as statuses
from quckchat_operator.backoff import retry_delay
from quckchat_operator.handlers.runtime import applier, one_at_a_time, publish
from quckchat_operator.models import WorkspacePhase, WorkspaceStatus

WORKSPACE = (naming.API_GROUP, naming.API_VERSION, naming.WORKSPACE.plural)
# The timer notices the owner joining and changes made behind the operator's back.
CHECK_INTERVAL = 60.0
CHECK_IDLE = 15.0


def report(
    outcome: workspaces.Outcome, body: kopf.Body, stored: Mapping[str, Any], patch: kopf.Patch
) -> None:
    """The pass's Events, and its status where it differs from `stored`."""
    for note in outcome.notes:
        event = kopf.warn if note.warning else kopf.info
        event(body, reason=note.reason, message=note.message)
    observed = outcome.observed
    if observed is None:
        return
    publish(
        body,
        patch,
        statuses.normalized(WorkspaceStatus, stored),
        statuses.workspace_status(observed, stored, datetime.now(UTC)),
        why=observed.message,
        failed=observed.phase == WorkspacePhase.FAILED,
    )


def retry_if_asked(outcome: workspaces.Outcome, retry: int) -> None:
    """Kopf's TemporaryError when the pass waits: after its own delay, else backing off."""
    if outcome.retry is not None:
        delay = outcome.delay if outcome.delay is not None else retry_delay(retry)
        raise kopf.TemporaryError(outcome.retry, delay=delay)


async def _reconcile(memo: kopf.Memo, body: kopf.Body) -> workspaces.Outcome:
    async with one_at_a_time(memo, body):
        return await workspaces.reconcile(applier(memo), body)


@kopf.on.resume(*WORKSPACE)
@kopf.on.create(*WORKSPACE)
@kopf.on.update(*WORKSPACE)
async def workspace_changed(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    """Any change (or the operator starting): provision or update; retry while it waits."""
    outcome = await _reconcile(memo, body)
    report(outcome, body, status, patch)
    retry_if_asked(outcome, retry)


@kopf.timer(*WORKSPACE, interval=CHECK_INTERVAL, idle=CHECK_IDLE)
async def workspace_check(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    """Now and then: put back what changed behind the operator's back; follow the owner."""
    report(await _reconcile(memo, body), body, status, patch)


@kopf.on.delete(*WORKSPACE)
async def workspace_deleted(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    """Deprovision (export first when spec.exportOnDelete); Kopf's finalizer holds the
    Workspace until this succeeds."""
    outcome = await workspaces.deprovision(applier(memo), body)
    report(outcome, body, status, patch)
    retry_if_asked(outcome, retry)
