"""stock_days as a WITHOUT ROWID table on SQLite (clustered by site, material, day).

A back-dated movement rolls the closing of every later day of one site and material forward.
In a rowid table those rows sit wherever they were appended — one day of all materials per
page — so a 3-year roll-forward dirties ~1,000 pages that WAL then writes and fsyncs. Clustered
on the primary key they are contiguous: ~30 pages. PostgreSQL keeps its heap table.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"

_COLUMNS = "site_id, material_id, day, produced, received, dispatched, adjustment, closing"


def _rebuild(with_rowid: bool) -> None:
    suffix = "" if with_rowid else " WITHOUT ROWID"
    op.execute(
        "CREATE TABLE stock_days_new ("
        " site_id VARCHAR(36) NOT NULL, material_id VARCHAR(36) NOT NULL, day DATE NOT NULL,"
        " produced BIGINT NOT NULL, received BIGINT NOT NULL, dispatched BIGINT NOT NULL,"
        " adjustment BIGINT NOT NULL, closing BIGINT NOT NULL,"
        " CONSTRAINT pk_stock_days PRIMARY KEY (site_id, material_id, day),"
        " CONSTRAINT fk_stock_days_material_id_materials"
        " FOREIGN KEY(material_id) REFERENCES materials (id),"
        " CONSTRAINT fk_stock_days_site_id_sites FOREIGN KEY(site_id) REFERENCES sites (id)"
        f"){suffix}"
    )
    op.execute(
        f"INSERT INTO stock_days_new ({_COLUMNS}) SELECT {_COLUMNS} FROM stock_days"
        " ORDER BY site_id, material_id, day"
    )
    op.execute("DROP TABLE stock_days")
    op.execute("ALTER TABLE stock_days_new RENAME TO stock_days")
    op.execute("CREATE INDEX ix_stock_days_site_day ON stock_days (site_id, day)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=True)
