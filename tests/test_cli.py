"""The ``deskops`` command line, run in-process with ``main([...])`` on a store in tmp_path.

Every run gets the test's clock (``main(..., clock=)``), so record dates are a few days before
the clock fixture's "today" at the default site.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from deskops_desktop import cli_support
from deskops_desktop.cli import main
from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock, FixedClock
from deskops_desktop.models.enums import Role
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.secrets import get_db_password
from deskops_desktop.services.store import Store, open_store
from tests.cli_harness import ADMIN_PASSWORD, Run
from tests.conftest import FIXED_NOW

CLERK_PASSWORD = "clerk-pass-1"
TODAY = FixedClock(FIXED_NOW).today("Asia/Riyadh")  # what the ``clock`` fixture says
D1, D2, D3 = (TODAY - timedelta(days=n) for n in (6, 5, 4))
ROOT = Path(__file__).resolve().parent.parent


def add_clerk(db: str, sites: tuple[str, ...] = ("ALASLA-29",)) -> None:
    store = open_store(db, clock=FixedClock(FIXED_NOW))
    try:
        build_services(store).users.create(SYSTEM, "clerk", CLERK_PASSWORD, Role.OPERATOR, sites)
    finally:
        store.dispose()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["site"],
        ["site", "add"],
        ["site", "list"],
        ["user"],
        ["user", "add"],
        ["user", "list"],
        ["user", "passwd"],
        ["import"],
        ["inventory"],
        ["export"],
        ["db"],
        ["db", "upgrade"],
        ["db", "backup"],
        ["db", "set-password"],
        ["db", "check-ledger"],
    ],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: deskops {' '.join(command)}".rstrip())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "stock", "x.csv", "--site", "A"], "argument MODULE: invalid choice: 'stock'"),
        (["import", "production", "x.csv"], "the following arguments are required: --site"),
        (
            ["inventory", "--site", "A", "--from", "2026-02-30", "--to", "2026-03-01"],
            "argument --from: '2026-02-30' is not a date; use YYYY-MM-DD",
        ),
        (
            [
                "inventory",
                "--site",
                "A",
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-02",
                "--format",
                "pdf",
            ],
            "argument --format: invalid choice: 'pdf'",
        ),
        (["demo", "--days", "0"], "argument --days: must be at least 1 (got 0)"),
        (["user", "add", "x", "--role", "boss"], "argument --role: invalid choice: 'boss'"),
        (["site"], "the following arguments are required: ACTION"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_1_with_one_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("usage: deskops")
    assert "Traceback" not in err


def test_without_a_command_the_desktop_app_starts(monkeypatch: pytest.MonkeyPatch, db: str) -> None:
    started: list[str | None] = []

    def fake_run_app(db_url: str | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
        started.append(db_url)
        return 7

    monkeypatch.setattr("deskops_desktop.app.run_app", fake_run_app)
    assert main(["--db", db]) == 7
    assert main([]) == 7
    assert started == [db, None]


def test_the_command_line_imports_no_qt() -> None:
    code = (
        "import sys, deskops_desktop.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_python_m_deskops_desktop_help_smoke() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deskops_desktop", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: deskops")
    for command in ("demo", "site", "user", "import", "inventory", "db"):
        assert command in done.stdout


# -------------------------------------------------------------------- users and sign-in
def test_first_user_bootstrap_then_sign_in_is_required(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run("site", "list")
    assert code == 1
    assert "no users yet; create the first administrator with 'deskops user add" in err

    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", ADMIN_PASSWORD)
    code, _, err = run("user", "add", "clerk", "--role", "operator", "--site", "ALASLA-29")
    assert (code, err) == (
        1,
        "deskops: error: the first user of a store must be an administrator (--role admin)\n",
    )
    code, out, err = run("user", "add", "Boss", "--role", "ADMIN", "--name", "Head Office")
    assert (code, err) == (0, "")
    assert out.startswith("added admin boss\n")

    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", CLERK_PASSWORD)
    code, _, err = run("user", "add", "clerk", "--role", "operator", "--site", "ALASLA-29")
    assert code == 1
    assert "sign-in needed: set DESKOPS_USER and DESKOPS_PASSWORD" in err

    monkeypatch.setenv("DESKOPS_USER", "boss")
    monkeypatch.setenv("DESKOPS_PASSWORD", "wrong-password")
    code, _, err = run("user", "add", "clerk", "--role", "operator", "--site", "ALASLA-29")
    assert (code, err) == (1, "deskops: error: wrong user name or password\n")

    monkeypatch.setenv("DESKOPS_PASSWORD", ADMIN_PASSWORD)
    code, out, _ = run("user", "add", "clerk", "--role", "operator", "--site", "alasla-29")
    assert (code, out) == (0, "added operator clerk for ALASLA-29\n")
    code, out, _ = run("user", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["User", "Name", "Role", "Sites", "Active", "Locked"]
    assert lines[2].split() == ["boss", "Head", "Office", "ADMIN", "(all)", "yes"]
    assert lines[3].split() == ["clerk", "clerk", "OPERATOR", "ALASLA-29", "yes"]


def test_user_add_reports_every_problem(
    run: Run, admin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", "short")
    code, _, err = run("user", "add", "Bad Name!", "--role", "moderator", "--site", "NOWHERE")
    assert code == 1
    assert err.splitlines() == [
        "deskops: error: username: may contain only letters, digits, '.', '_' and '-'",
        "deskops: error: password: must be at least 8 characters",
        "deskops: error: sites: unknown site 'NOWHERE'",
        "deskops: error: sites: operators and moderators need at least one site",
    ]


def test_prompts_sign_in_and_new_password_twice(
    run: Run, admin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DESKOPS_USER")
    monkeypatch.delenv("DESKOPS_PASSWORD")
    answers = iter(["boss"])
    secrets = iter([ADMIN_PASSWORD, "new-secret-1", "new-secret-2"])
    monkeypatch.setattr(cli_support, "interactive", lambda: True)
    monkeypatch.setattr(cli_support, "ask", lambda prompt: next(answers))
    monkeypatch.setattr(cli_support, "ask_secret", lambda prompt: next(secrets))
    code, _, err = run("user", "passwd")
    assert (code, err) == (1, "deskops: error: the two passwords differ; nothing was changed\n")

    answers = iter(["boss"])
    secrets = iter([ADMIN_PASSWORD, "new-secret-1", "new-secret-1"])
    code, out, _ = run("user", "passwd")
    assert (code, out) == (0, "password of boss changed\n")
    monkeypatch.setenv("DESKOPS_USER", "boss")
    monkeypatch.setenv("DESKOPS_PASSWORD", ADMIN_PASSWORD)
    assert run("site", "list")[0] == 1  # the old password is gone
    monkeypatch.setenv("DESKOPS_PASSWORD", "new-secret-1")
    assert run("site", "list")[0] == 0


def test_passwd_of_another_user_needs_an_admin(
    run: Run, admin: None, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_clerk(db)
    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", "reset-pass-1")
    assert run("user", "passwd", "clerk") == (0, "password of clerk changed\n", "")
    assert run("user", "passwd", "ghost")[2] == "deskops: error: unknown user 'ghost'\n"
    monkeypatch.setenv("DESKOPS_USER", "clerk")
    monkeypatch.setenv("DESKOPS_PASSWORD", "reset-pass-1")
    code, _, err = run("user", "passwd", "boss")
    assert (code, err) == (
        1,
        "deskops: error: only an administrator may change other users' passwords\n",
    )


# ----------------------------------------------------------------------------- sites
def test_site_add_and_list(run: Run, admin: None, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run("site", "add", "jed-02", "--name", "Jeddah North", "--location", "Jeddah")
    assert (code, out) == (0, "added site JED-02 \u2013 Jeddah North (Asia/Riyadh)\n")
    code, _, err = run("site", "add", "JED-02", "--name", "Again", "--timezone", "Mars/Base")
    assert code == 1
    assert err.splitlines() == [
        "deskops: error: timezone: 'Mars/Base' is not an IANA time zone (e.g. Asia/Riyadh)",
        "deskops: error: code: site JED-02 already exists",
    ]
    code, out, _ = run("site", "list")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["ALASLA-29", "JED-02"]

    add_clerk(db)
    monkeypatch.setenv("DESKOPS_USER", "clerk")
    monkeypatch.setenv("DESKOPS_PASSWORD", CLERK_PASSWORD)
    code, out, _ = run("site", "list")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["ALASLA-29"]
    code, _, err = run("site", "add", "DXB-03", "--name", "Dubai")
    assert (code, err) == (1, "deskops: error: only an administrator may add sites\n")


# ---------------------------------------------------------------------------- import
def test_import_success_and_all_or_nothing(run: Run, admin: None, tmp_path: Path) -> None:
    good = write(
        tmp_path,
        "good.csv",
        "Date,Shift,Operation,Material Code,Quantity,UOM\n"
        f"{D1},MORNING,CRU-PRO,AGG-G1,10,TON\n{D2},MORNING,CRU-PRO,AGG-G1,2.5,TON\n",
    )
    assert run("import", "production", good, "--site", "alasla-29") == (
        0,
        "added 2 production records to ALASLA-29 from good.csv\nignored columns: UOM\n",
        "",
    )
    bad = write(
        tmp_path,
        "bad.csv",
        "date,operation,material code,quantity\n"
        f"{D3},CRU-PRO,AGG-G1,5\n{D3},CRU-PRO,AGG-ZZ,5\n\n{D3},CRU-PRO,AGG-S1,-1\n",
    )
    code, out, err = run("import", "production", bad, "--site", "ALASLA-29")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "deskops: error: nothing was imported: 2 problems to fix",
        "row 3, Material Code: unknown material code 'AGG-ZZ'",
        "row 5, Quantity: must be greater than 0",
    ]
    code, out, _ = run(
        "inventory",
        "--site",
        "ALASLA-29",
        "--from",
        str(D3),
        "--to",
        str(D3),
        "--format",
        "csv",
        "--category",
        "AGGREGATES",
    )
    assert code == 0
    g1 = next(line for line in out.splitlines() if ",AGG-G1," in line)
    assert g1.endswith(
        ",12.500,0.000,0.000,0.000,0.000,0.000,12.500,LOW"
    )  # the bad file added nothing


def test_import_is_refused_for_an_operator_on_another_site(
    run: Run, admin: None, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("site", "add", "JED-02", "--name", "Jeddah North")[0] == 0
    add_clerk(db)
    monkeypatch.setenv("DESKOPS_USER", "clerk")
    monkeypatch.setenv("DESKOPS_PASSWORD", CLERK_PASSWORD)
    path = write(
        tmp_path, "p.csv", f"Date,Operation,Material Code,Quantity\n{D3},CRU-PRO,AGG-G1,1\n"
    )
    code, _, err = run("import", "production", path, "--site", "JED-02")
    assert (code, err) == (1, "deskops: error: clerk is not assigned to this site\n")
    code, _, err = run("import", "production", path, "--site", "NOWHERE")
    assert (code, err) == (1, "deskops: error: unknown site 'NOWHERE'\n")
    adj = write(
        tmp_path, "a.csv", f"Date,Material Code,Adjustment,Reason\n{D3},AGG-G1,5,STOCK_COUNT\n"
    )
    code, _, err = run("import", "adjustments", adj, "--site", "ALASLA-29")
    assert code == 1
    assert "stock adjustments need a supervisor" in err
    assert run("import", "production", path, "--site", "ALASLA-29")[0] == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("garbage.csv", bytes(range(256)) * 4, "garbage.csv is a binary file"),
        (
            "latin1.csv",
            "Date,Operation,Material Code,Quantity\n\xe9\n".encode("latin-1"),
            "latin1.csv is not UTF-8 text (line 2",
        ),
        ("header.csv", b"Date,Operation,Material Code,Quantity\n", "no data rows below the header"),
        (
            "columns.csv",
            b"Date,Quantity\n2026-01-01,1\n",
            "missing required columns Operation, Material Code",
        ),
        ("fake.xlsx", b"PK\x03\x04 not really a zip", "fake.xlsx is a damaged workbook"),
        ("missing.csv", None, "missing.csv: no such file"),
    ],
)
def test_hostile_files_exit_1_with_a_message(
    run: Run, admin: None, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = run("import", "production", str(path), "--site", "ALASLA-29")
    assert (code, out) == (1, "")
    assert err.startswith("deskops: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_cli_import_on_both_backends(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = store.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", ADMIN_PASSWORD)
    assert main(["--db", url, "user", "add", "boss", "--role", "admin"], clock=store.clock) == 0
    monkeypatch.setenv("DESKOPS_USER", "boss")
    monkeypatch.setenv("DESKOPS_PASSWORD", ADMIN_PASSWORD)
    rows = "".join(f"{D1},{s},CRU-PRO,AGG-G1,1.5\n" for s in ("MORNING", "AFTERNOON", "NIGHT"))
    path = write(tmp_path, "p.csv", "Date,Shift,Operation,Material Code,Quantity\n" + rows)
    capsys.readouterr()
    assert (
        main(["import", "production", path, "--site", "ALASLA-29", "--db", url], clock=store.clock)
        == 0
    )
    assert capsys.readouterr().out == "added 3 production records to ALASLA-29 from p.csv\n"
    assert (
        main(["import", "production", path, "--site", "ALASLA-29", "--db", url], clock=store.clock)
        == 1
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "deskops: error: nothing was imported: 3 problems to fix"
    assert all(
        line.startswith(f"row {n}, Material Code: already recorded")
        for n, line in zip((2, 3, 4), err[1:], strict=True)
    )
    assert main(["db", "check-ledger", "--site", "ALASLA-29", "--db", url], clock=store.clock) == 0


# -------------------------------------------------------------------------- inventory
def test_inventory_csv_is_exact_and_ordered(run: Run, admin: None, tmp_path: Path) -> None:
    files = {
        "production": f"Date,Operation,Material Code,Quantity\n{D1},CRU-PRO,FINE-WASHED,120.5\n",
        "dispatch": f"Date,Material Code,Quantity,Trips\n{D2},FINE-WASHED,20.125,3\n",
        "received": f"Date,Material Code,Quantity\n{D2},FINE-NATURAL,0.25\n",
        "adjustments": f"Date,Material Code,Adjustment,Reason\n{D3},FINE-WASHED,-0.625,LOSS\n",
    }
    for module, text in files.items():
        assert (
            run("import", module, write(tmp_path, f"{module}.csv", text), "--site", "ALASLA-29")[0]
            == 0
        )
    code, out, err = run(
        "inventory",
        "--site",
        "ALASLA-29",
        "--from",
        str(D1),
        "--to",
        str(D3),
        "--category",
        "fine",
        "--format",
        "csv",
    )
    assert (code, err) == (0, "")
    washed, natural = "FINE-WASHED,WASHED SAND,FINE,TON", "FINE-NATURAL,NATURAL SAND,FINE,TON"
    assert out.splitlines() == [
        "Date,Material Code,Material,Category,UOM,Opening,Produced,Received,Dispatched,Fed,"
        "Adjustment,Closing,Level",
        f"{D1},{washed},0.000,120.500,0.000,0.000,0.000,0.000,120.500,WARNING",
        f"{D1},{natural},0.000,0.000,0.000,0.000,0.000,0.000,0.000,LOW",
        f"{D2},{washed},120.500,0.000,0.000,20.125,0.000,0.000,100.375,WARNING",
        f"{D2},{natural},0.000,0.000,0.250,0.000,0.000,0.000,0.250,LOW",
        f"{D3},{washed},100.375,0.000,0.000,0.000,0.000,-0.625,99.750,LOW",
        f"{D3},{natural},0.250,0.000,0.000,0.000,0.000,0.000,0.250,LOW",
    ]

    code, out, _ = run(
        "inventory",
        "--site",
        "ALASLA-29",
        "--from",
        str(D1),
        "--to",
        str(D3),
        "--category",
        "FINE",
        "--granularity",
        "weekly",
    )
    assert code == 0
    assert out.startswith(
        f"Stock ledger ALASLA-29 - Al Asla Recycling Facility, {D1} to {D3} (weekly), FINE\n"
    )
    assert "120.50" in out
    assert "99.75" in out
    totals = out.split("\n\n")[-1].splitlines()
    assert totals[0].split()[:3] == ["Totals", "UOM", "Opening"]
    assert totals[2].split() == [
        "FINE",
        "TON",
        "0.00",
        "120.50",
        "0.25",
        "20.13",
        "0.00",
        "-0.63",
        "100.00",
    ]
    assert totals[3].split() == [
        "All",
        "TON",
        "TON",
        "0.00",
        "120.50",
        "0.25",
        "20.13",
        "0.00",
        "-0.63",
        "100.00",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--site", "NOWHERE", "--from", "2026-01-01", "--to", "2026-01-31"],
            "deskops: error: unknown site 'NOWHERE'\n",
        ),
        (
            [
                "--site",
                "ALASLA-29",
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-31",
                "--category",
                "GOLD",
            ],
            "deskops: error: category: unknown category 'GOLD'\n",
        ),
        (
            ["--site", "ALASLA-29", "--from", "2026-02-01", "--to", "2026-01-31"],
            "deskops: error: --to 2026-01-31 is before --from 2026-02-01\n",
        ),
    ],
)
def test_inventory_errors(run: Run, admin: None, args: list[str], message: str) -> None:
    assert run("inventory", *args) == (1, "", message)


def test_export_is_wired_in(run: Run, admin: None, tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", f"Date,Operation,Material Code,Quantity\n{D2},CRU-PRO,AGG-G1,4\n"
    )
    assert run("import", "production", path, "--site", "ALASLA-29")[0] == 0
    out_file = tmp_path / "out" / "production.csv"
    out_file.parent.mkdir()
    code, out, err = run(
        "export",
        "production",
        "--site",
        "ALASLA-29",
        "--from",
        str(D3 - timedelta(days=5)),
        "--to",
        str(D3),
        "--format",
        "csv",
        "--out",
        str(out_file),
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"path:    {out_file}")
    assert "AGG-G1" in out_file.read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------------------------- db
def test_db_upgrade_backup_and_check_ledger(run: Run, admin: None, db: str, tmp_path: Path) -> None:
    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert out.endswith("is up to date (schema " + out.rsplit("(schema ", 1)[1])
    path = write(
        tmp_path, "p.csv", f"Date,Operation,Material Code,Quantity\n{D1},CRU-PRO,AGG-G1,4\n"
    )
    assert run("import", "production", path, "--site", "ALASLA-29")[0] == 0

    backup = tmp_path / "copies" / "backup.sqlite3"
    code, out, _ = run("db", "backup", str(backup))
    assert code == 0
    assert out.startswith("backup of sqlite:///")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT count(*) FROM production").fetchone() == (1,)
    copy.close()
    code, _, err = run("db", "backup", str(backup))
    assert (code, err) == (
        1,
        f"deskops: error: {backup} already exists; choose another name or add --force\n",
    )
    assert run("db", "backup", str(backup), "--force")[0] == 0
    store_file = db.removeprefix("sqlite:///")
    assert run("db", "backup", store_file, "--force")[2] == (
        "deskops: error: the backup must not overwrite the store itself\n"
    )

    assert run("db", "check-ledger", "--site", "ALASLA-29") == (
        0,
        "ALASLA-29: the stock ledger matches the records\n",
        "",
    )
    with sqlite3.connect(store_file) as raw:
        raw.execute("UPDATE stock_days SET closing = closing + 1")
    raw.close()
    code, out, err = run("db", "check-ledger", "--site", "ALASLA-29")
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "deskops: error: ALASLA-29: 1 stored balances differ from the records"
    assert lines[1].endswith(
        f"{D1}: stored (4000, 0, 0, 0, 0, 4001) expected (4000, 0, 0, 0, 0, 4000)"
    )


def test_db_upgrade_of_a_new_store(run: Run) -> None:
    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert "upgraded from schema (empty) to " in out


def test_db_backup_without_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'absent.sqlite3'}"
    assert main(["db", "backup", str(tmp_path / "b.sqlite3"), "--db", url]) == 1
    assert "there is no store at sqlite:///" in capsys.readouterr().err
    assert not (tmp_path / "absent.sqlite3").exists()  # checked before anything connects


def test_db_set_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://clerk@hq-server/deskops"
    monkeypatch.setenv("DESKOPS_DB_PASSWORD", "s3cret")
    assert main(["db", "set-password", url]) == 0
    assert capsys.readouterr().out.startswith(f"password for {url} stored in ")
    assert get_db_password(url) == "s3cret"

    for bad, message in (
        ("sqlite:///x.sqlite3", "only PostgreSQL stores have a password"),
        ("postgresql://clerk:pw@hq/deskops", "leave the password out of the URL"),
        ("::nonsense::", "'::nonsense::' is not a database URL"),
    ):
        assert main(["db", "set-password", bad]) == 1
        assert message in capsys.readouterr().err
    monkeypatch.delenv("DESKOPS_DB_PASSWORD")
    assert main(["db", "set-password", url]) == 1
    assert "set DESKOPS_DB_PASSWORD or run in a terminal" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not-a-url", "deskops: error: not a valid database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/nowhere", "deskops: error: database problem: "),
    ],
)
def test_an_unreachable_or_invalid_store_is_one_line(
    url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", url, "site", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


# -------------------------------------------------------------------------------- demo
def test_demo_needs_an_admin_first(run: Run) -> None:
    code, _, err = run("demo", "--sites", "1", "--days", "2")
    assert code == 1
    assert "create the first administrator before the demo data" in err


def test_demo_fills_the_store(
    run: Run, admin: None, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run("demo", "--sites", "1", "--days", "3", "--seed", "2")
    assert (code, err) == (0, "")
    assert out.startswith("Demo data (seed 2) for 1 site(s): ALASLA-29\n")
    assert run("db", "check-ledger", "--site", "ALASLA-29")[0] == 0
    code, _, err = run("demo", "--sites", "1", "--days", "3", "--seed", "2")
    assert code == 1  # the demo fills empty sites only
    assert err.startswith("deskops: error: ")
    add_clerk(db)
    monkeypatch.setenv("DESKOPS_USER", "clerk")
    monkeypatch.setenv("DESKOPS_PASSWORD", CLERK_PASSWORD)
    code, _, err = run("demo")
    assert (code, err) == (
        1,
        "deskops: error: only an administrator may fill the store with demo data\n",
    )


class _ClosedPipe:
    """A stdout whose reader went away (``deskops inventory --format csv | head -1``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError

    def flush(self) -> None:
        raise BrokenPipeError

    def fileno(self) -> int:
        raise ValueError("no descriptor")


def test_a_closed_pipe_ends_quietly(
    run: Run,
    admin: None,
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    args = ["--db", db, "inventory", "--site", "ALASLA-29", "--from", str(D1), "--to", str(D3)]
    assert main([*args, "--format", "csv"]) == 1
    assert capsys.readouterr().err == ""
