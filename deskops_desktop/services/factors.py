"""Conversion factors: tons per load of a material from a date on, company-wide or per site.

Administrators set them (``deskops factor set``, Settings → Conversion factors); everyone reads
them. A factor is never copied into the records it converts: ``load_factor_table`` hands the
current factors to whoever computes tons, so a corrected factor re-derives every record it
covers at once. Setting a factor for a material, scope and date that already has one replaces
its value (the change log keeps the old one); the history is the list of dated rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from deskops_desktop.models import validation as v
from deskops_desktop.models.accounts import User
from deskops_desktop.models.conversion import Factor, FactorTable
from deskops_desktop.models.enums import Uom
from deskops_desktop.models.errors import Problem, ValidationError
from deskops_desktop.models.reference import ConversionFactor, Material, Site
from deskops_desktop.models.types import to_milli
from deskops_desktop.services.access import Actor, require_admin, require_site
from deskops_desktop.services.audit import add_logged, log_change
from deskops_desktop.services.changes import MASTER_CHANGED, Changed
from deskops_desktop.services.store import StoreService

MAX_TONS_PER_LOAD = Decimal("100.000")
"""The largest believable load (a 6-axle tipper carries ~40 t); more is a typing error."""


@dataclass(frozen=True)
class FactorRow:
    """One dated factor as the history shows it; ``valid_to`` is the day before the next factor
    of the same material and scope (None: still valid)."""

    id: str
    material_code: str
    material_name: str
    site_code: str | None  # None: company-wide
    tons_per_load: Decimal
    valid_from: date
    valid_to: date | None
    basis: str
    set_by: str
    set_at: datetime

    @property
    def scope(self) -> str:
        return self.site_code or "All sites"


def load_factor_table(session: Session, site_id: str) -> FactorTable:
    """The factors that apply at ``site_id`` (its own and the company's), ready to convert."""
    rows = session.execute(
        select(
            ConversionFactor.material_id,
            ConversionFactor.site_id,
            ConversionFactor.valid_from,
            ConversionFactor.tons_per_load,
        )
        .where(or_(ConversionFactor.site_id.is_(None), ConversionFactor.site_id == site_id))
        .order_by(ConversionFactor.valid_from, ConversionFactor.updated_at, ConversionFactor.id)
    )
    return FactorTable.of(site_id, (Factor(m, s, d, to_milli(f)) for m, s, d, f in rows))


class FactorService(StoreService):
    """Set and list conversion factors (administrators set; everyone reads their sites')."""

    def set_factor(
        self,
        actor: Actor,
        material_code: str,
        tons_per_load: object,
        valid_from: object,
        *,
        site_code: str | None = None,
        basis: str = "",
    ) -> Changed[FactorRow]:
        """Set the factor of a LOAD material from ``valid_from`` on (all sites, or one)."""
        require_admin(actor, "set conversion factors")
        problems: list[Problem] = []
        factor = _parse_factor(tons_per_load, problems)
        start = date.min
        try:
            if v.is_blank(valid_from):
                raise v.FieldError("is required")
            start = v.parse_date(valid_from, today=date.max)
        except v.FieldError as exc:
            problems.append(Problem("valid_from", str(exc)))
        try:
            basis_text = v.parse_text(basis, max_length=200)
        except v.FieldError as exc:
            problems.append(Problem("basis", str(exc)))
        with self._store.write() as session:
            material = session.scalar(
                select(Material).where(Material.code == material_code.strip().upper())
            )
            if material is None:
                problems.append(Problem("material", f"unknown material code '{material_code}'"))
            elif material.uom != Uom.LOAD:
                problems.append(
                    Problem(
                        "material",
                        f"{material.code} is counted in {material.uom.lower()}s, not loads:"
                        " only LOAD materials need a factor",
                    )
                )
            site_id = None
            if site_code:
                site = session.scalar(select(Site).where(Site.code == site_code.strip().upper()))
                if site is None:
                    problems.append(Problem("site", f"unknown site code '{site_code}'"))
                else:
                    site_id = site.id
            if problems or material is None or factor is None:
                raise ValidationError(problems)
            existing = session.scalar(
                select(ConversionFactor).where(
                    ConversionFactor.material_id == material.id,
                    ConversionFactor.site_id.is_(None)
                    if site_id is None
                    else ConversionFactor.site_id == site_id,
                    ConversionFactor.valid_from == start,
                )
            )
            new = {
                "material": material.code,
                "site": site_code.upper() if site_code else None,
                "tons_per_load": factor,
                "valid_from": start,
                "basis": basis_text,
            }
            if existing is None:
                row = ConversionFactor(
                    material_id=material.id,
                    site_id=site_id,
                    tons_per_load=factor,
                    valid_from=start,
                    basis=basis_text,
                    created_by=actor.user_id,
                )
                add_logged(session, actor, row, new)
            else:
                row = existing
                old = {**new, "tons_per_load": row.tons_per_load, "basis": row.basis}
                row.tons_per_load = factor
                row.basis = basis_text
                row.created_by = actor.user_id  # who set the value now in force
                session.flush()
                log_change(session, actor, "conversion_factors", row.id, "UPDATE", old, new)
            factor_id = row.id
        rows = self.factors(actor)
        return Changed(next(r for r in rows if r.id == factor_id), MASTER_CHANGED)

    def factors(self, actor: Actor, site_id: str | None = None) -> list[FactorRow]:
        """The history: company-wide factors and those of ``site_id`` (or of every site the
        actor may see), by material, scope and date."""
        if site_id is not None:
            require_site(actor, site_id)
        with self._store.read() as session:
            query = (
                select(ConversionFactor, Material.code, Material.name, Site.code, User)
                .join(Material, Material.id == ConversionFactor.material_id)
                .outerjoin(Site, Site.id == ConversionFactor.site_id)
                .outerjoin(User, User.id == ConversionFactor.created_by)
            )
            if site_id is not None:
                query = query.where(
                    or_(ConversionFactor.site_id.is_(None), ConversionFactor.site_id == site_id)
                )
            found = [
                (
                    _Found(
                        f.id,
                        f.material_id,
                        f.site_id,
                        f.tons_per_load,
                        f.valid_from,
                        f.basis,
                        f.updated_at,
                    ),
                    code,
                    name,
                    site,
                    (user.display_name or user.username) if user else "the system",
                )
                for f, code, name, site, user in session.execute(query)
                if f.site_id is None or actor.can_see_site(f.site_id)
            ]
            materials_order = {
                m.id: (m.sort_order, m.code) for m in session.scalars(select(Material))
            }
        found.sort(key=lambda t: (materials_order[t[0].material_id], t[3] or "", t[0].valid_from))
        out: list[FactorRow] = []
        for index, (f, code, name, site, user) in enumerate(found):
            following = found[index + 1] if index + 1 < len(found) else None
            same_scope = (
                following is not None
                and following[0].material_id == f.material_id
                and following[0].site_id == f.site_id
            )
            out.append(
                FactorRow(
                    id=f.id,
                    material_code=code,
                    material_name=name,
                    site_code=site,
                    tons_per_load=f.tons_per_load,
                    valid_from=f.valid_from,
                    valid_to=(
                        following[0].valid_from - timedelta(days=1)
                        if following is not None and same_scope
                        else None
                    ),
                    basis=f.basis,
                    set_by=user,
                    set_at=f.updated_at,
                )
            )
        return out

    def site_factor_table(self, actor: Actor, site_id: str) -> FactorTable:
        """The factors in force at a site, for code that converts many records at once."""
        require_site(actor, site_id)
        with self._store.read() as session:
            return load_factor_table(session, site_id)


class _Found(NamedTuple):
    """The columns of a factor row read inside the session (ORM rows expire when it ends)."""

    id: str
    material_id: str
    site_id: str | None
    tons_per_load: Decimal
    valid_from: date
    basis: str
    updated_at: datetime


def _parse_factor(value: object, problems: list[Problem]) -> Decimal | None:
    if v.is_blank(value):
        problems.append(Problem("tons_per_load", "is required"))
        return None
    try:
        factor = v.parse_quantity(value)
    except v.FieldError as exc:
        problems.append(Problem("tons_per_load", str(exc)))
        return None
    if factor > MAX_TONS_PER_LOAD:
        problems.append(Problem("tons_per_load", f"must be at most {MAX_TONS_PER_LOAD} t per load"))
        return None
    return factor
