"""Request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DatasetOut",
    "ErrorBody",
    "Page",
    "RefreshIn",
    "Role",
    "TokenOut",
    "UploadInitIn",
    "UploadOut",
    "UserCreate",
    "UserOut",
    "UserUpdate",
]

T = TypeVar("T")


class Role(StrEnum):
    admin = "admin"
    user = "user"
    viewer = "viewer"


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    email: str | None
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@+-]+$")
    password: str = Field(min_length=1, max_length=1024)
    email: str | None = Field(default=None, max_length=320)
    role: Role = Role.user


class UserUpdate(BaseModel):
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    email: str | None = Field(default=None, max_length=320)
    role: Role | None = None
    is_active: bool | None = None


class DatasetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    status: str = Field(
        description="ingesting (its ingest job is queued or running), ready, or failed (see error)"
    )
    format: str | None
    size_bytes: int
    checksum_sha256: str | None
    metadata: dict[str, Any] = Field(validation_alias="meta")
    error: str | None = Field(default=None, description="Why the ingestion failed")
    ingest_job_id: uuid.UUID | None = Field(default=None, description="The job ingesting the upload")
    created_at: datetime
    updated_at: datetime


class UploadInitIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    chunk_size: int = Field(gt=0)


class UploadOut(BaseModel):
    id: uuid.UUID
    filename: str
    size: int
    chunk_size: int
    chunks: int
    received: list[int]
    expires_at: datetime
