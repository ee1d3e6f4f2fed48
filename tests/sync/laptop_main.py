"""A remote-site laptop in a process of its own, so a test can kill it at a named point.

    python -m tests.sync.laptop_main --db FILE --user op1 --now ISO [--join URL --site CODE]
        [--create N --site-id ID --day YYYY-MM-DD] [--sync] [--batch N] [--page N]

``DESKOPS_SYNC_FAULT=<point>[:<n>]`` (``deskops_desktop.sync.faults``) makes it die with status
137 at that point, as SIGKILL would. The last line on stdout is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module
from deskops_desktop.services import passwords
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import Store, open_store
from deskops_desktop.sync import Credentials, SyncTuning, join, run_sync, sync_status
from deskops_desktop.sync.link import LinkOptions

PASSWORD = "clerk-pass-123"


class _FileProgress:
    """Progress written to a file, one percentage a line (a parent checks it only rises); each
    process starts with a line ``run``, so the parent knows where one process's bar begins."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(self.path, "a", encoding="ascii") as out:
            out.write("run\n")

    def set_progress(self, percent: int) -> None:
        with open(self.path, "a", encoding="ascii") as out:
            out.write(f"{percent}\n")

    def set_status(self, text: str) -> None:
        del text

    def is_cancelled(self) -> bool:
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--user", default="op1")
    parser.add_argument("--now", required=True)
    parser.add_argument("--join")
    parser.add_argument("--site", action="append", default=[])
    parser.add_argument("--create", type=int, default=0)
    parser.add_argument("--site-id")
    parser.add_argument("--day")
    parser.add_argument("--sync", action="store_true")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--progress-log", help="append each progress percentage to this file")
    args = parser.parse_args(argv)
    progress = _FileProgress(args.progress_log) if args.progress_log else None
    passwords.COST_LOG_N = 4  # as in the test suite: verifiers are cheap here
    clock = FixedClock(datetime.fromisoformat(args.now))
    url = f"sqlite:///{args.db}"
    tuning = SyncTuning(args.batch, args.page, args.page)
    options = LinkOptions(connect_timeout=5, io_timeout=20.0)
    out: dict[str, object] = {}
    if args.join:
        store = open_store(url, clock=clock)
        report = join(
            store,
            args.join,
            args.user,
            PASSWORD,
            args.site,
            progress,
            options=options,
            tuning=tuning,
        )
        out["join"] = report.ok
        out["error"] = report.error
        store.dispose()
    store = Store(url, clock=clock)
    try:
        if args.create:
            services = build_services(store)
            actor = services.users.authenticate(args.user, PASSWORD)
            for n in range(args.create):
                services.records.create(
                    actor,
                    Module.DISPATCH,
                    args.site_id,
                    {
                        "date": args.day,
                        "material": "AGG-G1",
                        "quantity": f"{n + 1}.5",
                        "reference": f"DR-{n}",
                    },
                )
            out["created"] = args.create
        if args.sync:
            report = run_sync(
                store, Credentials.single(args.user, PASSWORD), options=options, tuning=tuning
            )
            out.update(
                ok=report.ok,
                offline=report.offline,
                error=report.error,
                sent=report.push.sent,
                replayed=report.push.replayed,
                pulled=report.pull.changes,
            )
        out["status"] = sync_status(store).to_json()
    finally:
        store.dispose()
    print(json.dumps(out, default=str))
    ok = out.get("ok", True) and out.get("join", True)
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
