"""consent on the resident read model

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null ("none recorded") for every row held until the registry's next change of that
    # resident, whose snapshot carries its consent.
    with op.batch_alter_table("resident_view", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("consent", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("resident_view", schema=None) as batch_op:
        batch_op.drop_column("consent")
