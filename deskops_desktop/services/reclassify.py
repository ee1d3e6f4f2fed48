"""Moving mis-booked dispatches: give them their real fate, or turn them into Feed records.

Before the Feed module existed, crusher feed could only be booked as a dispatch (to "Crusher
feed (internal)"), and landfill rejects as a dispatch that looked like a sale. An administrator
picks the rows by site and owner (the customer column, compared without case or surrounding
spaces) and, optionally, a date range, and moves them all in one transaction:

- ``--fate FATE``: each dispatch keeps its row and gets the fate (stock does not change);
- ``--to-feed``: each dispatch becomes a Feed record of the same day, material, quantity and
  notes; the dispatch is deleted. Stock does not change either (both flows leave stock on the
  same day) — the ledger moves the quantity from Dispatched to Fed, and the change log records
  the DELETE and the INSERT with the same user and time.

``preview`` answers the same question without writing, so the desktop tool can show what it is
about to do and ask first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskops_desktop.models.base import clock_of
from deskops_desktop.models.enums import FATE_NAMES, Category, Fate, Module
from deskops_desktop.models.errors import Problem, ValidationError
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.records import Dispatch, Feed
from deskops_desktop.models.reference import Material
from deskops_desktop.models.types import to_milli
from deskops_desktop.services.access import Actor, require_admin
from deskops_desktop.services.audit import log_changes
from deskops_desktop.services.bulk import insert_rows
from deskops_desktop.services.changes import Changed, for_module
from deskops_desktop.services.ledger_writer import Movement, apply_movements
from deskops_desktop.services.reference import load_site
from deskops_desktop.services.store import StoreService

_LogEntry = tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]

TO_FEED = "FEED"
"""The target that turns dispatches into Feed records (every other target is a ``Fate``)."""

_DISPATCH_COLUMNS = (
    "date",
    "reference",
    "material_id",
    "quantity",
    "fate",
    "trips",
    "owner",
    "operation",
    "notes",
)


@dataclass(frozen=True)
class Reclassification:
    """What a reclassification moved (or, from ``preview``, would move)."""

    site_code: str
    owner: str
    target: str  # a Fate value or TO_FEED
    count: int
    already: int  # rows of that owner that already had the fate (left alone)
    quantities: tuple[tuple[str, str, Decimal], ...]  # (material code, uom, total) moved
    first_day: date | None
    last_day: date | None

    @property
    def target_label(self) -> str:
        return "Feed records" if self.target == TO_FEED else FATE_NAMES[Fate(self.target)]

    def __str__(self) -> str:
        if self.count == 0:
            extra = f" ({self.already} already {self.target})" if self.already else ""
            return f"{self.site_code}: no dispatches to '{self.owner}' to move{extra}"
        amounts = ", ".join(f"{q:,} {uom.lower()} {code}" for code, uom, q in self.quantities)
        return (
            f"{self.site_code}: {self.count:,} dispatch{'es' if self.count != 1 else ''} to"
            f" '{self.owner}' from {self.first_day} to {self.last_day} → {self.target_label}"
            f" ({amounts})"
        )


@dataclass(frozen=True)
class OwnerSummary:
    """One owner (customer) of a site's dispatches: how many rows and which fates they have."""

    owner: str
    count: int
    fates: tuple[str, ...]


class ReclassifyService(StoreService):
    """Reclassify dispatches of one site and owner (administrators only)."""

    def owners(self, actor: Actor, site_id: str) -> list[OwnerSummary]:
        """The site's dispatch owners, most rows first (what the desktop tool offers)."""
        require_admin(actor, "reclassify dispatches")
        with self._store.read() as session:
            rows = session.execute(
                select(Dispatch.owner, Dispatch.fate, func.count())
                .where(Dispatch.site_id == site_id)
                .group_by(Dispatch.owner, Dispatch.fate)
            ).all()
        counts: Counter[str] = Counter()
        fates: dict[str, set[str]] = {}
        for owner, fate, count in rows:
            key = " ".join(str(owner).split())
            counts[key] += int(count)
            fates.setdefault(key, set()).add(str(fate))
        order = sorted(counts, key=lambda o: (-counts[o], o.lower()))
        return [
            OwnerSummary(o, counts[o], tuple(f.value for f in Fate if f.value in fates[o]))
            for o in order
        ]

    def preview(
        self,
        actor: Actor,
        site_id: str,
        owner: str,
        target: str,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> Reclassification:
        """What ``reclassify`` would move, without writing anything."""
        require_admin(actor, "reclassify dispatches")
        with self._store.read() as session:
            rows, already = self._select(session, site_id, owner, target, date_from, date_to)
            return self._report(session, site_id, owner, target, rows, already)

    def reclassify(
        self,
        actor: Actor,
        site_id: str,
        owner: str,
        target: str,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> Changed[Reclassification]:
        """Move every matching dispatch to ``target`` in one transaction (all or nothing)."""
        require_admin(actor, "reclassify dispatches")
        with self._store.write() as session:
            rows, already = self._select(session, site_id, owner, target, date_from, date_to)
            report = self._report(session, site_id, owner, target, rows, already)
            if rows and target == TO_FEED:
                self._to_feed(session, actor, rows)
            elif rows:
                self._set_fate(session, actor, rows, target)
        changes = for_module(Module.DISPATCH, site_id)
        if target == TO_FEED:
            changes = changes | for_module(Module.FEED, site_id)
        return Changed(report, changes)

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _select(
        session: Session,
        site_id: str,
        owner: str,
        target: str,
        date_from: date | None,
        date_to: date | None,
    ) -> tuple[list[Dispatch], int]:
        problems = []
        wanted = " ".join(owner.split()).lower()
        if not wanted:
            problems.append(Problem("owner", "is required (the customer the rows were booked to)"))
        if target != TO_FEED and target not in {f.value for f in Fate}:
            choices = ", ".join([*(f.value for f in Fate), TO_FEED])
            problems.append(Problem("fate", f"'{target}' is not one of {choices}"))
        if date_from and date_to and date_to < date_from:
            problems.append(Problem("date_to", "must not be before the start date"))
        if problems:
            raise ValidationError(problems)
        load_site(session, site_id)  # NotFound for an unknown site
        # SQL narrows to owners containing the longest word; Python compares with inner runs
        # of spaces folded, as a clerk reads them ("Crusher  feed" is "Crusher feed").
        word = max(wanted.split(), key=len).replace("\\", "\\\\").replace("%", "\\%")
        word = word.replace("_", "\\_")
        query = select(Dispatch).where(
            Dispatch.site_id == site_id,
            func.lower(Dispatch.owner).like(f"%{word}%", escape="\\"),
        )
        if date_from:
            query = query.where(Dispatch.date >= date_from)
        if date_to:
            query = query.where(Dispatch.date <= date_to)
        rows = session.scalars(query.order_by(Dispatch.date, Dispatch.id))
        found = [d for d in rows if " ".join(d.owner.split()).lower() == wanted]
        if target == TO_FEED:
            return found, 0
        moving = [d for d in found if d.fate != target]
        return moving, len(found) - len(moving)

    @staticmethod
    def _report(
        session: Session,
        site_id: str,
        owner: str,
        target: str,
        rows: list[Dispatch],
        already: int,
    ) -> Reclassification:
        materials = {m.id: m for m in session.scalars(select(Material))}
        totals: Counter[str] = Counter()
        for row in rows:
            totals[row.material_id] += to_milli(row.quantity)
        if target == TO_FEED:
            wrong = sorted(
                {materials[r.material_id].code for r in rows}
                - {m.code for m in materials.values() if m.category == Category.RAW_FEED}
            )
            if wrong:
                raise ValidationError(
                    [
                        Problem(
                            "owner",
                            f"only raw feed can be fed to the crusher; the dispatches to"
                            f" '{owner}' include {', '.join(wrong)} — narrow the dates or"
                            " give them a fate instead",
                        )
                    ]
                )
        ordered = sorted(totals, key=lambda m: (materials[m].sort_order, materials[m].code))
        return Reclassification(
            site_code=load_site(session, site_id).code,
            owner=" ".join(owner.split()),
            target=target,
            count=len(rows),
            already=already,
            quantities=tuple(
                (materials[m].code, materials[m].uom, Decimal(totals[m]).scaleb(-3))
                for m in ordered
            ),
            first_day=rows[0].date if rows else None,
            last_day=rows[-1].date if rows else None,
        )

    @staticmethod
    def _set_fate(session: Session, actor: Actor, rows: list[Dispatch], fate: str) -> None:
        entries: list[_LogEntry] = []
        for row in rows:
            entries.append((row.id, {"fate": row.fate}, {"fate": fate}))
            row.fate = fate
        session.flush()
        log_changes(session, actor, "dispatches", "UPDATE", entries)

    @staticmethod
    def _to_feed(session: Session, actor: Actor, rows: list[Dispatch]) -> None:
        now = clock_of(session).now()
        feed_rows: list[dict[str, Any]] = []
        movements: list[Movement] = []
        deleted: list[_LogEntry] = []
        inserted: list[_LogEntry] = []
        for row in rows:
            old = {c: getattr(row, c) for c in _DISPATCH_COLUMNS}
            where = f"dispatch {row.reference}" if row.reference else "a dispatch"
            note = f"was {where} to {row.owner}"
            values = {
                "date": row.date,
                "shift": "",
                "material_id": row.material_id,
                "quantity": row.quantity,
                "equipment_id": None,
                "notes": f"{row.notes} ({note})"[:500] if row.notes else note[:500],
            }
            feed_id = new_id()
            feed_rows.append(
                {
                    "id": feed_id,
                    "site_id": row.site_id,
                    "version": 1,
                    "created_by": row.created_by,
                    "created_at": row.created_at,
                    "updated_at": now,
                    **values,
                }
            )
            q = to_milli(row.quantity)
            movements += [
                Movement(row.site_id, row.material_id, row.date, "dispatched", -q),
                Movement(row.site_id, row.material_id, row.date, "fed", q),
            ]
            deleted.append((row.id, old, None))
            inserted.append((feed_id, None, values))
            session.delete(row)
        session.flush()
        insert_rows(session, Feed.__table__, feed_rows)
        apply_movements(session, movements)
        log_changes(session, actor, "dispatches", "DELETE", deleted)
        log_changes(session, actor, "feed", "INSERT", inserted)
