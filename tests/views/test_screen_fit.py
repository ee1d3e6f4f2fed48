"""Every entry page at the site-office laptop's 1366×768 and at 1920×1080, with the export dock
open: every column of the records table is visible without scrolling sideways, and no field of
the form clips the text it shows (the operation box once read "CRU-PRO – Crushing – Proc")."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from deskops_desktop.models.enums import RECORD_MODULES, Module
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.demo import generate_demo
from deskops_desktop.views.main import build_window
from deskops_desktop.views.record_page import RecordPage
from deskops_desktop.views.search_combo import SearchCombo

PAGES = [m for m in RECORD_MODULES if m is not Module.ADJUSTMENTS]


def _settle() -> None:
    for _ in range(4):
        QApplication.processEvents()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_every_column_and_every_field_shows_whole(
    qtbot: QtBot, services: Services, size: tuple[int, int]
) -> None:
    generate_demo(services, sites=1, days=12)
    admin = services.users.authenticate("demo.moderator", "demo-pass-123")
    window = build_window(services, admin, Settings())
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    window.show_page("exports")  # the dock takes its share of the height too
    for module in PAGES:
        window.show_page(module)
        window.resize(*size)
        _settle()
        page = window.pages[module]
        assert isinstance(page, RecordPage)
        assert window.height() == size[1], f"{module}: the window grew to {window.height()} px"
        header = page.table.horizontalHeader()
        visible = page.table.viewport().width()
        assert header.length() <= visible + 1, f"{module}: columns {header.length()} > {visible}"
        assert not page.table.horizontalScrollBar().isVisible(), module
        for field in page.spec.fields:
            widget = page.form.input(field.key)
            if isinstance(widget, SearchCombo) and widget.choices:
                # The longest choice a clerk can pick ("CRU-PRO – Crushing – Production").
                longest = max(widget.choices, key=lambda c: len(c.label))
                widget.set_code(longest.code)
            if isinstance(widget, QComboBox) and widget.currentText():
                line = widget.lineEdit()
                room = line.width() if line is not None else widget.width() - 28
                text = widget.currentText()
                needed = widget.fontMetrics().horizontalAdvance(text)
                assert needed <= room, f"{module}.{field.key}: '{text}' {needed} > {room} px"
            elif isinstance(widget, QLineEdit):
                placeholder = widget.placeholderText()
                needed = widget.fontMetrics().horizontalAdvance(placeholder)
                assert needed <= widget.width(), f"{module}.{field.key}"
