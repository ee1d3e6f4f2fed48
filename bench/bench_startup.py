"""Time from process start to the main window's first paint, on a demo store (a year of data).

Sign-in is excluded (the user types a password in between): the script builds the window for an
already authenticated admin, exactly as ``views.main.run`` does after the sign-in dialog.
Each run is a fresh interpreter (imports are the larger part of start-up).

    .venv/bin/python bench/bench_startup.py [--store PATH] [--runs N]

The demo store is generated once (3 sites x 365 days) if PATH does not exist.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import time
t0 = time.perf_counter()
import os
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QEvent, QObject, QTimer
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.app_state import AppState, Settings
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import open_store
from deskops_desktop.views.main import application, build_window

app = application()
services = build_services(open_store(URL))
window = build_window(services, SYSTEM, Settings(AppState(animations=False)))

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is window:
            print(f"{time.perf_counter() - t0:.4f}", flush=True)
            os._exit(0)
        return False

spy = FirstPaint()
window.installEventFilter(spy)
window.show()
QTimer.singleShot(10_000, lambda: os._exit(1))
app.exec()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/deskops-bench-demo.sqlite3"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = f"sqlite:///{args.store}"
    if not args.store.exists():
        from deskops_desktop.services.bundle import build_services
        from deskops_desktop.services.demo import generate_demo
        from deskops_desktop.services.store import open_store

        print(generate_demo(build_services(open_store(url)), sites=3, days=365, seed=1))
    times = []
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-c", f"URL = {url!r}\n" + CHILD],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    print(
        f"main window first paint: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s over {len(times)} runs (target < 1.2 s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
