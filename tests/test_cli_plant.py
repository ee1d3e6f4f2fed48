"""``deskops factor``, ``deskops report mass-balance``, ``deskops dispatch reclassify`` and
``deskops import feed``, in-process on a SQLite store (the services' own tests cover
PostgreSQL). The report's csv must carry the same digits as the mass-balance export and the
statement the page shows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from deskops_desktop.export.rows import build_table
from deskops_desktop.export.table import ExportQuery
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Granularity, Module
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.mass_balance import statement
from deskops_desktop.services.store import open_store
from tests.cli_harness import Run
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.usefixtures("admin")

TODAY = FixedClock(FIXED_NOW).today("Asia/Riyadh")
D1, D2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_factor_set_and_list(run: Run) -> None:
    code, out, err = run(
        "factor",
        "set",
        "raw-mixed",
        "--tons-per-load",
        "12.5",
        "--from",
        str(D1),
        "--basis",
        "weighbridge sample",
    )
    assert (code, err) == (0, "")
    assert out == f"RAW-MIXED: 12.500 t per load from {D1} (All sites; weighbridge sample)\n"
    run(
        "factor",
        "set",
        "RAW-MIXED",
        "--tons-per-load",
        "13",
        "--from",
        str(D2),
        "--site",
        "ALASLA-29",
    )
    code, out, _ = run("factor", "list", "--site", "ALASLA-29")
    lines = out.splitlines()
    assert lines[0].split() == ["Material", "Scope", "t/load", "From", "To", "Basis", "Set", "by"]
    assert lines[2].split()[:4] == ["RAW-MIXED", "All", "sites", "12.500"]
    assert "(in force)" in lines[3]
    assert "ALASLA-29" in lines[3]


def test_factor_errors_name_the_field(run: Run) -> None:
    code, out, err = run("factor", "set", "AGG-G1", "--tons-per-load", "1", "--from", str(D1))
    assert (code, out) == (1, "")
    assert err == (
        "deskops: error: material: AGG-G1 is counted in tons, not loads: only LOAD materials"
        " need a factor\n"
    )
    code, _, err = run("factor", "set", "RAW-MIXED", "--tons-per-load", "-1", "--from", str(D1))
    assert code == 1
    assert "tons_per_load" in err
    code, out, _ = run("factor", "list")
    assert out.startswith("no conversion factors yet")


def test_import_feed_and_the_report_agree_with_the_export(
    run: Run, db: str, tmp_path: Path
) -> None:
    run("factor", "set", "RAW-CONCRETE", "--tons-per-load", "16.5", "--from", str(D1))
    received = write(
        tmp_path, "in.csv", f"Date,Material Code,Quantity,Source\n{D1},RAW-CONCRETE,10,Tower B\n"
    )
    assert run("import", "received", received, "--site", "ALASLA-29")[0] == 0
    feed = write(
        tmp_path,
        "feed.csv",
        "Date,Shift,Material Code,Quantity,Equipment Code,Notes\n"
        f"{D1},MORNING,RAW-CONCRETE,4,CRUSHER-01,jaw\n{D2},,RAW-CONCRETE,2.5,,\n",
    )
    code, out, err = run("import", "feed", feed, "--site", "ALASLA-29")
    assert (code, err) == (0, "")
    assert out == "added 2 feed records to ALASLA-29 from feed.csv\n"
    products = write(
        tmp_path, "p.csv", f"Date,Operation,Material Code,Quantity\n{D1},CRU-PRO,AGG-G1,100.125\n"
    )
    assert run("import", "production", products, "--site", "ALASLA-29")[0] == 0
    old_file = write(tmp_path, "d.csv", f"Date,Material Code,Quantity,Owner\n{D2},AGG-G1,40,Acme\n")
    assert run("import", "dispatch", old_file, "--site", "ALASLA-29")[0] == 0  # no Fate column

    code, out, _ = run(
        "report",
        "mass-balance",
        "--site",
        "ALASLA-29",
        "--from",
        str(D1),
        "--to",
        str(D2),
        "--format",
        "csv",
    )
    assert code == 0
    cli_rows = {row["Key"]: row for row in csv.DictReader(io.StringIO(out))}
    assert cli_rows["received.total"]["Tons"] == "165.000"
    assert cli_rows["fed.total"]["Tons"] == "107.250"  # 6.5 loads × 16.5
    assert cli_rows["out.fate.SALE"]["Tons"] == "40.000"  # the old file's dispatch: a sale
    assert cli_rows["balance.unexplained"]["Tons"] == "0.000"
    assert cli_rows["kpi.yield"]["Figure"] == "0.934"  # 100.125 / 107.25

    code, table_text, _ = run(
        "report", "mass-balance", "--site", "ALASLA-29", "--from", str(D1), "--to", str(D2)
    )
    assert "Unexplained difference" in table_text
    assert "107.250" in table_text

    store = open_store(db, clock=FixedClock(FIXED_NOW))
    try:
        services = build_services(store)
        site = services.master.site_by_code(SYSTEM, "ALASLA-29")
        mb = services.mass_balance.mass_balance(SYSTEM, site.id, D1, D2)
        query = ExportQuery(Module.MASS_BALANCE, site.id, D1, D2, Granularity.MONTHLY)
        table = build_table(services, SYSTEM, query)
        index = {c.header: i for i, c in enumerate(table.columns)}
        exported = list(table.rows)
    finally:
        store.dispose()
    lines = statement(mb)
    assert len(exported) == len(lines) == len(cli_rows)
    for line, row in zip(lines, exported, strict=True):
        cli = cli_rows[line.key]
        tons = row[index["Tons"]]
        assert cli["Tons"] == ("" if tons is None else str(tons))
        assert cli["Line"] == row[index["Line"]] == line.label
        figure = row[index["Figure"]]
        assert cli["Figure"] == ("" if figure is None else str(figure))
        if line.tons_m is not None:
            assert from_milli(line.tons_m) == tons


def test_reclassify_dry_run_then_for_real(run: Run, tmp_path: Path) -> None:
    received = write(tmp_path, "in.csv", f"Date,Material Code,Quantity\n{D1},RAW-MIXED,10\n")
    run("import", "received", received, "--site", "ALASLA-29")
    old = write(
        tmp_path,
        "d.csv",
        f"Date,Material Code,Quantity,Owner\n{D1},RAW-MIXED,3,Crusher feed (internal)\n"
        f"{D2},RAW-MIXED,2,Crusher feed (internal)\n",
    )
    run("import", "dispatch", old, "--site", "ALASLA-29")
    args = ("dispatch", "reclassify", "--site", "ALASLA-29", "--owner", "Crusher feed (internal)")
    code, out, _ = run(*args, "--to-feed", "--dry-run")
    assert code == 0
    assert out.startswith("would move: ALASLA-29: 2 dispatches")
    code, out, _ = run(*args, "--to-feed")
    assert out == (
        f"ALASLA-29: 2 dispatches to 'Crusher feed (internal)' from {D1} to {D2} → Feed records"
        " (5.000 load RAW-MIXED)\n"
    )
    code, out, _ = run("db", "check-ledger", "--site", "ALASLA-29")
    assert (code, out) == (0, "ALASLA-29: the stock ledger matches the records\n")
    code, _, err = run(*args, "--fate", "gift")
    assert code == 1
    assert "invalid choice" in err
    code, out, _ = run(*args, "--fate", "disposal")
    assert out == "ALASLA-29: no dispatches to 'Crusher feed (internal)' to move\n"
