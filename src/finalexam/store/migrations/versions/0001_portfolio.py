"""The portfolio: releases, exams, components, exposures, runs, verdict history, waivers.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text(name: str, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("digest", sa.String(64), primary_key=True),
        _text("snapshot", False),
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(512), nullable=False),
        sa.Column("version", sa.String(256), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("exam_id", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("violations", sa.Integer, nullable=False),
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.Column("dirty", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("checked_at", sa.String(32)),
        sa.UniqueConstraint("product", "version", name="releases_product_version"),
    )
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("artifact_name", sa.String(1024), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_size", sa.BigInteger, nullable=False),
        sa.Column("artifact_kind", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.String(32), nullable=False),
    )
    op.create_index("exams_by_release", "exams", ["release_id"])
    op.create_index("exams_by_sha256", "exams", ["artifact_sha256"])
    op.create_table(
        "components",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("exam_id", sa.Integer, sa.ForeignKey("exams.id"), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("version", sa.String(256)),
        sa.Column("ecosystem", sa.String(64), nullable=False),
        sa.Column("purl", sa.String(2048)),
        sa.Column("lookup_ecosystem", sa.String(64)),
        sa.Column("lookup_name", sa.String(1024)),
        _text("doc", False),
    )
    op.create_index("components_by_lookup", "components", ["lookup_ecosystem", "lookup_name"])
    op.create_index("components_by_exam", "components", ["exam_id"])
    op.create_index("components_by_name", "components", ["name"])
    op.create_table(
        "dependency_names",
        sa.Column("exam_id", sa.Integer, sa.ForeignKey("exams.id"), nullable=False),
        sa.Column("lookup_ecosystem", sa.String(64), nullable=False),
        sa.Column("lookup_name", sa.String(1024), nullable=False),
    )
    op.create_index("dependency_names_by_exam", "dependency_names", ["exam_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("reference_date", sa.String(10), nullable=False),
        sa.Column("db_updated", sa.String(32)),
        sa.Column("db_records", sa.Integer),
        sa.Column("releases", sa.Integer, nullable=False),
        sa.Column("rechecked", sa.Integer, nullable=False),
        sa.Column("opened", sa.Integer, nullable=False),
        sa.Column("closed", sa.Integer, nullable=False),
        sa.Column("verdict_changes", sa.Integer, nullable=False),
    )
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("advisory", sa.String(128), nullable=False),
        _text("ids", False),
        sa.Column("component", sa.String(2048), nullable=False),
        sa.Column("component_name", sa.String(1024), nullable=False),
        sa.Column("component_version", sa.String(256)),
        sa.Column("ecosystem", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        _text("title", False),
        _text("fixed", False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("opened_run", sa.Integer),
        sa.Column("closed_run", sa.Integer),
        _text("closed_reason"),
    )
    op.create_index("exposures_by_release", "exposures", ["release_id", "state"])
    op.create_index("exposures_by_advisory", "exposures", ["advisory"])
    op.create_index("exposures_by_opened", "exposures", ["opened_run"])
    op.create_index("exposures_by_closed", "exposures", ["closed_run"])
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("violations", sa.Integer, nullable=False),
        _text("reason", False),
    )
    op.create_index("verdicts_by_release", "verdicts", ["release_id"])
    op.create_index("verdicts_by_run", "verdicts", ["run_id"])
    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id")),
        sa.Column("product", sa.String(512)),
        sa.Column("rule_id", sa.String(256)),
        sa.Column("purl", sa.String(2048)),
        sa.Column("fingerprint", sa.String(32)),
        sa.Column("path", sa.String(2048)),
        _text("reason", False),
        sa.Column("expires", sa.String(10)),
        sa.Column("approved_by", sa.String(256)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("removed_at", sa.String(32)),
    )
    op.create_index("waivers_by_release", "waivers", ["release_id"])


def downgrade() -> None:
    for table in (
        "waivers",
        "verdicts",
        "exposures",
        "runs",
        "dependency_names",
        "components",
        "exams",
        "releases",
        "policies",
    ):
        op.drop_table(table)
