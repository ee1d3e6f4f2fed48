"""The day-to-day records clerks type in, one table per module.

Every record carries ``version`` (optimistic locking: SQLAlchemy adds ``WHERE version = :old`` to
each UPDATE, so an edit made on a stale copy fails instead of silently overwriting).
``shift`` is stored as ``""`` when not given so that unique keys containing it behave the same on
SQLite and PostgreSQL (NULLs are distinct in SQL unique constraints).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from deskops_desktop.models.base import ID, Base, IdMixin, TimestampMixin
from deskops_desktop.models.types import Centi, Milli


class RecordMixin(IdMixin, TimestampMixin):
    """The columns every record has: site, date, notes, version (optimistic lock), timestamps."""

    if TYPE_CHECKING:
        # Every concrete record class is a mapped table with a keyword constructor.
        __tablename__: Any

        def __init__(self, **kwargs: Any) -> None: ...

    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"))
    date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index(f"ix_{cls.__tablename__}_site_date", "site_id", "date"), *cls.extra_args)

    extra_args: ClassVar[tuple[Any, ...]] = ()


class Production(RecordMixin, Base):
    """Crusher output of a product (tons or loads) on a day, shift and operation."""

    __tablename__ = "production"
    extra_args = (UniqueConstraint("site_id", "date", "shift", "material_id", "operation"),)

    shift: Mapped[str] = mapped_column(String(16), default="")
    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(Milli())
    operation: Mapped[str] = mapped_column(String(16))


class Dispatch(RecordMixin, Base):
    """Material leaving the site: its fate (a sale, a transfer, disposal…), trips, the customer
    and DR number."""

    __tablename__ = "dispatches"

    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(Milli())
    trips: Mapped[int | None] = mapped_column(Integer, default=None)
    owner: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(100), default="")
    operation: Mapped[str] = mapped_column(String(16), default="")
    fate: Mapped[str] = mapped_column(String(16), default="SALE", server_default="SALE")


class Feed(RecordMixin, Base):
    """Raw feed consumed by the crusher: a RAW_FEED material in its own unit, optionally the
    crusher that took it. Leaves stock as the ledger's "fed" flow (never as a dispatch)."""

    __tablename__ = "feed"

    shift: Mapped[str] = mapped_column(String(16), default="")
    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(Milli())
    equipment_id: Mapped[str | None] = mapped_column(ID, ForeignKey("equipment.id"), default=None)


class Received(RecordMixin, Base):
    """Material coming in (C&D loads), with its source and vehicle."""

    __tablename__ = "received"

    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(Milli())
    source: Mapped[str] = mapped_column(String(200), default="")
    vehicle_ref: Mapped[str] = mapped_column(String(100), default="")


class EquipmentLog(RecordMixin, Base):
    """Hours and status of a piece of equipment on a day and shift."""

    __tablename__ = "equipment_logs"
    extra_args = (UniqueConstraint("site_id", "date", "equipment_id", "shift"),)

    equipment_id: Mapped[str] = mapped_column(ID, ForeignKey("equipment.id"))
    hours: Mapped[Decimal] = mapped_column(Centi())
    count: Mapped[int] = mapped_column(Integer, default=1)
    shift: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default="")


class ManpowerLog(RecordMixin, Base):
    """Headcount and hours of a manpower role on a day and shift."""

    __tablename__ = "manpower_logs"
    extra_args = (UniqueConstraint("site_id", "date", "role_id", "shift"),)

    role_id: Mapped[str] = mapped_column(ID, ForeignKey("manpower_roles.id"))
    headcount: Mapped[int] = mapped_column(Integer)
    hours: Mapped[Decimal] = mapped_column(Centi())
    shift: Mapped[str] = mapped_column(String(16), default="")


class InventoryAdjustment(RecordMixin, Base):
    """A signed correction of book stock; a stock count is stored as its difference to the book."""

    __tablename__ = "inventory_adjustments"

    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(Milli())
    reason: Mapped[str] = mapped_column(String(32))
