"""OAuth2 password login, refresh-token rotation, logout and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.schemas import ErrorBody, RefreshIn, TokenOut, UserOut
from promethium.api.services.auth import AuthService

router = APIRouter(prefix="/auth", tags=["auth"])


def _out(pair: object) -> TokenOut:
    return TokenOut.model_validate(pair, from_attributes=True)


@router.post(
    "/login",
    name="login",
    response_model=TokenOut,
    responses={401: {"model": ErrorBody}, 429: {"model": ErrorBody}},
    summary="Exchange a user name and password for an access and a refresh token",
)
async def login(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], ctx: Ctx, session: Session
) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    return _out(await AuthService(ctx, session).login(form.username, form.password, client))


@router.post(
    "/refresh",
    name="refresh",
    response_model=TokenOut,
    responses={401: {"model": ErrorBody}},
    summary="Spend a refresh token for a new pair (rotation)",
)
async def refresh(body: RefreshIn, ctx: Ctx, session: Session) -> TokenOut:
    return _out(await AuthService(ctx, session).refresh(body.refresh_token))


@router.post("/logout", name="logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the session")
async def logout(
    principal: CurrentUser, ctx: Ctx, session: Session, body: Annotated[RefreshIn | None, Body()] = None
) -> None:
    await AuthService(ctx, session).logout(
        principal.session_id, body.refresh_token if body else None, principal.id
    )


@router.get("/me", name="me", response_model=UserOut, summary="The current user")
async def me(principal: CurrentUser) -> UserOut:
    return UserOut.model_validate(principal.user)
