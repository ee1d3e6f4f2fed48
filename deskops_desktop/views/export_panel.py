"""The dockable Exports panel: active jobs with progress and Cancel, and the history.

History actions: Open, Show in folder, Save as… (both count as downloads on the audit row),
Retry for failed jobs, Remove, Clear all (asks first). When a job finishes while the panel is
hidden the panel posts a notification (tray message where the desktop has a tray, and
``notification_posted`` for the main window's status bar).

The panel owns no thread and no session: jobs run on ``ExportRunner``'s pool, progress arrives as
throttled signals, and the history is re-read (one small query) only when a job starts or ends.
Cleanup of expired files runs on the pool at start and every ``CLEANUP_INTERVAL_MS``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSystemTrayIcon,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.export.files import human_size
from deskops_desktop.export.jobs import ExportJobService, ExportRequest, JobInfo
from deskops_desktop.models.enums import ExportFormat, Module
from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.models.jobs import JOB_COMPLETED
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.views.export_dialog import ExportDialog
from deskops_desktop.views.export_runner import ExportRunner
from deskops_desktop.views.theme import ERROR_COLOR, icon
from deskops_desktop.views.widgets import fit_columns, header_row, label, row_table, select_row

CLEANUP_INTERVAL_MS = 3 * 60 * 60 * 1000
HISTORY_COLUMNS = ("Export", "Status", "Records", "Size", "Finished")


class _ActiveRow(QFrame):
    """A running export job, or another long task of the queue (a report pack's run)."""

    def __init__(
        self,
        job_id: str,
        label: str,
        progress: int,
        queued: bool,
        on_cancel: Callable[[str], None],
    ) -> None:
        super().__init__()
        self.setProperty("role", "card")
        self.job_id = job_id
        self.title = QLabel(label)
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setValue(progress)
        self.status = QLabel("Queued" if queued else "Running")
        self.status.setProperty("role", "muted")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: on_cancel(self.job_id))
        line = QHBoxLayout()
        line.addWidget(self.bar, 1)
        line.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addLayout(line)
        layout.addWidget(self.status)


class ExportPanel(QDockWidget):
    """Signals:
    message_posted(str): a short line for the status bar.
    notification_posted(str, str): title and text of "your export is ready" (panel hidden).
    """

    message_posted = Signal(str)
    notification_posted = Signal(str, str)

    def __init__(
        self,
        jobs: ExportJobService,
        runner: ExportRunner,
        actor: Actor,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Exports", parent)
        self.setObjectName("ExportPanel")
        self.jobs = jobs
        self.runner = runner
        self.actor = actor
        self.settings = settings or Settings()
        self.history: list[JobInfo] = []
        self.active_rows: dict[str, _ActiveRow] = {}
        self.task_rows: dict[str, _ActiveRow] = {}
        self.last_notification: tuple[str, str] | None = None
        # Seams for tests and platforms: how to open a URL, ask a path, confirm.
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.ask_save_path: Callable[[JobInfo], str] = self._ask_save_path
        self.confirm: Callable[[str, str], bool] = self._confirm
        self._tray: QSystemTrayIcon | None = None

        body = QWidget()
        self.active_title = label("Running", "muted")
        self.active_box = QVBoxLayout()
        self.active_box.setSpacing(6)
        self.empty_label = label("No exports running.", "muted")
        self.table = row_table(HISTORY_COLUMNS)
        self.table.setMinimumHeight(52)  # header and a row: the dock fits a 768-pixel screen
        self.table.setAlternatingRowColors(True)
        fit_columns(self.table, stretch=0)
        self.open_button = QPushButton("Open")
        self.folder_button = QPushButton("Show in folder")
        self.save_button = QPushButton("Save as…")
        self.retry_button = QPushButton("Retry")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear all…")
        self.new_button = QPushButton("New export…")
        self.new_button.setProperty("role", "primary")
        actions = header_row(
            [
                self.open_button,
                self.folder_button,
                self.save_button,
                self.retry_button,
                self.remove_button,
            ],
            [self.clear_button],
        )
        history_title = label("History", "muted")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(header_row([self.active_title], [self.new_button]))
        layout.addLayout(self.active_box)
        layout.addWidget(self.empty_label)
        layout.addSpacing(6)
        layout.addWidget(history_title)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self.setWidget(body)
        self.setMinimumWidth(460)

        self._dialog_factory: Callable[[], ExportDialog] | None = None
        self._cleanup_timer = QTimer(self)
        self._cleanup_timer.setInterval(CLEANUP_INTERVAL_MS)
        self._connect_signals()
        self._update_buttons()

    def _connect_signals(self) -> None:
        signals = self.runner.signals
        signals.job_started.connect(self._on_runner_job_started)
        signals.job_progressed.connect(self._on_runner_job_progressed)
        signals.job_finished.connect(self._on_runner_job_finished)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.open_button.clicked.connect(self.open_selected)
        self.folder_button.clicked.connect(self.show_selected_in_folder)
        self.save_button.clicked.connect(self.save_selected_as)
        self.retry_button.clicked.connect(self.retry_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_all)
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self._cleanup_timer.timeout.connect(self.start_cleanup)

    # ------------------------------------------------------------------ lifecycle
    def startup(self) -> None:
        """At app start: fail what a crash left running, clean up expired files, show history."""
        self.jobs.recover(self.actor)
        self.reload()
        self.start_cleanup()
        self._cleanup_timer.start()

    def start_cleanup(self) -> None:
        self.runner.run_background(self.jobs.cleanup, lambda _result: self.reload())

    def shutdown(self) -> None:
        """Cancel running exports and wait for them (call from the main window's closeEvent)."""
        self._cleanup_timer.stop()
        self.runner.shutdown()

    # ------------------------------------------------------------------- queueing
    def enqueue(self, request: ExportRequest) -> JobInfo:
        """Create the job and hand it to the runner (raises ``DeskOpsError`` to refuse)."""
        info = self.jobs.create(self.actor, request)
        self.runner.submit(info.id)
        self.reload()
        self.show()
        self.raise_()
        return info

    def set_dialog_context(
        self,
        sites: Callable[[], Sequence[SiteInfo]],
        context: Callable[[], tuple[str | None, date | None, date | None]],
    ) -> None:
        """Where "New export…" takes its sites and presets from (the header's site and range)."""

        def factory() -> ExportDialog:
            site_id, start, end = context()
            return self.make_dialog(sites(), site_id, start, end)

        self._dialog_factory = factory

    def make_dialog(
        self,
        sites: Sequence[SiteInfo],
        site_id: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        module: Module | None = None,
    ) -> ExportDialog:
        """An export dialog whose Export button queues through ``enqueue``."""
        return ExportDialog(
            self.jobs,
            self.actor,
            sites,
            self.enqueue,
            site_id=site_id,
            module=module,
            date_from=date_from,
            date_to=date_to,
            export_format=ExportFormat(self.settings.current.export_format),
            parent=self.window(),
        )

    def _on_new_button_clicked(self) -> None:
        if self._dialog_factory is not None:
            self._dialog_factory().open()

    # -------------------------------------------------------------------- refresh
    def reload(self) -> None:
        self.history = self.jobs.history(self.actor)
        selected = self.selected()
        self.table.setRowCount(len(self.history))
        for row, info in enumerate(self.history):
            when = info.completed_at or info.created_at
            local = when.astimezone()  # the computer's own time zone
            cells = (
                info.label,
                info.status_text
                + (f": {info.error}" if info.error and not info.is_cancelled else ""),
                f"{info.record_count:,}" if info.record_count is not None else "",
                human_size(info.size_bytes) if info.size_bytes is not None else "",
                f"{local:%Y-%m-%d %H:%M}",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, info.id)
                if col == 0 and info.file_path:
                    item.setToolTip(info.file_path)
                if col == 1 and info.status == "failed" and not info.is_cancelled:
                    item.setForeground(_color(ERROR_COLOR))
                    item.setToolTip(info.error)
                if col in (2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, col, item)
        if selected is not None:
            self.select_job(selected.id)
        self._sync_active()
        self._update_buttons()

    def _sync_active(self) -> None:
        active = {info.id: info for info in self.history if info.is_active}
        for job_id in list(self.active_rows):
            if job_id not in active:
                row = self.active_rows.pop(job_id)
                self.active_box.removeWidget(row)
                row.deleteLater()
        for job_id, info in active.items():
            if job_id not in self.active_rows:
                row = _ActiveRow(
                    info.id, info.label, info.progress, info.status == "pending", self.cancel
                )
                self.active_rows[job_id] = row
                self.active_box.addWidget(row)
        self._show_empty()

    def _show_empty(self) -> None:
        self.empty_label.setVisible(not self.active_rows and not self.task_rows)

    # ------------------------------------------------------------ other tasks
    def task_started(self, key: str, title: str, on_cancel: Callable[[str], None]) -> None:
        """A long task that is not an export job (a report pack's run) joins the queue's rows."""
        row = _ActiveRow(key, title, 0, False, on_cancel)
        self.task_rows[key] = row
        self.active_box.addWidget(row)
        self._show_empty()

    def task_progressed(self, key: str, percent: int, status: str) -> None:
        row = self.task_rows.get(key)
        if row is not None:
            if percent >= 0:
                row.bar.setValue(percent)
            if status:
                row.status.setText(status)

    def task_finished(self, key: str, title: str, text: str, ok: bool) -> None:
        row = self.task_rows.pop(key, None)
        if row is not None:
            self.active_box.removeWidget(row)
            row.deleteLater()
        self._show_empty()
        self._notify(title if ok else f"{title} failed", text)

    def selected(self) -> JobInfo | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        index = rows[0].row()
        return self.history[index] if 0 <= index < len(self.history) else None

    def select_job(self, job_id: str) -> None:
        select_row(self.table, [info.id for info in self.history], job_id)

    def _update_buttons(self) -> None:
        info = self.selected()
        has_file = (
            info is not None and info.status == JOB_COMPLETED and Path(info.file_path).is_file()
        )
        self.open_button.setEnabled(has_file)
        self.folder_button.setEnabled(has_file)
        self.save_button.setEnabled(has_file)
        self.retry_button.setEnabled(info is not None and info.can_retry)
        self.remove_button.setEnabled(info is not None and not info.is_active)
        self.clear_button.setEnabled(any(not i.is_active for i in self.history))

    # --------------------------------------------------------------- runner slots
    def _on_runner_job_started(self, job_id: str) -> None:
        row = self.active_rows.get(job_id)
        if row is None:
            self.reload()
            row = self.active_rows.get(job_id)
        if row is not None:
            row.status.setText("Starting…")

    def _on_runner_job_progressed(self, job_id: str, percent: int, status: str) -> None:
        row = self.active_rows.get(job_id)
        if row is not None:
            row.bar.setValue(percent)
            row.status.setText(status or "Running")

    def _on_runner_job_finished(self, job_id: str, info: object, error: str) -> None:
        self.reload()
        self.select_job(job_id)
        if not isinstance(info, JobInfo):
            self._notify("Export failed", error or "the export could not start")
            return
        if info.status == JOB_COMPLETED:
            count = info.record_count or 0
            noun = "record" if count == 1 else "records"
            text = f"{info.file_name}: {count:,} {noun}, {human_size(info.size_bytes or 0)}"
            self._notify("Export ready", text)
        elif info.is_cancelled:
            self.message_posted.emit(f"Export cancelled: {info.label}")
        else:
            self._notify("Export failed", f"{info.label}: {info.error}")

    def _notify(self, title: str, text: str) -> None:
        self.message_posted.emit(f"{title} — {text}")
        if self.isVisible() and not self.visibleRegion().isEmpty():
            return
        self.last_notification = (title, text)
        self.notification_posted.emit(title, text)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(icon("app"), self)
            self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 6000)
        window = self.window()
        if window is not None:
            QApplication.alert(window, 0)

    # -------------------------------------------------------------------- actions
    def cancel(self, job_id: str) -> None:
        if not self.runner.cancel(job_id):
            try:
                self.jobs.cancel(self.actor, job_id)
            except DeskOpsError as exc:
                self.message_posted.emit(str(exc))
            self.reload()
            return
        row = self.active_rows.get(job_id)
        if row is not None:
            row.status.setText("Cancelling…")
            row.cancel_button.setEnabled(False)

    def open_selected(self) -> bool:
        info = self._selected_file()
        if info is None:
            return False
        self.open_url(QUrl.fromLocalFile(info.file_path))
        self._count_download(info)
        return True

    def show_selected_in_folder(self) -> bool:
        info = self._selected_file()
        if info is None:
            return False
        path = Path(info.file_path)
        if sys.platform == "win32":
            QProcess.startDetached("explorer", ["/select,", str(path)])
        elif sys.platform == "darwin":
            QProcess.startDetached("open", ["-R", str(path)])
        else:
            self.open_url(QUrl.fromLocalFile(str(path.parent)))
        return True

    def save_selected_as(self) -> Path | None:
        info = self._selected_file()
        if info is None:
            return None
        target = self.ask_save_path(info)
        if not target:
            return None
        try:
            shutil.copyfile(info.file_path, target)
        except OSError as exc:
            QMessageBox.warning(
                self, "Not saved", f"{target} could not be written: {exc.strerror or exc}"
            )
            return None
        self._count_download(info)
        self.message_posted.emit(f"Saved a copy as {target}")
        return Path(target)

    def retry_selected(self) -> bool:
        info = self.selected()
        if info is None or not info.can_retry:
            return False
        try:
            again = self.jobs.retry(self.actor, info.id)
        except DeskOpsError as exc:
            QMessageBox.warning(self, "Not retried", str(exc))
            return False
        self.runner.submit(again.id)
        self.reload()
        return True

    def remove_selected(self) -> bool:
        info = self.selected()
        if info is None or info.is_active:
            return False
        if (
            info.file_path
            and Path(info.file_path).exists()
            and not self.confirm(
                "Remove export", f"Remove {info.file_name} from the history and delete the file?"
            )
        ):
            return False
        self.jobs.remove(self.actor, info.id)
        self.reload()
        return True

    def clear_all(self) -> int:
        finished = [i for i in self.history if not i.is_active]
        if not finished or not self.confirm(
            "Clear all",
            f"Remove all {len(finished)} finished exports from the history and delete their files?",
        ):
            return 0
        removed = self.jobs.clear(self.actor)
        self.reload()
        return removed

    def _selected_file(self) -> JobInfo | None:
        info = self.selected()
        if info is None or info.status != JOB_COMPLETED:
            return None
        if not Path(info.file_path).is_file():
            self.message_posted.emit(f"{info.file_name} is no longer there (removed or moved)")
            return None
        return info

    def _count_download(self, info: JobInfo) -> None:
        try:
            self.jobs.record_download(self.actor, info.id)
        except DeskOpsError as exc:
            self.message_posted.emit(str(exc))

    def _ask_save_path(self, info: JobInfo) -> str:
        start = str(Path.home() / info.file_name)
        path, _filter = QFileDialog.getSaveFileName(self, "Save export as", start)
        return path

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


def _color(value: str) -> QBrush:
    return QBrush(QColor(value))
