"""Tables of remote-site sync: the laptop's outbox and cursors, the server's change feed and queues.

One schema for both backends (Alembic revision ``0005``), so a store never changes shape when it
becomes a replica; each table is *used* on one side only:

- On a remote-site laptop (SQLite replica): ``sync_state`` (one row: who this replica is),
  ``sync_outbox`` (every local write, in the write's own transaction), ``sync_cursors`` (where
  the pull is in the server's feed, per scope), ``sync_downloads`` (resumable first download),
  ``sync_refetch`` (records to re-read from the server by id) and ``sync_log``.
- On the company server (secured PostgreSQL): ``sync_changes`` (the change feed, filled by
  triggers only), ``sync_applied_ops`` (every pushed operation's outcome, keyed by its op id),
  ``sync_attention`` (conflicts and records held for a moderator), ``sync_replicas`` (each
  laptop's identity) and ``sync_horizon`` (how far the feed has been pruned).

Which tables travel is decided here, in one place (``PUSHED_TABLES``, ``PULLED_TABLES``): the
record tables come from ``models.modules.SPECS``, so a new record module syncs without new sync
code; master tables are listed once in ``MASTER_TABLES``. ``stock_days`` never travels (each side
derives it from the records), nor do the change log, exports or these sync tables themselves.

Invariants a newcomer must not break:
- No column here has a server default: every value is written explicitly (the feed triggers
  write ``xid`` and ``at`` themselves), so the models and the migration agree on both backends.
- ``sync_outbox.seq`` is AUTOINCREMENT on SQLite: a sequence number is never reused, even after
  old rows are pruned, so the highest sequence number survives and a restored backup (whose
  sequence is lower than the server's last acknowledged one) is recognised.
- Quantities inside JSON payloads are decimal *strings*, never floats (see ``sync.codec``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import ID, Base
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.types import UTCDateTime

# ------------------------------------------------------------------------ what travels
PUSHED_TABLES: tuple[str, ...] = tuple(spec.table.__tablename__ for spec in SPECS.values())
"""Tables a laptop writes and pushes: the record modules (one per ``SPECS`` entry)."""

MASTER_TABLES: tuple[str, ...] = (
    "sites",
    "materials",
    "equipment",
    "manpower_roles",
    "users",
    "user_sites",
    "production_targets",
    "conversion_factors",
)
"""Tables that flow down only (edited at head office), in foreign-key order."""

PULLED_TABLES: tuple[str, ...] = (*MASTER_TABLES, *PUSHED_TABLES)
"""Everything a laptop receives, parents before children."""

NEVER_SYNCED: tuple[str, ...] = (
    "stock_days",
    "change_log",
    "export_jobs",
    "export_audits",
    "report_packs",  # head office's alone: a pack names every site and runs where it is defined
)

# Outbox operation kinds (values are stored; never rename without a migration).
OP_INSERT = "insert"
OP_UPDATE = "update"
OP_DELETE = "delete"


class OpState(StrEnum):
    """Where an outbox operation stands (values are stored; never rename without a migration)."""

    PENDING = "pending"  # written locally, not yet sent (may still be coalesced)
    SENT = "sent"  # handed to the server; outcome unknown until it answers
    APPLIED = "applied"  # the server applied it (acknowledged)
    CONFLICT = "conflict"  # kept beside the server's version, waiting for a moderator
    HELD = "held"  # an operator's late record, waiting for a moderator's review
    REJECTED = "rejected"  # refused by the server, with its reason
    RESOLVED = "resolved"  # a moderator decided a conflict or held record
    DISMISSED = "dismissed"  # the clerk has read a rejection


UNACKNOWLEDGED_STATES = (OpState.PENDING, OpState.SENT)
ATTENTION_STATES = (OpState.CONFLICT, OpState.HELD, OpState.REJECTED)


# ------------------------------------------------------------------------ the laptop
class SyncState(Base):
    """The one row that makes a SQLite store a remote-site replica (absent: a lone store)."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    replica_id: Mapped[str] = mapped_column(ID)
    server_url: Mapped[str] = mapped_column(Text)
    site_ids: Mapped[list[str]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    joined_by: Mapped[str] = mapped_column(ID)
    server_schema: Mapped[str] = mapped_column(String(32), default="")
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    skew_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sanity: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    refused: Mapped[str] = mapped_column(Text, default="")


class SyncOutbox(Base):
    """One local write waiting for (or answered by) the server."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        Index("ix_sync_outbox_record", "table_name", "record_id"),
        Index("ix_sync_outbox_state", "state"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[str] = mapped_column(ID, unique=True)
    author_id: Mapped[str] = mapped_column(ID)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(ID)
    site_id: Mapped[str] = mapped_column(ID)
    op: Mapped[str] = mapped_column(String(8))
    base_version: Mapped[int] = mapped_column(Integer)
    base: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    server_xid: Mapped[int | None] = mapped_column(BigInteger, default=None)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)


class SyncCursor(Base):
    """How far the pull has read the server's feed in one scope (``m``, ``s:<site>``, …)."""

    __tablename__ = "sync_cursors"

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class SyncDownload(Base):
    """Progress of a scope's full download (first sync, re-download), per table."""

    __tablename__ = "sync_downloads"

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_key: Mapped[str] = mapped_column(String(80))
    min_xmin: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean)


class SyncRefetch(Base):
    """A record whose server state must be read again by id at the next pull."""

    __tablename__ = "sync_refetch"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))


class SyncLog(Base):
    """What each sync did, in plain words (Settings → Sync shows it)."""

    __tablename__ = "sync_log"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    level: Mapped[str] = mapped_column(String(8))
    step: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)


# ------------------------------------------------------------------------ the server
class SyncChange(Base):
    """One row of the server's change feed; written only by the feed triggers.

    ``xid`` is the writing transaction's id (``pg_current_xact_id()``); readers take rows below
    their snapshot's xmin only, so a transaction that commits late can never be skipped.
    """

    __tablename__ = "sync_changes"
    __table_args__ = (
        Index("ix_sync_changes_scope", "scope", "xid", "seq"),
        Index("ix_sync_changes_at", "at"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    xid: Mapped[int] = mapped_column(BigInteger)
    scope: Mapped[str] = mapped_column(String(48))
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(80))
    op: Mapped[str] = mapped_column(String(8))
    site_id: Mapped[str | None] = mapped_column(ID, default=None)
    user_id: Mapped[str | None] = mapped_column(ID, default=None)
    version: Mapped[int | None] = mapped_column(Integer, default=None)
    origin_replica: Mapped[str | None] = mapped_column(ID, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncAppliedOp(Base):
    """The outcome of every pushed operation, remembered in the transaction that decided it."""

    __tablename__ = "sync_applied_ops"
    __table_args__ = (Index("ix_sync_applied_ops_replica", "replica_id"),)

    op_id: Mapped[str] = mapped_column(ID, primary_key=True)
    replica_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    site_id: Mapped[str] = mapped_column(ID)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(ID)
    op: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(12))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    server_version: Mapped[int | None] = mapped_column(Integer, default=None)
    xid: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncAttention(Base):
    """A pushed change that needs a moderator: a conflict (both versions kept) or a held record.

    ``kind``: ``edit_edit``, ``edit_delete``, ``delete_edit``, ``same_key``, ``behind`` (a later
    change of a record that already has an open conflict) or ``held`` (an operator's record older
    than the 7-day window). ``mine`` is what the laptop sent, ``theirs`` the server's row when it
    arrived, ``base`` the values the clerk started from.
    """

    __tablename__ = "sync_attention"
    __table_args__ = (
        Index("ix_sync_attention_site", "site_id", "resolved_at"),
        Index("ix_sync_attention_record", "table_name", "record_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    op_id: Mapped[str] = mapped_column(ID, unique=True)
    replica_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    site_id: Mapped[str] = mapped_column(ID)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(ID)
    op: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    base_version: Mapped[int] = mapped_column(Integer)
    base: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    mine: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    theirs: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    theirs_id: Mapped[str | None] = mapped_column(ID, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolved_by: Mapped[str | None] = mapped_column(ID, default=None)
    resolution: Mapped[str] = mapped_column(String(16), default="")


class SyncReplica(Base):
    """A laptop the server knows: its identity, machine fingerprint and push high-water mark."""

    __tablename__ = "sync_replicas"

    replica_id: Mapped[str] = mapped_column(ID, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ID)
    site_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_acked_seq: Mapped[int] = mapped_column(BigInteger)
    client_protocol: Mapped[int] = mapped_column(Integer)
    schema_rev: Mapped[str] = mapped_column(String(32))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SyncHorizon(Base):
    """How far the feed was pruned: a cursor below this must re-download its scope."""

    __tablename__ = "sync_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    xid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime())
