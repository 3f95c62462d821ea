"""complaints in the read model, for their counts and SLA breaches

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 06:50:00.000000
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
    op.create_table(
        "rm_grievance",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("village_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("provider_org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rm_grievance")),
    )
    with op.batch_alter_table("rm_grievance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rm_grievance_district_village", ["district_code", "village_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rm_grievance_provider_org_id"), ["provider_org_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rm_grievance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_grievance_provider_org_id"))
        batch_op.drop_index("ix_rm_grievance_district_village")
    op.drop_table("rm_grievance")
