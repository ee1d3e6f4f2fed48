"""A clerk's day on a module page: keyboard entry, errors, edit, delete + undo, paste, sort."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from deskops_desktop.models.enums import Module
from deskops_desktop.models.modules import SPECS
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.qt_records_model import RecordTableModel
from deskops_desktop.views.record_page import RecordPage
from tests.helpers import site_of, write_record


def make_page(qtbot: QtBot, data: DataGateway, module: Module = Module.PRODUCTION) -> RecordPage:
    refs = data.read(lambda s, _a: s.master.reference())
    page = RecordPage(module, data, refs)
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)  # what MainWindow does through its app-level signal
    site = site_of(data)
    today = site.today(data.clock.now())
    page.set_context(PageContext(site, today - timedelta(days=29), today))
    page.resize(1300, 760)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    return page


def type_keys(qtbot: QtBot, text: str) -> None:
    qtbot.keyClicks(QApplication.focusWidget(), text)


def press(qtbot: QtBot, key: Qt.Key) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key)


def g1_closing(data: DataGateway) -> Decimal:
    site = site_of(data, "ALASLA-29")
    day = site.today(data.clock.now())
    ledger = data.read(lambda s, a: s.ledger.ledger(a, site.id, day, day))
    return next(r.closing for r in ledger.rows if r.material.code == "AGG-G1")


def test_keyboard_only_entry_reaches_table_and_inventory(qtbot: QtBot, data: DataGateway) -> None:
    page = make_page(qtbot, data)
    page.form.focus_first()
    assert QApplication.focusWidget() is page.form.input("shift")
    # Shift and operation keep their defaults: Tab past them, type the material and quantity.
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.form.input(
        "material"
    ).lineEdit() or QApplication.focusWidget() is page.form.input("material")
    type_keys(qtbot, "AGG-G1")
    press(qtbot, Qt.Key.Key_Tab)
    type_keys(qtbot, "120.5")
    press(qtbot, Qt.Key.Key_Return)
    assert page.model.rowCount() == 1
    row = page.model.row_at(0)
    assert row.values["quantity"] == Decimal("120.500")
    assert row.values["material"] == "AGG-G1"
    assert g1_closing(data) == Decimal("120.500")
    # The cursor is back on the first field, ready for the next line; the quantity is empty.
    assert QApplication.focusWidget() is page.form.input("shift")
    quantity = page.form.input("quantity")
    assert isinstance(quantity, QLineEdit)
    assert quantity.text() == ""
    assert page.count_label.text() == "1 records"


def test_invalid_entry_shows_every_error_and_writes_nothing(
    qtbot: QtBot, data: DataGateway
) -> None:
    page = make_page(qtbot, data)
    material = page.form.input("material")
    assert isinstance(material, QComboBox)
    material.setEditText("NOPE")
    quantity = page.form.input("quantity")
    assert isinstance(quantity, QLineEdit)
    quantity.setText("12,5t")
    notes = page.form.input("notes")
    assert isinstance(notes, QLineEdit)
    notes.setText("x" * 501)
    page.form.save_button.click()
    assert "unknown material code 'NOPE'" in page.form.error_text("material")
    assert "is not a number" in page.form.error_text("quantity")
    assert "at most 500 characters" in page.form.error_text("notes")
    assert page.model.rowCount() == 0
    site = site_of(data, "ALASLA-29")
    assert (
        data.read(
            lambda s, a: s.records.count(
                a, Module.PRODUCTION, site.id, date(2000, 1, 1), site.today(data.clock.now())
            )
        )
        == 0
    )
    # Fixing the fields clears the errors on the next save.
    material.setEditText("AGG-S1")
    quantity.setText("12.5")
    notes.setText("")
    page.form.save_button.click()
    assert page.form.error_text("material") == ""
    assert page.model.rowCount() == 1


def test_edit_then_delete_and_undo(
    qtbot: QtBot, data: DataGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = make_page(qtbot, data)
    site = site_of(data, "ALASLA-29")
    write_record(
        data,
        Module.PRODUCTION,
        site.id,
        {
            "date": site.today(data.clock.now()),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "10",
        },
    )
    assert page.model.rowCount() == 1
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.form.editing is not None
    quantity = page.form.input("quantity")
    assert isinstance(quantity, QLineEdit)
    quantity.setText("15")
    page.form.save_button.click()
    assert page.model.row_at(0).values["quantity"] == Decimal("15.000")
    assert g1_closing(data) == Decimal("15.000")

    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert page.model.rowCount() == 0
    assert g1_closing(data) == Decimal("0.000")
    qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.model.rowCount() == 1
    assert page.model.row_at(0).values["quantity"] == Decimal("15.000")
    assert g1_closing(data) == Decimal("15.000")


def test_delete_asks_first_and_no_keeps_the_row(
    qtbot: QtBot, data: DataGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = make_page(qtbot, data)
    site = site_of(data, "ALASLA-29")
    write_record(
        data,
        Module.PRODUCTION,
        site.id,
        {
            "date": site.today(data.clock.now()),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "10",
        },
    )
    asked: list[str] = []

    def no(*args: object, **_kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", no)
    assert page.delete_row(0) is False
    assert asked
    assert "Delete production AGG-G1" in asked[0]
    assert page.model.rowCount() == 1


def test_paste_is_all_or_nothing(
    qtbot: QtBot, data: DataGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = make_page(qtbot, data)
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    today = site_of(data, "ALASLA-29").today(data.clock.now())
    bad = (
        "Date\tShift\tOperation\tMaterial Code\tQuantity\tNotes\n"
        f"{today}\tMORNING\tCRU-PRO\tAGG-G1\t10\t\n"
        f"{today}\tMORNING\tCRU-PRO\tAGG-XX\tabc\t\n"
    )
    assert page.paste_rows(bad) is False
    assert page.model.rowCount() == 0
    assert "AGG-XX" in warnings[0]
    assert "row 3" in warnings[0]
    good = bad.replace("AGG-XX\tabc", "AGG-S1\t4.25")
    assert page.paste_rows(good) is True
    assert page.model.rowCount() == 2


def test_table_sorts_in_the_query(qtbot: QtBot, data: DataGateway) -> None:
    page = make_page(qtbot, data)
    site = site_of(data, "ALASLA-29")
    rows = [
        {
            "date": site.today(data.clock.now()) - timedelta(days=i),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": str(q),
        }
        for i, q in enumerate((5, 50, 0.5))
    ]
    data.write(lambda s, a: s.records.create_many(a, Module.PRODUCTION, site.id, rows))
    column = next(i for i, c in enumerate(page.model.columns) if c.key == "quantity")
    page.model.sort(column, Qt.SortOrder.AscendingOrder)
    assert [page.model.row_at(i).values["quantity"] for i in range(3)] == [
        Decimal("0.500"),
        Decimal("5.000"),
        Decimal("50.000"),
    ]
    page.model.sort(column, Qt.SortOrder.DescendingOrder)
    assert page.model.row_at(0).values["quantity"] == Decimal("50.000")
    page.filter.setText("no such thing")
    page.reload()
    assert page.model.rowCount() == 0


def test_model_passes_qtmodeltester(qtmodeltester: object, data: DataGateway) -> None:
    site = site_of(data, "ALASLA-29")
    write_record(
        data,
        Module.DISPATCH,
        site.id,
        {
            "date": site.today(data.clock.now()),
            "material": "AGG-G1",
            "quantity": "3",
            "trips": "2",
            "owner": "ACME",
        },
    )
    model = RecordTableModel(SPECS[Module.DISPATCH])
    day = site.today(data.clock.now())
    model.set_source(
        lambda o, n, by, d: data.read(
            lambda s, a: s.records.list(
                a, Module.DISPATCH, site.id, day, day, offset=o, limit=n, sort=by, descending=d
            )
        ),
        lambda: data.read(lambda s, a: s.records.count(a, Module.DISPATCH, site.id, day, day)),
        lambda _row: True,
    )
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.rowCount() == 1
    assert model.data(model.index(0, 0)) == site.today(data.clock.now()).isoformat()


# ------------------------------------------------------------ part of a code or a name
def key(qtbot: QtBot, key: Qt.Key) -> None:
    """A key as the window system delivers it: to the open popup, if any (it grabs the
    keyboard on a desktop), else to the focused widget."""
    qtbot.keyClick(QApplication.activePopupWidget() or QApplication.focusWidget(), key)


def focus(qtbot: QtBot, page: RecordPage, key: str) -> QComboBox:
    combo = page.form.input(key)
    assert isinstance(combo, QComboBox)
    combo.setFocus()
    qtbot.waitUntil(lambda: combo.hasFocus() or (combo.lineEdit() or combo).hasFocus())
    return combo


def test_part_of_a_name_and_tab_takes_the_material(qtbot: QtBot, data: DataGateway) -> None:
    page = make_page(qtbot, data)
    material = focus(qtbot, page, "material")
    type_keys(qtbot, "g1")
    key(qtbot, Qt.Key.Key_Tab)
    assert material.currentText() == "AGG-G1 – G1"  # not "G1", which no code is
    assert QApplication.focusWidget() is page.form.input("quantity")
    type_keys(qtbot, "5")
    press(qtbot, Qt.Key.Key_Return)
    assert page.model.rowCount() == 1
    assert page.model.row_at(0).values["material"] == "AGG-G1"


def test_the_highlighted_completion_is_taken_by_tab_or_enter(
    qtbot: QtBot, data: DataGateway
) -> None:
    page = make_page(qtbot, data)
    material = focus(qtbot, page, "material")
    type_keys(qtbot, "inch")  # 4 INCH and 6 INCH: the popup offers both
    popup = material.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    key(qtbot, Qt.Key.Key_Down)  # highlight the first completion
    key(qtbot, Qt.Key.Key_Tab)
    assert material.currentText() == "AGG-4INCH – 4 INCH"
    assert not popup.isVisible()
    material = focus(qtbot, page, "material")
    material.lineEdit().selectAll()
    type_keys(qtbot, "washed")  # one completion: Enter takes it without arrowing to it
    qtbot.waitUntil(popup.isVisible)
    key(qtbot, Qt.Key.Key_Return)
    assert material.currentText() == "FINE-WASHED – WASHED SAND"
    assert page.model.rowCount() == 0  # Enter completed; it did not save a half line


def test_an_ambiguous_text_is_an_error_listing_the_candidates(
    qtbot: QtBot, data: DataGateway
) -> None:
    page = make_page(qtbot, data)
    material = page.form.input("material")
    assert isinstance(material, QComboBox)
    material.setEditText("sand")
    quantity = page.form.input("quantity")
    assert isinstance(quantity, QLineEdit)
    quantity.setText("3")
    page.form.save_button.click()
    assert page.form.error_text("material") == (
        "'sand' matches 3 materials: FINE-WASHED – WASHED SAND, FINE-NATURAL – NATURAL SAND,"
        " SPEC-BEDDING – BEDDING SAND; type more"
    )
    assert page.model.rowCount() == 0


@pytest.mark.parametrize(
    ("module", "field", "typed", "shown"),
    [
        (Module.EQUIPMENT, "equipment", "jaw", "CRUSHER-01 – Jaw Crusher #1"),
        (Module.MANPOWER, "role", "labor", "Laborer"),  # the name alone spells the code
        (Module.PRODUCTION, "operation", "disposal", "CRU-DIS – Crushing – Disposal"),
        (Module.DISPATCH, "material", "recycled", "BASE-RECYCLED – RECYCLED BASE"),
    ],
)
def test_every_search_field_takes_part_of_a_code_or_name(
    qtbot: QtBot, data: DataGateway, module: Module, field: str, typed: str, shown: str
) -> None:
    page = make_page(qtbot, data, module)
    combo = focus(qtbot, page, field)
    line = combo.lineEdit()
    assert line is not None
    line.selectAll()
    type_keys(qtbot, typed)
    key(qtbot, Qt.Key.Key_Tab)  # the popup's only completion, or the unique match
    assert combo.currentText() == shown
    assert not line.hasFocus()


# ------------------------------------------------------------------------- import a file
def test_a_file_imports_off_the_gui_thread_all_or_nothing(
    qtbot: QtBot, data: DataGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = make_page(qtbot, data)
    assert "Date, Shift, Operation, Material Code, Quantity, Notes" in page.import_button.toolTip()
    today = site_of(data).today(data.clock.now())
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Date,Operation,Material Code,Quantity\n"
        f"{today},CRU-PRO,AGG-G1,5\n{today},CRU-PRO,NOPE,x\n",
        encoding="utf-8",
    )
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    assert page.import_file(bad)
    qtbot.waitUntil(lambda: bool(warnings), timeout=20_000)
    assert warnings[0].startswith("Nothing imported. Fix these cells and import again:")
    assert "row 3, Material Code: unknown material code 'NOPE'" in warnings[0]
    assert page.model.rowCount() == 0  # the good row was not written either
    good = tmp_path / "good.csv"
    good.write_text(
        f"Date,Operation,Material Code,Quantity,Loads\n{today},CRU-PRO,AGG-G1,5,2\n",
        encoding="utf-8",
    )
    messages: list[str] = []
    page.message_posted.connect(messages.append)
    assert page.import_file(good)
    qtbot.waitUntil(lambda: bool(messages), timeout=20_000)
    assert messages == ["Imported 1 rows from good.csv (columns ignored: Loads)"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)  # the page heard the change
    assert page.import_progress is None
