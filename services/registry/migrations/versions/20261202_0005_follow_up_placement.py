"""Follow-ups name their placement and the recorder's organisation type

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both stay NULL on visits recorded before: the registry cannot tell which placement, or
    # which kind of organisation, they were; follow_ups.service.counts judges them by what
    # they hold.
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("org_type", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(
            sa.Column("placement_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_column("placement_id")
        batch_op.drop_column("org_type")
