"""The report pack commands of ``deskops``. Registered by ``cli.build_parser``; errors follow
``cli``'s rules (one line, exit 1).

    deskops pack add NAME --sites all|CODE[,CODE…] --reports inventory,mass-balance,…
                          --formats xlsx,csv,pdf --period yesterday|month-to-date|last-month
                          --to FOLDER [--powerbi] [--timezone TZ] [--fiscal-year-start M]
                          [--replace]
    deskops pack list
    deskops pack run NAME [--as-of DATE] [--keyring-user USER]
    deskops pack schedule NAME --daily HH:MM [--dry-run]
    deskops pack unschedule NAME [--forget]
    deskops pack remove NAME

``schedule`` signs in (``DESKOPS_USER``/``DESKOPS_PASSWORD`` or asked), keeps that sign-in in
the OS keyring and registers the OS task (``pack_tasks``, over ``pack_schedule``); the task runs
``pack run NAME --keyring-user USER``, which signs in from the keyring. A password is never
written anywhere else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from deskops_desktop import pack_schedule, pack_tasks
from deskops_desktop.cli_support import (
    CliError,
    Command,
    Group,
    ServicesOf,
    TerminalProgress,
    credentials,
    format_table,
    iso_date,
    require_actor,
    service_runner,
)
from deskops_desktop.export.files import human_size
from deskops_desktop.models.pack_rules import PeriodRule, parse_daily_time, split_words
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.packs import PACK_COLUMNS, PackInfo
from deskops_desktop.services.store import resolve_db_url

make_scheduler: Callable[[], pack_schedule.Scheduler] = pack_schedule.Scheduler
"""How the commands reach this computer's scheduler (tests put a recording one here)."""


def add_parsers(command: Command, group: Group, services: ServicesOf) -> None:
    """Add ``pack`` and its actions (``cli`` passes its helpers)."""
    run = service_runner(services)

    packs = group("pack", "report packs: the files head office receives every night (admins)")
    add = command(packs, "add", "define a report pack", run(_add))
    add.add_argument("name", metavar="NAME", help="letters, digits, '.', '_', '-'")
    add.add_argument("--sites", required=True, metavar="all|CODE[,CODE…]")
    add.add_argument(
        "--reports",
        required=True,
        metavar="LIST",
        help="comma list: inventory, inventory:monthly, mass-balance, production, dispatch, …"
        " (MODULE[:daily|weekly|monthly])",
    )
    add.add_argument("--formats", required=True, metavar="LIST", help="xlsx, csv, pdf, powerbi")
    add.add_argument(
        "--period", required=True, type=str.lower, choices=[r.value for r in PeriodRule]
    )
    add.add_argument("--to", dest="destination", required=True, metavar="FOLDER")
    add.add_argument(
        "--powerbi", action="store_true", help="also keep a Power BI folder (star schema csv)"
    )
    add.add_argument("--timezone", metavar="TZ", help="whose 'today' (default: the first site's)")
    add.add_argument(
        "--fiscal-year-start", type=int, default=1, metavar="MONTH", help="1-12 (default 1)"
    )
    add.add_argument("--replace", action="store_true", help="redefine an existing pack")

    command(packs, "list", "list the packs, their schedule and last run", run(_list))

    go = command(packs, "run", "build a pack now (one folder per period)", run(_run))
    go.add_argument("name", metavar="NAME")
    go.add_argument(
        "--as-of", type=iso_date, metavar="DATE", help="run as if today were DATE (default: today)"
    )
    go.add_argument(
        "--keyring-user",
        metavar="USER",
        help="sign in as USER with the sign-in 'pack schedule' kept in the keyring"
        " (what the scheduled task uses)",
    )

    plan = command(packs, "schedule", "run a pack every day from this computer", run(_schedule))
    plan.add_argument("name", metavar="NAME")
    plan.add_argument("--daily", required=True, metavar="HH:MM", help="this computer's time")
    plan.add_argument("--dry-run", action="store_true", help="print what would be registered")

    stop = command(packs, "unschedule", "remove a pack's task", run(_unschedule))
    stop.add_argument("name", metavar="NAME")
    stop.add_argument(
        "--forget",
        action="store_true",
        help="only forget the schedule (the task lives on another computer)",
    )

    drop = command(packs, "remove", "delete a pack (its files stay)", run(_remove))
    drop.add_argument("name", metavar="NAME")


# ---------------------------------------------------------------------------- handlers
def _add(args: argparse.Namespace, services: Services) -> int:
    actor = require_actor(services)
    sites = None if args.sites.strip().lower() == "all" else split_words(args.sites)
    pack = services.packs.define(
        actor,
        args.name,
        sites=sites,
        reports=split_words(args.reports),
        formats=split_words(args.formats),
        period=args.period,
        destination=args.destination,
        powerbi=args.powerbi,
        timezone=args.timezone,
        fiscal_year_start=args.fiscal_year_start,
        replace=args.replace,
    ).value
    print(f"{'redefined' if args.replace else 'added'} pack {pack.name}: {describe(pack)}")
    return 0


def describe(pack: PackInfo) -> str:
    """One line: sites, reports, formats, period, where to."""
    reports = ", ".join(r.key for r in pack.reports)
    formats = ", ".join(f.value for f in pack.formats)
    extra = " + Power BI folder" if pack.powerbi else ""
    return f"{pack.sites_label}; {reports}; {formats}{extra}; {pack.period.value}; to {pack.folder}"


def _list(args: argparse.Namespace, services: Services) -> int:
    del args
    actor = require_actor(services)
    packs = services.packs.packs(actor)
    if not packs:
        print("no report packs yet: 'deskops pack add NAME --sites … --reports … --to FOLDER'")
        return 0
    now = services.store.clock.local_now()
    rows = []
    for p in packs:
        last = p.last_run
        last_text = ""
        if last is not None:
            last_text = last.summary()
            if last.status == "failed" and last.message:
                last_text += f": {last.message[:60]}"
        rows.append(p.cells(now, powerbi=" +powerbi", unscheduled="", last_run=last_text))
    print(format_table((*PACK_COLUMNS, "Last"), rows))
    return 0


def _run(args: argparse.Namespace, services: Services) -> int:
    from deskops_desktop.export.packs import run_pack

    actor = (
        pack_tasks.keyring_actor(services, _url(args), args.keyring_user)
        if args.keyring_user
        else require_actor(services)
    )
    bar = TerminalProgress(sys.stderr)
    try:
        run = run_pack(services, actor, args.name, as_of=args.as_of, progress=bar)
    finally:
        bar.close()
    period = run.period
    print(f"pack {run.pack}, period {period.label} ({period.date_from} to {period.date_to})")
    print(f"folder:  {run.folder}")
    print(
        f"files:   {len(run.files)}, {run.size_bytes:,} bytes ({human_size(run.size_bytes)})"
        f" in {run.seconds:.1f} s"
    )
    for f in run.files:
        print(f"  {f.size_bytes:>12,}  {f.records:>8,} rows  {f.path}")
    if run.powerbi is not None:
        pbi = run.powerbi
        if pbi.skipped:
            print(f"power bi: not refreshed ({pbi.skipped})")
        else:
            rewritten = pbi.rewritten
            size = sum(f.size_bytes for f in rewritten)
            print(
                f"power bi: {pbi.folder}: {len(rewritten)} of {len(pbi.files)} files rewritten"
                f" ({size:,} bytes), covering {pbi.date_from} to {pbi.date_to}"
            )
            for part in rewritten:
                print(f"  {part.size_bytes:>12,}  {part.rows:>8,} rows  {part.path}")
            for gone in pbi.removed:
                print(f"  removed {gone} (its month has no records any more)")
    return 0


def _schedule(args: argparse.Namespace, services: Services) -> int:
    try:
        daily_at = parse_daily_time(args.daily)
    except ValueError as exc:
        raise CliError(f"--daily: {exc}") from None
    username, password = credentials()
    actor = services.users.authenticate(username, password)
    pack = services.packs.pack(actor, args.name)
    url = _url(args)
    scheduler = make_scheduler()
    if args.dry_run:
        task = pack_tasks.task_for(pack.name, daily_at, url, actor.username)
        planned = scheduler.install_plan(task)
        print(f"would register a {planned.kind} task for pack {pack.name}:")
        for line in planned.describe():
            print(f"  {line}")
        for path, text in planned.files:
            print(f"\n--- {path}\n{text}")
        if planned.kind == pack_schedule.CRON:
            print(f"\n--- crontab line\n{pack_schedule.cron_line(task)}")
        return 0
    done = pack_tasks.register(
        services, actor, password, pack.name, daily_at, db_url=url, scheduler=scheduler
    )
    info = done.pack
    print(f"scheduled pack {info.name}: {info.schedule.label if info.schedule else ''}")
    nxt = info.next_run(services.store.clock.local_now())
    if nxt is not None:
        print(f"next run: {nxt:%Y-%m-%d %H:%M}; output goes to {done.log_file}")
    if done.plan.note:
        print(f"note: {done.plan.note}")
    return 0


def _unschedule(args: argparse.Namespace, services: Services) -> int:
    actor = require_actor(services)
    if services.packs.pack(actor, args.name).schedule is None:
        print(f"pack {args.name} is not scheduled")
        return 0
    info = pack_tasks.unregister(
        services,
        actor,
        args.name,
        db_url=_url(args),
        scheduler=make_scheduler(),
        forget=args.forget,
    )
    print(f"pack {info.name} is no longer scheduled")
    return 0


def _remove(args: argparse.Namespace, services: Services) -> int:
    actor = require_actor(services)
    pack = pack_tasks.remove_pack(
        services, actor, args.name, db_url=_url(args), scheduler=make_scheduler()
    )
    print(f"removed pack {pack.name} (its files in {pack.folder} stay)")
    return 0


def _url(args: argparse.Namespace) -> str:
    """The store's URL as the command got it: what the task passes back with ``--db`` and
    what the kept sign-in is filed under."""
    return resolve_db_url(getattr(args, "db", None))
