"""The pure rules of a report pack: period rules at month and year ends, report and format
words, names, the daily time. No store: these are the arithmetic every caller shares."""

from __future__ import annotations

from datetime import date, time

import pytest

from deskops_desktop.models.enums import ExportFormat, Granularity, Module
from deskops_desktop.models.pack_rules import (
    PeriodRule,
    ReportSpec,
    name_problem,
    parse_daily_time,
    parse_formats,
    parse_reports,
    period_for,
    split_words,
)


@pytest.mark.parametrize(
    ("rule", "today", "label", "first"),
    [
        (PeriodRule.YESTERDAY, date(2026, 11, 27), "2026-11-26", date(2026, 11, 26)),
        (PeriodRule.YESTERDAY, date(2027, 1, 1), "2026-12-31", date(2026, 12, 31)),
        (PeriodRule.YESTERDAY, date(2028, 3, 1), "2028-02-29", date(2028, 2, 29)),
        # Month to date ends yesterday; on the 1st it is the whole month just ended.
        (PeriodRule.MONTH_TO_DATE, date(2026, 11, 27), "2026-11", date(2026, 11, 1)),
        (PeriodRule.MONTH_TO_DATE, date(2026, 12, 1), "2026-11", date(2026, 11, 1)),
        (PeriodRule.MONTH_TO_DATE, date(2027, 1, 1), "2026-12", date(2026, 12, 1)),
        (PeriodRule.LAST_MONTH, date(2026, 11, 27), "2026-10", date(2026, 10, 1)),
        (PeriodRule.LAST_MONTH, date(2026, 1, 15), "2025-12", date(2025, 12, 1)),
        (PeriodRule.LAST_MONTH, date(2028, 3, 31), "2028-02", date(2028, 2, 1)),
    ],
)
def test_period_rules(rule: PeriodRule, today: date, label: str, first: date) -> None:
    period = period_for(rule, today)
    assert period.label == label
    assert period.date_from == first
    if rule is PeriodRule.LAST_MONTH:
        # the whole calendar month: its last day is the day before the next month begins
        assert period.date_to.replace(day=1) == first
        assert period.date_to.day >= 28
        assert period.date_to.toordinal() + 1 == today.replace(day=1).toordinal()
    else:
        assert period.date_to.toordinal() + 1 == today.toordinal()
    assert period.date_to < today


def test_last_month_of_a_leap_february_has_29_days() -> None:
    assert period_for(PeriodRule.LAST_MONTH, date(2028, 3, 5)).days == 29


def test_report_words_parse_with_granularity_and_keep_their_order() -> None:
    specs, problems = parse_reports(
        ["inventory", "Inventory:Monthly", "mass-balance", "production:weekly", "inventory"]
    )
    assert problems == []
    assert specs == (
        ReportSpec(Module.INVENTORY, Granularity.DAILY),
        ReportSpec(Module.INVENTORY, Granularity.MONTHLY),
        ReportSpec(Module.MASS_BALANCE, Granularity.MONTHLY),
        ReportSpec(Module.PRODUCTION, Granularity.WEEKLY),
    )
    # The stored key names the granularity only when it is not the module's default.
    assert [s.key for s in specs] == [
        "inventory",
        "inventory:monthly",
        "mass-balance",
        "production:weekly",
    ]
    assert ReportSpec(Module.MASS_BALANCE, Granularity.DAILY).key == "mass-balance:daily"


def test_unknown_reports_and_formats_name_the_choices() -> None:
    _specs, problems = parse_reports(["stock", "production:hourly"])
    assert [p.field for p in problems] == ["reports", "reports"]
    assert "unknown report 'stock'" in problems[0].message
    assert "mass-balance" in problems[0].message
    assert "daily, weekly or monthly" in problems[1].message
    assert parse_reports([])[1][0].message == "choose at least one report"
    formats, problems = parse_formats(["XLSX", "csv", "xlsx", "docx"])
    assert formats == (ExportFormat.XLSX, ExportFormat.CSV)
    assert "unknown format 'docx'" in problems[0].message


@pytest.mark.parametrize("name", ["hq", "HQ-nightly", "a.b_c-1", "x" * 64])
def test_good_pack_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "-hq", "head office", "a/b", "..", "x" * 65, "nächtlich"])
def test_bad_pack_names(name: str) -> None:
    assert name_problem(name) is not None


def test_daily_time_and_comma_lists() -> None:
    assert parse_daily_time("02:30") == time(2, 30)
    assert parse_daily_time("7:05") == time(7, 5)
    for bad in ("24:00", "2:3", "02-30", "noon"):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_daily_time(bad)
    assert split_words(" a, b,,c ") == ["a", "b", "c"]


def test_factor_intervals_answer_what_factor_m_answers_on_every_day() -> None:
    from datetime import timedelta

    from deskops_desktop.models.conversion import Factor, FactorTable

    day = date(2026, 1, 1)
    factors = [
        Factor("mixed", None, day, 12_000),
        Factor("mixed", None, day + timedelta(days=40), 12_500),
        Factor("mixed", "site", day + timedelta(days=20), 11_500),  # the site's own from here
        Factor("mixed", None, day + timedelta(days=60), 12_500),  # same as before: merged
        Factor("concrete", None, day + timedelta(days=10), 16_500),
    ]
    table = FactorTable.of("site", factors)
    for material in ("mixed", "concrete", "asphalt"):
        steps = table.intervals(material)
        for n in range(-5, 100):
            when = day + timedelta(days=n)
            inside = [
                f for start, until, f in steps if start <= when and (until is None or when < until)
            ]
            assert inside == (
                [] if table.factor_m(material, when) is None else [table.factor_m(material, when)]
            )
    # The site's factor wins from its first day on: one step for the company's, one for it.
    assert table.intervals("mixed") == [
        (day, day + timedelta(days=20), 12_000),
        (day + timedelta(days=20), None, 11_500),
    ]
    assert table.intervals("asphalt") == []
