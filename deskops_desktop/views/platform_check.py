"""Before Qt starts on Linux: are the X11 libraries its xcb platform plugin needs installed?

PySide6's wheels carry Qt but not the system's X11/xcb libraries. On a fresh Debian or Ubuntu
desktop several are missing (``libxcb-cursor0``, ``libxcb-icccm4``, …), and Qt then aborts with a
paragraph about "the Qt platform plugin xcb" that names none of them. This module checks the
libraries first — each is loaded with ``ctypes``, which is what the plugin's loader would do —
so the app can print one line naming the packages to install instead. Qt-free by design: it
runs before anything imports PySide6's widgets.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# What Qt 6's xcb plugin (libqxcb.so and libQt6XcbQpa.so.6) links against that PySide6 does not
# ship, and the Debian/Ubuntu package of each (``ldd`` on the plugin, PySide6 6.11).
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(platform: str = sys.platform, env: Mapping[str, str] = os.environ) -> bool:
    """Whether Qt will start on its xcb (X11) plugin here.

    Not on Windows or macOS; not when ``QT_QPA_PLATFORM`` names another plugin (offscreen,
    wayland); not in a Wayland session that does not ask for xcb (Qt picks Wayland there).
    """
    if not platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_xcb_packages(loads: Callable[[str], bool] = _loads) -> list[str]:
    """The Debian/Ubuntu packages whose libraries cannot be loaded, in a stable order."""
    missing = [package for soname, package in XCB_LIBRARIES.items() if not loads(soname)]
    return sorted(set(missing))


def xcb_problem(
    platform: str = sys.platform,
    env: Mapping[str, str] = os.environ,
    loads: Callable[[str], bool] = _loads,
) -> str | None:
    """One line naming what to install, or None when Qt's X11 plugin can start."""
    if not uses_xcb(platform, env):
        return None
    missing = missing_xcb_packages(loads)
    if not missing:
        return None
    return (
        "DeskOps cannot open a window: Qt's X11 libraries are missing; install them with "
        f"'sudo apt-get install {' '.join(missing)}' (Debian/Ubuntu) and start DeskOps again"
    )
