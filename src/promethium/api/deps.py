"""FastAPI dependencies: the app context, a database session, the current user and role checks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from promethium.api.context import ApiContext
from promethium.api.errors import AuthenticationError, AuthorizationError
from promethium.api.models import User
from promethium.api.schemas import Role
from promethium.api.services.auth import AuthService

__all__ = ["CurrentUser", "Principal", "Session", "get_ctx", "require"]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_ctx(request: Request) -> ApiContext:  # async: no threadpool hop
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]


async def get_session(ctx: Ctx) -> AsyncIterator[AsyncSession]:
    async with ctx.db.sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    user: User
    session_id: uuid.UUID

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    def owner_filter(self) -> uuid.UUID | None:
        """The owner to restrict queries to: the user, or nobody for an admin."""
        return None if self.is_admin else self.user.id


async def current_principal(
    ctx: Ctx, session: Session, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise AuthenticationError("not authenticated")
    user, sid = await AuthService(ctx, session).authenticate(token)
    return Principal(user, sid)


CurrentUser = Annotated[Principal, Depends(current_principal)]

_RANK = {Role.viewer: 0, Role.user: 1, Role.admin: 2}


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting users of ``role`` or above (viewer < user < admin)."""

    async def check(principal: CurrentUser) -> Principal:
        if _RANK[principal.role] < _RANK[role]:
            raise AuthorizationError(f"this needs the {role.value} role")
        return principal

    return check


Writer = Annotated[Principal, Depends(require(Role.user))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
