"""Initial schema: every table of the first release.

Written with plain SQLAlchemy types (not the app's TypeDecorators) so later changes to
those Python types can never change what this migration creates.

The helpers below name what the first release's tables share: the key and stamps of the
models' ``IdMixin`` and ``TimestampMixin``, the site, date, notes and version of a
``RecordMixin`` record, and constraint names spelled out in the convention of
``models.base.NAMING`` (wrapped in ``op.f`` so a later convention cannot rename them; index
names are written out). They belong to this migration alone and are as frozen as the tables: a
change to one would give new stores a schema that no existing store has.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 09:02:49.965413
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None


def _id_and_stamps() -> list[sa.Column[Any]]:
    """The columns of ``IdMixin`` and ``TimestampMixin``, last in every table that has them."""
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
    ]


def _export_columns() -> list[sa.Column[Any]]:
    """Who exported which module of which site, and in what format: an export job and the
    audit row of the file it made both record them."""
    return [
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
    ]


def _primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ["id"]), name=op.f(f"pk_{table}"))


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def _foreign_key(table: str, column: str, referred: str, **options: Any) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{referred}")
    return sa.ForeignKeyConstraint([column], [f"{referred}.id"], name=name, **options)


def _create_reference_table(name: str, *columns: sa.Column[Any], code_length: int = 40) -> None:
    """A reference-data table (sites, materials, equipment, manpower roles): a unique code and a
    name first, then its own columns, id and stamps."""
    op.create_table(
        name,
        sa.Column("code", sa.String(length=code_length), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        *columns,
        *_id_and_stamps(),
        _primary_key(name),
        _unique(name, "code"),
    )


def _create_record_table(
    name: str,
    *columns: sa.Column[Any],
    refers_to: dict[str, str],
    unique: tuple[str, ...] = (),
) -> None:
    """A daily record table (``RecordMixin``): its own columns, then site, date, notes, version,
    id and stamps; a foreign key for each of ``refers_to`` (column: table) and one to its site;
    indexed by site and date."""
    references = {**refers_to, "site_id": "sites"}
    constraints = [_foreign_key(name, column, table) for column, table in references.items()]
    constraints.append(_primary_key(name))
    if unique:
        constraints.append(_unique(name, *unique))
    op.create_table(
        name,
        *columns,
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_id_and_stamps(),
        *constraints,
    )
    op.create_index(f"ix_{name}_site_date", name, ["site_id", "date"], unique=False)


def _drop_table(name: str, *indexes: str) -> None:
    for index in indexes:
        op.drop_index(index, table_name=name)
    op.drop_table(name)


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("old_values", sa.JSON(), nullable=True),
        sa.Column("new_values", sa.JSON(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        _primary_key("change_log"),
    )
    op.create_index("ix_change_log_record", "change_log", ["table_name", "record_id"], unique=False)

    _create_reference_table(
        "equipment",
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
    )
    _create_reference_table(
        "manpower_roles",
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
    )
    _create_reference_table(
        "materials",
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("uom", sa.String(length=16), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("low_threshold", sa.BigInteger(), nullable=False),
        sa.Column("high_threshold", sa.BigInteger(), nullable=False),
    )
    _create_reference_table(
        "sites",
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        code_length=20,
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=400), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        *_id_and_stamps(),
        _primary_key("users"),
        _unique("users", "username"),
    )
    _create_record_table(
        "dispatches",
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        refers_to={"material_id": "materials"},
    )
    _create_record_table(
        "equipment_logs",
        sa.Column("equipment_id", sa.String(length=36), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        refers_to={"equipment_id": "equipment"},
        unique=("site_id", "date", "equipment_id", "shift"),
    )
    op.create_table(
        "export_audits",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        *_export_columns(),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("record_count", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("download_count", sa.Integer(), nullable=False),
        sa.Column("last_download_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        _foreign_key("export_audits", "site_id", "sites"),
        _foreign_key("export_audits", "user_id", "users"),
        _primary_key("export_audits"),
    )
    op.create_table(
        "export_jobs",
        *_export_columns(),
        sa.Column("granularity", sa.String(length=16), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("record_count", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        _foreign_key("export_jobs", "site_id", "sites"),
        _foreign_key("export_jobs", "user_id", "users"),
        _primary_key("export_jobs"),
    )
    op.create_index(
        "ix_export_jobs_user_status", "export_jobs", ["user_id", "status"], unique=False
    )

    _create_record_table(
        "inventory_adjustments",
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        refers_to={"material_id": "materials"},
    )
    _create_record_table(
        "manpower_logs",
        sa.Column("role_id", sa.String(length=36), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(length=16), nullable=False),
        refers_to={"role_id": "manpower_roles"},
        unique=("site_id", "date", "role_id", "shift"),
    )
    _create_record_table(
        "production",
        sa.Column("shift", sa.String(length=16), nullable=False),
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        refers_to={"material_id": "materials"},
        unique=("site_id", "date", "shift", "material_id", "operation"),
    )
    op.create_table(
        "production_targets",
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("material_id", sa.String(length=36), nullable=True),
        sa.Column("daily_tons", sa.BigInteger(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        *_id_and_stamps(),
        _foreign_key("production_targets", "material_id", "materials"),
        _foreign_key("production_targets", "site_id", "sites"),
        _primary_key("production_targets"),
    )
    op.create_index(
        op.f("ix_production_targets_site_id"), "production_targets", ["site_id"], unique=False
    )

    _create_record_table(
        "received",
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("vehicle_ref", sa.String(length=100), nullable=False),
        refers_to={"material_id": "materials"},
    )
    op.create_table(
        "stock_days",
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("produced", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("dispatched", sa.BigInteger(), nullable=False),
        sa.Column("adjustment", sa.BigInteger(), nullable=False),
        sa.Column("closing", sa.BigInteger(), nullable=False),
        _foreign_key("stock_days", "material_id", "materials"),
        _foreign_key("stock_days", "site_id", "sites"),
        _primary_key("stock_days", "site_id", "material_id", "day"),
    )
    op.create_index("ix_stock_days_site_day", "stock_days", ["site_id", "day"], unique=False)

    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        _foreign_key("user_sites", "site_id", "sites"),
        _foreign_key("user_sites", "user_id", "users", ondelete="CASCADE"),
        _primary_key("user_sites", "user_id", "site_id"),
    )


def downgrade() -> None:
    # The reverse of upgrade(): each table after the tables that refer to it, its index first.
    _drop_table("user_sites")
    _drop_table("stock_days", "ix_stock_days_site_day")
    _drop_table("received", "ix_received_site_date")
    _drop_table("production_targets", op.f("ix_production_targets_site_id"))
    _drop_table("production", "ix_production_site_date")
    _drop_table("manpower_logs", "ix_manpower_logs_site_date")
    _drop_table("inventory_adjustments", "ix_inventory_adjustments_site_date")
    _drop_table("export_jobs", "ix_export_jobs_user_status")
    _drop_table("export_audits")
    _drop_table("equipment_logs", "ix_equipment_logs_site_date")
    _drop_table("dispatches", "ix_dispatches_site_date")
    _drop_table("users")
    _drop_table("sites")
    _drop_table("materials")
    _drop_table("manpower_roles")
    _drop_table("equipment")
    _drop_table("change_log", "ix_change_log_record")
