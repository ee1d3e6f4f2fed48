"""Remote-site sync: the laptop's outbox, cursors and log; the server's feed, outcomes and queues.

Self-contained on purpose: it only creates (and on downgrade drops) tables of its own, so the
revision chain can be re-linked at merge time by changing ``down_revision`` alone. The feed
triggers, functions and policies are PostgreSQL objects of a *secured* store and are installed
by ``deskops db init-server`` (``sync.server_schema``), not here. Plain SQLAlchemy types, as in
0001, so later changes to the app's TypeDecorators never change what this creates.

Revision ID: 0005
Revises: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"


def _operation_columns() -> list[sa.Column[Any]]:
    """Which operation a laptop pushed (its id, replica, author, site, row and kind): the first
    columns of both the server's outcome of it and its attention item."""
    return [
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("replica_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "sync_applied_ops",
        *_operation_columns(),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_sync_applied_ops")),
    )
    op.create_index("ix_sync_applied_ops_replica", "sync_applied_ops", ["replica_id"], unique=False)

    op.create_table(
        "sync_attention",
        sa.Column("id", sa.String(length=36), nullable=False),
        *_operation_columns(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("base", sa.JSON(), nullable=True),
        sa.Column("mine", sa.JSON(), nullable=True),
        sa.Column("theirs", sa.JSON(), nullable=True),
        sa.Column("theirs_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_attention")),
        sa.UniqueConstraint("op_id", name=op.f("uq_sync_attention_op_id")),
    )
    op.create_index(
        "ix_sync_attention_record", "sync_attention", ["table_name", "record_id"], unique=False
    )
    op.create_index(
        "ix_sync_attention_site", "sync_attention", ["site_id", "resolved_at"], unique=False
    )

    op.create_table(
        "sync_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=80), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("origin_replica", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_changes")),
    )
    op.create_index("ix_sync_changes_at", "sync_changes", ["at"], unique=False)
    op.create_index("ix_sync_changes_scope", "sync_changes", ["scope", "xid", "seq"], unique=False)

    op.create_table(
        "sync_cursors",
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_downloads",
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("last_key", sa.String(length=80), nullable=False),
        sa.Column("min_xmin", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "table_name", name=op.f("pk_sync_downloads")),
    )
    op.create_table(
        "sync_horizon",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_horizon")),
    )
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("base", sa.JSON(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("server_xid", sa.BigInteger(), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_outbox")),
        sa.UniqueConstraint("op_id", name=op.f("uq_sync_outbox_op_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_sync_outbox_record", "sync_outbox", ["table_name", "record_id"], unique=False
    )
    op.create_index("ix_sync_outbox_state", "sync_outbox", ["state"], unique=False)

    op.create_table(
        "sync_refetch",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "record_id", name=op.f("pk_sync_refetch")),
    )
    op.create_table(
        "sync_replicas",
        sa.Column("replica_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("client_protocol", sa.Integer(), nullable=False),
        sa.Column("schema_rev", sa.String(length=32), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("replica_id", name=op.f("pk_sync_replicas")),
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("replica_id", sa.String(length=36), nullable=False),
        sa.Column("server_url", sa.Text(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_by", sa.String(length=36), nullable=False),
        sa.Column("server_schema", sa.String(length=32), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skew_seconds", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sanity", sa.JSON(), nullable=True),
        sa.Column("refused", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )


def downgrade() -> None:
    # The reverse of upgrade(); a table's indexes go first, the last made first.
    op.drop_table("sync_state")
    op.drop_table("sync_replicas")
    op.drop_table("sync_refetch")
    op.drop_index("ix_sync_outbox_state", table_name="sync_outbox")
    op.drop_index("ix_sync_outbox_record", table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_table("sync_log")
    op.drop_table("sync_horizon")
    op.drop_table("sync_downloads")
    op.drop_table("sync_cursors")
    op.drop_index("ix_sync_changes_scope", table_name="sync_changes")
    op.drop_index("ix_sync_changes_at", table_name="sync_changes")
    op.drop_table("sync_changes")
    op.drop_index("ix_sync_attention_site", table_name="sync_attention")
    op.drop_index("ix_sync_attention_record", table_name="sync_attention")
    op.drop_table("sync_attention")
    op.drop_index("ix_sync_applied_ops_replica", table_name="sync_applied_ops")
    op.drop_table("sync_applied_ops")
