"""The pure rules of a report pack: its name, its reports, its period rule, its schedule time.

Kept apart from the service so the command line, the Settings page and the scheduler all parse
the same words the same way, and so the period arithmetic is tested without a store.

Periods are site-local calendar days (every record's date is one) resolved against "today" in
the pack's time zone:

- ``yesterday``: the day before today (a nightly run reports the day that just ended);
- ``month-to-date``: the first of yesterday's month through yesterday — so the run on the 1st
  writes the whole previous month, and its folder ``YYYY-MM`` is complete from then on;
- ``last-month``: the calendar month before today's month.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from deskops_desktop.models.enums import ExportFormat, Granularity, Module
from deskops_desktop.models.errors import Problem

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PeriodRule(StrEnum):
    """Which days a pack run covers, relative to the day it runs for."""

    YESTERDAY = "yesterday"
    MONTH_TO_DATE = "month-to-date"
    LAST_MONTH = "last-month"


@dataclass(frozen=True, slots=True)
class Period:
    """A resolved period: its inclusive days and the folder name of its run (``label``)."""

    rule: PeriodRule
    label: str
    date_from: date
    date_to: date

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def period_for(rule: PeriodRule, today: date) -> Period:
    """The period ``rule`` covers when the pack runs on ``today`` (see the module docstring)."""
    if rule is PeriodRule.YESTERDAY:
        day = today - timedelta(days=1)
        return Period(rule, day.isoformat(), day, day)
    if rule is PeriodRule.MONTH_TO_DATE:
        last = today - timedelta(days=1)
        return Period(rule, f"{last:%Y-%m}", last.replace(day=1), last)
    last = today.replace(day=1) - timedelta(days=1)
    return Period(rule, f"{last:%Y-%m}", last.replace(day=1), last)


# ------------------------------------------------------------------------------ reports
_DEFAULT_GRANULARITY = {Module.MASS_BALANCE: Granularity.MONTHLY}


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """One report of a pack: a module and its granularity (``inventory:monthly``).

    Record modules and the inventory default to one row per record or day; the mass balance to
    one statement per calendar month of the period.
    """

    module: Module
    granularity: Granularity

    @property
    def key(self) -> str:
        """How the pack stores it and the command line writes it (``production``,
        ``inventory:monthly``): the granularity only when it is not the module's default."""
        if self.granularity is default_granularity(self.module):
            return self.module.value
        return f"{self.module.value}:{self.granularity.value}"


def default_granularity(module: Module) -> Granularity:
    return _DEFAULT_GRANULARITY.get(module, Granularity.DAILY)


def parse_reports(words: Iterable[str]) -> tuple[tuple[ReportSpec, ...], list[Problem]]:
    """``["inventory", "inventory:monthly", "mass-balance"]`` -> specs, in the given order,
    duplicates dropped; every unknown word is a problem naming the choices."""
    specs: list[ReportSpec] = []
    problems: list[Problem] = []
    modules = {m.value: m for m in Module}
    grains = {g.value: g for g in Granularity}
    for raw in words:
        word = raw.strip().lower()
        if not word:
            continue
        name, _, grain = word.partition(":")
        module = modules.get(name)
        if module is None:
            problems.append(
                Problem("reports", f"unknown report '{raw}'; choose from {', '.join(modules)}")
            )
            continue
        granularity = grains.get(grain) if grain else default_granularity(module)
        if granularity is None:
            problems.append(
                Problem("reports", f"'{raw}': the granularity must be daily, weekly or monthly")
            )
            continue
        spec = ReportSpec(module, granularity)
        if spec not in specs:
            specs.append(spec)
    if not specs and not problems:
        problems.append(Problem("reports", "choose at least one report"))
    return tuple(specs), problems


def parse_formats(words: Iterable[str]) -> tuple[tuple[ExportFormat, ...], list[Problem]]:
    """``["xlsx", "csv", "pdf"]`` -> formats in the given order (duplicates dropped)."""
    out: list[ExportFormat] = []
    problems: list[Problem] = []
    known = {f.value: f for f in ExportFormat}
    for raw in words:
        word = raw.strip().lower()
        if not word:
            continue
        fmt = known.get(word)
        if fmt is None:
            problems.append(
                Problem("formats", f"unknown format '{raw}'; choose from {', '.join(known)}")
            )
        elif fmt not in out:
            out.append(fmt)
    if not out and not problems:
        problems.append(Problem("formats", "choose at least one format"))
    return tuple(out), problems


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a pack (None when it can)."""
    if not NAME_PATTERN.match(name):
        return (
            "use 1-64 letters, digits, '.', '_' or '-' (no spaces), starting with a letter or"
            " digit: the name becomes a folder and an operating-system task"
        )
    return None


def parse_daily_time(text: str) -> time:
    """``"02:30"`` -> 02:30; raises ``ValueError`` with the reason otherwise."""
    match = _TIME_PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a time of day; use HH:MM, e.g. 02:30")
    return time(int(match.group(1)), int(match.group(2)))


def split_words(text: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (the command line's comma lists)."""
    return [w.strip() for w in text.split(",") if w.strip()]
