"""Date-range presets of the header (Qt-free so they are tested without a GUI)."""

from __future__ import annotations

from datetime import date, timedelta

PRESETS = ("Today", "Last 7 days", "Last 30 days", "This month", "Last month", "Custom")
DEFAULT_PRESET = "Last 30 days"


def preset_range(name: str, today: date) -> tuple[date, date]:
    """Inclusive (from, to) for a preset; "Last 7 days" includes today."""
    if name == "Today":
        return today, today
    if name == "Last 7 days":
        return today - timedelta(days=6), today
    if name == "Last 30 days":
        return today - timedelta(days=29), today
    if name == "This month":
        return today.replace(day=1), today
    if name == "Last month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(f"no preset called {name!r}")
