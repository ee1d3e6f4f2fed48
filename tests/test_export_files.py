"""File handling of exports: Windows-safe names, atomic publish, no clobbering, digests,
and the layering rule that nothing under export/ imports Qt."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from deskops_desktop.export.files import (
    atomic_output,
    digest,
    export_filename,
    human_size,
    is_temp_name,
    safe_filename,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CON", "_CON"),
        ("con.csv", "_con.csv"),
        ("LPT1.xlsx", "_LPT1.xlsx"),
        ("Aux.tar.gz", "_Aux.tar.gz"),
        ('a<b>c:d"e/f\\g|h?i*j.csv', "a_b_c_d_e_f_g_h_i_j.csv"),
        ("..", "export"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("report...", "report"),
        ("report. . .", "report"),
        ("  spaced  name .pdf", "spaced name .pdf"),
        ("tab\tnew\nline.csv", "tab_new_line.csv"),
        ("", "export"),
        (
            "ALASLA-29 Production daily 2026-10-01 to 2026-10-31.xlsx",
            "ALASLA-29 Production daily 2026-10-01 to 2026-10-31.xlsx",
        ),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_cuts_long_names_but_keeps_the_extension() -> None:
    name = safe_filename("x" * 400 + ".xlsx")
    assert len(name) <= 150
    assert name.endswith(".xlsx")


def test_export_filename_is_readable_and_safe() -> None:
    name = export_filename(
        "SITE/1", "Production", "daily", date(2026, 1, 1), date(2026, 1, 31), "csv"
    )
    assert name == "SITE_1 Production daily 2026-01-01 to 2026-01-31.csv"
    one_day = export_filename("A", "Inventory", "daily", date(2026, 1, 1), date(2026, 1, 1), "pdf")
    assert one_day == "A Inventory daily 2026-01-01.pdf"


def test_atomic_output_publishes_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out" / "file.csv"
    with atomic_output(target) as (temp, published):
        assert temp.parent == target.parent  # same folder: the rename is atomic
        assert is_temp_name(temp.name)
        temp.write_text("partial")
        assert not target.exists()  # nobody sees the final name before the end
    assert published == [target]
    assert target.read_text() == "partial"
    assert [p.name for p in target.parent.iterdir()] == ["file.csv"]


def test_atomic_output_removes_the_temp_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "file.csv"

    def write_and_fail() -> None:
        with atomic_output(target) as (temp, _):
            temp.write_text("half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_and_fail()
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "file.csv"
    target.write_text("the clerk's own file")
    for expected in ("file (2).csv", "file (3).csv"):
        with atomic_output(target) as (temp, published):
            temp.write_text("export")
        assert published[0].name == expected
    assert target.read_text() == "the clerk's own file"


def test_digest_and_human_size(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    data = b"abc" * 100_000
    path.write_bytes(data)
    assert digest(path) == (hashlib.sha256(data).hexdigest(), len(data))
    assert human_size(300_000) == "300.0 KB"
    assert human_size(999) == "999 bytes"
    assert human_size(12_500_000) == "12.5 MB"


def test_export_package_imports_no_qt() -> None:
    """Layering: models <- services <- export; export must work without PySide6."""
    code = (
        "import sys; sys.modules['PySide6'] = None\n"
        "import deskops_desktop.export, deskops_desktop.export.jobs\n"
        "import deskops_desktop.cli_export\n"
        "import deskops_desktop.export.xlsx_writer, deskops_desktop.export.csv_writer\n"
        "import deskops_desktop.export.pdf_writer, deskops_desktop.export.powerbi_writer\n"
        "assert not any(m.startswith('PySide6.') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_services_never_import_export() -> None:
    root = Path(__file__).parents[1] / "deskops_desktop"
    offenders = [
        p.name for p in (root / "services").glob("*.py")
        if "deskops_desktop.export" in p.read_text(encoding="utf-8")
    ]  # fmt: skip
    assert offenders == []
