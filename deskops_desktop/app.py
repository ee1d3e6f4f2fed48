"""Entry of the desktop app: hands the app's one clock (the CLI's) to the desktop start-up.

The composition itself (store, services, sign-in, main window) is ``views.main.run``; Qt is
imported only here, lazily, so ``deskops`` subcommands stay headless.
"""

from __future__ import annotations

from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock


def run_app(db_url: str | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    from deskops_desktop.views.main import run

    return run(db_url, clock)
