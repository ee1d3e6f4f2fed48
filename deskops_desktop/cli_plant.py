"""The plant commands of ``deskops``: conversion factors, the mass balance, reclassifying
dispatches. Registered by ``cli.build_parser``; errors follow ``cli``'s rules (one line, exit 1).

    deskops factor set RAW-MIXED --tons-per-load 12 --from 2026-11-01 [--site CODE] [--basis TEXT]
    deskops factor list [--site CODE]
    deskops report mass-balance --site CODE --from DATE --to DATE [--format table|csv]
    deskops dispatch reclassify --site CODE --owner TEXT (--fate FATE | --to-feed)
                                [--from DATE] [--to DATE] [--dry-run]

Figures are exact: tons with 3 decimals, the same digits as the page and every export.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from typing import TextIO

from deskops_desktop.cli_support import (
    CliError,
    Command,
    Group,
    ServicesOf,
    format_table,
    iso_date,
    require_actor,
    require_actor_at,
    service_runner,
)
from deskops_desktop.models.display import grouped
from deskops_desktop.models.enums import Fate
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.mass_balance import MassBalance, StatementLine, statement
from deskops_desktop.services.reclassify import TO_FEED

STATEMENT_COLUMNS = (
    "Section",
    "Key",
    "Line",
    "Quantity",
    "UOM",
    "Tons",
    "Deemed Tons",
    "Figure",
    "Figure Unit",
)


def add_parsers(command: Command, group: Group, services: ServicesOf) -> None:
    """Add ``factor``, ``report`` and ``dispatch`` to the parser (``cli`` passes its helpers)."""
    run = service_runner(services)

    factors = group("factor", "conversion factors: tons per load of a material (admins set)")
    put = command(factors, "set", "set a material's tons per load from a date on", run(_set))
    put.add_argument("material", metavar="MATERIAL", help="a LOAD material, e.g. RAW-MIXED")
    put.add_argument("--tons-per-load", required=True, metavar="X", help="e.g. 12.5")
    put.add_argument("--from", dest="valid_from", required=True, type=iso_date, metavar="DATE")
    put.add_argument("--site", metavar="CODE", help="only this site (default: all sites)")
    put.add_argument("--basis", default="", help="where the figure comes from")
    listing = command(factors, "list", "list the factors and their history", run(_list))
    listing.add_argument("--site", metavar="CODE", help="this site's and the company's factors")

    reports = group("report", "print a report")
    mass = command(
        reports,
        "mass-balance",
        "a site's mass balance in tons: received, fed, produced, out by fate, stock, yield,"
        " diversion",
        run(_mass_balance),
    )
    mass.add_argument("--site", required=True, metavar="CODE")
    mass.add_argument("--from", dest="date_from", required=True, type=iso_date, metavar="DATE")
    mass.add_argument("--to", dest="date_to", required=True, type=iso_date, metavar="DATE")
    mass.add_argument(
        "--format", dest="fmt", type=str.lower, default="table", choices=["table", "csv"]
    )

    dispatches = group("dispatch", "maintain dispatches (admins)")
    move = command(
        dispatches,
        "reclassify",
        "give every dispatch to one owner a fate, or turn them into Feed records (one"
        " transaction; the ledger and change log stay exact)",
        run(_reclassify),
    )
    move.add_argument("--site", required=True, metavar="CODE")
    move.add_argument("--owner", required=True, metavar="TEXT", help="the Owner/Customer column")
    target = move.add_mutually_exclusive_group(required=True)
    target.add_argument("--fate", type=str.upper, choices=[f.value for f in Fate])
    target.add_argument("--to-feed", action="store_true", help="make them crusher Feed records")
    move.add_argument("--from", dest="date_from", type=iso_date, metavar="DATE")
    move.add_argument("--to", dest="date_to", type=iso_date, metavar="DATE")
    move.add_argument("--dry-run", action="store_true", help="say what would move; change nothing")


# ---------------------------------------------------------------------------- handlers
def _set(args: argparse.Namespace, services: Services) -> int:
    actor = require_actor(services)
    row = services.factors.set_factor(
        actor,
        args.material,
        args.tons_per_load,
        args.valid_from,
        site_code=args.site,
        basis=args.basis,
    ).value
    print(
        f"{row.material_code}: {row.tons_per_load} t per load from {row.valid_from}"
        f" ({row.scope}{f'; {row.basis}' if row.basis else ''})"
    )
    return 0


def _list(args: argparse.Namespace, services: Services) -> int:
    actor = require_actor(services)
    site_id = services.master.site_by_code(actor, args.site).id if args.site else None
    rows = services.factors.factors(actor, site_id)
    if not rows:
        print("no conversion factors yet: 'deskops factor set MATERIAL --tons-per-load X --from D'")
        return 0
    table = [
        (
            r.material_code,
            r.scope,
            f"{r.tons_per_load}",
            r.valid_from.isoformat(),
            r.valid_to.isoformat() if r.valid_to else "(in force)",
            r.basis,
            r.set_by,
        )
        for r in rows
    ]
    headers = ("Material", "Scope", "t/load", "From", "To", "Basis", "Set by")
    print(format_table(headers, table, right=[2]))
    return 0


def _mass_balance(args: argparse.Namespace, services: Services) -> int:
    if args.date_to < args.date_from:
        raise CliError(f"--to {args.date_to} is before --from {args.date_from}")
    actor, site = require_actor_at(services, args.site)
    mb = services.mass_balance.mass_balance(actor, site.id, args.date_from, args.date_to)
    if args.fmt == "csv":
        write_statement_csv(mb, sys.stdout)
    else:
        print(statement_text(mb))
    return 0


def _reclassify(args: argparse.Namespace, services: Services) -> int:
    actor, site = require_actor_at(services, args.site)
    target = TO_FEED if args.to_feed else args.fate
    window = (site.id, args.owner, target, args.date_from, args.date_to)
    if args.dry_run:
        print(f"would move: {services.reclassify.preview(actor, *window)}")
        return 0
    print(services.reclassify.reclassify(actor, *window).value)
    return 0


# ---------------------------------------------------------------------------- output
def _tons(value: int | None) -> str:
    return "" if value is None else grouped(from_milli(value), 3)


def _cells(line: StatementLine) -> tuple[str, ...]:
    return (
        line.label,
        "" if line.quantity_m is None else grouped(from_milli(line.quantity_m), 3),
        line.uom,
        _tons(line.tons_m),
        _tons(line.deemed_m) if line.deemed_m else "",
        "" if line.figure is None else f"{line.figure:,}",
        line.figure_unit,
    )


def statement_text(mb: MassBalance) -> str:
    """The statement as aligned text, one block per section."""
    head = (
        f"Mass balance {mb.site.code} - {mb.site.name}, {mb.date_from} to {mb.date_to}"
        " (tons; deemed = converted from loads)"
    )
    headers = ("Line", "Quantity", "UOM", "Tons", "of which deemed", "Figure", "Unit")
    parts = [head]
    for section, lines in _sections(statement(mb)):
        parts += ["", section, format_table(headers, map(_cells, lines), right=[1, 3, 4, 5])]
    if not mb.complete:
        parts += ["", "Incomplete: loads without a conversion factor are not in the tons above."]
    return "\n".join(parts)


def _sections(lines: tuple[StatementLine, ...]) -> Iterator[tuple[str, list[StatementLine]]]:
    current: list[StatementLine] = []
    for line in lines:
        if current and current[0].section != line.section:
            yield current[0].section, current
            current = []
        current.append(line)
    if current:
        yield current[0].section, current


def write_statement_csv(mb: MassBalance, out: TextIO) -> None:
    """The statement as csv: exact plain numbers (no thousands separators), one line each."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    for line in statement(mb):
        writer.writerow(
            (
                line.section,
                line.key,
                line.label,
                "" if line.quantity_m is None else f"{from_milli(line.quantity_m)}",
                line.uom,
                "" if line.tons_m is None else f"{from_milli(line.tons_m)}",
                "" if line.deemed_m is None else f"{from_milli(line.deemed_m)}",
                "" if line.figure is None else f"{line.figure}",
                line.figure_unit,
            )
        )
