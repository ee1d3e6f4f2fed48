"""Helpers of the ``deskops`` command line: prompting, sign-in, argument types, text output.

Kept apart from ``cli.py`` so the parser and the command handlers read top to bottom. Like
``cli.py`` this module never imports Qt.

Prompts go to stderr (and passwords through ``getpass``, without echo) so that
``deskops inventory --format csv > stock.csv`` produces a clean file even when it asks to sign in.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, TextIO

from deskops_desktop.models.display import exact_milli, summary_milli
from deskops_desktop.models.enums import Module
from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.models.stock import LEDGER_FIGURES
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.ledger import Ledger, LedgerTotal
from deskops_desktop.services.reference import SiteInfo

# What ``cli.build_parser`` hands each sub-command module's ``add_parsers``.
ServicesOf = Callable[[argparse.Namespace], AbstractContextManager[Services]]
Command = Callable[..., argparse.ArgumentParser]
# cli's group(name, help) -> argparse's private _SubParsersAction of cli's parser class.
Group = Callable[[str, str], Any]
Handler = Callable[[argparse.Namespace, Services], int]

ENV_USER = "DESKOPS_USER"
ENV_PASSWORD = "DESKOPS_PASSWORD"
ENV_NEW_PASSWORD = "DESKOPS_NEW_PASSWORD"
ENV_DB_PASSWORD = "DESKOPS_DB_PASSWORD"

INVENTORY_COLUMNS = (
    "Date",
    "Material Code",
    "Material",
    "Category",
    "UOM",
    *LEDGER_FIGURES,
    "Level",
)


class CliError(DeskOpsError):
    """A command-line problem a user can fix (bad input, no terminal to ask in, …)."""


# ------------------------------------------------------------------------------ prompts
def service_runner(services: ServicesOf) -> Callable[[Handler], Callable[..., int]]:
    """Wraps a sub-command's handler so it runs inside the services ``cli`` opens for it."""

    def run(handler: Handler) -> Callable[..., int]:
        def wrapped(args: argparse.Namespace) -> int:
            with services(args) as s:
                return handler(args, s)

        return wrapped

    return run


def interactive() -> bool:
    """Whether there is a person at a terminal to ask (tests replace this)."""
    return sys.stdin is not None and sys.stdin.isatty()


def ask(prompt: str) -> str:
    """One line from the user; the prompt goes to stderr to keep stdout clean."""
    if not interactive():
        raise CliError(f"no terminal to ask for {prompt.rstrip(': ').lower()}")
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise CliError("no answer (end of input)")
    return line.rstrip("\r\n")


def ask_secret(prompt: str) -> str:
    """A secret without echo (``getpass``), refused when nobody is at a terminal."""
    if not interactive():
        raise CliError(f"no terminal to ask for {prompt.rstrip(': ').lower()}")
    return getpass.getpass(prompt, stream=sys.stderr)


def new_password(whose: str) -> str:
    """``DESKOPS_NEW_PASSWORD``, or asked twice without echo (a typo would lock the user out)."""
    from_env = os.environ.get(ENV_NEW_PASSWORD)
    if from_env:
        return from_env
    if not interactive():
        raise CliError(f"set {ENV_NEW_PASSWORD} or run in a terminal to choose a password")
    first = ask_secret(f"New password for {whose}: ")
    second = ask_secret("Repeat the new password: ")
    if first != second:
        raise CliError("the two passwords differ; nothing was changed")
    if not first:
        raise CliError("no password given; nothing was changed")
    return first


def sign_in(services: Services, *, setup_allowed: bool = False) -> Actor | None:
    """The signed-in user, from ``DESKOPS_USER``/``DESKOPS_PASSWORD`` or asked for.

    On a store without users there is nobody to sign in as: commands that set a store up
    (``setup_allowed``: the first ``user add``, ``demo``) get ``None`` and run as the setup
    step; every other command is refused with the way out.
    """
    # A secured server store cannot even count its users before someone signs in.
    if not services.store.needs_sign_in and services.users.count() == 0:
        if setup_allowed:
            return None
        raise CliError(
            "this store has no users yet; create the first administrator with "
            "'deskops user add NAME --role admin'"
        )
    username, password = credentials()
    return services.users.authenticate(username, password)


def credentials() -> tuple[str, str]:
    """User name and password from ``DESKOPS_USER``/``DESKOPS_PASSWORD``, or asked for."""
    username = os.environ.get(ENV_USER) or ""
    password = os.environ.get(ENV_PASSWORD) or ""
    if not (username and password) and not interactive():
        raise CliError(f"sign-in needed: set {ENV_USER} and {ENV_PASSWORD} (no terminal to ask)")
    if not username:
        username = ask("User name: ")
    if not password:
        password = ask_secret(f"Password for {username}: ")
    return username, password


def require_actor(services: Services) -> Actor:
    actor = sign_in(services)
    assert actor is not None  # sign_in returns None only when setup_allowed
    return actor


def require_actor_at(services: Services, site_code: str) -> tuple[Actor, SiteInfo]:
    """The signed-in user and the site of ``--site CODE``: how every per-site command starts.

    The site is looked up as that user, so a site they may not see is refused before the
    command does anything.
    """
    actor = require_actor(services)
    return actor, services.master.site_by_code(actor, site_code)


# ------------------------------------------------------------------------ argument types
def add_module_argument(parser: argparse.ArgumentParser, modules: Iterable[Module]) -> None:
    """The positional MODULE of ``import`` and ``export``: one of ``modules``, named in help."""
    values = [m.value for m in modules]
    parser.add_argument(
        "module", metavar="MODULE", type=str.lower, choices=values, help=", ".join(values)
    )


def iso_date(text: str) -> date:
    """An argparse type: a calendar date written YYYY-MM-DD."""
    try:
        if len(text.strip()) != 10:
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _whole_number(text: str) -> int:
    """``text`` as an int, or argparse's refusal (the two counting argument types share it)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative (got {value})")
    return value


# ------------------------------------------------------------------------------- output
def format_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()
) -> str:
    """Rows as aligned plain text columns (``right``: indexes of right-aligned columns)."""
    body = [list(r) for r in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    align_right = set(right)

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in align_right else c.ljust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in body)
    return "\n".join(out)


def write_inventory_csv(ledger: Ledger, out: TextIO) -> None:
    """The ledger as csv; quantities exact to 3 decimals, rows in the ledger's order.

    Lines end in ``\\n``: on Windows text-mode stdout turns that into CRLF, as RFC 4180 wants,
    and on Unix it stays the pipe-friendly convention.
    """
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(INVENTORY_COLUMNS)
    for r in ledger.rows:
        m = r.material
        writer.writerow(
            (
                r.day.isoformat(),
                m.code,
                m.name,
                m.category,
                m.uom,
                *(exact_milli(v) for v in r.milli_values()),
                r.level.value,
            )
        )


def inventory_table(ledger: Ledger) -> str:
    """A readable ledger: the rows, then totals per category and per unit (never mixed)."""
    title = (
        f"Stock ledger {ledger.site.code} - {ledger.site.name}, "
        f"{ledger.date_from.isoformat()} to {ledger.date_to.isoformat()} ({ledger.granularity})"
        + (f", {ledger.category}" if ledger.category else "")
    )
    if not ledger.rows:
        return f"{title}\nNo materials match the selection."
    rows = [
        (
            r.day.isoformat(),
            r.material.code,
            r.material.name,
            r.material.category,
            r.material.uom,
            *(summary_milli(v, r.material.uom) for v in r.milli_values()),
            r.level.value,
        )
        for r in ledger.rows
    ]
    figures = range(5, 5 + len(LEDGER_FIGURES))
    parts = [title, "", format_table(INVENTORY_COLUMNS, rows, right=figures)]
    totals = [*ledger.category_totals, *ledger.grand_totals]
    if totals:
        headers = ("Totals", "UOM", *LEDGER_FIGURES)
        right = range(2, 2 + len(LEDGER_FIGURES))
        parts += ["", format_table(headers, (_total_row(t) for t in totals), right=right)]
    return "\n".join(parts)


def _total_row(total: LedgerTotal) -> tuple[str, ...]:
    label = total.category or f"All {total.uom}"
    return (label, total.uom, *(summary_milli(v, total.uom) for v in total.milli_values()))


class TerminalProgress:
    """A one-line progress bar on a terminal (nothing when the stream is not a terminal)."""

    WIDTH = 30

    def __init__(self, stream: TextIO, *, force: bool = False) -> None:
        self._stream = stream
        self._enabled = force or (hasattr(stream, "isatty") and stream.isatty())
        self._percent = 0
        self._status = ""
        self._drawn_at = 0.0
        self._shown = False

    def set_progress(self, percent: int) -> None:
        self._percent = percent
        self._draw()

    def set_status(self, text: str) -> None:
        self._status = text
        self._draw(force=True)

    def is_cancelled(self) -> bool:
        return False  # Ctrl+C raises KeyboardInterrupt; the writer's cleanup removes the temp file

    def _draw(self, *, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < 0.1 and self._percent < 100:
            return
        self._drawn_at = now
        filled = self.WIDTH * self._percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._stream.write(f"\r[{bar}] {self._percent:3d}% {self._status[:40]:<40}")
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._enabled and self._shown:
            self._stream.write("\n")
            self._stream.flush()
