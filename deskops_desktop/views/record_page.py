"""A module page (Production, Dispatch, Received, Equipment, Manpower): form, table, chart.

Keyboard path: type a line in the form, Enter saves, the cursor returns to the first field.
In the table: Enter or double-click edits the row in the form, Delete asks and deletes,
Ctrl+Z brings the last deleted row back, Ctrl+V pastes rows copied from Excel (all or nothing).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QThreadPool
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.enums import Module
from deskops_desktop.models.errors import (
    DeskOpsError,
    NotFound,
    StaleRecordError,
    StoreOfflineError,
    ValidationError,
)
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.modules import SPECS, Kind, ReferenceIndex
from deskops_desktop.services.changes import Area, Changed, for_module
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.imports import ImportReport, describe_problems, parse_tsv
from deskops_desktop.services.module_charts import DailySeries
from deskops_desktop.services.records import RecordRow
from deskops_desktop.views import background
from deskops_desktop.views.background import TaskSignals
from deskops_desktop.views.charts import BarChart, show_categories, show_daily
from deskops_desktop.views.compare_dialog import KEEP_MINE, RELOAD, CompareDialog
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.page import Page
from deskops_desktop.views.qt_records_model import RecordTableModel, records_source
from deskops_desktop.views.record_form import RecordForm, current_shift
from deskops_desktop.views.table_fit import fit_widths, minimum_total
from deskops_desktop.views.widgets import debounce, label, no_margins, search_edit

CHART_MIN_WIDTH = 520  # a readable plot beside its legend of series

_CHART_UNITS = {
    Module.PRODUCTION: "t / loads",
    Module.DISPATCH: "dispatched",
    Module.RECEIVED: "received",
    Module.FEED: "loads",
    Module.EQUIPMENT: "hours",
    Module.MANPOWER: "people",
}
_CHART_TITLES = {
    Module.PRODUCTION: "Production by material per day",
    Module.DISPATCH: "Dispatched per day (bars) and trips (line)",
    Module.RECEIVED: "Received per day by source",
    Module.FEED: "Fed to the crushers per material per day",
    Module.EQUIPMENT: "Equipment utilisation: operating vs idle (8 h per shift)",
    Module.MANPOWER: "Headcount by role and shift",
}


class RecordPage(Page):
    """The page of one record module: the entry form, its records and a chart.

    A ``Page`` (``views.page``): it shows ``Area.of(module)`` and saves an entry kept by an
    offline save when the server is back (``retry_pending``).

    Signals:
        message_posted(str), export_requested(object): see ``Page``.
    """

    def __init__(
        self,
        module: Module,
        data: DataGateway,
        refs: ReferenceIndex,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(data, parent)
        self.module = module
        self.spec = SPECS[module]
        self.areas = frozenset({Area.of(module)})
        self._undo: RecordRow | None = None
        # An offline save keeps the form and these: the new record's id (chosen before the
        # first try, so a create that reached the server just before the connection died is
        # found on retry instead of written twice) and whether a retry is wanted.
        self._pending_id: str | None = None
        self._retry_wanted = False

        title = label(self.spec.title, "title")
        hint = QLabel(
            "Enter saves · Esc clears · Ctrl+N new · Delete removes · Ctrl+Z undoes"
            " · Ctrl+V pastes rows"
        )
        hint.setProperty("role", "muted")
        self.form = RecordForm(self.spec, refs, data.clock.local_now().date())
        form_card = QFrame()
        form_card.setProperty("role", "card")
        card_layout = QVBoxLayout(form_card)
        card_layout.setContentsMargins(12, 10, 12, 6)
        card_layout.addWidget(self.form)

        self.filter = search_edit("Filter rows (code, name, notes…)", 320)
        self.count_label = label("", "muted")
        self.paste_button = QPushButton("Paste rows")
        self.paste_button.setToolTip("Add rows copied from Excel (Ctrl+V in the table)")
        self.import_button = QPushButton("Import file…")
        self.import_button.setToolTip(
            "Add the rows of a .xlsx or .csv file, all or nothing. Columns: "
            + ", ".join(self.spec.headers)
        )
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._import_signals: TaskSignals | None = None
        self.import_progress: QProgressDialog | None = None
        self.last_import: str = ""
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            f"Export {self.spec.title.lower()} records (xlsx, csv, Power BI, pdf)"
        )
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.filter)
        toolbar.addWidget(self.count_label)
        toolbar.addStretch(1)
        toolbar.addWidget(self.paste_button)
        toolbar.addWidget(self.import_button)
        toolbar.addWidget(self.export_button)

        self.model = RecordTableModel(self.spec)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.installEventFilter(self)

        self.chart = BarChart(
            _CHART_TITLES[module],
            # Category charts lie on their side so long unit and role names stay readable.
            horizontal=module in (Module.EQUIPMENT, Module.MANPOWER),
            percent=module is Module.EQUIPMENT,
            line_series=frozenset({"Trips"}) if module is Module.DISPATCH else frozenset(),
        )
        table_box = QWidget()
        table_layout = no_margins(QVBoxLayout(table_box))
        table_layout.addLayout(toolbar)
        table_layout.addWidget(self.table)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter = splitter
        splitter.setObjectName(f"splitter_{module.value}")
        splitter.addWidget(table_box)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([640, 560])
        self.search_box = self.filter
        self._columns_fitted = False
        self._content_widths: list[int] = []
        splitter.splitterMoved.connect(lambda _pos, _index: self._fit_columns())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(hint)
        layout.addLayout(heading)
        layout.addWidget(form_card)
        layout.addWidget(splitter, 1)

        self._filter_timer = debounce(self)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.form.save_requested.connect(self._on_form_save_requested)
        self.filter.textChanged.connect(lambda _text: self._filter_timer.start())
        self._filter_timer.timeout.connect(self.reload)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.paste_button.clicked.connect(lambda: self.paste_rows())
        self.import_button.clicked.connect(lambda: self.import_file())
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.module))
        self.model.modelReset.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        QShortcut(QKeySequence.StandardKey.New, self).activated.connect(self._on_new_shortcut)
        QShortcut(QKeySequence.StandardKey.Undo, self).activated.connect(self.undo_delete)

    # ------------------------------------------------------------------ context
    def context_changed(self, context: PageContext) -> None:
        now = self._data.clock.site_now(context.site.timezone)
        self.form.set_defaults(now.date(), current_shift(now))

    def set_references(self, refs: ReferenceIndex) -> None:
        self.form.set_references(refs)

    def focus_first(self) -> None:
        self.form.focus_first()

    def reload(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        fetch, count = records_source(
            self._data, self.module, ctx.site.id, ctx.date_from, ctx.date_to, self.filter.text()
        )

        def may_change(row: RecordRow) -> bool:
            return self._data.read(lambda s, a: s.records.may_change(a, row, ctx.site))

        self.model.set_source(fetch, count, may_change)
        self._refresh_chart()

    def _refresh_chart(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        module, site_id, start, end = self.module, ctx.site.id, ctx.date_from, ctx.date_to
        series = self._data.read(
            lambda s, a: s.charts.for_module(a, module, site_id, start, end),
            area=Area.of(module),
            site_id=site_id,
            key=("chart", start, end),
        )
        if isinstance(series, DailySeries):
            show_daily(self.chart, series, _CHART_UNITS[module])
        else:
            show_categories(self.chart, series, _CHART_UNITS[module])

    def apply_theme(self, dark: bool) -> None:
        self.chart.apply_colors(dark)

    def _update_count(self, *_args: object) -> None:
        if not self._columns_fitted and self.model.rowCount():
            self.table.resizeColumnsToContents()
            self._content_widths = [
                min(self.table.columnWidth(col) + 12, 260)
                for col in range(self.model.columnCount())
            ]
            self._columns_fitted = True
            self.arrange()
        shown, total = self.model.rowCount(), self.model.total
        self.count_label.setText(
            f"{total:,} records" if shown >= total else f"{shown:,} of {total:,} records"
        )

    # ------------------------------------------------------------------- layout
    def arrange(self) -> None:
        """Table and chart side by side while every column fits beside the chart; else the
        chart goes below the table. Either way the columns fit the table's width."""
        if not self._content_widths:
            return
        splitter = self.splitter
        assert splitter is not None
        available = splitter.width()
        if available <= 0:
            return
        handle = splitter.handleWidth()
        chrome = self.table.verticalScrollBar().sizeHint().width() + 6
        full = sum(self._content_widths) + chrome
        narrowest = minimum_total(self._content_widths, self._shrinkable()) + chrome
        if available - full - handle >= CHART_MIN_WIDTH:
            splitter.setOrientation(Qt.Orientation.Horizontal)
            splitter.setSizes([full, available - full - handle])
        elif available - narrowest - handle >= CHART_MIN_WIDTH:
            splitter.setOrientation(Qt.Orientation.Horizontal)
            splitter.setSizes([available - CHART_MIN_WIDTH - handle, CHART_MIN_WIDTH])
        else:
            splitter.setOrientation(Qt.Orientation.Vertical)
            height = max(splitter.height(), 2)
            splitter.setSizes([height * 3 // 5, height - height * 3 // 5])
        self._fit_columns()

    def _shrinkable(self) -> list[bool]:
        return [c.kind is Kind.TEXT or c.key == "name" for c in self.model.columns]

    def _fit_columns(self) -> None:
        splitter = self.splitter
        if not self._content_widths or splitter is None:
            return
        chrome = self.table.verticalScrollBar().sizeHint().width() + 6
        beside = splitter.orientation() == Qt.Orientation.Horizontal
        target = (splitter.sizes()[0] if beside else splitter.width()) - chrome
        for col, width in enumerate(fit_widths(self._content_widths, self._shrinkable(), target)):
            self.table.setColumnWidth(col, width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.arrange()

    # ------------------------------------------------------------------ actions
    def _on_form_save_requested(self, raw: dict[str, object]) -> None:
        ctx = self._context
        if ctx is None:
            return
        editing = self.form.editing
        try:
            if editing is None:
                self._pending_id = self._pending_id or new_id()
                result = self._create_once(ctx.site.id, raw, self._pending_id)
                verb = "Saved"
            else:
                module, record_id, version = self.module, editing.id, editing.version
                result = self._data.write(
                    lambda s, a: s.records.update(
                        a, module, record_id, raw, expected_version=version
                    )
                )
                verb = "Updated"
        except ValidationError as exc:
            self.form.show_problems(exc.problems)
            return
        except StaleRecordError as exc:
            self._offer_reload(str(exc))
            return
        except StoreOfflineError as exc:
            self._retry_wanted = True
            self.form.show_message(str(exc))
            return
        except DeskOpsError as exc:
            self.form.show_message(str(exc))
            return
        self._pending_id, self._retry_wanted = None, False
        self.form.reset_after_save()
        saved = result.value
        self._select(saved.id)
        self.message_posted.emit(f"{verb} {self.spec.title.lower()} {saved.ref_code} {saved.date}")

    def _create_once(
        self, site_id: str, raw: dict[str, object], record_id: str
    ) -> Changed[RecordRow]:
        module = self.module
        if self._retry_wanted:
            try:
                existing = self._current(record_id)
            except NotFound:
                existing = None
            if existing is not None:  # the first try had committed before the line dropped
                changes = for_module(module, site_id)
                self._data.announce(changes)
                return Changed(existing, changes)
        return self._data.write(
            lambda s, a: s.records.create(a, module, site_id, raw, record_id=record_id)
        )

    def _current(self, record_id: str) -> RecordRow:
        """The record as it is now in the store (never cached: compared with a stale copy)."""
        module = self.module
        return self._data.read(lambda s, a: s.records.get(a, module, record_id))

    def retry_pending(self) -> bool:
        """Save the entry an offline save kept in the form (called when the server is back)."""
        if not self._retry_wanted:
            return False
        self._on_form_save_requested(self.form.values())
        return not self._retry_wanted

    def _offer_reload(self, message: str) -> None:
        """A save refused as stale: reload the current record, or compare it with the form."""
        editing = self.form.editing
        choice = self._ask_stale(message)
        if editing is None or choice not in ("reload", "compare"):
            return
        try:
            fresh = self._current(editing.id)
        except DeskOpsError as exc:
            self.form.show_message(str(exc))
            return
        if choice == "compare":
            outcome = self._compare(self.form.values(), fresh, message)
            if outcome == KEEP_MINE:
                # The clerk's values stay; the next Update is based on the current version and
                # so replaces the other change knowingly.
                self.form.editing = fresh
                self.message_posted.emit(
                    "Your values are kept: Update again to replace the current ones"
                )
                return
            if outcome != RELOAD:
                return
        self.form.edit(fresh)

    def _ask_stale(self, message: str) -> str:
        """ "reload", "compare" or "cancel" (tests replace this)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Record changed",
            f"This record was {message}.\n\nReload it into the form, or compare your values with "
            "the current ones first?",
            parent=self,
        )
        reload_button = box.addButton("Reload", QMessageBox.ButtonRole.AcceptRole)
        compare_button = box.addButton("Compare…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is reload_button:
            return "reload"
        return "compare" if clicked is compare_button else "cancel"

    def _compare(self, mine: dict[str, object], current: RecordRow, message: str) -> int:
        """The compare dialog's choice (``RELOAD``, ``KEEP_MINE`` or 0; tests replace this)."""
        return CompareDialog.stale_record(self.spec, mine, current, message, self).exec()

    def _select(self, record_id: str) -> None:
        row = self.model.find_row(record_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self.edit_row(index.row())

    def edit_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        record = self.model.row_at(row)
        if not self.model.may_change(record):
            self.message_posted.emit("This record is read-only for you")
            return
        self._pending_id, self._retry_wanted = None, False
        self.form.edit(record)

    def delete_row(self, row: int, *, confirm: bool = True) -> bool:
        if not 0 <= row < self.model.rowCount():
            return False
        record = self.model.row_at(row)
        if not self.model.may_change(record):
            self.message_posted.emit("This record is read-only for you")
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                "Delete record",
                f"Delete {self.spec.title.lower()} {record.ref_code} of {record.date}?\n"
                "You can undo it right after with Ctrl+Z.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        module = self.module
        try:
            self._data.write(
                lambda s, a: s.records.delete(a, module, record.id, expected_version=record.version)
            )
        except DeskOpsError as exc:
            QMessageBox.warning(self, "Not deleted", str(exc))
            return False
        self._undo = record
        self.message_posted.emit(f"Deleted {record.ref_code} {record.date} — Ctrl+Z to undo")
        return True

    def undo_delete(self) -> bool:
        record, ctx = self._undo, self._context
        if record is None or ctx is None:
            return False
        module, values = self.module, dict(record.values)
        try:
            self._data.write(
                lambda s, a: s.records.create(
                    a, module, record.site_id, values, record_id=record.id
                )
            )
        except DeskOpsError as exc:
            QMessageBox.warning(self, "Undo failed", str(exc))
            return False
        self._undo = None
        self._select(record.id)
        self.message_posted.emit(f"Restored {record.ref_code} {record.date}")
        return True

    def paste_rows(self, text: str | None = None) -> bool:
        """Add tab-separated rows (from the clipboard by default), all or nothing."""
        ctx = self._context
        if ctx is None:
            return False
        if text is None:
            text = QGuiApplication.clipboard().text()
        if not text.strip():
            self.message_posted.emit("The clipboard holds no rows to paste")
            return False
        try:
            sheet = parse_tsv(text, self.module)
            site_id = ctx.site.id
            result = self._data.write(
                lambda s, a: s.imports.import_sheet(a, site_id, sheet, source="clipboard")
            )
        except ValidationError as exc:
            lines = describe_problems(exc.problems, limit=30)
            QMessageBox.warning(
                self,
                "Nothing pasted",
                "No rows were added. Fix these cells and paste again:\n\n" + "\n".join(lines),
            )
            return False
        except DeskOpsError as exc:
            QMessageBox.warning(self, "Nothing pasted", str(exc))
            return False
        self.message_posted.emit(f"Pasted {result.value.count} {self.spec.title.lower()} rows")
        return True

    def import_file(self, path: Path | None = None) -> bool:
        """Import a .xlsx or .csv file (asked for when ``path`` is None) off the GUI thread,
        all or nothing, with a busy dialog; every bad cell is listed if nothing was added."""
        ctx = self._context
        if ctx is None or self._import_signals is not None:
            return False
        if path is None:
            chosen, _filter = QFileDialog.getOpenFileName(
                self,
                f"Import {self.spec.title.lower()} rows",
                "",
                "Spreadsheets (*.xlsx *.csv);;All files (*)",
            )
            if not chosen:
                return False
            path = Path(chosen)
        site_id, module, file = ctx.site.id, self.module, path
        progress = QProgressDialog(
            f"Importing {file.name}: reading, checking every row, then writing them all…",
            "",
            0,
            0,
            self,
        )
        progress.setCancelButton(None)  # all or nothing: there is no half to stop at
        progress.setWindowTitle("Import")
        progress.setMinimumDuration(300)
        progress.setModal(True)
        self.import_progress = progress

        def work() -> Changed[ImportReport]:
            return self._data.write(
                lambda s, a: s.imports.import_file(a, module, site_id, file), announce=False
            )

        self._import_signals = background.start(
            self._pool,
            self,
            f"import of {file.name}",
            work,
            self._on_imported,
            self._on_import_failed,
        )
        return True

    def _end_import(self) -> None:
        if self.import_progress is not None:
            self.import_progress.close()
            self.import_progress = None
        if self._import_signals is not None:
            self._import_signals.deleteLater()
            self._import_signals = None

    def _on_imported(self, result: Changed[ImportReport]) -> None:
        self._end_import()
        self._data.announce(result.changes)
        report = result.value
        ignored = f" (columns ignored: {', '.join(report.ignored)})" if report.ignored else ""
        self.last_import = f"Imported {report.count:,} rows from {report.source}{ignored}"
        self.message_posted.emit(self.last_import)

    def _on_import_failed(self, exc: Exception) -> None:
        self._end_import()
        if isinstance(exc, ValidationError):
            lines = describe_problems(exc.problems, limit=30)
            self.last_import = "Nothing imported. Fix these cells and import again:\n\n" + (
                "\n".join(lines)
            )
        else:
            self.last_import = f"Nothing imported: {exc}"
        QMessageBox.warning(self, "Nothing imported", self.last_import)

    def wait_for_import(self, msecs: int = 60_000) -> bool:
        """Block until a running import ends (tests)."""
        return self._pool.waitForDone(msecs)

    def _on_new_shortcut(self) -> None:
        self.form.clear()
        self.form.focus_first()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            row = self.table.currentIndex().row()
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.edit_row(row)
                return True
            if event.key() == Qt.Key.Key_Delete:
                self.delete_row(row)
                return True
            if event.matches(QKeySequence.StandardKey.Paste):
                self.paste_rows()
                return True
        return super().eventFilter(watched, event)
