"""Render ``resources/icons/app.svg`` to the icon files a build needs: ``.ico`` and ``.png``.

The SVG stays the one source of the app icon; ``deskops.spec`` runs this at build time (with
Qt's offscreen platform, so it works on a build server without a display) and the Inno Setup
script takes the same ``.ico``.

    python packaging/make_icon.py OUT_DIR    ->  OUT_DIR/deskops.ico, OUT_DIR/deskops.png

The ``.ico`` holds PNG-compressed images of every size Windows asks for (16…256 px), the
format Windows has read since Vista. Qt's own ICO writer stores one size only, so the few bytes
of ICONDIR/ICONDIRENTRY headers are written here.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "app.svg"


def render_png(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file (ICONDIR + one ICONDIRENTRY per size + the PNG images)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    entries = b""
    images = b""
    offset = 6 + 16 * len(pngs)
    for size, png in sorted(pngs.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        images += png
        offset += len(png)
    return header + entries + images


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "build/icons")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(argv[:1])
    pngs = {size: render_png(size) for size in SIZES}
    (out / "deskops.ico").write_bytes(ico_bytes(pngs))
    (out / "deskops.png").write_bytes(pngs[256])
    del app
    print(f"icons written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
