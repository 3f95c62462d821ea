"""programme outcomes: priority lists, cohorts, visit plans, household figures, graduation

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 06:28:35.529492
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "village_priority_list",
        sa.Column("village_code", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("minutes_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("set_by_org", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("set_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("village_code", name=op.f("pk_village_priority_list")),
    )
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        # Every visit before this revision was the resident's own word.
        batch_op.add_column(
            sa.Column(
                "income_source",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="self_report",
            )
        )
        batch_op.add_column(
            sa.Column("evidence_ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.alter_column("income_source", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_column("evidence_ref")
        batch_op.drop_column("income_source")
    op.drop_table("village_priority_list")
