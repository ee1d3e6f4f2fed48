"""Settings → Sync: where this laptop stands with head office, what needs a decision, the log.

Three inner tabs, so the page fits a 768-pixel screen:

- **Needs attention**: this laptop's own changes that did not simply apply (conflicts, records
  held for a supervisor, rejections with head office's reason). A clerk marks a rejection as
  read; a supervisor compares and decides a conflict or held record right here.
- **Decide** (supervisors and administrators): head office's whole queue for their sites, read
  over the network on the sync worker; Compare… shows both versions side by side (the Compare
  dialog of a stale save) and keeps one.
- **Log**: what each sync did, errors in plain words (``deskops sync log`` prints the same).

Every network call goes through the sync controller's worker (never the GUI thread); a decision
is announced through the data gateway, so the pages showing that record refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.display import first_line
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.modules import REFERENCE_KINDS, SPECS, Kind, ReferenceIndex
from deskops_desktop.services.changes import ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.sync import (
    KEEP_MINE,
    KEEP_THEIRS,
    AttentionItem,
    LocalItem,
    Resolution,
    SyncReport,
    SyncStatus,
)
from deskops_desktop.sync.attention import kind_words, short_ids
from deskops_desktop.views import compare_dialog
from deskops_desktop.views.compare_dialog import CompareDialog, Row, as_text
from deskops_desktop.views.sync_controller import SyncController
from deskops_desktop.views.widgets import fit_columns, header_row, label, row_table


def decision_rows(
    module: Module,
    mine: Mapping[str, object] | None,
    theirs: Mapping[str, object] | None,
    refs: ReferenceIndex,
) -> list[Row]:
    """The Compare dialog's rows for two stored versions (column-keyed, as sync keeps them):
    references by code, values as a form shows them."""
    left, right = mine or {}, theirs or {}
    rows: list[Row] = []
    for field in SPECS[module].fields:
        a, b = left.get(field.column), right.get(field.column)
        if field.kind in REFERENCE_KINDS:
            a, b = _code(refs, a), _code(refs, b)
        elif field.kind in NUMBER_KINDS:
            a, b = _number(a), _number(b)  # the codec keeps "12.000"; a form shows 12
        text_a = as_text(a) if mine is not None else "(deleted)"
        text_b = as_text(b) if theirs is not None else "(deleted)"
        rows.append((field.label, text_a, text_b, not compare_dialog.same(text_a, text_b)))
    return rows


NUMBER_KINDS = frozenset(
    {Kind.QUANTITY, Kind.SIGNED_QUANTITY, Kind.HOURS, Kind.COUNT, Kind.HEADCOUNT, Kind.TRIPS}
)


def _number(value: object) -> object:
    try:
        return Decimal(str(value)) if value is not None and value != "" else value
    except InvalidOperation:
        return value


def _code(refs: ReferenceIndex, value: object) -> object:
    item = refs.by_id(str(value)) if value else None
    return item.code if item is not None else value


class SyncTab(QWidget):
    def __init__(
        self,
        data: DataGateway,
        controller: SyncController,
        references: Callable[[], ReferenceIndex],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._data = data
        self.controller = controller
        self._references = references
        self.moderator = data.actor.role is not Role.OPERATOR
        self.local: list[LocalItem] = []
        self.queue: list[AttentionItem] = []
        self.last_decision: Resolution | None = None

        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        self.counts = label("", "muted")
        self.counts.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setVisible(controller.active)
        top = QHBoxLayout()
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.counts)
        top.addLayout(text, 1)
        top.addWidget(self.sync_button)

        self.local_table = _table(["Change", "What happened", "Record", "By", "Why"])
        self.compare_local_button = QPushButton("Compare and decide…")
        self.compare_local_button.setVisible(self.moderator)
        self.dismiss_button = QPushButton("Mark as read")
        self.dismiss_button.setToolTip("A rejection you have read no longer needs attention")
        local_tab = _with_buttons(
            self.local_table, [self.compare_local_button, self.dismiss_button]
        )

        self.queue_table = _table(["ID", "What happened", "Record", "By", "Why"])
        self.load_queue_button = QPushButton("Load head office's queue")
        self.compare_queue_button = QPushButton("Compare and decide…")
        queue_tab = _with_buttons(
            self.queue_table, [self.load_queue_button, self.compare_queue_button]
        )

        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setObjectName("sync_log")
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        self.tabs = QTabWidget()
        self.local_tab, self.queue_tab = local_tab, queue_tab
        if controller.active:  # a laptop: its own changes, and its log
            self.tabs.addTab(local_tab, "Needs attention")
        if self.moderator:
            self.tabs.addTab(queue_tab, "Decide")
        if controller.active:
            self.tabs.addTab(self.log, "Log")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)

        self.sync_button.clicked.connect(self._on_sync_clicked)
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.compare_local_button.clicked.connect(self.decide_local)
        self.load_queue_button.clicked.connect(self.load_queue)
        self.compare_queue_button.clicked.connect(self.decide_queued)
        self.local_table.itemSelectionChanged.connect(self._update_buttons)
        self.queue_table.itemSelectionChanged.connect(self._update_buttons)
        controller.status_changed.connect(self._on_status)
        controller.finished.connect(self._on_sync_finished)
        self.refresh()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Re-read the laptop's own state (local, fast): status, attention list, log."""
        self._on_status(self.controller.status)
        desk = self.controller.desk
        self.local = desk.local_items() if self.controller.active else []
        refs = self._references()
        _fill(self.local_table, [_item_cells(str(i.seq), i, refs) for i in self.local])
        self._title(self.local_tab, f"Needs attention ({len(self.local)})")
        lines = desk.log() if self.controller.active else []
        self.log.setPlainText("\n".join(line.text() for line in lines) or "No sync yet.")
        self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())
        self._update_buttons()

    def _title(self, tab: QWidget, text: str) -> None:
        index = self.tabs.indexOf(tab)
        if index >= 0:
            self.tabs.setTabText(index, text)

    def on_changes(self, _changes: ChangeSet) -> None:
        if self.isVisible():
            self.refresh()

    def _on_status(self, status: SyncStatus) -> None:
        if not status.is_replica:
            self.headline.setText(
                "This store is head office's own: nothing to sync here. Supervisors decide "
                "what the remote-site laptops sent on the Decide tab."
            )
            self.counts.setText("")
            return
        synced = status.synced and not status.attention
        self.headline.setText(("Synced · " if synced else "") + status.headline())
        parts = [
            f"{status.pending} to send",
            f"{status.sent} sent without an answer yet",
            f"{status.unconfirmed} applied, awaiting confirmation",
            f"{status.conflicts} conflicts",
            f"{status.held} held",
            f"{status.rejected} rejected",
        ]
        if status.blocked:
            parts.append(f"{status.blocked} wait for their clerk's sign-in")
        counts = " · ".join(parts)
        if status.last_error:
            counts += f"\nLast problem: {status.last_error}"
        for problem in status.sanity_problems:
            counts += f"\nCheck: {problem}"
        self.counts.setText(counts)

    def _on_sync_finished(self, report: SyncReport) -> None:
        self.message.setText(report.summary())
        self.refresh()

    def _on_sync_clicked(self) -> None:
        if not self.controller.sync_now():
            self.message.setText("A sync is already running.")

    def _update_buttons(self) -> None:
        local = self._selected_local()
        self.dismiss_button.setEnabled(local is not None and local.state == "rejected")
        self.compare_local_button.setEnabled(
            local is not None and local.attention_id is not None and local.state != "rejected"
        )
        self.compare_queue_button.setEnabled(self._selected_queued() is not None)

    def _selected_local(self) -> LocalItem | None:
        row = self.local_table.currentRow()
        selected = self.local_table.selectionModel().hasSelection()
        return self.local[row] if selected and 0 <= row < len(self.local) else None

    def _selected_queued(self) -> AttentionItem | None:
        row = self.queue_table.currentRow()
        selected = self.queue_table.selectionModel().hasSelection()
        return self.queue[row] if selected and 0 <= row < len(self.queue) else None

    # ------------------------------------------------------------------ actions
    def dismiss_selected(self) -> bool:
        item = self._selected_local()
        if item is None or item.state != "rejected":
            return False
        self.controller.desk.dismiss(item.seq)
        self.controller.refresh_status()
        self.message.setText(f"Change {item.seq} marked as read.")
        self.refresh()
        return True

    def load_queue(self) -> None:
        """Head office's open conflicts and held records (on the sync worker)."""
        self.message.setText("Reading head office's queue…")
        self.load_queue_button.setEnabled(False)
        self.controller.call(self.controller.desk.queue, self._on_queue, self._on_queue_failed)

    def _on_queue(self, items: list[AttentionItem]) -> None:
        self.load_queue_button.setEnabled(True)
        self.queue = list(items)
        refs = self._references()
        short = short_ids([i.id for i in self.queue])
        _fill(self.queue_table, [_item_cells(short[i.id], i, refs) for i in self.queue])
        self._title(self.queue_tab, f"Decide ({len(self.queue)})")
        self.message.setText(
            f"{len(self.queue)} waiting for a decision at head office."
            if self.queue
            else "Nothing waits for a decision at head office."
        )
        self._update_buttons()

    def _on_queue_failed(self, exc: Exception) -> None:
        self.load_queue_button.setEnabled(True)
        self.message.setText(f"Head office's queue could not be read: {first_line(exc)}")

    def decide_local(self) -> CompareDialog | None:
        item = self._selected_local()
        if item is None or item.attention_id is None:
            return None
        held = item.state == "held"
        return self._open_decision(
            item.attention_id, item.module, item.mine, item.theirs, held, item.reason
        )

    def decide_queued(self) -> CompareDialog | None:
        item = self._selected_queued()
        if item is None:
            return None
        return self._open_decision(
            item.id, item.module, item.mine, item.theirs, item.held, item.reason
        )

    def _open_decision(
        self,
        attention_id: str,
        module: Module,
        mine: Mapping[str, object] | None,
        theirs: Mapping[str, object] | None,
        held: bool,
        reason: str,
    ) -> CompareDialog:
        rows = decision_rows(module, mine, theirs, self._references())
        title = f"{'Held record' if held else 'Conflict'} — {SPECS[module].title.lower()}"
        if held:
            sides = ("The late record", "At head office now")
            choices = ("Reject it", "Apply it")
        else:
            sides = ("The laptop's version", "Head office's version")
            choices = ("Keep head office's", "Keep the laptop's")
        dialog = CompareDialog(title, reason, rows, sides, choices, parent=self)

        def decided(result: int) -> None:
            if result == compare_dialog.KEEP_MINE:
                self.resolve(attention_id, KEEP_MINE)
            elif result == compare_dialog.RELOAD:
                self.resolve(attention_id, KEEP_THEIRS)

        dialog.finished.connect(decided)
        dialog.open()
        return dialog

    def resolve(self, attention_id: str, keep: str) -> None:
        """Send a decision (on the sync worker); the next sync brings it to every laptop."""
        self.message.setText("Sending the decision to head office…")
        self.controller.call(
            lambda: self.controller.desk.resolve(attention_id, keep),
            self._on_resolved,
            self._on_resolve_failed,
        )

    def _on_resolved(self, resolution: Resolution) -> None:
        self.last_decision = resolution
        self._data.announce(resolution.changes)
        self.message.setText(
            f"{kind_words(resolution.item.kind).capitalize()}: {resolution.item.resolution}. "
            "Every laptop gets it with "
            "its next sync."
        )
        if self.controller.active:
            self.controller.sync_now()  # this laptop shows the decision at once
        if self.moderator:
            self.load_queue()

    def _on_resolve_failed(self, exc: Exception) -> None:
        text = first_line(exc)
        self.message.setText(f"Not decided: {text}")
        QMessageBox.warning(self, "Not decided", text)


def _item_cells(
    first: str, item: LocalItem | AttentionItem, refs: ReferenceIndex
) -> tuple[str, ...]:
    """A row of either attention table: its id, then the same four columns in the same words."""
    return (
        first,
        kind_words(item.kind),
        _what(item.module, item.mine or item.theirs, refs),
        item.author,
        item.reason,
    )


def _what(module: Module, values: Mapping[str, object] | None, refs: ReferenceIndex) -> str:
    values = values or {}
    material = _code(refs, values.get("material_id") or values.get("equipment_id") or "")
    return f"{SPECS[module].title} {as_text(values.get('date'))} {as_text(material)}".strip()


def _table(headers: Sequence[str]) -> QTableWidget:
    table = row_table(headers)
    fit_columns(table)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.clearSelection()
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            table.setItem(r, c, item)


def _with_buttons(table: QTableWidget, buttons: Sequence[QPushButton]) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 6, 0, 0)
    layout.addLayout(header_row(buttons))
    layout.addWidget(table, 1)
    return box
