"""NIK review queue, consent status, the caller's stated purpose in the audit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:10:00.000000
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
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_nik", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("consent_status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_resident_held_nik"), ["held_nik"], unique=False)
    # Consent recorded before this migration: a refusal cannot be told from a withdrawal any
    # more, so it is a refusal (both keep the resident out all the same).
    op.execute(
        "UPDATE resident SET consent_status = CASE WHEN consent_given THEN 'given' "
        "ELSE 'refused' END WHERE consent_given IS NOT NULL"
    )
    op.create_table(
        "nik_review",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("resident_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column(
            "existing_resident_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nik_review")),
        sa.UniqueConstraint("resident_id", name=op.f("uq_nik_review_resident_id")),
    )
    with op.batch_alter_table("nik_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nik_review_status"), ["status"], unique=False)
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stated_purpose", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_column("stated_purpose")
    with op.batch_alter_table("nik_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nik_review_status"))
    op.drop_table("nik_review")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_held_nik"))
        batch_op.drop_column("consent_status")
        batch_op.drop_column("held_nik")
