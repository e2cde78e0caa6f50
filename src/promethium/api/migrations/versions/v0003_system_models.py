"""models.owner_id nullable: the pretrained models shipped in the package belong to no user

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.alter_column("owner_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM models WHERE owner_id IS NULL")
    with op.batch_alter_table("models") as batch:
        batch.alter_column("owner_id", existing_type=sa.Uuid(), nullable=False)
