"""The export dialog: module, format, granularity, site, dates (with presets), category, folder.

Everything is checked by ``ExportJobService.check`` before the job is queued, and each problem is
shown under its field (end before start, a range over the role's limit, a site the user may not
export, a file where the folder should be…). The dialog never creates a job itself: it hands the
checked request to ``submit`` (the panel's ``enqueue``) and shows that call's refusal, such as the
sixth active export, in the line above the buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from deskops_desktop.export.jobs import (
    ExportJobService,
    ExportRequest,
    JobInfo,
    default_destination,
    limit_text,
)
from deskops_desktop.export.table import MATERIAL_MODULES
from deskops_desktop.models.enums import Category, ExportFormat, Granularity, Module
from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.services.access import Actor
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.views.period_fields import PeriodFields
from deskops_desktop.views.widgets import (
    column,
    error_label,
    field_box,
    label,
    no_margins,
    show_error,
)

FIELDS = (
    "module",
    "format",
    "granularity",
    "site",
    "date_from",
    "date_to",
    "category",
    "destination",
)
_EXPIRY_HINT = (
    "Exported files are removed 24 hours after they are written; use Save as… in the Exports "
    "panel to keep a copy."
)


class ExportDialog(QDialog):
    """Collects an ``ExportRequest``; ``created`` holds the queued ``JobInfo`` after Export.

    Args:
        jobs: the job service (its ``check`` validates the request).
        actor: the signed-in user.
        sites: the sites the user may export.
        submit: queues a checked request and returns the job (raises ``DeskOpsError`` to refuse).
        site_id, module, date_from, date_to: the presets (the header's site and range, the page's
            module).
        export_format: the format to propose (the "Preferred export format" setting).
        destination: the folder to propose (default: Documents/DeskOps exports).
    """

    def __init__(
        self,
        jobs: ExportJobService,
        actor: Actor,
        sites: Sequence[SiteInfo],
        submit: Callable[[ExportRequest], JobInfo],
        *,
        site_id: str | None = None,
        module: Module | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        export_format: ExportFormat = ExportFormat.XLSX,
        destination: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(520)
        self._jobs = jobs
        self._actor = actor
        self._sites = list(sites)
        self._submit = submit
        self.created: JobInfo | None = None

        self.module_combo = QComboBox()
        for item in Module:
            self.module_combo.addItem(item.heading, item.value)
        self.format_combo = QComboBox()
        for fmt in ExportFormat:
            self.format_combo.addItem(fmt.label, fmt.value)
        self.granularity_combo = QComboBox()
        for gran in Granularity:
            self.granularity_combo.addItem(gran.value.title(), gran.value)
        self.site_combo = QComboBox()
        for site in self._sites:
            self.site_combo.addItem(site.label, site.id)
        # A reversed range stays as typed: the check says so under the dates.
        self.period = PeriodFields(self._today, self)
        self.preset_combo = self.period.preset_combo
        self.from_edit, self.to_edit = self.period.from_edit, self.period.to_edit
        self.category_combo = QComboBox()
        self.category_combo.addItem("All categories", None)
        for category in Category:
            self.category_combo.addItem(category.value, category.value)
        self.destination_edit = QLineEdit(str(destination or default_destination()))
        self.browse_button = QPushButton("Browse…")

        dates = no_margins(QHBoxLayout())
        for widget in self.period.widgets():
            dates.addWidget(widget)
        dates.addStretch(1)  # keep the two dates together instead of spread across the row
        folder = no_margins(QHBoxLayout())
        folder.addWidget(self.destination_edit, 1)
        folder.addWidget(self.browse_button)

        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        rows: list[tuple[str, str, QWidget | QHBoxLayout]] = [
            ("module", "Module", self.module_combo),
            ("format", "Format", self.format_combo),
            ("granularity", "Granularity", self.granularity_combo),
            ("site", "Site", self.site_combo),
            ("date_from", "Dates", dates),
            ("category", "Category", self.category_combo),
            ("destination", "Folder", folder),
        ]
        for key, text, field in rows:
            error = error_label()
            self.errors[key] = error
            form.addRow(text, field_box(field, error))
        self.errors["date_to"] = self.errors["date_from"]  # one line under both dates
        self.limit_label = label(f"{limit_text(actor)} {_EXPIRY_HINT}", "muted")
        self.limit_label.setWordWrap(True)
        self.general = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setProperty("role", "primary")
        self.export_button.setDefault(True)
        column(self, [form, self.limit_label, self.general, self.buttons])

        self._connect_signals()
        self._select(self.site_combo, site_id)
        self._select(self.module_combo, module.value if module else None)
        self._select(self.format_combo, export_format.value)
        if date_from is not None and date_to is not None:
            self.period.set_range(date_from, date_to)
        else:
            self.period.select("Last 30 days")
        self._on_module_combo_changed()

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self.try_export)
        self.buttons.rejected.connect(self.reject)
        self.module_combo.currentIndexChanged.connect(self._on_module_combo_changed)
        self.site_combo.currentIndexChanged.connect(self._on_site_combo_changed)
        self.browse_button.clicked.connect(self._on_browse_button_clicked)

    # --------------------------------------------------------------------- values
    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        if value is not None:
            index = combo.findData(value)
            if index >= 0:
                combo.setCurrentIndex(index)

    def _site(self) -> SiteInfo | None:
        site_id = self.site_combo.currentData()
        return next((s for s in self._sites if s.id == site_id), None)

    def _today(self) -> date:
        site = self._site()
        clock = self._jobs.clock
        return site.today(clock.now()) if site else clock.local_now().date()

    def set_range(self, start: date, end: date) -> None:
        """Show a custom range (the preset combo switches to "Custom")."""
        self.period.set_range(start, end)

    def request(self) -> ExportRequest:
        """The request the fields describe (not yet checked)."""
        date_from, date_to = self.period.current_range()
        return ExportRequest(
            module=Module(self.module_combo.currentData()),
            format=ExportFormat(self.format_combo.currentData()),
            site_id=str(self.site_combo.currentData() or ""),
            date_from=date_from,
            date_to=date_to,
            granularity=Granularity(self.granularity_combo.currentData()),
            destination=self.destination_edit.text().strip(),
            category=self.category_combo.currentData() if self.category_combo.isEnabled() else None,
        )

    # -------------------------------------------------------------------- actions
    def try_export(self) -> bool:
        """Check, then queue; on a problem show it next to its field and stay open."""
        self._clear_errors()
        request = self.request()
        try:
            self._jobs.check(self._actor, request)
            self.created = self._submit(request)
        except DeskOpsError as exc:
            for field in show_error(exc, self.errors, self.general):
                self._mark(field, True)
            return False
        self.accept()
        return True

    def _clear_errors(self) -> None:
        for key, error in self.errors.items():
            error.setText("")
            self._mark(key, False)
        self.general.setText("")

    def _mark(self, key: str, invalid: bool) -> None:
        widgets: list[QWidget] = {
            "site": [self.site_combo],
            "date_from": [self.from_edit],
            "date_to": [self.to_edit],
            "destination": [self.destination_edit],
            "category": [self.category_combo],
        }.get(key, [])  # type: ignore[assignment]
        for widget in widgets:
            widget.setProperty("invalid", "true" if invalid else "false")
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def _on_module_combo_changed(self, *_args: object) -> None:
        module = Module(self.module_combo.currentData())
        self.category_combo.setEnabled(module in MATERIAL_MODULES)
        # A mass balance is read per month; one statement per day is rarely what is wanted.
        if module is Module.MASS_BALANCE and self.granularity_combo.currentData() == "daily":
            self._select(self.granularity_combo, Granularity.MONTHLY.value)

    def _on_site_combo_changed(self, *_args: object) -> None:
        self.period.reapply()  # "Last 30 days" counts back from the new site's today

    def _on_browse_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export folder", self.destination_edit.text()
        )
        if folder:
            self.destination_edit.setText(folder)
