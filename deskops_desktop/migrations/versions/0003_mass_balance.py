"""The plant's mass balance: the Feed records, a dispatch's fate, dated conversion factors and
the ledger's Fed flow.

Every existing dispatch keeps its row and becomes a SALE (``server_default``), every stock row
gets ``fed = 0``; nothing else changes, so closings are the same after the upgrade. Feed that an
earlier release booked as a dispatch ("Crusher feed (internal)") stays a dispatch until an admin
moves it with ``deskops dispatch reclassify`` (it needs a human's choice of which rows).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("shift", sa.String(length=16), nullable=False),
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("equipment_id", sa.String(length=36), nullable=True),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_feed_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_feed_material_id_materials")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_feed_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed")),
    )
    op.create_index("ix_feed_site_date", "feed", ["site_id", "date"], unique=False)

    op.create_table(
        "conversion_factors",
        sa.Column("material_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=True),
        sa.Column("tons_per_load", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_conversion_factors_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_conversion_factors_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversion_factors")),
    )
    op.create_index(
        op.f("ix_conversion_factors_material_id"),
        "conversion_factors",
        ["material_id"],
        unique=False,
    )

    # ADD COLUMN with a constant default: no table rebuild on either engine (SQLite keeps
    # stock_days WITHOUT ROWID; PostgreSQL ≥ 11 stores the default in the catalogue).
    op.add_column(
        "dispatches",
        sa.Column("fate", sa.String(length=16), nullable=False, server_default="SALE"),
    )
    op.add_column(
        "stock_days", sa.Column("fed", sa.BigInteger(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    # Feed leaves stock: without its table the stored closings would be wrong, so a downgrade
    # with feed records refuses rather than silently changing every later closing.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM feed LIMIT 1")).first() is not None:
        raise RuntimeError("feed records exist; downgrading past 0003 would change stock")
    op.drop_column("stock_days", "fed")
    op.drop_column("dispatches", "fate")
    op.drop_index(op.f("ix_conversion_factors_material_id"), table_name="conversion_factors")
    op.drop_table("conversion_factors")
    op.drop_index("ix_feed_site_date", table_name="feed")
    op.drop_table("feed")
