"""Role assignments: who holds which role where, with the rules that keep a workspace sound.

Every change commits to SQL together with its `permission.role.assigned` /
`permission.role.revoked` events (published once it commits), then reloads this replica and
announces itself to the others (`decisions.changed`).
Functions taking `authorize=True` act for a user and check that user's own rights; the
internal API passes False (the caller is a trusted service), the workspace rules still hold.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.errors import Problem, conflict, forbidden, not_found
from quckchat.core.pagination import PageQuery, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import Database, is_unique_violation, utcnow
from quckchat.permission import decisions
from quckchat.permission.events import RoleAssigned, RoleEvent, RoleRevoked
from quckchat.permission.models import PolicyRule, rule_key
from quckchat.permission.policy import (
    DEFAULT_POLICIES,
    OWNER,
    PLATFORM,
    PLATFORM_ADMIN,
    channel_domain,
    channel_domain_prefix,
    channel_object,
)


def scope_of(rule: PolicyRule) -> tuple[str, str | None]:
    """(tenant, channel id) of an assignment, from its domain."""
    tenant, _, channel = rule.v2.partition("/channel:")
    return tenant, channel or None


async def seed_defaults(db: Database) -> bool:
    """Insert the default policy rules that are missing; True when any was added."""
    wanted = {rule_key("p", *rule): rule for rule in DEFAULT_POLICIES}
    try:
        async with db.session() as session:
            present = set(
                await session.scalars(select(PolicyRule.rule_key).where(PolicyRule.ptype == "p"))
            )
            missing = [(key, rule) for key, rule in wanted.items() if key not in present]
            session.add_all(
                PolicyRule(ptype="p", v0=sub, v1=dom, v2=obj, v3=act, rule_key=key)
                for key, (sub, dom, obj, act) in missing
            )
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        # Another replica seeded the same rules at the same moment.
        return True
    return bool(missing)


def _assignments() -> ColumnElement[bool]:
    return PolicyRule.ptype == "g"


def _in_tenant(tenant: str) -> ColumnElement[bool]:
    return or_(
        PolicyRule.v2 == tenant,
        PolicyRule.v2.startswith(channel_domain_prefix(tenant), autoescape=True),
    )


async def _assignment(
    session: AsyncSession, *, user_id: str, domain: str, lock: bool = False
) -> PolicyRule | None:
    query = select(PolicyRule).where(
        _assignments(), PolicyRule.v0 == user_id, PolicyRule.v2 == domain
    )
    if lock:
        query = query.with_for_update()
    row: PolicyRule | None = await session.scalar(query)
    return row


async def _lock_owners(session: AsyncSession, *, tenant: str) -> int:
    """Lock the tenant's owner rows so owner changes run one at a time; their count."""
    query = (
        select(PolicyRule.id)
        .where(_assignments(), PolicyRule.v2 == tenant, PolicyRule.v1 == OWNER)
        .with_for_update()
    )
    return len((await session.scalars(query)).all())


async def _require_owner(session: AsyncSession, *, actor: str, tenant: str) -> None:
    mine = await _assignment(session, user_id=actor, domain=tenant)
    if mine is None or mine.v1 != OWNER:
        raise forbidden("only an owner may make, change or remove an owner")


def _authorize(runtime: Runtime, *, actor: str, tenant: str, channel_id: str | None) -> None:
    obj = "members" if channel_id is None else channel_object(channel_id)
    if not decisions.get(runtime).allowed(subject=actor, tenant=tenant, obj=obj, action="manage"):
        where = "this workspace" if channel_id is None else "this channel"
        raise forbidden(f"you may not manage the roles of {where}")


def _raced(exc: IntegrityError) -> Problem:
    """The answer to losing an insert race on an assignment; other integrity errors re-raise."""
    if not is_unique_violation(exc):
        raise exc
    return conflict("the roles of this user changed at the same moment; try again")


async def _announce(
    session: AsyncSession,
    runtime: Runtime,
    kind: type[RoleEvent],
    *,
    actor: str,
    rules: list[PolicyRule],
) -> None:
    """Record an event per changed assignment with the session's change."""
    for rule in rules:
        tenant, channel_id = scope_of(rule)
        event = kind(
            actor=actor, user_id=rule.v0, role=rule.v1, tenant=tenant, channel_id=channel_id
        )
        await runtime.emit(event, tenant=tenant, session=session)


async def assign(
    runtime: Runtime,
    *,
    actor: str,
    user_id: str,
    role: str,
    tenant: str,
    channel_id: str | None = None,
    authorize: bool,
) -> PolicyRule:
    """Give the user `role` in the workspace, or in one of its channels; replaces their role there.

    A channel role needs a workspace role first; the last owner keeps being an owner.
    """
    assert runtime.db is not None
    if authorize:
        _authorize(runtime, actor=actor, tenant=tenant, channel_id=channel_id)
    domain = tenant if channel_id is None else channel_domain(tenant, channel_id)
    try:
        async with runtime.db.session() as session:
            owners = await _lock_owners(session, tenant=tenant) if channel_id is None else 0
            member = channel_id is None or await _assignment(
                session, user_id=user_id, domain=tenant
            )
            if not member:
                raise conflict("the user is not a member of this workspace", slug="not-a-member")
            rule = await _assignment(session, user_id=user_id, domain=domain, lock=True)
            if rule is not None and rule.v1 == role:
                return rule
            previous = rule.v1 if rule is not None else None
            if channel_id is None and OWNER in (role, previous):
                if authorize:
                    await _require_owner(session, actor=actor, tenant=tenant)
                if previous == OWNER and owners <= 1:
                    raise conflict("a workspace keeps at least one owner", slug="last-owner")
            if rule is None:
                rule = PolicyRule(
                    ptype="g",
                    v0=user_id,
                    v1=role,
                    v2=domain,
                    rule_key=rule_key("g", user_id, role, domain),
                )
                session.add(rule)
            else:
                rule.v1, rule.changed_at = role, utcnow()
            await _announce(session, runtime, RoleAssigned, actor=actor, rules=[rule])
    except IntegrityError as exc:
        raise _raced(exc) from exc
    await decisions.changed(runtime)
    return rule


async def revoke(
    runtime: Runtime,
    *,
    actor: str,
    user_id: str,
    tenant: str,
    channel_id: str | None = None,
    authorize: bool,
) -> list[PolicyRule]:
    """End the user's role in the workspace (with every channel role there) or in one channel."""
    assert runtime.db is not None
    if authorize:
        _authorize(runtime, actor=actor, tenant=tenant, channel_id=channel_id)
    domain = tenant if channel_id is None else channel_domain(tenant, channel_id)
    async with runtime.db.session() as session:
        owners = await _lock_owners(session, tenant=tenant) if channel_id is None else 0
        rule = await _assignment(session, user_id=user_id, domain=domain, lock=True)
        if rule is None:
            raise not_found("the role assignment")
        removed = [rule]
        if rule.v1 == OWNER and channel_id is None:
            if authorize:
                await _require_owner(session, actor=actor, tenant=tenant)
            if owners <= 1:
                raise conflict("a workspace keeps at least one owner", slug="last-owner")
        if channel_id is None:
            prefix = channel_domain_prefix(tenant)
            removed += (
                await session.scalars(
                    select(PolicyRule).where(
                        _assignments(),
                        PolicyRule.v0 == user_id,
                        PolicyRule.v2.startswith(prefix, autoescape=True),
                    )
                )
            ).all()
        await session.execute(delete(PolicyRule).where(PolicyRule.id.in_([r.id for r in removed])))
        await _announce(session, runtime, RoleRevoked, actor=actor, rules=removed)
    await decisions.changed(runtime)
    return removed


async def grant_platform_admin(runtime: Runtime, *, actor: str, user_id: str) -> PolicyRule:
    """Make the user a platform administrator (a no-op when they are one)."""
    assert runtime.db is not None
    try:
        async with runtime.db.session() as session:
            rule = await _assignment(session, user_id=user_id, domain=PLATFORM)
            if rule is not None:
                return rule
            rule = PolicyRule(
                ptype="g",
                v0=user_id,
                v1=PLATFORM_ADMIN,
                v2=PLATFORM,
                rule_key=rule_key("g", user_id, PLATFORM_ADMIN, PLATFORM),
            )
            session.add(rule)
            await _announce(session, runtime, RoleAssigned, actor=actor, rules=[rule])
    except IntegrityError as exc:
        raise _raced(exc) from exc
    await decisions.changed(runtime)
    return rule


async def revoke_platform_admin(runtime: Runtime, *, actor: str, user_id: str) -> None:
    assert runtime.db is not None
    async with runtime.db.session() as session:
        rule = await _assignment(session, user_id=user_id, domain=PLATFORM, lock=True)
        if rule is None:
            raise not_found("the platform administrator")
        await session.delete(rule)
        await _announce(session, runtime, RoleRevoked, actor=actor, rules=[rule])
    await decisions.changed(runtime)


async def list_assignments(
    session: AsyncSession, *, tenant: str, paging: PageQuery
) -> tuple[list[PolicyRule], str | None]:
    """The tenant's workspace and channel role assignments, by user id."""
    query = select(PolicyRule).where(_assignments(), _in_tenant(tenant))
    return await read_page(
        session, query, PolicyRule.v0, PolicyRule.id, paging=paging, descending=False
    )


async def roles_of(session: AsyncSession, *, user_id: str, tenant: str) -> list[PolicyRule]:
    """The user's assignments in the tenant and on the platform."""
    query = select(PolicyRule).where(
        _assignments(),
        PolicyRule.v0 == user_id,
        or_(_in_tenant(tenant), PolicyRule.v2 == PLATFORM),
    )
    return list((await session.scalars(query)).all())
