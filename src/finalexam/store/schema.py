"""The portfolio's tables (SQLAlchemy Core): the same definitions serve SQLite and PostgreSQL.

Migrations in ``migrations/versions`` create and change these tables; this module is what
the code queries. Times are ISO 8601 UTC text, so both engines sort and compare them alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# One policy snapshot per distinct content (most releases share one): the inputs the verdict
# is recomputed from when the DB or the waivers change.
policies = Table(
    "policies",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("snapshot", Text, nullable=False),
)

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product", String(512), nullable=False),
    Column("version", String(256), nullable=False),
    Column("source", String(16), nullable=False),  # built, received
    Column("exam_id", Integer),  # the current exam
    Column("status", String(16), nullable=False),  # passed, failed, incomplete
    Column("violations", Integer, nullable=False, default=0),
    Column("policy_digest", String(64), nullable=False),
    Column("dirty", Boolean, nullable=False, default=False),  # waivers changed: recheck
    Column("created_at", String(32), nullable=False),
    Column("checked_at", String(32)),
    UniqueConstraint("product", "version", name="releases_product_version"),
)

exams = Table(
    "exams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("artifact_name", String(1024), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("artifact_size", BigInteger, nullable=False),
    Column("artifact_kind", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("tool_version", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("report", LargeBinary, nullable=False),  # the JSON report, deflated
    Column("stored_at", String(32), nullable=False),
)
Index("exams_by_release", exams.c.release_id)
Index("exams_by_sha256", exams.c.artifact_sha256)

components = Table(
    "components",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", Integer, ForeignKey("exams.id"), nullable=False),
    Column("name", String(1024), nullable=False),
    Column("version", String(256)),
    Column("ecosystem", String(64), nullable=False),
    Column("purl", String(2048)),
    # What the vulnerability DB is asked about (base ecosystem, normalised name): NULL when
    # the DB knows no ecosystem for the component.
    Column("lookup_ecosystem", String(64)),
    Column("lookup_name", String(1024)),
    Column("doc", Text, nullable=False),  # the report's component entry (JSON)
)
Index("components_by_lookup", components.c.lookup_ecosystem, components.c.lookup_name)
Index("components_by_exam", components.c.exam_id)
Index("components_by_name", components.c.name)

# Signed attestations of an exam (in-toto statements in DSSE envelopes or Sigstore bundles,
# JSON Lines), kept as they were written or received.
attestations = Table(
    "attestations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", Integer, ForeignKey("exams.id"), nullable=False),
    Column("format", String(32), nullable=False),
    Column("origin", String(16), nullable=False),  # signed here, received
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("stored_at", String(32), nullable=False),
)
Index("attestations_by_exam", attestations.c.exam_id)

# Declared dependency names (not installed components): checked against MAL- records.
dependency_names = Table(
    "dependency_names",
    metadata,
    Column("exam_id", Integer, ForeignKey("exams.id"), nullable=False),
    Column("lookup_ecosystem", String(64), nullable=False),
    Column("lookup_name", String(1024), nullable=False),
)
Index("dependency_names_by_exam", dependency_names.c.exam_id)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("reference_date", String(10), nullable=False),
    Column("db_updated", String(32)),
    Column("db_records", Integer),
    Column("releases", Integer, nullable=False, default=0),
    Column("rechecked", Integer, nullable=False, default=0),
    Column("opened", Integer, nullable=False, default=0),
    Column("closed", Integer, nullable=False, default=0),
    Column("verdict_changes", Integer, nullable=False, default=0),
    Column("open_counts", Text),  # JSON: open, unwaived exposures by severity after the run
)

# One row per (release, advisory, component) ever matched; ``state`` open or closed.
exposures = Table(
    "exposures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("advisory", String(128), nullable=False),
    Column("ids", Text, nullable=False),  # " ID ALIAS ALIAS " for lookups by any name
    Column("component", String(2048), nullable=False),
    Column("component_name", String(1024), nullable=False),
    Column("component_version", String(256)),
    Column("ecosystem", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # vulnerability, malicious
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("fixed", Text, nullable=False),  # JSON list
    Column("fingerprint", String(32), nullable=False),
    Column("waived", Boolean, nullable=False, default=False),
    Column("state", String(8), nullable=False),
    Column("opened_run", Integer),  # NULL: known when the exam was stored
    Column("closed_run", Integer),
    Column("closed_reason", Text),
)
Index("exposures_by_release", exposures.c.release_id, exposures.c.state)
Index("exposures_by_advisory", exposures.c.advisory)
Index("exposures_by_opened", exposures.c.opened_run)
Index("exposures_by_closed", exposures.c.closed_run)

verdicts = Table(
    "verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("run_id", Integer),  # NULL: the exam itself
    Column("at", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("violations", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)
Index("verdicts_by_release", verdicts.c.release_id)
Index("verdicts_by_run", verdicts.c.run_id)

# Waivers kept in the portfolio, on top of those the exam's policy carried.
waivers = Table(
    "waivers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id")),  # NULL: every release of product
    Column("product", String(512)),  # NULL with release_id NULL: the whole portfolio
    Column("rule_id", String(256)),
    Column("purl", String(2048)),
    Column("fingerprint", String(32)),
    Column("path", String(2048)),
    Column("reason", Text, nullable=False),
    Column("expires", String(10)),
    Column("approved_by", String(256)),
    Column("created_at", String(32), nullable=False),
    Column("removed_at", String(32)),
)
Index("waivers_by_release", waivers.c.release_id)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("key", String(64), nullable=False, unique=True),  # de-duplication key
    Column("kind", String(32), nullable=False),  # new-exposure, verdict-change
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("severity", String(16)),
    Column("payload", Text, nullable=False),  # JSON
    Column("created_at", String(32), nullable=False),
)
Index("alerts_by_run", alerts.c.run_id)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("channel", String(256), nullable=False),  # channel kind and a digest of its target
    Column("at", String(32), nullable=False),
    Column("error", Text),  # NULL: delivered
    UniqueConstraint("alert_id", "channel", name="deliveries_alert_channel"),
)

# Alert channels by id, with the run they were first used in: an alert reaches a channel
# when it was queued in or after that run (a new channel is not flooded with old alerts).
channels = Table(
    "channels",
    metadata,
    Column("id", String(256), primary_key=True),
    Column("first_run", Integer, nullable=False),
)

# What the last full check saw of the vulnerability DB, per stored package name (a digest of
# its records), and what each stored package version matched then: a check re-matches only
# the names whose records changed.
package_state = Table(
    "package_state",
    metadata,
    Column("lookup_ecosystem", String(64), primary_key=True),
    Column("lookup_name", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
)

match_cache = Table(
    "match_cache",
    metadata,
    Column("lookup_ecosystem", String(64), primary_key=True),
    Column("lookup_name", String(1024), primary_key=True),
    Column("version", String(256), primary_key=True),  # "" for none
    Column("advisories", Text, nullable=False),  # JSON list of matched record ids
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False),
    Column("role", String(16), nullable=False),  # read, admin
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("created_at", String(32), nullable=False),
)
