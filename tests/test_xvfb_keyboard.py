"""The keyboard path on a real X server: the app under Xvfb, typed at with real X key events
(xdotool), so the completer popup grabs the keyboard and routes Tab and Enter as on a desktop —
what the offscreen tests cannot show.

A clerk signs in, opens Production with Ctrl+2, and types part of a material's name with Tab,
a highlighted completion, and the only completion with Enter. The test reads the store the app
wrote. Needs ``Xvfb`` and ``xdotool`` (Debian packages; CI installs them); skipped without.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskops_desktop.models.enums import Role
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import open_store

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (apt-get install xvfb xdotool)",
)
PASSWORD = "clerk-pass-123"


def xdotool(display: str, *args: str, timeout: float = 20) -> str:
    done = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.stdout.strip()


def window(display: str, pattern: str) -> str:
    """The id of the visible window whose title matches ``pattern`` (waits for it). ASCII only:
    xdotool's regular expressions do not match the em dash of "Sign in to DeskOps — …"."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = xdotool(display, "search", "--onlyvisible", "--name", pattern).split()
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no window matching '{pattern}' appeared")


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    number = 90 + os.getpid() % 100
    display = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)


def production_rows(path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as con:
        return con.execute(
            "SELECT m.code, p.quantity FROM production p JOIN materials m ON m.id = p.material_id"
            " ORDER BY p.created_at, p.id"
        ).fetchall()


def test_a_clerk_types_parts_of_names_with_real_key_events(x_display: str, tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    store = open_store(f"sqlite:///{db}")
    try:
        services = build_services(store)
        services.users.create(SYSTEM, "boss", "boss-pass-123", Role.ADMIN)
        services.users.create(SYSTEM, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"])
    finally:
        store.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("QT_QPA", "DESKOPS_"))},
        "DISPLAY": x_display,
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "deskops_desktop", "--db", f"sqlite:///{db}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        sign_in = window(x_display, "^Sign in to DeskOps")
        xdotool(x_display, "windowfocus", "--sync", sign_in)
        xdotool(x_display, "type", "--delay", "20", "clerk")
        xdotool(x_display, "key", "Tab")
        xdotool(x_display, "type", "--delay", "20", PASSWORD)
        xdotool(x_display, "key", "Return")
        main = window(x_display, "^DeskOps Desktop$")
        xdotool(x_display, "windowfocus", "--sync", main)
        xdotool(x_display, "key", "ctrl+2")  # Production; the cursor starts on Shift

        def line(material: str, keys: tuple[str, ...], quantity: str) -> None:
            time.sleep(0.8)
            xdotool(x_display, "key", "Tab", "Tab")  # past Shift and Operation
            xdotool(x_display, "type", "--delay", "30", material)
            time.sleep(0.5)  # the completer's popup opens
            for key in keys:
                xdotool(x_display, "key", key)
                time.sleep(0.2)
            xdotool(x_display, "type", "--delay", "30", quantity)
            xdotool(x_display, "key", "Return")

        line("g1", ("Tab",), "12.5")  # a unique name: Tab takes it
        line("inch", ("Down", "Tab"), "3")  # 4 INCH and 6 INCH: the highlighted one
        line("washed", ("Return", "Tab"), "7.25")  # the only completion: Enter takes it
        deadline = time.monotonic() + 20
        expected = [("AGG-G1", 12_500), ("AGG-4INCH", 3_000), ("FINE-WASHED", 7_250)]
        while production_rows(db) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert production_rows(db) == expected
    finally:
        app.terminate()
        try:
            output = app.communicate(timeout=10)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            app.kill()
            output = app.communicate()[0].decode(errors="replace")
    assert "Traceback" not in output, output
