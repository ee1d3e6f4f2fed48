"""Settings: the signed-in user's profile and preferences; master data and users for admins.

Every change is a ``data.write`` of ``MasterDataService`` / ``UserService`` (which enforce roles
again); the gateway announces its change-set, so open pages pick up new names, thresholds or
sites, and this page reloads its tables when master data or users changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.enums import Category, EquipmentType, ExportFormat, Role, Uom
from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.models.modules import ReferenceIndex
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.changes import Area, Changed, ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from deskops_desktop.services.users import UserInfo
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.dialogs import ChangePasswordDialog
from deskops_desktop.views.form_dialog import FormDialog, checklist, combo
from deskops_desktop.views.page import Page
from deskops_desktop.views.reports_tab import ReportsTab
from deskops_desktop.views.sync_controller import SyncController
from deskops_desktop.views.sync_tab import SyncTab
from deskops_desktop.views.widgets import (
    action_buttons,
    active_check,
    column,
    fit_columns,
    header_row,
    label,
    password_edit,
    row_table,
)


class _Table(QWidget):
    """A read-only table with a row of action buttons above it."""

    def __init__(
        self, headers: Sequence[str], actions: Sequence[tuple[str, Callable[[], None]]]
    ) -> None:
        super().__init__()
        self.table = row_table(headers)
        fit_columns(self.table)
        self.table.setAlternatingRowColors(True)
        self.buttons = action_buttons(actions)
        column(self, [header_row(list(self.buttons.values())), self.table])
        self.ids: list[str] = []

    def fill(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        self.ids = [row_id for row_id, _ in rows]
        self.table.setRowCount(len(rows))
        for r, (_, cells) in enumerate(rows):
            for c, value in enumerate(cells):
                item = QTableWidgetItem("" if value is None else str(value))
                if isinstance(value, int | float) or (
                    isinstance(value, str) and value.replace(".", "").isdigit()
                ):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)

    def selected_id(self) -> str | None:
        row = self.table.currentRow()
        return self.ids[row] if 0 <= row < len(self.ids) else None


class SettingsPage(Page):
    """The profile and preferences of the signed-in user; master data, users and backups for
    administrators. A ``Page`` showing ``Area.USERS`` (and, like every page, master data).

    Args:
        data: the gateway every read and write goes through.
        settings: the app's settings; a preference changed here replaces them (and is announced).
        backups_store: the store whose backups the Backups tab lists and restores (admins).
        run_pack: starts a report pack in the app's runner (Settings → Reports' "Run now").
        sync: the window's sync controller: the Sync tab on a remote-site laptop, and for
            supervisors anywhere (they decide what laptops sent).
        references: the window's current reference data (the Sync tab shows codes, not ids).
    """

    areas = frozenset({Area.USERS})

    def __init__(
        self,
        data: DataGateway,
        settings: Settings,
        backups_store: Store | None = None,
        parent: QWidget | None = None,
        *,
        run_pack: Callable[[str], bool] = lambda _name: False,
        sync: SyncController | None = None,
        references: Callable[[], ReferenceIndex] | None = None,
    ) -> None:
        super().__init__(data, parent)
        self._settings = settings
        actor = data.actor
        title = label("Settings", "title")
        self.reports: ReportsTab | None = None  # administrators only
        self.tabs = QTabWidget()
        self.tabs.addTab(self._profile_tab(), "Profile")
        if actor.is_admin:
            self.sites = _Table(
                ["Code", "Name", "Location", "Time zone", "Active"],
                [("Add site…", self._add_site), ("Edit…", self._edit_site)],
            )
            self.materials = _Table(
                ["Code", "Name", "Category", "Unit", "Low", "High", "Active"],
                [("Edit…", self._edit_material), ("Activate / deactivate", self._toggle_material)],
            )
            self.equipment = _Table(
                ["Code", "Name", "Type", "Active"],
                [
                    ("Add equipment…", self._add_equipment),
                    ("Activate / deactivate", lambda: self._toggle("equipment", self.equipment)),
                ],
            )
            self.roles = _Table(
                ["Code", "Name", "Active"],
                [
                    ("Add role…", self._add_role),
                    ("Activate / deactivate", lambda: self._toggle("manpower_roles", self.roles)),
                ],
            )
            self.targets = _Table(
                ["From", "Material", "Daily target (t)"], [("Add target…", self._add_target)]
            )
            self.factors = _Table(
                ["Material", "Scope", "t per load", "From", "To", "Basis", "Set by", "Set at"],
                [("Set factor…", self._set_factor)],
            )
            self.factors.setToolTip(
                "Tons per load of each material counted in loads. The factor valid on a"
                " record's date converts its loads; a correction re-derives every record."
            )
            self.users = _Table(
                ["User", "Name", "Role", "Sites", "Active", "Locked until"],
                [
                    ("Add user…", self._add_user),
                    ("Edit…", self._edit_user),
                    ("Reset password…", self._reset_password),
                    ("Unlock", self._unlock),
                ],
            )
            for table, name in (
                (self.sites, "Sites"),
                (self.materials, "Materials"),
                (self.equipment, "Equipment"),
                (self.roles, "Manpower roles"),
                (self.targets, "Targets"),
                (self.factors, "Conversion factors"),
                (self.users, "Users"),
            ):
                self.tabs.addTab(table, name)
            self.tabs.addTab(self._dispatch_tools_tab(), "Dispatches")
            self.reports = ReportsTab(data, run_pack)
            self.tabs.addTab(self.reports, "Reports")
            # Admins only: a restore replaces everyone's data.
            from deskops_desktop.views.backups_tab import BackupsTab

            self.backups = BackupsTab(backups_store) if backups_store is not None else None
            if self.backups is not None:
                self.tabs.addTab(self.backups, "Backups")
        self.sync: SyncTab | None = None
        if sync is not None and (sync.active or actor.role is not Role.OPERATOR):
            self.sync = SyncTab(data, sync, references or self._references)
            self.tabs.addTab(self.sync, "Sync")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)
        self._site_id: str | None = None
        self.refresh()

    def show_section(self, name: str) -> bool:
        if name == "sync" and self.sync is not None:
            self.tabs.setCurrentWidget(self.sync)
            self.sync.refresh()
            return True
        return False

    # ----------------------------------------------------------------- profile
    def _profile_tab(self) -> QWidget:
        actor = self._data.actor
        box = QWidget()
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.setContentsMargins(16, 16, 16, 16)
        sites = [s.code for s in self._sites()]
        form.addRow("User name", QLabel(actor.username))
        form.addRow("Role", QLabel(actor.role.value.title()))
        form.addRow("Sites", QLabel(", ".join(sites) if not actor.is_admin else "All sites"))
        change = QPushButton("Change password…")
        change.clicked.connect(self._change_password)
        form.addRow("", change)
        self.animations = QCheckBox("Animate dashboard counters")
        state = self._settings.current
        self.animations.setChecked(state.animations)
        self.animations.toggled.connect(lambda on: self._settings.update(animations=on))
        self.refresh_minutes = QSpinBox()
        self.refresh_minutes.setRange(1, 240)
        self.refresh_minutes.setSuffix(" min")
        self.refresh_minutes.setValue(state.dashboard_refresh_minutes)
        self.refresh_minutes.valueChanged.connect(
            lambda v: self._settings.update(dashboard_refresh_minutes=v)
        )
        self.export_format = combo([(f.label, f.value) for f in ExportFormat], state.export_format)
        self.export_format.currentIndexChanged.connect(
            lambda _i: self._settings.update(export_format=self.export_format.currentData())
        )
        form.addRow("Dashboard", self.animations)
        form.addRow("Dashboard refresh", self.refresh_minutes)
        form.addRow("Preferred export format", self.export_format)
        form.addRow("Store", QLabel(self._data.store_label))
        self.connection_label = QLabel(self._data.connection_label)
        self.connection_label.setObjectName("connection_security")
        form.addRow("Connection", self.connection_label)
        return box

    def _change_password(self) -> None:
        ChangePasswordDialog(
            lambda old, new: self._data.write(lambda s, a: s.users.change_password(a, old, new)),
            self,
        ).exec()

    # --------------------------------------------------------------- context
    def context_changed(self, context: PageContext) -> None:
        self._site_id = context.site.id

    def reload(self) -> None:
        self.refresh()

    def on_changes(self, changes: ChangeSet) -> None:
        """Master data, users and packs are not per site: a change to them reloads the tables."""
        if changes.areas & {Area.MASTER, Area.USERS}:
            self._refresher.request()
        if self.reports is not None:
            self.reports.on_changes(changes)
        if self.sync is not None:
            self.sync.on_changes(changes)

    def refresh(self) -> None:
        if not self._data.actor.is_admin:
            return
        self.sites.fill(
            [
                (s.id, (s.code, s.name, s.location, s.timezone, _yes(s.active)))
                for s in self._sites(include_inactive=True)
            ]
        )
        refs = self._references()
        self.materials.fill(
            [
                (
                    m.id,
                    (
                        m.code,
                        m.name,
                        m.category,
                        m.uom,
                        m.low_threshold,
                        m.high_threshold,
                        _yes(m.active),
                    ),
                )
                for m in refs.materials
            ]
        )
        self.equipment.fill(
            [(e.id, (e.code, e.name, e.category, _yes(e.active))) for e in refs.equipment]
        )
        self.roles.fill([(r.id, (r.code, r.name, _yes(r.active))) for r in refs.roles])
        self.users.fill(
            [
                (
                    u.id,
                    (
                        u.username,
                        u.display_name,
                        u.role.value.title(),
                        ", ".join(u.site_codes) or "all",
                        _yes(u.active),
                        u.locked_until.strftime("%Y-%m-%d %H:%M") if u.locked_until else "",
                    ),
                )
                for u in self._users()
            ]
        )
        self._fill_targets()
        self.factors.fill(
            [
                (
                    f.id,
                    (
                        f"{f.material_code} – {f.material_name}",
                        f.scope,
                        f"{f.tons_per_load}",
                        f.valid_from,
                        f.valid_to or "(in force)",
                        f.basis,
                        f.set_by,
                        f.set_at.strftime("%Y-%m-%d %H:%M UTC"),
                    ),
                )
                for f in self._data.read(lambda s, a: s.factors.factors(a))
            ]
        )

    def _fill_targets(self) -> None:
        if self._site_id is None:
            return
        site_id = self._site_id
        targets = self._data.read(
            lambda s, a: s.master.targets(a, site_id), area=Area.MASTER, key=("targets", site_id)
        )
        self.targets.fill(
            [
                (t.id, (t.from_date, t.material_code or "All materials", t.daily_tons))
                for t in targets
            ]
        )

    # -------------------------------------------------------------------- reads
    def _sites(self, *, include_inactive: bool = False) -> list[SiteInfo]:
        return self._data.read(
            lambda s, a: s.master.sites(a, include_inactive=include_inactive),
            area=Area.MASTER,
            key=("sites", include_inactive),
        )

    def _references(self) -> ReferenceIndex:
        return self._data.read(lambda s, _a: s.master.reference(), area=Area.MASTER)

    def _users(self) -> list[UserInfo]:
        return self._data.read(lambda s, a: s.users.list(a), area=Area.USERS, key="users")

    # ------------------------------------------------------------ admin forms
    def _form(
        self,
        title: str,
        fields: Sequence[tuple[str, str, QWidget]],
        save: Callable[[Services, Actor, dict[str, Any]], Changed[Any]],
    ) -> FormDialog:
        """An admin form whose Save is one gateway write: ``save(services, actor, values)``.

        Every form of this page saves the same way, so each one only says what it asks for and
        which service call keeps it; the write announces its change-set like any other.
        """
        return FormDialog(
            title, fields, lambda v: self._data.write(lambda s, a: save(s, a, v)), self
        )

    def _add_site(self) -> None:
        self._form(
            "Add site",
            [
                ("code", "Code", QLineEdit()),
                ("name", "Name", QLineEdit()),
                ("location", "Location", QLineEdit()),
                ("timezone", "Time zone", QLineEdit("Asia/Riyadh")),
            ],
            lambda s, a, v: s.master.add_site(
                a, v["code"], v["name"], location=v["location"], timezone=v["timezone"]
            ),
        ).exec()

    def _edit_site(self) -> None:
        site_id = self.sites.selected_id()
        if site_id is None:
            return
        site = next(s for s in self._sites(include_inactive=True) if s.id == site_id)
        self._form(
            f"Edit site {site.code}",
            [
                ("name", "Name", QLineEdit(site.name)),
                ("location", "Location", QLineEdit(site.location)),
                ("timezone", "Time zone", QLineEdit(site.timezone)),
                ("active", "", active_check(site.active)),
            ],
            lambda s, a, v: s.master.update_site(a, site_id, **v),
        ).exec()

    def _edit_material(self) -> None:
        material_id = self.materials.selected_id()
        if material_id is None:
            return
        m = next(x for x in self._references().materials if x.id == material_id)
        self._form(
            f"Edit material {m.code}",
            [
                ("name", "Name", QLineEdit(m.name)),
                ("category", "Category", combo([(c.value, c.value) for c in Category], m.category)),
                ("uom", "Unit", combo([(u.value, u.value) for u in Uom], m.uom)),
                ("low_threshold", "Low below", QLineEdit(str(m.low_threshold))),
                ("high_threshold", "Healthy above", QLineEdit(str(m.high_threshold))),
            ],
            lambda s, a, v: s.master.update_material(a, material_id, **v),
        ).exec()

    def _toggle_material(self) -> None:
        self._toggle("materials", self.materials)

    def _toggle(self, table_name: str, table: _Table) -> None:
        item_id = table.selected_id()
        if item_id is None:
            return
        row = table.table.currentRow()
        active_col = table.table.columnCount() - 1
        currently = _cell_text(table.table, row, active_col) == "Yes"
        code = _cell_text(table.table, row, 0)
        verb = "Deactivate" if currently else "Activate"
        if (
            QMessageBox.question(
                self,
                f"{verb} {code}",
                f"{verb} {code}? Inactive items stay in old records but cannot be chosen "
                "for new ones.",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        try:
            self._data.write(
                lambda s, a: s.master.set_active(a, table_name, item_id, not currently)
            )
        except DeskOpsError as exc:
            QMessageBox.warning(self, "Not changed", str(exc))

    def _add_equipment(self) -> None:
        self._form(
            "Add equipment",
            [
                ("code", "Code", QLineEdit()),
                ("name", "Name", QLineEdit()),
                ("type", "Type", combo([(t.value, t.value) for t in EquipmentType])),
            ],
            lambda s, a, v: s.master.add_equipment(a, v["code"], v["name"], v["type"]),
        ).exec()

    def _add_role(self) -> None:
        self._form(
            "Add manpower role",
            [("code", "Code", QLineEdit()), ("name", "Name", QLineEdit())],
            lambda s, a, v: s.master.add_role(a, v["code"], v["name"]),
        ).exec()

    def _add_target(self) -> None:
        if self._site_id is None:
            return
        site_id = self._site_id
        materials = [("All materials", "")] + [
            (m.label, m.code) for m in self._references().materials if m.uom == "TON"
        ]
        self._form(
            "Add production target",
            [
                ("from_date", "From date (YYYY-MM-DD)", QLineEdit()),
                ("material", "Material", combo(materials)),
                ("daily_tons", "Daily target (t)", QLineEdit()),
            ],
            lambda s, a, v: s.master.set_target(
                a, site_id, v["daily_tons"], v["from_date"], v["material"] or None
            ),
        ).exec()

    def _set_factor(self) -> None:
        self.factor_dialog().exec()

    def factor_dialog(self) -> FormDialog:
        """The "Set conversion factor" form; every problem shows next to its field."""
        materials = [(m.label, m.code) for m in self._references().materials if m.uom == Uom.LOAD]
        scopes = [("All sites", ""), *self._site_options()]
        start = QLineEdit()
        start.setPlaceholderText("YYYY-MM-DD")
        if self._context is not None:
            start.setText(self._context.site.today(self._data.clock.now()).isoformat())
        return self._form(
            "Set conversion factor",
            [
                ("material", "Material", combo(materials)),
                ("site", "Scope", combo(scopes)),
                ("tons_per_load", "Tons per load", QLineEdit()),
                ("valid_from", "Valid from (YYYY-MM-DD)", start),
                ("basis", "Basis (weighbridge sample, survey…)", QLineEdit()),
            ],
            lambda s, a, v: s.factors.set_factor(
                a,
                v["material"],
                v["tons_per_load"],
                v["valid_from"],
                site_code=v["site"] or None,
                basis=v["basis"],
            ),
        )

    def _dispatch_tools_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(16, 16, 16, 16)
        text = label(
            "Before the Feed module, crusher feed could only be booked as a dispatch (to"
            ' "Crusher feed (internal)"), and landfill rejects as a dispatch that counted as'
            " a sale. Pick the owner those rows were booked to and move them: to Feed records,"
            " or to their real fate. Stock does not change; the ledger and the change log stay"
            " exact.",
            "muted",
        )
        text.setWordWrap(True)
        self.reclassify_button = QPushButton("Reclassify dispatches…")
        self.reclassify_button.clicked.connect(self.open_reclassify)
        layout.addWidget(text)
        layout.addWidget(self.reclassify_button)
        layout.addStretch(1)
        return box

    def open_reclassify(self) -> QDialog | None:
        """The reclassify tool for the header's site (``None`` before a site is chosen)."""
        if self._context is None:
            return None
        from deskops_desktop.views.reclassify_dialog import ReclassifyDialog

        dialog = ReclassifyDialog(self._data, self._context.site, self)

        def done(_result: int) -> None:
            if dialog.result_text:
                self.message_posted.emit(dialog.result_text)

        dialog.finished.connect(done)
        dialog.open()
        return dialog

    def _site_options(self) -> list[tuple[str, str]]:
        return [(s.label, s.code) for s in self._sites()]

    def _add_user(self) -> None:
        self._form(
            "Add user",
            [
                ("username", "User name", QLineEdit()),
                ("display_name", "Full name", QLineEdit()),
                ("role", "Role", combo([(r.value.title(), r.value) for r in Role])),
                ("sites", "Sites", checklist(self._site_options(), [])),
                ("password", "Password (8+ characters)", password_edit()),
            ],
            lambda s, a, v: s.users.create(
                a, v["username"], v["password"], Role(v["role"]), v["sites"], v["display_name"]
            ),
        ).exec()

    def _edit_user(self) -> None:
        user_id = self.users.selected_id()
        if user_id is None:
            return
        info = next(u for u in self._users() if u.id == user_id)
        self._form(
            f"Edit user {info.username}",
            [
                ("display_name", "Full name", QLineEdit(info.display_name)),
                (
                    "role",
                    "Role",
                    combo([(r.value.title(), r.value) for r in Role], info.role.value),
                ),
                ("sites", "Sites", checklist(self._site_options(), info.site_codes)),
                ("active", "", active_check(info.active)),
            ],
            lambda s, a, v: s.users.update(
                a,
                user_id,
                role=Role(v["role"]),
                site_codes=v["sites"],
                active=v["active"],
                display_name=v["display_name"],
            ),
        ).exec()

    def _reset_password(self) -> None:
        user_id = self.users.selected_id()
        if user_id is None:
            return
        self._form(
            "Reset password",
            [("password", "New password", password_edit())],
            lambda s, a, v: s.users.set_password(a, user_id, v["password"]),
        ).exec()

    def _unlock(self) -> None:
        user_id = self.users.selected_id()
        if user_id is None:
            return
        self._data.write(lambda s, a: s.users.unlock(a, user_id))


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _cell_text(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    return item.text() if item is not None else ""
