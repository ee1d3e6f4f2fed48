"""Sign-in, first-start setup, password change and the admin's master-data forms."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from deskops_desktop.models.enums import Role
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import AppState, Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.dialogs import ChangePasswordDialog, LoginDialog, SetupDialog
from deskops_desktop.views.form_dialog import FormDialog
from deskops_desktop.views.main import check_connection
from deskops_desktop.views.screenshots import take_screenshots
from deskops_desktop.views.settings_page import SettingsPage


def test_login_says_wrong_without_saying_which(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    dialog = LoginDialog(services.users.authenticate, "admin")
    qtbot.addWidget(dialog)
    dialog.password.setText("wrong-one")
    dialog._on_sign_in()
    assert dialog.error.text() == "Wrong user name or password"
    assert dialog.actor is None
    dialog.username.setText("nobody")
    dialog._on_sign_in()
    assert dialog.error.text() == "Wrong user name or password"
    dialog.username.setText("admin")
    dialog.password.setText("admin-pass-1")
    dialog._on_sign_in()
    assert dialog.actor is not None
    assert dialog.actor.username == "admin"


def test_five_failures_lock_the_account(qtbot: QtBot, services: Services, admin: Actor) -> None:
    dialog = LoginDialog(services.users.authenticate, "admin")
    qtbot.addWidget(dialog)
    for _ in range(5):
        dialog.password.setText("bad-password")
        dialog._on_sign_in()
    dialog.password.setText("admin-pass-1")
    dialog._on_sign_in()
    assert dialog.actor is None
    assert "locked" in dialog.error.text()


def test_setup_creates_the_first_admin_locally(qtbot: QtBot, services: Services) -> None:
    calls: list[tuple[object, ...]] = []

    def create(url: str | None, db_pw: str | None, user: str, name: str, pw: str) -> None:
        calls.append((url, db_pw, user, name))
        services.users.create(None, user, pw, Role.ADMIN, display_name=name)

    dialog = SetupDialog(lambda _u, _p: None, create)
    qtbot.addWidget(dialog)
    assert not dialog.url.isEnabled()
    dialog.password.setText("short")
    dialog.confirm.setText("different")
    dialog._on_create()
    assert dialog.error.text() == "The two passwords differ"
    dialog.confirm.setText("short")
    dialog._on_create()
    assert "at least 8 characters" in dialog.error.text()
    assert services.users.count() == 0
    dialog.password.setText("long-enough-1")
    dialog.confirm.setText("long-enough-1")
    dialog.display_name.setText("Site Admin")
    dialog._on_create()
    assert services.users.count() == 1
    assert calls[-1] == (None, None, "admin", "Site Admin")


def test_setup_remote_requires_url_and_tests_connection(qtbot: QtBot) -> None:
    tried: list[tuple[str, str]] = []

    def probe(url: str, pw: str) -> str | None:
        tried.append((url, pw))
        return "connection refused"

    dialog = SetupDialog(probe, lambda *_a: None)
    qtbot.addWidget(dialog)
    dialog.remote.setChecked(True)
    assert dialog.url.isEnabled()
    dialog.password.setText("long-enough-1")
    dialog.confirm.setText("long-enough-1")
    dialog._on_create()
    assert "server URL" in dialog.error.text()
    dialog.url.setText("postgresql://clerk@hq/deskops")
    dialog.db_password.setText("s3cret")
    dialog._on_test_clicked()
    assert tried == [("postgresql://clerk@hq/deskops", "s3cret")]
    assert dialog.test_result.text() == "Failed: connection refused"


def test_test_connection_reports_problems_without_raising() -> None:
    assert check_connection("mysql://x", "") == "the URL must start with postgresql://"
    problem = check_connection("postgresql+psycopg://nobody@127.0.0.1:1/none", "x")
    assert problem  # a refused connection is a message, not an exception


def test_change_password_dialog(qtbot: QtBot, services: Services, admin: Actor) -> None:
    dialog = ChangePasswordDialog(lambda old, new: services.users.change_password(admin, old, new))
    qtbot.addWidget(dialog)
    dialog.old.setText("admin-pass-1")
    dialog.new.setText("new-pass-123")
    dialog.confirm.setText("new-pass-12")
    dialog._on_ok()
    assert dialog.error.text() == "The two new passwords differ"
    dialog.confirm.setText("new-pass-123")
    dialog._on_ok()
    assert dialog.error.text() == ""
    assert services.users.authenticate("admin", "new-pass-123").username == "admin"


def test_form_dialog_shows_problems_per_field(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    code, name, tz = QLineEdit("X"), QLineEdit(""), QLineEdit("Mars/Olympus")
    dialog = FormDialog(
        "Add site",
        [("code", "Code", code), ("name", "Name", name), ("timezone", "Time zone", tz)],
        lambda v: services.master.add_site(admin, v["code"], v["name"], timezone=v["timezone"]),
    )
    qtbot.addWidget(dialog)
    assert dialog.try_submit() is False
    assert dialog.errors["code"].text() == "must be 3 to 20 characters"
    assert dialog.errors["name"].text() == "is required"
    assert "not an IANA time zone" in dialog.errors["timezone"].text()
    code.setText("JED-07")
    name.setText("Jeddah South")
    tz.setText("Asia/Riyadh")
    assert dialog.try_submit() is True
    assert [s.code for s in services.master.sites(admin)] == ["ALASLA-29", "JED-07"]


def test_settings_page_lists_master_data_and_refreshes(
    qtbot: QtBot, data: DataGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    page = SettingsPage(data, settings)
    qtbot.addWidget(page)
    page.show()  # a hidden page reloads when it is next shown, not at once
    data.subscribe(page.on_changes)
    assert page.materials.table.rowCount() == 17
    assert page.equipment.table.rowCount() == 9
    assert page.roles.table.rowCount() == 5
    assert page.users.table.item(0, 0).text() == "admin"
    data.write(lambda s, a: s.master.add_site(a, "JED-02", "Jeddah North"))
    assert page.sites.table.rowCount() == 2
    # Deactivating asks first; "No" changes nothing.
    page.materials.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.No)
    page._toggle_material()
    assert page.materials.table.item(0, 6).text() == "Yes"
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    page._toggle_material()
    assert page.materials.table.item(0, 6).text() == "No"
    heard: list[AppState] = []
    settings.subscribe(heard.append)
    page.refresh_minutes.setValue(10)
    assert settings.current.dashboard_refresh_minutes == 10
    assert [s.dashboard_refresh_minutes for s in heard] == [10]  # announced, as a new value


def test_screenshots_write_one_png_per_page(
    qtbot: QtBot, services: Services, admin: Actor, tmp_path: Path
) -> None:
    site = services.master.site_by_code(admin, "ALASLA-29")
    services.records.create(
        admin,
        __import__("deskops_desktop.models.enums", fromlist=["Module"]).Module.PRODUCTION,
        site.id,
        {
            "date": site.today(services.store.clock.now()) - timedelta(days=1),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "7",
        },
    )
    paths = take_screenshots(services, tmp_path / "shots", theme="dark", size=(1280, 720))
    names = sorted(p.name for p in paths)
    assert names == sorted(
        f"{k}.png"
        for k in (
            "dashboard",
            "production",
            "dispatch",
            "received",
            "feed",
            "equipment",
            "manpower",
            "inventory",
            "mass-balance",
            "overview",
            "exports",
            "settings",
        )
    )
    from PySide6.QtGui import QImage

    image = QImage(str(tmp_path / "shots" / "production.png"))
    assert (image.width(), image.height()) == (1280, 720)


def test_cli_screenshots_command(
    qtbot: QtBot, sqlite_store: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskops_desktop.cli import main

    url = sqlite_store.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", "boss-pass-123")
    assert main(["--db", url, "user", "add", "chief", "--role", "admin"]) == 0
    monkeypatch.setenv("DESKOPS_USER", "chief")
    monkeypatch.setenv("DESKOPS_PASSWORD", "boss-pass-123")
    out = tmp_path / "cli-shots"
    assert (
        main(["--db", url, "screenshots", str(out), "--theme", "dark", "--size", "1280x720"]) == 0
    )
    assert (out / "dashboard.png").exists()
    assert (out / "settings.png").exists()
    assert main(["--db", url, "screenshots", str(out), "--size", "12x7"]) != 0


def test_cli_self_test_flag(qtbot: QtBot, capsys: pytest.CaptureFixture[str]) -> None:
    from deskops_desktop.cli import main

    status = main(["--self-test"])
    out = capsys.readouterr().out
    assert "Verdict:" in out
    assert "store" in out
    assert status == (0 if "Verdict: PASS" in out else 1)


def test_admin_settings_has_a_backups_tab(
    qtbot: QtBot, data: DataGateway, services: Services
) -> None:
    page = SettingsPage(data, Settings(), services.store)
    qtbot.addWidget(page)
    names = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert names[-1] == "Backups"


def test_setup_says_admin_fields_are_only_for_a_new_server(qtbot: QtBot) -> None:
    dialog = SetupDialog(lambda _u, _p: None, lambda *_a: None)
    qtbot.addWidget(dialog)
    assert dialog.admin_box.title() == "The first administrator"
    dialog.remote.setChecked(True)
    assert "only for a new, empty server" in dialog.admin_box.title()
    dialog.url.setText("postgresql://hq/deskops")
    dialog._on_create()  # no administrator typed: fine for a server that is set up already
    assert dialog.error.text() == ""
