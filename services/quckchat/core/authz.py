"""Asking the permission service whether a user may do something, from any service.

`require(object, action)` guards a route: the verified caller passes when the permission
service allows them, else the request ends with a 403 problem. The object may name path
parameters in braces (`require("channel:{channel_id}", "read")`). The objects and actions are
documented in `quckchat.permission.policy`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from quckchat.core.deps import CurrentUser, RuntimeDep
from quckchat.core.errors import forbidden
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal


async def is_allowed(
    runtime: Runtime, *, subject: str, object: str, action: str, tenant: str
) -> bool:
    """The permission service's decision; an unreachable service raises a 503/504 problem."""
    body = await runtime.http.json(
        "permission",
        "POST",
        "/internal/check",
        json={"subject": subject, "object": object, "action": action, "tenant": tenant},
        # A check changes nothing, so a retry after a lost answer is harmless.
        idempotent=True,
    )
    return bool(body["allowed"])


def require(
    object: str, action: str, tenant: str | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency yielding the caller when allowed `action` on `object` in `tenant`.

    The tenant defaults to the one of the caller's token, never one the client names.
    """

    async def dependency(
        principal: CurrentUser, runtime: RuntimeDep, request: Request
    ) -> Principal:
        target = object.format_map(request.path_params) if "{" in object else object
        allowed = await is_allowed(
            runtime,
            subject=principal.user_id,
            object=target,
            action=action,
            tenant=tenant or principal.tenant,
        )
        if not allowed:
            raise forbidden(f"you may not {action} {target}")
        return principal

    return dependency


PlatformAdmin = Annotated[Principal, Depends(require("platform", "administer", tenant="platform"))]
