"""Who answered an offer: the resident by their own reply, or an organisation as proxy

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("placement", "placement_transition"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
            )
    # Answers recorded before this revision were all given by an organisation for the resident.
    op.execute("UPDATE placement SET decided_by = 'proxy' WHERE accepted_at IS NOT NULL")


def downgrade() -> None:
    for table in ("placement_transition", "placement"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("decided_by")
