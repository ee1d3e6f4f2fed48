"""xlsx imports: cells as the spreadsheet saved them, Excel error cells named as problems.

The fixtures ``calc_*.xlsx`` were saved by LibreOffice Calc (see
``tests/fixtures/make_xlsx_fixtures.py``) so that formulas carry the values they computed and
error cells exist.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.imports import ImportRejected, ImportService
from deskops_desktop.services.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ERRORS = FIXTURES / "calc_errors.xlsx"


@pytest.fixture
def services(store: Store, example_day: FixedClock) -> Services:
    """The fixtures' dates were written for the ``example_day`` (2026-11-27): none is later."""
    return build_services(store)


# ------------------------------------------------------------------------------ error cells
ERROR_PROBLEMS = [
    "row 3, Quantity: shows the Excel error #DIV/0!; correct its formula or type the value",
    "row 4, Date: shows the Excel error #VALUE!; correct its formula or type the value",
    "row 4, Notes: shows the Excel error #N/A; correct its formula or type the value",
    "row 5, Material Code: shows the Excel error #REF!; correct its formula or type the value",
]


def test_error_cells_are_listed_and_nothing_is_written(services: Services) -> None:
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    with pytest.raises(ImportRejected) as exc:
        ImportService(services.records).import_file(SYSTEM, Module.PRODUCTION, site.id, ERRORS)
    # Every error cell of a column that counts; the "Check" column is ignored, so is its error.
    assert [str(p) for p in exc.value.problems] == ERROR_PROBLEMS
    assert (
        services.records.count(
            SYSTEM, Module.PRODUCTION, site.id, date(2026, 11, 1), date(2026, 11, 27)
        )
        == 0
    )
