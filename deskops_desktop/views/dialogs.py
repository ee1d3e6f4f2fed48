"""First-start setup, sign-in, change password, and the unexpected-error dialog."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QWidget,
)

from deskops_desktop.models.errors import DeskOpsError, ValidationError
from deskops_desktop.services.access import Actor
from deskops_desktop.views.widgets import (
    column,
    dialog_buttons,
    error_label,
    form_rows,
    label,
    password_edit,
)

log = logging.getLogger(__name__)


class LoginDialog(QDialog):
    """Username and password; a failure never says which of the two was wrong."""

    def __init__(
        self,
        authenticate: Callable[[str, str], Actor],
        username: str = "",
        store_label: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to DeskOps")
        self._authenticate = authenticate
        self.actor: Actor | None = None
        self.username = QLineEdit(username)
        self.username.setObjectName("login_username")
        self.password = password_edit()
        self.password.setObjectName("login_password")
        self.error = error_label()
        form = form_rows([("User name", self.username), ("Password", self.password)])
        buttons = dialog_buttons(
            self, QDialogButtonBox.StandardButton.Ok, self._on_sign_in, "Sign in"
        )
        parts: list[QWidget | QLayout] = [label("DeskOps Desktop", "title")]
        if store_label:
            where = label(f"Store: {store_label}", "muted")
            where.setWordWrap(True)
            parts.append(where)
        column(self, [*parts, form, self.error, buttons])
        self.setMinimumWidth(380)
        (self.password if username else self.username).setFocus()

    def _on_sign_in(self) -> None:
        try:
            self.actor = self._authenticate(self.username.text(), self.password.text())
        except DeskOpsError as exc:
            self.error.setText(str(exc).capitalize())
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()


class SetupDialog(QDialog):
    """First start: choose the store (this computer, a PostgreSQL server, or a remote-site
    laptop of one) and create the admin — or, for a laptop, join with the clerk's own sign-in.

    ``test_connection(url, password)`` returns None when the server answers, else the reason.
    ``create_admin(url_or_None, password_or_None, username, display_name, admin_password)``
    performs the setup and raises ``DeskOpsError``/``ValidationError`` on problems.
    ``join_laptop(server_url, username, password, site_codes)`` makes this computer's store a
    replica of those sites (the first download, with its own progress) and raises the same.
    """

    def __init__(
        self,
        test_connection: Callable[[str, str], str | None],
        create_admin: Callable[[str | None, str | None, str, str, str], None],
        parent: QWidget | None = None,
        *,
        join_laptop: Callable[[str, str, str, list[str]], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to DeskOps — first start")
        self._test = test_connection
        self._create = create_admin
        self._join = join_laptop
        self.local = QRadioButton("This computer (recommended; nothing to configure)")
        self.remote = QRadioButton("Company PostgreSQL server")
        self.laptop = QRadioButton(
            "Remote site laptop (works offline, syncs with the company server)"
        )
        self.laptop.setVisible(join_laptop is not None)
        self.local.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.remote)
        group.addButton(self.laptop)
        self.sites = QLineEdit()
        self.sites.setObjectName("setup_sites")
        self.sites.setPlaceholderText("the site codes this laptop keeps, e.g. NORTH-01, NORTH-02")
        self.url = QLineEdit()
        self.url.setPlaceholderText("postgresql://clerk@hq-server/deskops")
        self.db_password = password_edit()
        self.db_password.setPlaceholderText("stored in the system keyring, never in a file")
        self.test_button = QPushButton("Test connection")
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        self.remote_form = form_rows(
            [
                ("Server URL", self.url),
                ("Database password", self.db_password),
                ("Sites", self.sites),
            ]
        )
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        self.remote_form.addRow("", test_row)
        store_box = QGroupBox("Where DeskOps keeps its data")
        column(store_box, [self.local, self.remote, self.laptop, self.remote_form])

        self.username = QLineEdit("admin")
        self.display_name = QLineEdit()
        self.password = password_edit()
        self.confirm = password_edit()
        admin_box = QGroupBox("The first administrator")
        self.admin_box = admin_box
        self.admin_form = form_rows(
            [
                ("User name", self.username),
                ("Full name", self.display_name),
                ("Password (8+ characters)", self.password),
                ("Repeat password", self.confirm),
            ],
            admin_box,
        )
        self.error = error_label()
        buttons = dialog_buttons(
            self, QDialogButtonBox.StandardButton.Ok, self._on_create, "Create and start"
        )
        column(self, [store_box, admin_box, self.error, buttons])
        self.local.toggled.connect(self._on_choice_toggled)
        self.laptop.toggled.connect(self._on_choice_toggled)
        self.test_button.clicked.connect(self._on_test_clicked)
        self._on_choice_toggled(True)
        self.setMinimumWidth(520)

    def _on_choice_toggled(self, _checked: bool) -> None:
        remote, laptop = self.remote.isChecked(), self.laptop.isChecked()
        self.url.setEnabled(remote or laptop)
        for widget in (self.db_password, self.test_button):
            widget.setEnabled(remote)
        self.remote_form.setRowVisible(self.db_password, not laptop)
        self.remote_form.setRowVisible(self.sites, laptop)
        # A laptop joins as the clerk's own head-office user: no administrator is made here.
        for widget in (self.display_name, self.confirm):
            self.admin_form.setRowVisible(widget, not laptop)
        if laptop and self.username.text() == "admin":
            self.username.clear()
        # A company server is usually set up already (deskops db init-server): then there is no
        # first administrator to create here, and the clerk signs in with their own account.
        if laptop:
            title = "Your head-office sign-in (your own DeskOps user, assigned to these sites)"
        elif remote:
            title = "The first administrator (only for a new, empty server; otherwise leave empty)"
        else:
            title = "The first administrator"
        self.admin_box.setTitle(title)
        self.button_ok().setText("Join and download" if laptop else "Create and start")

    def button_ok(self) -> QPushButton:
        box = self.findChild(QDialogButtonBox)
        assert isinstance(box, QDialogButtonBox)
        return box.button(QDialogButtonBox.StandardButton.Ok)

    def _on_test_clicked(self) -> None:
        problem = self._test(self.url.text().strip(), self.db_password.text())
        self.test_result.setText("Connected ✓" if problem is None else f"Failed: {problem}")
        self.test_result.setProperty("role", "" if problem is None else "error")
        self.test_result.style().polish(self.test_result)

    def _on_create(self) -> None:
        self.error.setText("")
        if self.laptop.isChecked():
            self._on_join()
            return
        if self.password.text() != self.confirm.text():
            self.error.setText("The two passwords differ")
            return
        url = self.url.text().strip() if self.remote.isChecked() else None
        if self.remote.isChecked() and not url:
            self.error.setText("Enter the server URL, or choose This computer")
            return
        try:
            self._create(
                url,
                self.db_password.text() or None,
                self.username.text(),
                self.display_name.text(),
                self.password.text(),
            )
        except ValidationError as exc:
            self.error.setText(
                "\n".join(
                    f"{p.field.replace('_', ' ').capitalize()}: {p.message}" for p in exc.problems
                )
            )
            return
        except DeskOpsError as exc:
            self.error.setText(str(exc))
            return
        self.accept()

    def _on_join(self) -> None:
        url = self.url.text().strip()
        codes = [c.strip().upper() for c in self.sites.text().replace(";", ",").split(",")]
        codes = [c for c in codes if c]
        problems = [
            text
            for text, bad in (
                ("Server URL: is required (head office gives it to you)", not url),
                ("Sites: give at least one site code", not codes),
                ("User name: is required", not self.username.text().strip()),
                ("Password: is required", not self.password.text()),
            )
            if bad
        ]
        if problems:
            self.error.setText("\n".join(problems))
            return
        assert self._join is not None
        try:
            self._join(url, self.username.text().strip(), self.password.text(), codes)
        except DeskOpsError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class ChangePasswordDialog(QDialog):
    """The signed-in user's own password: old once, new twice; problems shown next to the fields."""

    def __init__(self, change: Callable[[str, str], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change password")
        self._change = change
        self.old = password_edit()
        self.new = password_edit()
        self.confirm = password_edit()
        form = form_rows(
            [
                ("Current password", self.old),
                ("New password", self.new),
                ("Repeat new password", self.confirm),
            ]
        )
        self.error = error_label()
        buttons = dialog_buttons(self, QDialogButtonBox.StandardButton.Ok, self._on_ok)
        column(self, [form, self.error, buttons])

    def _on_ok(self) -> None:
        self.error.setText("")
        if self.new.text() != self.confirm.text():
            self.error.setText("The two new passwords differ")
            return
        try:
            self._change(self.old.text(), self.new.text())
        except DeskOpsError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


def install_excepthook(log_file: Path) -> None:
    """Unexpected exceptions are logged and shown with the log path; the app keeps running."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        if QApplication.instance() is None:
            sys.__excepthook__(kind, value, tb)
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Something went wrong",
            f"DeskOps hit an unexpected error and kept running.\n\n{kind.__name__}: {value}\n\n"
            f"Details are in the log file:\n{log_file}",
        )
        box.setDetailedText("".join(traceback.format_exception(kind, value, tb)))
        box.exec()

    sys.excepthook = hook
