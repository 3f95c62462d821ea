"""targets per cohort, the registry's enrolments and the decile's edition in the read model

A target is keyed by (cohort, district). The targets held before are the standing targets of
their district (cohort ``""``): the summary and the stages keep comparing against them, as
before; a cohort's targets are what its cohort report compares against (issue 15).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 13:40:00.000000
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
    with op.batch_alter_table("program_target", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cohort_code",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default="",
            )
        )
        batch_op.drop_constraint("pk_program_target", type_="primary")
        batch_op.create_primary_key("pk_program_target", ["cohort_code", "district_code"])
    with op.batch_alter_table("rm_resident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decile_edition", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(sa.Column("decile_effective_on", sa.Date(), nullable=True))
    op.create_table(
        "rm_enrolment",
        sa.Column("cohort_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("resident_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline_on", sa.Date(), nullable=False),
        sa.Column("welfare_decile", sa.Integer(), nullable=True),
        sa.Column("decile_edition", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("decile_effective_on", sa.Date(), nullable=True),
        sa.Column("income_per_member_idr", sa.BigInteger(), nullable=True),
        sa.Column("target_max_decile", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("cohort_code", "resident_id", name=op.f("pk_rm_enrolment")),
    )
    with op.batch_alter_table("rm_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rm_enrolment_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rm_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_enrolment_resident_id"))
    op.drop_table("rm_enrolment")
    with op.batch_alter_table("rm_resident", schema=None) as batch_op:
        batch_op.drop_column("decile_effective_on")
        batch_op.drop_column("decile_edition")
    # Only the standing targets fit the table keyed by district alone: a cohort's go.
    op.execute("DELETE FROM program_target WHERE cohort_code <> ''")
    with op.batch_alter_table("program_target", schema=None) as batch_op:
        batch_op.drop_constraint("pk_program_target", type_="primary")
        batch_op.create_primary_key("pk_program_target", ["district_code"])
        batch_op.drop_column("cohort_code")
