"""Master data: sites, materials, equipment, manpower roles and production targets.

Reference rows are never hard-deleted while referenced; they are deactivated (``active``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import ID, Base, IdMixin, TimestampMixin
from deskops_desktop.models.types import Milli

DEFAULT_LOW_THRESHOLD = Decimal("100")
DEFAULT_HIGH_THRESHOLD = Decimal("500")


class Site(IdMixin, TimestampMixin, Base):
    """A plant (code, name, place, IANA time zone)."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Riyadh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Material(IdMixin, TimestampMixin, Base):
    """A material with its category, unit and LOW / HEALTHY thresholds."""

    __tablename__ = "materials"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    uom: Mapped[str] = mapped_column(String(16))
    is_final: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    low_threshold: Mapped[Decimal] = mapped_column(Milli(), default=DEFAULT_LOW_THRESHOLD)
    high_threshold: Mapped[Decimal] = mapped_column(Milli(), default=DEFAULT_HIGH_THRESHOLD)


class Equipment(IdMixin, TimestampMixin, Base):
    """A machine of the plant and its type."""

    __tablename__ = "equipment"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ManpowerRole(IdMixin, TimestampMixin, Base):
    """A job on site (driver, crusher operator, …)."""

    __tablename__ = "manpower_roles"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ConversionFactor(IdMixin, TimestampMixin, Base):
    """Tons per load of a material from a date on, company-wide (``site_id`` None) or for one
    site. The factor valid on a record's date converts its loads to deemed tons; a newer factor
    never rewrites history before its ``valid_from``. ``basis`` says where the figure comes from
    (a weighbridge sample, a survey, a published table); ``created_by`` who set it."""

    __tablename__ = "conversion_factors"

    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"), index=True)
    site_id: Mapped[str | None] = mapped_column(ID, ForeignKey("sites.id"), default=None)
    tons_per_load: Mapped[Decimal] = mapped_column(Milli())
    valid_from: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(200), default="")


class ProductionTarget(IdMixin, TimestampMixin, Base):
    """Daily production target; ``material_id`` None means all materials of the site together."""

    __tablename__ = "production_targets"

    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"), index=True)
    material_id: Mapped[str | None] = mapped_column(ID, ForeignKey("materials.id"), default=None)
    daily_tons: Mapped[Decimal] = mapped_column(Milli())
    from_date: Mapped[date] = mapped_column(Date)
