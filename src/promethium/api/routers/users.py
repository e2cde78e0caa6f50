"""User administration (admins only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from promethium.api.deps import Admin, Ctx, Session
from promethium.api.schemas import Page, UserCreate, UserOut, UserUpdate
from promethium.api.services.users import UserService

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", name="list", response_model=Page[UserOut])
async def list_users(
    _: Admin,
    ctx: Ctx,
    session: Session,
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=500),
) -> Page[UserOut]:
    items, total = await UserService(ctx, session).page(page, per_page)
    return Page[UserOut](
        items=[UserOut.model_validate(u) for u in items], total=total, page=page, per_page=per_page
    )


@router.post("", name="create", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, _: Admin, ctx: Ctx, session: Session) -> UserOut:
    return UserOut.model_validate(await UserService(ctx, session).create(body))


@router.get("/{user_id}", name="get", response_model=UserOut)
async def get_user(user_id: uuid.UUID, _: Admin, ctx: Ctx, session: Session) -> UserOut:
    return UserOut.model_validate(await UserService(ctx, session).get(user_id))


@router.patch("/{user_id}", name="update", response_model=UserOut)
async def update_user(user_id: uuid.UUID, body: UserUpdate, _: Admin, ctx: Ctx, session: Session) -> UserOut:
    return UserOut.model_validate(await UserService(ctx, session).update(user_id, body))


@router.delete("/{user_id}", name="delete", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: uuid.UUID, _: Admin, ctx: Ctx, session: Session) -> None:
    await UserService(ctx, session).delete(user_id)
