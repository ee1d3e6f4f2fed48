"""The date logic at awkward moments: month ends in a site's zone, a leap day, New Year, 2031.

Each test runs at every moment of ``MOMENTS`` by moving the ``clock`` fixture, so they run in
every suite run (and again in CI's travelled runs, where the process clock moves too). Every
expectation is derived from "today at the site" as the clock says it — never written out.

Asia/Riyadh is UTC+3, so it is always *ahead* of UTC: at 21:30 UTC on the last day of February
it is already 1 March at the site. The moments pin both sides of that line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deskops_desktop.export.jobs import ExportJobService, ExportRequest
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import ExportFormat, Granularity, Module, Role
from deskops_desktop.models.errors import PermissionDenied, ValidationError
from deskops_desktop.services import backups
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.date_ranges import preset_range
from deskops_desktop.services.demo import generate_demo
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from tests.helpers import default_site, production

MOMENTS = {
    # 23:59 on 31 January in Riyadh (20:59 UTC, the same day).
    "riyadh-last-minute-of-january": datetime(2027, 1, 31, 20, 59, tzinfo=UTC),
    # 00:30 on 1 March in Riyadh while UTC is still on 28 February.
    "riyadh-in-march-utc-in-february": datetime(2027, 2, 28, 21, 30, tzinfo=UTC),
    "leap-day": datetime(2028, 2, 29, 9, 0, tzinfo=UTC),
    # 23:59 on New Year's Eve in Riyadh; ISO week 53 of 2026 is this week.
    "new-years-eve": datetime(2026, 12, 31, 20, 59, tzinfo=UTC),
    # 02:30 on New Year's Day in Riyadh, still 31 December in UTC.
    "riyadh-new-year-utc-old-year": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    "far-future": datetime(2031, 6, 15, 9, 0, tzinfo=UTC),
}


@pytest.fixture(params=sorted(MOMENTS), ids=sorted(MOMENTS))
def moment(request: pytest.FixtureRequest, clock: FixedClock) -> datetime:
    clock.set(MOMENTS[request.param])
    return clock.now()


@pytest.fixture
def services(store: Store, moment: datetime) -> Services:
    del moment  # the clock is set before anything is built
    return build_services(store)


@pytest.fixture
def site(services: Services) -> SiteInfo:
    return default_site(services)


@pytest.fixture
def today(services: Services, site: SiteInfo) -> date:
    return services.store.clock.today(site.timezone)


@pytest.fixture
def clerk(services: Services) -> Actor:
    services.users.create(None, "boss", "boss-pass-123", Role.ADMIN)
    boss = services.users.authenticate("boss", "boss-pass-123")
    services.users.create(boss, "clerk", "clerk-pass-123", Role.OPERATOR, ["ALASLA-29"])
    return services.users.authenticate("clerk", "clerk-pass-123")


def test_today_is_the_sites_date_not_utcs(services: Services, site: SiteInfo, today: date) -> None:
    assert today == services.store.clock.now().astimezone(ZoneInfo(site.timezone)).date()
    row = services.records.create(SYSTEM, Module.PRODUCTION, site.id, production(today)).value
    assert row.date == today
    with pytest.raises(ValidationError, match=f"must not be in the future \\(today is {today}\\)"):
        services.records.create(
            SYSTEM, Module.PRODUCTION, site.id, production(today + timedelta(days=1))
        )
    # A site west of UTC can be a day behind Riyadh at the same instant: its own date decides.
    west = services.master.add_site(SYSTEM, "NYC-01", "New York", timezone="America/New_York").value
    west_today = services.store.clock.today(west.timezone)
    assert west_today <= today
    services.records.create(SYSTEM, Module.PRODUCTION, west.id, production(west_today))
    if west_today < today:
        with pytest.raises(ValidationError, match="must not be in the future"):
            services.records.create(SYSTEM, Module.PRODUCTION, west.id, production(today))


def test_operator_window_is_seven_site_days(
    services: Services, site: SiteInfo, today: date, clerk: Actor
) -> None:
    oldest = today - timedelta(days=6)
    services.records.create(clerk, Module.PRODUCTION, site.id, production(oldest))
    too_old = oldest - timedelta(days=1)
    with pytest.raises(PermissionDenied, match=f"last 7 days only; {too_old} is older"):
        services.records.create(clerk, Module.PRODUCTION, site.id, production(too_old, "AGG-S1"))


def test_presets_follow_the_sites_calendar(today: date) -> None:
    start, end = preset_range("This month", today)
    assert (start, end) == (date(today.year, today.month, 1), today)
    last_from, last_to = preset_range("Last month", today)
    assert last_to == start - timedelta(days=1)
    assert last_from == date(last_to.year, last_to.month, 1)
    assert last_to.month != today.month
    week_from, week_to = preset_range("Last 7 days", today)
    assert (week_to - week_from).days == 6


def test_dashboard_counts_this_month_only_and_compares_with_the_month_before(
    services: Services, site: SiteInfo, today: date
) -> None:
    start, _ = preset_range("This month", today)
    before = start - timedelta(days=1)  # the last day of the previous month
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, production(today, quantity="7"))
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, production(before, quantity="5"))
    kpis = services.dashboard.snapshot(SYSTEM, site.id, start, today).kpis
    assert kpis.date_from == start
    assert kpis.previous_to == before
    assert (kpis.previous_to - kpis.previous_from) == (today - start)
    figure = kpis.production.figure("TON")
    assert figure is not None
    # Only today's 7 t fall in "this month"; the 5 t fall on the last day of the previous
    # period, which is as long as this one and ends the day before it starts.
    assert figure.current == 7
    assert figure.previous == 5


def test_weekly_and_monthly_roll_ups_hold_today(
    services: Services, site: SiteInfo, today: date
) -> None:
    first = today - timedelta(days=40)
    for offset in (0, 1, 20, 40):
        day = today - timedelta(days=offset)
        services.records.create(SYSTEM, Module.PRODUCTION, site.id, production(day, quantity="1"))
    daily = services.ledger.ledger(SYSTEM, site.id, first, today, Granularity.DAILY)
    g1 = [r for r in daily.rows if r.material.code == "AGG-G1"]
    closing_today = next(r.closing for r in g1 if r.day == today)
    assert closing_today == 4
    for granularity in (Granularity.WEEKLY, Granularity.MONTHLY):
        rolled = services.ledger.ledger(SYSTEM, site.id, first, today, granularity)
        periods = [r for r in rolled.rows if r.material.code == "AGG-G1"]
        assert sum(r.produced for r in periods) == 4
        assert periods[-1].closing == closing_today  # the last period ends today
        assert periods[0].opening == 0
    iso_year, iso_week, _ = today.isocalendar()
    monday = date.fromisocalendar(iso_year, iso_week, 1)
    weekly = services.ledger.ledger(SYSTEM, site.id, monday, today, Granularity.WEEKLY)
    assert len({r.day for r in weekly.rows}) == 1  # Monday to today is one ISO week


def test_operator_exports_thirty_days_ending_today(
    services: Services, site: SiteInfo, today: date, clerk: Actor, tmp_path: Path
) -> None:
    jobs = ExportJobService(services)

    def request(days: int, end: date = today) -> ExportRequest:
        return ExportRequest(
            Module.PRODUCTION,
            ExportFormat.CSV,
            site.id,
            end - timedelta(days=days),
            end,
            destination=str(tmp_path),
        )

    jobs.check(clerk, request(30))
    with pytest.raises(ValidationError, match="30 days"):
        jobs.check(clerk, request(31))
    with pytest.raises(ValidationError, match="after today"):
        jobs.check(clerk, request(1, today + timedelta(days=1)))


def test_one_automatic_backup_per_local_day(sqlite_store: Store, moment: datetime) -> None:
    del moment
    clock = sqlite_store.clock
    assert isinstance(clock, FixedClock)
    first = backups.daily_backup(sqlite_store)
    assert first is not None
    assert first.created.date() == clock.local_now().date()
    clock.advance(timedelta(seconds=30))
    assert backups.daily_backup(sqlite_store) is None
    clock.advance(timedelta(days=1))
    assert backups.daily_backup(sqlite_store) is not None


def test_demo_ends_today_at_each_site(services: Services, today: date) -> None:
    summary = generate_demo(services, sites=1, days=3, seed=3)
    assert summary.date_to == today
    assert summary.date_from == today - timedelta(days=2)
