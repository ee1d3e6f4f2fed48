"""PeriodFields: the header's and the export dialog's preset + from/to dates kept in step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from deskops_desktop.views.period_fields import CUSTOM, PeriodFields, qdate

TODAY = date(2026, 11, 27)


class _Owner(QWidget):
    """A widget owning the fields (they live as long as it does), and what they said."""

    def __init__(self, fields_of: Callable[[QWidget], PeriodFields]) -> None:
        super().__init__()
        self.fields = fields_of(self)
        self.heard: list[tuple[date, date]] = []
        self.fields.range_changed.connect(lambda start, end: self.heard.append((start, end)))
        self.fields.reapply()


def _owner(qtbot: QtBot, *, keep_order: bool) -> _Owner:
    owner = _Owner(
        lambda parent: PeriodFields(
            lambda: TODAY, parent, preset="Last 7 days", keep_order=keep_order
        )
    )
    qtbot.addWidget(owner)
    return owner


def test_a_preset_fills_both_dates_and_is_heard_once(qtbot: QtBot) -> None:
    owner = _owner(qtbot, keep_order=False)
    fields, heard = owner.fields, owner.heard
    assert heard == [(date(2026, 11, 21), TODAY)]
    fields.select("Last month")
    assert fields.current_range() == (date(2026, 10, 1), date(2026, 10, 31))
    assert heard[1:] == [(date(2026, 10, 1), date(2026, 10, 31))]
    assert fields.preset_combo.currentText() == "Last month"


def test_editing_a_date_switches_to_custom_and_is_heard(qtbot: QtBot) -> None:
    owner = _owner(qtbot, keep_order=False)
    fields, heard = owner.fields, owner.heard
    fields.from_edit.setDate(qdate(date(2026, 11, 1)))
    assert fields.preset_combo.currentText() == CUSTOM
    assert heard[-1] == (date(2026, 11, 1), TODAY)
    fields.reapply()  # Custom: a new today changes nothing
    assert fields.current_range() == (date(2026, 11, 1), TODAY)
    assert len(heard) == 2


def test_the_header_drags_the_other_date_along_the_dialog_keeps_a_reversed_range(
    qtbot: QtBot,
) -> None:
    header_owner = _owner(qtbot, keep_order=True)
    header, heard = header_owner.fields, header_owner.heard
    header.from_edit.setDate(qdate(date(2026, 12, 5)))
    assert header.current_range() == (date(2026, 12, 5), date(2026, 12, 5))
    assert heard[-1] == (date(2026, 12, 5), date(2026, 12, 5))
    dialog_owner = _owner(qtbot, keep_order=False)
    dialog = dialog_owner.fields
    dialog.from_edit.setDate(qdate(date(2026, 12, 5)))
    assert dialog.current_range() == (date(2026, 12, 5), TODAY)  # the owner refuses it


def test_set_range_shows_custom_without_being_heard(qtbot: QtBot) -> None:
    owner = _owner(qtbot, keep_order=False)
    fields, heard = owner.fields, owner.heard
    fields.set_range(date(2026, 9, 1), date(2026, 9, 30))
    assert fields.current_range() == (date(2026, 9, 1), date(2026, 9, 30))
    assert fields.preset_combo.currentText() == CUSTOM
    assert len(heard) == 1
