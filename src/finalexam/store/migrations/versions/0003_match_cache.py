"""What the last full check saw of the vulnerability DB per package, and what each package
version matched: checks re-match only the packages whose advisories changed.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "package_state",
        sa.Column("lookup_ecosystem", sa.String(64), primary_key=True),
        sa.Column("lookup_name", sa.String(1024), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
    )
    op.create_table(
        "match_cache",
        sa.Column("lookup_ecosystem", sa.String(64), primary_key=True),
        sa.Column("lookup_name", sa.String(1024), primary_key=True),
        sa.Column("version", sa.String(256), primary_key=True),
        sa.Column("advisories", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("match_cache")
    op.drop_table("package_state")
