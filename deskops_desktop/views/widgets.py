"""Small widget factories every page uses the same way (one look, one behaviour).

A page's ``__init__`` builds its layout from these instead of repeating the same five lines:
a title, a muted hint, a pair of date fields, a debounce timer for a search box.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, QObject, QTimer
from PySide6.QtWidgets import QDateEdit, QLabel

MIN_DATE = QDate(2000, 1, 1)  # validation's earliest date (models.validation.MIN_DATE)
DEBOUNCE_MS = 250


def label(text: str, role: str) -> QLabel:
    """A label styled by the theme's ``role`` property (``title``, ``muted``, ``error``)."""
    widget = QLabel(text)
    widget.setProperty("role", role)
    return widget


def date_edits() -> tuple[QDateEdit, QDateEdit]:
    """A from/to pair of ISO date fields with a calendar popup, none before 2000-01-01."""
    edits = (QDateEdit(), QDateEdit())
    for edit in edits:
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(MIN_DATE)
    return edits


def debounce(parent: QObject, ms: int = DEBOUNCE_MS) -> QTimer:
    """A single-shot timer: typing restarts it, the reload runs once the clerk pauses."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    return timer
