"""Report packs (what head office receives every night) and company-wide audit rows.

``report_packs`` is new and starts empty. ``export_audits.site_id`` becomes nullable: a pack's
Power BI partition holds every site of the pack, so its audit row names no single site. Every
existing audit row keeps its site; nothing else changes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "report_packs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("all_sites", sa.Boolean(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("reports", sa.JSON(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("powerbi", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("fiscal_year_start", sa.Integer(), nullable=False),
        sa.Column("schedule_time", sa.String(length=5), nullable=False),
        sa.Column("schedule_kind", sa.String(length=16), nullable=False),
        sa.Column("schedule_host", sa.String(length=200), nullable=False),
        sa.Column("run_as", sa.String(length=64), nullable=False),
        sa.Column("last_run_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_status", sa.String(length=16), nullable=False),
        sa.Column("last_run_period", sa.String(length=32), nullable=False),
        sa.Column("last_run_message", sa.Text(), nullable=False),
        sa.Column("last_run_files", sa.Integer(), nullable=True),
        sa.Column("last_run_bytes", sa.BigInteger(), nullable=True),
        sa.Column("last_run_folder", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_packs")),
        sa.UniqueConstraint("name", name=op.f("uq_report_packs_name")),
    )
    # Batch mode on SQLite (the env turns it on): the table is copied with its constraints.
    with op.batch_alter_table("export_audits") as batch:
        batch.alter_column("site_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM export_audits WHERE site_id IS NULL")).first():
        raise RuntimeError("company-wide audit rows exist; downgrading past 0004 would lose them")
    with op.batch_alter_table("export_audits") as batch:
        batch.alter_column("site_id", existing_type=sa.String(length=36), nullable=False)
    op.drop_table("report_packs")
