"""What every handler shares: the API client, one reconcile per cluster at a time, settings."""

from __future__ import annotations

import asyncio
import copy
import os
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import kopf

from quckchat_operator import metrics, naming
from quckchat_operator import status as statuses
from quckchat_operator.apply import Applier, connect
from quckchat_operator.reconcile import Outcome, reconcile

CLUSTER = (naming.API_GROUP, naming.API_VERSION, naming.CLUSTER.plural)
SERVICE_GROUP = (naming.API_GROUP, naming.API_VERSION, naming.SERVICE_GROUP.plural)
PREFIX = f"operator.{naming.API_GROUP}"
WATCH_SERVER_TIMEOUT = 300
WATCH_CONNECT_TIMEOUT = 30


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """The same credentials as the operator's own client (see apply.connect)."""
    if os.environ.get("KUBECONFIG") or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return kopf.login_with_kubeconfig(**kwargs)
    return kopf.login_with_service_account(**kwargs)


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Kopf's bookkeeping under our own prefix; one API client for every handler."""
    # Peers of equal priority all pause; a random one lets one replica lead and one stand by.
    settings.peering.priority = random.randint(0, 32767)
    settings.persistence.finalizer = f"{PREFIX}/timers"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # A watch the apiserver or a proxy silently stops feeding would leave Kopf waiting for
    # ever: the server ends each watch within these seconds and the client gives up after.
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.client_timeout = WATCH_SERVER_TIMEOUT + 60
    settings.watching.connect_timeout = WATCH_CONNECT_TIMEOUT
    memo.applier = Applier(await asyncio.to_thread(connect))
    memo.locks = {}


def applier(memo: kopf.Memo) -> Applier:
    found: Applier = memo.applier
    return found


@asynccontextmanager
async def one_at_a_time(memo: kopf.Memo, body: Mapping[str, Any]) -> AsyncIterator[None]:
    """Hold the lock of the object `body` (by uid): its change handler, its timer and, for a
    cluster, a ServiceGroup's change may all want it at once."""
    locks: dict[str, asyncio.Lock] = memo.locks
    async with locks.setdefault(body["metadata"]["uid"], asyncio.Lock()):
        yield


async def reconcile_once(memo: kopf.Memo, body: Mapping[str, Any]) -> Outcome:
    """One pass over the cluster `body`, never two at once for the same cluster."""
    async with one_at_a_time(memo, body):
        with metrics.RECONCILE_SECONDS.time():
            return await asyncio.to_thread(
                reconcile, applier(memo), copy.deepcopy(dict(body)), now=datetime.now(UTC)
            )


def publish(
    body: kopf.Body,
    patch: kopf.Patch,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    why: str,
    failed: bool,
) -> None:
    """Write the status where `after` differs from the stored `before`; when the phase changes,
    an Event (a warning if it `failed`) saying `why`."""
    changes = statuses.merge_patch(before, after)
    if changes:
        patch["status"] = changes
    phase = after.get("phase")
    if before.get("phase") == phase:
        return
    message = f"{before.get('phase') or 'New'} -> {phase}: {why}"
    if failed:
        kopf.warn(body, reason=str(phase), message=message)
    else:
        kopf.info(body, reason=str(phase), message=message)
