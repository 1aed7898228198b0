"""The member routes a membership scope (a workspace, a channel) answers alike: list the members,
remove one, change one's role. The scope's `members` module holds the rules; this only routes."""

# No postponed annotations here: the routes' parameter types are chosen when the router is
# built, and FastAPI reads them from the functions themselves.

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Path, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.deps import CurrentUser, RuntimeDep, SessionDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, PageQuery, Paging
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal


class MemberBook(Protocol):
    """What a scope's `members` module offers; the scope's id comes first, positionally."""

    async def list_members(
        self,
        session: AsyncSession,
        runtime: Runtime,
        scope_id: str,
        /,
        *,
        principal: Principal,
        paging: PageQuery,
    ) -> Page[Any]: ...

    async def remove(
        self,
        session: AsyncSession,
        runtime: Runtime,
        scope_id: str,
        /,
        *,
        principal: Principal,
        user_id: str,
    ) -> None: ...

    async def set_role(
        self,
        session: AsyncSession,
        runtime: Runtime,
        scope_id: str,
        /,
        *,
        principal: Principal,
        user_id: str,
        role: str,
    ) -> Any: ...


class RoleChange(Protocol):
    role: str


def member_routes(
    *,
    scope: str,
    id_pattern: str,
    user_id: Any,
    book: MemberBook,
    member: type[BaseModel],
    role_update: type[BaseModel],
    list_problems: tuple[int, ...],
    remove_summary: str,
) -> APIRouter:
    """GET /{<scope>_id}/members, DELETE and PUT .../members/{user_id}[/role] for one scope;
    `user_id` is the type a member's id is checked with."""
    router = APIRouter()
    members = f"/{{{scope}_id}}/members"
    ScopeId = Annotated[str, Path(alias=f"{scope}_id", pattern=id_pattern)]
    UserId = Annotated[user_id, Path()]

    @router.get(members, response_model=Page[member], responses=problem_docs(*list_problems))  # type: ignore[valid-type]
    async def list_members(
        scope_id: ScopeId,
        query: Paging,
        session: SessionDep,
        runtime: RuntimeDep,
        user: CurrentUser,
    ) -> Any:
        return await book.list_members(session, runtime, scope_id, principal=user, paging=query)

    @router.delete(
        members + "/{user_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problem_docs(403, 404, 409),
        description=remove_summary,
    )
    async def remove_member(
        scope_id: ScopeId,
        user_id: UserId,
        session: SessionDep,
        runtime: RuntimeDep,
        user: CurrentUser,
    ) -> None:
        await book.remove(session, runtime, scope_id, principal=user, user_id=user_id)

    @router.put(
        members + "/{user_id}/role", response_model=member, responses=problem_docs(403, 404, 409)
    )
    async def set_member_role(
        scope_id: ScopeId,
        user_id: UserId,
        body: role_update,  # type: ignore[valid-type]  # the scope's own roles, known when built
        session: SessionDep,
        runtime: RuntimeDep,
        user: CurrentUser,
    ) -> Any:
        change: RoleChange = body
        return await book.set_role(
            session, runtime, scope_id, principal=user, user_id=user_id, role=change.role
        )

    return router
