"""Signed attestations kept with the exam they attest; each run's open exposures by severity
(the dashboard's trend, read without scanning every exposure).

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("exam_id", sa.Integer, sa.ForeignKey("exams.id"), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.String(32), nullable=False),
    )
    op.create_index("attestations_by_exam", "attestations", ["exam_id"])
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("open_counts", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("open_counts")
    op.drop_table("attestations")
