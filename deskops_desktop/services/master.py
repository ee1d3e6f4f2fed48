"""Master data maintenance (admins only): sites, materials, equipment, roles, targets.

Reference rows are deactivated, never deleted while records point at them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskops_desktop.models import validation as v
from deskops_desktop.models.enums import Category, EquipmentType, Uom
from deskops_desktop.models.errors import NotFound, Problem, ValidationError
from deskops_desktop.models.modules import ReferenceIndex
from deskops_desktop.models.reference import (
    Equipment,
    ManpowerRole,
    Material,
    ProductionTarget,
    Site,
)
from deskops_desktop.services.access import Actor, require_admin, require_site
from deskops_desktop.services.audit import add_logged, log_change
from deskops_desktop.services.changes import MASTER_CHANGED, Changed
from deskops_desktop.services.reference import SiteInfo, find_site, load_reference_index, site_info
from deskops_desktop.services.store import StoreService


@dataclass(frozen=True)
class TargetInfo:
    """A daily production target of a site (or one material of it) from a date on."""

    id: str
    site_id: str
    material_code: str | None
    daily_tons: Decimal
    from_date: date


class MasterDataService(StoreService):
    """Sites, materials, equipment, manpower roles and production targets (administrators write;
    everyone reads what their role may see). Writes return ``Changed[...]`` with ``MASTER_CHANGED``.
    """

    # ----- sites
    def sites(self, actor: Actor, *, include_inactive: bool = False) -> list[SiteInfo]:
        """The sites this user may see, by code."""
        with self._store.read() as session:
            rows = [site_info(s) for s in session.scalars(select(Site).order_by(Site.code))]
        return [s for s in rows if actor.can_see_site(s.id) and (include_inactive or s.active)]

    def site_by_code(self, actor: Actor, code: str) -> SiteInfo:
        with self._store.read() as session:
            site = find_site(session, code)
        require_site(actor, site.id)
        return site

    def add_site(
        self,
        actor: Actor,
        code: str,
        name: str,
        *,
        location: str = "",
        timezone: str = "Asia/Riyadh",
    ) -> Changed[SiteInfo]:
        require_admin(actor, "add sites")
        clean_code = code.strip().upper()
        problems = _site_problems(clean_code, name, timezone)
        with self._store.write() as session:
            if (
                session.scalar(select(Site.id).where(func.upper(Site.code) == clean_code))
                is not None
            ):
                problems.append(Problem("code", f"site {clean_code} already exists"))
            if problems:
                raise ValidationError(problems)
            site = Site(
                code=clean_code,
                name=name.strip(),
                location=location.strip(),
                timezone=timezone,
                created_by=actor.user_id,
            )
            add_logged(
                session, actor, site, {"code": clean_code, "name": site.name, "timezone": timezone}
            )
            return Changed(site_info(site), MASTER_CHANGED)

    def update_site(self, actor: Actor, site_id: str, **changes: Any) -> Changed[SiteInfo]:
        require_admin(actor, "change sites")
        with self._store.write() as session:
            site = _get(session, Site, site_id)
            old = {
                "name": site.name,
                "location": site.location,
                "timezone": site.timezone,
                "active": site.active,
            }
            merged = {**old, **changes}
            problems = _site_problems(site.code, str(merged["name"]), str(merged["timezone"]))
            if problems:
                raise ValidationError(problems)
            for key in ("name", "location", "timezone", "active"):
                setattr(site, key, merged[key])
            log_change(session, actor, "sites", site.id, "UPDATE", old, merged)
            return Changed(site_info(site), MASTER_CHANGED)

    # ----- materials, equipment, roles
    def reference(self) -> ReferenceIndex:
        with self._store.read() as session:
            return load_reference_index(session)

    def update_material(self, actor: Actor, material_id: str, **changes: Any) -> Changed[None]:
        """Change name, category, uom, thresholds, notes or active of one material."""
        require_admin(actor)
        with self._store.write() as session:
            material = _get(session, Material, material_id)
            old = {
                k: getattr(material, k)
                for k in (
                    "name",
                    "category",
                    "uom",
                    "low_threshold",
                    "high_threshold",
                    "notes",
                    "active",
                )
            }
            problems: list[Problem] = []
            clean: dict[str, Any] = {}
            for key, value in changes.items():
                try:
                    clean[key] = _material_field(key, value)
                except v.FieldError as exc:
                    problems.append(Problem(key, str(exc)))
            low = clean.get("low_threshold", material.low_threshold)
            high = clean.get("high_threshold", material.high_threshold)
            if not problems and low > high:
                problems.append(Problem("high_threshold", "must not be below the low threshold"))
            if problems:
                raise ValidationError(problems)
            for key, value in clean.items():
                setattr(material, key, value)
            log_change(session, actor, "materials", material.id, "UPDATE", old, clean)
            return Changed(None, MASTER_CHANGED)

    def add_equipment(self, actor: Actor, code: str, name: str, type_: str) -> Changed[str]:
        """Add a piece of equipment; the value is its id."""
        require_admin(actor)
        return self._add_coded(
            actor, Equipment, code, name, type=_choice("type", type_, EquipmentType)
        )

    def add_role(self, actor: Actor, code: str, name: str) -> Changed[str]:
        """Add a manpower role; the value is its id."""
        require_admin(actor)
        return self._add_coded(actor, ManpowerRole, code, name)

    def set_active(self, actor: Actor, table: str, item_id: str, active: bool) -> Changed[None]:
        require_admin(actor)
        model = {"materials": Material, "equipment": Equipment, "manpower_roles": ManpowerRole}[
            table
        ]
        with self._store.write() as session:
            item = _get(session, model, item_id)
            old = item.active
            item.active = active
            log_change(
                session, actor, table, item_id, "UPDATE", {"active": old}, {"active": active}
            )
        return Changed(None, MASTER_CHANGED)

    def _add_coded(
        self, actor: Actor, model: Any, code: str, name: str, **extra: Any
    ) -> Changed[str]:
        clean = code.strip().upper()
        problems = []
        if not 2 <= len(clean) <= 40:
            problems.append(Problem("code", "must be 2 to 40 characters"))
        if not name.strip():
            problems.append(Problem("name", "is required"))
        with self._store.write() as session:
            if session.scalar(select(model.id).where(model.code == clean)) is not None:
                problems.append(Problem("code", f"{clean} already exists"))
            if problems:
                raise ValidationError(problems)
            order = (session.scalar(select(func.max(model.sort_order))) or 0) + 1
            item = model(
                code=clean, name=name.strip(), sort_order=order, created_by=actor.user_id, **extra
            )
            add_logged(session, actor, item, {"code": clean, "name": name.strip(), **extra})
            item_id: str = item.id
        return Changed(item_id, MASTER_CHANGED)

    # ----- production targets
    def targets(self, actor: Actor, site_id: str) -> list[TargetInfo]:
        require_site(actor, site_id)
        with self._store.read() as session:
            rows = session.execute(
                select(ProductionTarget, Material.code)
                .outerjoin(Material, Material.id == ProductionTarget.material_id)
                .where(ProductionTarget.site_id == site_id)
                .order_by(ProductionTarget.from_date)
            )
            return [
                TargetInfo(t.id, t.site_id, code, t.daily_tons, t.from_date) for t, code in rows
            ]

    def set_target(
        self,
        actor: Actor,
        site_id: str,
        daily_tons: object,
        from_date: object,
        material_code: str | None = None,
    ) -> Changed[str]:
        """Add a daily production target from ``from_date``; the value is its id."""
        require_admin(actor, "set production targets")
        problems: list[Problem] = []
        try:
            tons = v.parse_quantity(daily_tons)
        except v.FieldError as exc:
            problems.append(Problem("daily_tons", str(exc)))
        try:
            start = v.parse_date(from_date, today=date.max)
        except v.FieldError as exc:
            problems.append(Problem("from_date", str(exc)))
        with self._store.write() as session:
            material_id = None
            if material_code:
                material_id = session.scalar(
                    select(Material.id).where(Material.code == material_code.upper())
                )
                if material_id is None:
                    problems.append(Problem("material", f"unknown material code '{material_code}'"))
            if problems:
                raise ValidationError(problems)
            target = ProductionTarget(
                site_id=site_id,
                material_id=material_id,
                daily_tons=tons,
                from_date=start,
                created_by=actor.user_id,
            )
            add_logged(
                session,
                actor,
                target,
                {"daily_tons": tons, "from_date": start, "material": material_code},
            )
            target_id: str = target.id
        return Changed(target_id, MASTER_CHANGED)


def _get(session: Session, model: Any, item_id: str) -> Any:
    item = session.get(model, item_id)
    if item is None:
        raise NotFound(f"no {model.__tablename__} row {item_id}")
    return item


def _site_problems(code: str, name: str, timezone: str) -> list[Problem]:
    problems = []
    if not 3 <= len(code) <= 20:
        problems.append(Problem("code", "must be 3 to 20 characters"))
    elif not all(c.isalnum() or c in "-_" for c in code):
        problems.append(Problem("code", "may contain only letters, digits, '-' and '_'"))
    if not name.strip():
        problems.append(Problem("name", "is required"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Problem("timezone", f"'{timezone}' is not an IANA time zone (e.g. Asia/Riyadh)")
        )
    return problems


def _choice(field: str, value: str, enum: Any) -> str:
    try:
        return v.parse_choice(value, [e.value for e in enum])
    except v.FieldError as exc:
        raise ValidationError([Problem(field, str(exc))]) from None


def _material_field(key: str, value: object) -> Any:
    if key in ("low_threshold", "high_threshold"):
        number = v.parse_decimal(value)
        if not 0 <= number <= v.MAX_QUANTITY:  # also keeps quantize() below from overflowing
            raise v.FieldError("must be between 0 and 999,999.999")
        if number != number.quantize(Decimal("0.001")):
            raise v.FieldError("must have at most 3 decimals")
        return number
    if key == "category":
        return v.parse_choice(value, [c.value for c in Category])
    if key == "uom":
        return v.parse_choice(value, [u.value for u in Uom])
    if key == "name":
        text = v.parse_text(value, max_length=200)
        if not text:
            raise v.FieldError("is required")
        return text
    if key == "notes":
        return v.parse_text(value, max_length=500)
    if key == "active":
        return bool(value)
    raise v.FieldError("cannot be changed")
