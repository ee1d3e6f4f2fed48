"""``deskops screenshots DIR``: one PNG per page, for the README and for checking the look."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.app_state import AppState, Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.views.main import application, build_window, sync_desk_for
from deskops_desktop.views.shell import PAGES
from deskops_desktop.views.theme import apply_theme


def _settle(app: QApplication, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QCoreApplication.sendPostedEvents()


def take_screenshots(
    services: Services,
    out_dir: Path,
    *,
    theme: str = "light",
    size: tuple[int, int] = (1366, 800),
    actor: Actor = SYSTEM,
    site_code: str | None = None,
) -> list[Path]:
    app = application()
    apply_theme(app, theme)
    site_id = services.master.site_by_code(actor, site_code).id if site_code else None
    settings = Settings(AppState(theme=theme, animations=False, selected_site_id=site_id))
    window = build_window(services, actor, settings, sync_desk_for(services.store))
    if window.sync is not None:
        window.sync.timer.stop()  # pictures, not syncs: the network is not touched
    window.resize(*size)
    window.show()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for key, _label in PAGES:
        window.show_page(key)
        # A real screen holds a maximised window at its size; offscreen, a dock that opens
        # would grow the window instead, so the size is put back as the screen would.
        window.resize(*size)
        _settle(app)
        path = out_dir / f"{key}.png"
        window.grab().save(str(path))
        written.append(path)
    if window.sync is not None:
        window.export_panel.hide()
        window.open_sync_settings()
        window.resize(*size)
        _settle(app)
        path = out_dir / "settings-sync.png"
        window.grab().save(str(path))
        written.append(path)
    window.close()
    return written
