"""Entry of the desktop app: hands the app's one clock (the CLI's) to the desktop start-up.

The composition itself (store, services, sign-in, main window) is ``views.main.run``; Qt is
imported only here, lazily, so ``deskops`` subcommands stay headless.
"""

from __future__ import annotations

import sys

from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock


def run_app(db_url: str | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """Start the desktop app; exit status 1 with one line when Qt cannot open a window here."""
    from deskops_desktop.views.platform_check import xcb_problem

    problem = xcb_problem()
    if problem is not None:
        sys.stderr.write(f"deskops: error: {problem}\n")
        return 1
    from deskops_desktop.views.main import run

    return run(db_url, clock)
