"""The app's one clock: "now in UTC", "today at a site" and "now on this computer".

Invariant a newcomer must not break: nothing else in ``deskops_desktop`` reads the wall clock —
no ``datetime.now()``, ``date.today()``, ``utcnow()`` or ``QDate.currentDate()`` anywhere but
here (``tests/test_layering.py`` enforces it with an AST rule). The composition root and the
command line make one ``Clock`` and hand it down: the ``Store`` carries it (so every service,
timestamp and change-log row of that store reads the same clock), and views reach it through
the data gateway. Tests pin it with ``FixedClock`` through one fixture, so a test passes on any
day and CI can move the process clock to awkward moments (month ends in a site's time zone,
leap days) without a test noticing anything but the date it was asked to live on.

Why a class and not a bare ``Callable[[], datetime]``: "today" is always *somewhere* (a site's
time zone), and the three questions the app asks (UTC now, a site's date, this computer's local
time for file names) belong together so every caller asks them the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class Clock:
    """The real clock (the operating system's)."""

    def now(self) -> datetime:
        """This instant as an aware UTC datetime (what timestamps store)."""
        return datetime.now(UTC)

    def site_now(self, timezone: str) -> datetime:
        """This instant on the wall clock of a site (aware, in the site's IANA zone)."""
        return self.now().astimezone(_zone(timezone))

    def today(self, timezone: str) -> date:
        """The calendar date at a site right now (validation's "not in the future")."""
        return self.site_now(timezone).date()

    def local_now(self) -> datetime:
        """This instant in this computer's own time zone, naive (file names, "Updated 14:05").

        Backups are named and kept by the laptop's local days, which is what a clerk sees on
        the taskbar clock.
        """
        return self.now().astimezone().replace(tzinfo=None)


class FixedClock(Clock):
    """A clock that stays where it is put (tests, and reproducible demo data).

    ``set`` and ``advance`` move it; nothing else does, so two reads in one test agree.
    """

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at = self._at + delta

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


SYSTEM_CLOCK = Clock()
