"""programme outcomes: priority lists, cohorts, visit plans, household figures, graduation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:28:35.529492
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
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
    op.create_table(
        "cohort",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enrolment_opens", sa.Date(), nullable=False),
        sa.Column("enrolment_closes", sa.Date(), nullable=False),
        sa.Column("created_by_org", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_cohort")),
    )
    op.create_table(
        "cohort_enrolment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("cohort_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("resident_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by_org", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("enrolled_via", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("baseline_on", sa.Date(), nullable=False),
        sa.Column("welfare_decile", sa.Integer(), nullable=True),
        sa.Column("decile_source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("decile_edition", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("household_income_idr", sa.BigInteger(), nullable=True),
        sa.Column("household_size", sa.Integer(), nullable=True),
        sa.Column("income_per_member_idr", sa.BigInteger(), nullable=True),
        sa.Column("employment_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_code"], ["cohort.code"], name=op.f("fk_cohort_enrolment_cohort_code_cohort")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_enrolment")),
        sa.UniqueConstraint("cohort_code", "resident_id", name="uq_cohort_enrolment"),
    )
    with op.batch_alter_table("cohort_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cohort_enrolment_cohort_code"), ["cohort_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cohort_enrolment_resident_id"), ["resident_id"], unique=False
        )
    op.create_table(
        "graduation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("resident_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("graduated_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_org", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graduation")),
    )
    with op.batch_alter_table("graduation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_graduation_resident_id"), ["resident_id"], unique=False
        )
    op.create_table(
        "feed_cursor",
        sa.Column("feed", sa.String(length=60), nullable=False),
        sa.Column("position", sa.String(length=40), nullable=False),
        sa.Column("applied", sa.BigInteger(), nullable=False),
        sa.Column("last_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_feed_cursor")),
    )
    op.create_table(
        "follow_up_due",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("resident_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("placement_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("assigned_org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("follow_up_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_due")),
        sa.UniqueConstraint("placement_id", "kind", "offset_days", name="uq_follow_up_due"),
    )
    with op.batch_alter_table("follow_up_due", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_up_due_assigned_org_id"), ["assigned_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_follow_up_due_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_follow_up_due_placement_id"), ["placement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_follow_up_due_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_follow_up_due_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follow_up_due", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_due_status"))
        batch_op.drop_index(batch_op.f("ix_follow_up_due_resident_id"))
        batch_op.drop_index(batch_op.f("ix_follow_up_due_placement_id"))
        batch_op.drop_index(batch_op.f("ix_follow_up_due_due_on"))
        batch_op.drop_index(batch_op.f("ix_follow_up_due_assigned_org_id"))

    op.drop_table("follow_up_due")
    op.drop_table("feed_cursor")
    with op.batch_alter_table("graduation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_graduation_resident_id"))

    op.drop_table("graduation")
    with op.batch_alter_table("cohort_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohort_enrolment_resident_id"))
        batch_op.drop_index(batch_op.f("ix_cohort_enrolment_cohort_code"))

    op.drop_table("cohort_enrolment")
    op.drop_table("cohort")
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_column("evidence_ref")
        batch_op.drop_column("income_source")
    op.drop_table("village_priority_list")
