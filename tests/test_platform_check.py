"""A new Linux user without Qt's X11 libraries: one line naming the packages, not a paragraph."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deskops_desktop.views.platform_check import (
    XCB_LIBRARIES,
    missing_xcb_packages,
    uses_xcb,
    xcb_problem,
)

ROOT = Path(__file__).resolve().parent.parent


def test_which_platforms_use_xcb() -> None:
    assert uses_xcb("linux", {})
    assert uses_xcb("linux", {"QT_QPA_PLATFORM": "xcb"})
    assert uses_xcb("linux", {"QT_QPA_PLATFORM": "xcb:no_glx", "WAYLAND_DISPLAY": "wayland-0"})
    assert not uses_xcb("linux", {"QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb("linux", {"QT_QPA_PLATFORM": "wayland"})
    assert not uses_xcb("linux", {"WAYLAND_DISPLAY": "wayland-0"})
    assert not uses_xcb("win32", {})
    assert not uses_xcb("darwin", {"QT_QPA_PLATFORM": "xcb"})


def test_the_line_names_every_missing_package_once() -> None:
    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0"}
    line = xcb_problem("linux", {}, loads=lambda soname: soname not in absent)
    assert line is not None
    assert "\n" not in line
    assert "'sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0'" in line
    assert xcb_problem("linux", {}, loads=lambda _soname: True) is None
    assert xcb_problem("linux", {"QT_QPA_PLATFORM": "offscreen"}, loads=lambda _s: False) is None
    every = missing_xcb_packages(loads=lambda _soname: False)
    assert every == sorted(set(XCB_LIBRARIES.values()))


def test_the_readme_install_line_covers_the_plugin() -> None:
    """The README's apt-get line names every package the check can ask for."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if "apt-get install" in x and "libxcb-cursor0" in x)
    missing = set(XCB_LIBRARIES.values()) - set(line.split())
    assert missing == set()


def test_the_desktop_start_prints_one_line_when_libraries_are_missing(tmp_path: Path) -> None:
    """On this very machine: if a library is missing the start says so in one line; if none is,
    the check stays silent (the GUI tests then start Qt as usual)."""
    missing = missing_xcb_packages()
    if not missing:
        assert xcb_problem("linux", {"QT_QPA_PLATFORM": "xcb"}) is None
        return
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": ":97",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "deskops_desktop"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(package in lines[0] for package in missing)
    assert "platform plugin" not in result.stderr
