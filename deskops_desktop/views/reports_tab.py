"""Settings → Reports (administrators): head office's report packs — which sites, reports,
formats and period, where they go, when they run and how the last run ended.

"Run now" hands the pack to the app's ``PackRunner`` (progress in the export dock);
"Schedule…" registers this computer's operating-system task through ``pack_tasks`` (the
sign-in goes to the keyring, never into a file), so the pack also runs on nights nobody has
DeskOps open. Every removal asks first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QLineEdit,
    QMessageBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop import pack_tasks
from deskops_desktop.export.jobs import default_destination
from deskops_desktop.models.enums import RECORD_MODULES, ExportFormat, Module
from deskops_desktop.models.errors import Problem, ValidationError
from deskops_desktop.models.pack_rules import PeriodRule
from deskops_desktop.pack_schedule import Scheduler
from deskops_desktop.services.changes import Area, ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.packs import PACK_COLUMNS, PackInfo
from deskops_desktop.views.form_dialog import FormDialog, checklist, combo
from deskops_desktop.views.widgets import (
    action_buttons,
    fit_columns,
    header_row,
    label,
    password_edit,
    row_table,
    select_row,
)

REPORT_CHOICES: tuple[tuple[str, str], ...] = (
    ("Inventory (daily)", Module.INVENTORY.value),
    ("Inventory (monthly)", f"{Module.INVENTORY.value}:monthly"),
    ("Mass balance (monthly)", Module.MASS_BALANCE.value),
    *((m.heading, m.value) for m in RECORD_MODULES),
)
HEADERS = (*PACK_COLUMNS, "Last run")


class ReportsTab(QWidget):
    """The packs and their actions; ``run_pack(name)`` is the app's runner."""

    def __init__(
        self,
        data: DataGateway,
        run_pack: Callable[[str], bool],
        scheduler: Callable[[], Scheduler] = Scheduler,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._data = data
        self._run_pack = run_pack
        self._scheduler = scheduler
        self.packs: list[PackInfo] = []
        intro = label(
            "A pack writes the same files for every chosen site at each period's end, into one"
            " folder per period with a manifest; with a Power BI folder a report can refresh"
            " itself. Schedule it here to run at night, even when DeskOps is closed.",
            "muted",
        )
        intro.setWordWrap(True)
        self.table = row_table(HEADERS)
        self.table.setObjectName("packs_table")
        fit_columns(self.table)
        self.buttons = action_buttons(
            [
                ("Add pack…", self.add_pack),
                ("Run now", self.run_selected),
                ("Schedule…", self.schedule_selected),
                ("Unschedule", self.unschedule_selected),
                ("Remove…", self.remove_selected),
            ]
        )
        self.message = label("", "muted")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(intro)
        layout.addLayout(header_row(list(self.buttons.values())))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.refresh()

    # ----------------------------------------------------------------- showing
    def refresh(self) -> None:
        selected = self.selected()
        self.packs = self._data.read(lambda s, a: s.packs.packs(a))
        now = self._data.clock.local_now()
        self.table.setRowCount(len(self.packs))
        for r, pack in enumerate(self.packs):
            last = pack.last_run
            cells = pack.cells(
                now,
                powerbi=" + Power BI",
                unscheduled="not scheduled",
                last_run=last.summary() if last is not None else "never",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == len(cells) - 1 and last is not None and last.message:
                    item.setToolTip(last.message)
                self.table.setItem(r, c, item)
        if selected is not None:
            self.select(selected.name)
        self._update_buttons()

    def on_changes(self, changes: ChangeSet) -> None:
        if changes.areas & {Area.PACKS, Area.MASTER}:
            self.refresh()

    def selected(self) -> PackInfo | None:
        row = self.table.currentRow()
        return self.packs[row] if 0 <= row < len(self.packs) else None

    def select(self, name: str) -> None:
        select_row(self.table, [pack.name for pack in self.packs], name)

    def _update_buttons(self) -> None:
        pack = self.selected()
        for text in ("Run now", "Schedule…", "Remove…"):
            self.buttons[text].setEnabled(pack is not None)
        self.buttons["Unschedule"].setEnabled(pack is not None and pack.schedule is not None)

    # ----------------------------------------------------------------- actions
    def pack_dialog(self) -> FormDialog:
        """The "Add report pack" form (every problem next to its field)."""
        folder = QLineEdit(str(default_destination()))
        sites = QLineEdit("all")
        sites.setToolTip("all, or site codes separated by commas")
        reports = checklist(REPORT_CHOICES, [Module.INVENTORY.value, Module.MASS_BALANCE.value])
        formats = checklist(
            [(f.label, f.value) for f in (ExportFormat.XLSX, ExportFormat.CSV, ExportFormat.PDF)],
            [ExportFormat.XLSX.value],
        )
        period = combo([(r.value, r.value) for r in PeriodRule], PeriodRule.LAST_MONTH.value)
        powerbi = QCheckBox("Also keep a Power BI folder (star schema, monthly files)")

        def submit(v: dict[str, Any]) -> None:
            text = str(v["sites"]).strip()
            codes = None if text.lower() in ("", "all") else [c.strip() for c in text.split(",")]
            picked = [str(x) for x in v["reports"]]
            kinds = [str(x) for x in v["formats"]]
            self._data.write(
                lambda s, a: s.packs.define(
                    a,
                    str(v["name"]),
                    sites=codes,
                    reports=picked,
                    formats=kinds,
                    period=str(v["period"]),
                    destination=str(v["destination"]),
                    powerbi=bool(v["powerbi"]),
                )
            )

        return FormDialog(
            "Add report pack",
            [
                ("name", "Name", QLineEdit()),
                ("sites", "Sites", sites),
                ("reports", "Reports", reports),
                ("formats", "Formats", formats),
                ("period", "Period", period),
                ("destination", "Folder (a share is fine)", folder),
                ("powerbi", "Power BI", powerbi),
            ],
            submit,
            self,
        )

    def add_pack(self) -> None:
        self.pack_dialog().exec()

    def run_selected(self) -> bool:
        pack = self.selected()
        if pack is None:
            return False
        started = self._run_pack(pack.name)
        self.message.setText(
            f"{pack.name} is running: its progress is in the export dock."
            if started
            else f"{pack.name} is already running."
        )
        return started

    def schedule_dialog(self) -> FormDialog | None:
        """The "Schedule" form: a daily time and the user's password for the keyring."""
        pack = self.selected()
        if pack is None:
            return None
        at = QLineEdit(f"{pack.schedule.daily_at:%H:%M}" if pack.schedule else "02:00")
        password = password_edit()
        name = pack.name
        url = self._db_url()

        def submit(v: dict[str, Any]) -> None:
            daily = _daily_time(str(v["daily_at"]))
            secret = str(v["password"])
            if not secret:
                raise ValidationError([Problem("password", "is required (kept in the keyring)")])
            done = self._data.read(
                lambda s, a: pack_tasks.register(
                    s, a, secret, name, daily, db_url=url, scheduler=self._scheduler()
                )
            )
            self.message.setText(
                f"{name} runs {done.pack.schedule.label if done.pack.schedule else ''};"
                f" its output goes to {done.log_file}"
            )
            self._data.announce(ChangeSet(frozenset({Area.PACKS})))

        return FormDialog(
            f"Schedule {name}",
            [
                ("daily_at", "Every day at (HH:MM, this computer's time)", at),
                (
                    "password",
                    f"Your password ({self._data.actor.username}, for the keyring)",
                    password,
                ),
            ],
            submit,
            self,
        )

    def schedule_selected(self) -> None:
        dialog = self.schedule_dialog()
        if dialog is not None:
            dialog.exec()

    def unschedule_selected(self, *, confirm: bool = True) -> bool:
        pack = self.selected()
        if pack is None or pack.schedule is None:
            return False
        if confirm and not self._ask(f"Stop running {pack.name} {pack.schedule.label}?"):
            return False
        self._drop_task(pack_tasks.unregister, pack.name, f"{pack.name} is no longer scheduled.")
        return True

    def remove_selected(self, *, confirm: bool = True) -> bool:
        pack = self.selected()
        if pack is None:
            return False
        if confirm and not self._ask(
            f"Remove the pack {pack.name}? Its folders and files stay where they are."
        ):
            return False
        self._drop_task(pack_tasks.remove_pack, pack.name, f"{pack.name} removed.")
        return True

    def _db_url(self) -> str:
        """The store's URL with its password: what the pack's task and keyring entry name."""
        return self._data.read(lambda s, _a: s.store.url.render_as_string(hide_password=False))

    def _drop_task(self, drop: Callable[..., PackInfo], name: str, done: str) -> None:
        """Unschedule or remove pack ``name`` (a ``pack_tasks`` call) and say ``done``."""
        url = self._db_url()
        self._data.read(lambda s, a: drop(s, a, name, db_url=url, scheduler=self._scheduler()))
        self._data.announce(ChangeSet(frozenset({Area.PACKS})))
        self.message.setText(done)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Report packs", question)
        return answer == QMessageBox.StandardButton.Yes


def _daily_time(text: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValidationError([Problem("daily_at", f"'{text}' is not a time; use HH:MM")]) from None
