"""Desktop pages on the 1,000,000-movement store: inventory, dashboard, movement chart, table sort.

    .venv/bin/python bench/make_store.py            # once: the store of bench_ledger.py
    .venv/bin/python bench/bench_pages.py [STORE]

Measured in one run, offscreen, medians of several repetitions after a warm-up, each call on a
fresh data service (no cache hits) and ending with a forced paint (``grab()``), so the figure is
what a supervisor waits for:

- inventory page: the first paint after a site change and after a range change (30 days,
  1 year, 3 years) — the ledger read, the table, totals and the movement chart;
- dashboard: one refresh (snapshot + six charts) for 30 days and for 1 year;
- movement chart: 17 series x 3 years of daily closings drawn;
- record table: re-sorting production of one site over 3 years (>= 100,000 rows) by quantity.

Targets (issues 3 and 4): inventory and dashboard < 300 ms, chart < 100 ms, sort < 300 ms.
The reference for the chart is pyqtgraph itself drawing the same arrays with no DeskOps code.
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from deskops_desktop.models.enums import Granularity, Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.app_state import AppState, Settings
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.ledger import LedgerRow
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import open_store
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.dashboard_page import DashboardPage
from deskops_desktop.views.inventory_page import InventoryPage
from deskops_desktop.views.main import application
from deskops_desktop.views.movement_chart import MovementChart, day_to_x
from deskops_desktop.views.record_page import RecordPage

DEFAULT_STORE = Path(tempfile.gettempdir()) / "deskops-bench" / "store.sqlite3"
REPEATS = 7


def timed(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median milliseconds of ``action`` after one warm-up call."""
    action()
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_STORE
    if not source.exists():
        print(f"no store at {source}: run bench/make_store.py first", file=sys.stderr)
        return 2
    work = source.with_name("pages.sqlite3")
    if not work.exists():
        shutil.copyfile(source, work)
    app: QApplication = application()
    services = build_services(open_store(f"sqlite:///{work}"))
    sites = services.master.sites(SYSTEM)
    end = _last_day(services, sites[0].id)
    rows: list[tuple[str, float, float | None, str]] = []

    def fresh() -> DataGateway:
        return DataGateway(services, SYSTEM)

    # ---- inventory page
    page = InventoryPage(fresh())
    page.resize(1300, 800)
    page.show()

    def inventory(site_index: int, days: int) -> Callable[[], object]:
        def run() -> object:
            page._data = fresh()
            page.set_context(PageContext(sites[site_index], end - timedelta(days=days - 1), end))
            return page.grab()

        return run

    flip = {"i": 0}

    def site_change() -> object:
        flip["i"] ^= 1
        return inventory(flip["i"], 30)()

    rows.append(("inventory: site change, 30 days", timed(site_change), 300, ""))
    for days, label in ((365, "1 year"), (3 * 365, "3 years")):
        rows.append((f"inventory: range change to {label}", timed(inventory(0, days)), 300, ""))

    # ---- dashboard
    dash = DashboardPage(fresh(), Settings(AppState(animations=False)))
    dash.resize(1300, 800)
    dash.show()
    dash._build_charts()
    for days, label in ((30, "30 days"), (365, "1 year")):

        def refresh(days: int = days) -> object:
            dash._data = fresh()
            dash._context = PageContext(sites[0], end - timedelta(days=days - 1), end)
            dash.refresh()
            return dash.grab()

        rows.append((f"dashboard refresh, {label}", timed(refresh), 300, ""))

    # ---- movement chart: 17 series x 3 years
    ledger = services.ledger.ledger(
        SYSTEM, sites[0].id, end - timedelta(days=3 * 365 - 1), end, Granularity.DAILY
    )
    chart = MovementChart()
    chart.resize(1100, 360)
    chart.show()
    app.processEvents()

    def draw() -> object:
        chart.set_rows(ledger.rows)
        return chart.grab()

    import numpy as np
    import pyqtgraph as pg

    bare = pg.PlotWidget()
    bare.resize(1100, 360)
    bare.show()
    by_code: dict[str, list[LedgerRow]] = {}
    for r in ledger.rows:
        by_code.setdefault(r.material.code, []).append(r)
    arrays = [
        (np.array([day_to_x(r.day) for r in rs]), np.array([r.closing_m / 1000 for r in rs]))
        for rs in by_code.values()
    ]
    items = [bare.plot() for _ in arrays]

    def bare_draw() -> object:
        for item, (xs, ys) in zip(items, arrays, strict=True):
            item.setData(xs, ys)
        return bare.grab()

    chart_ms, bare_ms = timed(draw), timed(bare_draw)
    rows.append(
        (
            f"movement chart, {len(by_code)} series x {len(arrays[0][0])} days",
            chart_ms,
            100,
            f"bare pyqtgraph {bare_ms:.1f} ms, ratio {chart_ms / bare_ms:.2f}",
        )
    )

    # ---- record table sort: a site with at least 100,000 production rows
    sort_site = _big_production_site(services, end)
    data = fresh()
    record_page = RecordPage(Module.PRODUCTION, data, services.master.reference())
    record_page.resize(1300, 800)
    record_page.show()
    start_day = end - timedelta(days=3 * 365 - 1)
    record_page.set_context(PageContext(sort_site, start_day, end))
    app.processEvents()
    total = record_page.model.total
    column = next(i for i, c in enumerate(record_page.model.columns) if c.key == "quantity")
    order = {"o": Qt.SortOrder.AscendingOrder}

    def resort() -> object:
        record_page._data = fresh()
        order["o"] = (
            Qt.SortOrder.DescendingOrder
            if order["o"] == Qt.SortOrder.AscendingOrder
            else Qt.SortOrder.AscendingOrder
        )
        record_page.model.sort(column, order["o"])
        return record_page.table.viewport().grab()

    rows.append((f"table sort by quantity, {total:,} production rows", timed(resort), 300, ""))

    print(f"store: {work} (site {sites[0].code}, range ending {end})")
    print(f"{'measurement':58} {'median ms':>10} {'target':>8}  result  note")
    failed = False
    for name, ms, target, note in rows:
        ok = target is None or ms <= target
        failed |= not ok
        print(
            f"{name:58} {ms:10.1f} {('< ' + str(target)) if target else '':>8}  "
            f"{'PASS' if ok else 'FAIL':6}  {note}"
        )
    os._exit(1 if failed else 0)


def _big_production_site(services: Services, end: date) -> SiteInfo:
    """A site with >= 100,000 production rows in the 3 years (added once, through the service)."""
    master, records = services.master, services.records
    try:
        return master.site_by_code(SYSTEM, "BENCH-SORT")
    except Exception:
        site = master.add_site(SYSTEM, "BENCH-SORT", "Sort benchmark site").value
    materials = [m.code for m in master.reference().materials if m.uom == "TON"]
    rows: list[dict[str, object]] = []
    day = end - timedelta(days=3 * 365 - 1)
    n = 0
    while len(rows) < 110_000:
        for shift in ("MORNING", "AFTERNOON", "NIGHT"):
            for operation in ("CRU-PRO", "CRU-DIS", "SEG-OP", "CRU-OP"):
                for material in materials:
                    n += 1
                    rows.append(
                        {
                            "date": day,
                            "shift": shift,
                            "operation": operation,
                            "material": material,
                            "quantity": f"{(n * 7919) % 90000 / 1000 + 1:.3f}",
                        }
                    )
        day += timedelta(days=1)
    for first in range(0, len(rows), 25_000):
        records.create_many(SYSTEM, Module.PRODUCTION, site.id, rows[first : first + 25_000])
    return site


def _last_day(services: object, site_id: str) -> date:
    from sqlalchemy import func, select

    from deskops_desktop.models.stock import StockDay

    with services.store.read() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.max(StockDay.day)).where(StockDay.site_id == site_id))


if __name__ == "__main__":
    raise SystemExit(main())
