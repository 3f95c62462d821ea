"""Register editions: each resident's decile history, the edition of its current decile, and
an import's source, edition, column mapping and warnings

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 06:30:00.000000
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
        "resident_decile",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resident_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("welfare_decile", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("edition", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_resident_decile_resident_effective",
        "resident_decile",
        ["resident_id", "effective_on"],
        unique=False,
    )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decile_source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("decile_edition", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(sa.Column("decile_effective_on", sa.Date(), nullable=True))
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("edition", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(sa.Column("mapping", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
    # The deciles held before history began: one entry each, dated by the resident's last
    # change (the best the registry knows of when it was recorded).
    op.execute(
        "INSERT INTO resident_decile "
        "(resident_id, welfare_decile, source, edition, effective_on, org_id, recorded_at) "
        "SELECT id, welfare_decile, NULL, NULL, CAST(updated_at AS DATE), source_org_id, "
        "updated_at FROM resident WHERE welfare_decile IS NOT NULL"
    )
    op.execute(
        "UPDATE resident SET decile_effective_on = CAST(updated_at AS DATE) "
        "WHERE welfare_decile IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("mapping")
        batch_op.drop_column("edition")
        batch_op.drop_column("source")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_column("decile_effective_on")
        batch_op.drop_column("decile_edition")
        batch_op.drop_column("decile_source")
    op.drop_index("ix_resident_decile_resident_effective", table_name="resident_decile")
    op.drop_table("resident_decile")
