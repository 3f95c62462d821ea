"""Import content deleted when its job ends; an edit's NIK held for review

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
    # Files of jobs that ended before this migration: only the row report is kept.
    op.execute("UPDATE import_job SET content = NULL WHERE status IN ('done', 'failed')")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending_nik", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_resident_pending_nik"), ["pending_nik"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_pending_nik"))
        batch_op.drop_column("pending_nik")
    # A file deleted at its job's end cannot come back; the column is NOT NULL again.
    op.execute("UPDATE import_job SET content = '' WHERE content IS NULL")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
