"""A workspace's limits on files (size, allowed and blocked types) and the checks against them.

Types are held to a list by family too: `image/*` holds `image/heic`. The blocked list wins
over the allowed one. A workspace that never set its limits has the defaults.
"""

from __future__ import annotations

from typing import Any

from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.file import store
from quckchat.file.schemas import Policy, PolicyUpdate


def _matches(content_type: str, patterns: list[str]) -> bool:
    family = content_type.split("/", 1)[0] + "/*"
    return content_type in patterns or family in patterns


def type_allowed(policy: Policy, content_type: str) -> bool:
    if _matches(content_type, policy.blocked_types):
        return False
    return not policy.allowed_types or _matches(content_type, policy.allowed_types)


def refuse_type(content_type: str, *, sniffed: bool) -> Problem:
    said = "the file's content is" if sniffed else "the file is said to be"
    return Problem(
        415,
        f"{said} {content_type}, which this workspace does not accept",
        slug="type-not-allowed",
        content_type=content_type,
    )


def check_size(policy: Policy, size: int, *, scan_limit: int) -> None:
    limit = min(policy.max_file_bytes, scan_limit)
    if size > limit:
        raise Problem(
            413,
            f"the file is {size} bytes; this workspace takes files up to {limit} bytes",
            slug="file-too-large",
            limit=limit,
        )


async def policy_of(runtime: Runtime, workspace_id: str) -> Policy:
    doc: dict[str, Any] | None = await runtime.document_db[store.POLICIES].find_one(
        {"_id": workspace_id}
    )
    if doc is None:
        return Policy()
    return Policy.model_validate({k: v for k, v in doc.items() if k != "_id"})


async def change_policy(runtime: Runtime, workspace_id: str, update: PolicyUpdate) -> Policy:
    policy = (await policy_of(runtime, workspace_id)).model_copy(update=update.changes())
    await runtime.document_db[store.POLICIES].replace_one(
        {"_id": workspace_id}, {"_id": workspace_id, **policy.model_dump()}, upsert=True
    )
    return policy
