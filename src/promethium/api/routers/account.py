"""The signed-in user's own account: update the profile, change the password (the current one is
required; every other session of the user is ended)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from promethium.api.deps import Ctx, CurrentUser, Session
from promethium.api.schemas import ErrorBody, UserOut
from promethium.api.services.account import AccountService

router = APIRouter(prefix="/auth", tags=["auth"])


class ProfileIn(BaseModel):
    email: str | None = Field(default=None, max_length=320)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChangeOut(BaseModel):
    sessions_ended: int = Field(description="Other sessions of the user that were ended")


@router.patch(
    "/me",
    name="update_me",
    response_model=UserOut,
    responses={422: {"model": ErrorBody}},
    summary="Update your profile",
)
async def update_me(body: ProfileIn, principal: CurrentUser, ctx: Ctx, session: Session) -> UserOut:
    return UserOut.model_validate(
        await AccountService(ctx, session).update_profile(principal.user, body.email)
    )


@router.post(
    "/password",
    name="change_password",
    response_model=PasswordChangeOut,
    responses={422: {"model": ErrorBody}, 429: {"model": ErrorBody}},
    summary="Change your password (the current one required); your other sessions end",
)
async def change_password(
    body: PasswordChangeIn, principal: CurrentUser, ctx: Ctx, session: Session
) -> PasswordChangeOut:
    n = await AccountService(ctx, session).change_password(
        principal.user, principal.session_id, body.current_password, body.new_password
    )
    return PasswordChangeOut(sessions_ended=n)
