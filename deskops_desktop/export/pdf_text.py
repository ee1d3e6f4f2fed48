"""Text for the pdf report: embedded fonts, font fallback, Arabic shaping and right-to-left order.

A pdf shows glyphs, not text, so the writer has to do what a text engine would: pick a font that
has each character, join Arabic letters, and put right-to-left runs in visual order. Per string:

1. Arabic letters become their joined forms with ``arabic-reshaper``. The result is Unicode's
   presentation forms (U+FB50–U+FEFF): one code point per glyph, so reportlab's plain TrueType
   path draws them with exact widths, and each glyph maps back to a letter. HarfBuzz through
   reportlab was measured as the alternative (bench/README.md, "Arabic, emoji and embedded
   fonts"): it looks the same for the text clerks type, is 1.6x slower, gives glyphs without a
   code point (extracted as private-use characters) and adds 4.6 MB to the bundle.
2. ``python-bidi`` (the Unicode Bidirectional Algorithm) puts the string in visual order. The
   paragraph direction is that of the first strong character, as in a spreadsheet cell.
3. Each character goes to the first font of the chain that has it (Latin, Arabic, math, symbols,
   emoji). Marks stay with their letter; spaces and punctuation stay in the Latin or Arabic font
   of the run they are in.

Invariants a newcomer must not break:

- Every glyph comes from the fonts in ``resources/fonts`` and is embedded (subset). No standard
  PDF font is ever used: an unembedded Helvetica draws nothing outside Latin-1.
- The ToUnicode map of each embedded font maps glyphs back to the letters the clerk typed
  (presentation forms to their letters, lam-alef to both letters) and writes code points outside
  the BMP as UTF-16 surrogate pairs. reportlab writes those as five hex digits, which readers
  reject, and its map would give presentation forms.
- A string whose glyphs are not the typed characters in typed order (reordered, shaped, or with
  invisible characters removed) carries the typed string as ``/ActualText`` (ISO 32000-1
  §14.9.4). A reader that honours it copies and searches exactly what the clerk typed. (poppler's
  pdftotext lays ActualText out left to right and then reverses Arabic as if it were glyphs in
  visual order: its Arabic comes out reversed. pypdf ignores ActualText and reads the glyphs.)
- Printable ASCII skips all of this (``plain``) and the writer puts it into the page without
  reportlab's per-character lookups: the Latin fonts must keep every printable ASCII glyph
  (checked when they are registered).
- This module and the writer are Qt-free.
"""

from __future__ import annotations

import sys
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from arabic_reshaper import ArabicReshaper  # type: ignore[import-untyped]
from bidi import get_base_level, get_display  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import SUBSETN, TTFont  # type: ignore[import-untyped]

SANS, SANS_BOLD = "DeskOps-Sans", "DeskOps-Sans-Bold"
ARABIC, ARABIC_BOLD = "DeskOps-Arabic", "DeskOps-Arabic-Bold"
MATH, SYMBOLS, EMOJI = "DeskOps-Math", "DeskOps-Symbols", "DeskOps-Emoji"

# Font name -> file in resources/fonts. Where each comes from and why: resources/fonts/README.md.
FONT_FILES = {
    SANS: "NotoSans-Regular.ttf",
    SANS_BOLD: "NotoSans-Bold.ttf",
    ARABIC: "NotoSansArabic-Regular.ttf",
    ARABIC_BOLD: "NotoSansArabic-Bold.ttf",
    MATH: "NotoSansMath-Regular.ttf",
    SYMBOLS: "NotoSansSymbols2-Regular.ttf",
    EMOJI: "NotoEmoji-Regular.ttf",
}
# Fallback order: a character is drawn in the first font of the chain that has it.
REGULAR_CHAIN = (SANS, ARABIC, MATH, SYMBOLS, EMOJI)
BOLD_CHAIN = (SANS_BOLD, ARABIC_BOLD, MATH, SYMBOLS, EMOJI)
_TEXT_FONTS = frozenset((SANS, SANS_BOLD, ARABIC, ARABIC_BOLD))

# Characters that are never drawn: zero-width joiners (used by the reshaper first), directional
# controls (used by the bidi algorithm first), variation selectors, the BOM, the soft hyphen and
# emoji tag characters.
_INVISIBLE = frozenset(
    (
        *(0x00AD, 0x034F, 0x061C, 0x180E, 0xFEFF),
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        *range(0xFE00, 0xFE10),
        *range(0xE0000, 0xE0080),
    )
)
_RTL_CLASSES = frozenset(("R", "AL"))
_ARABIC_LETTERS = (0x0600, 0x08FF)
_PRESENTATION_FORMS = (0xFB50, 0xFEFF)
_LAYOUT_CACHE = 8192
_PRINTABLE_ASCII = frozenset(range(0x20, 0x7F))


@dataclass(frozen=True, slots=True)
class Line:
    """A string laid out for drawing.

    Attributes:
        runs: the runs, left to right.
        width: the total advance in 1/1000 of the font size (multiply by size / 1000).
        actual: the typed string when the glyphs are not it (drawn as ``/ActualText``), else None.
        rtl: whether the paragraph direction is right to left (its start edge is the right one).
    """

    runs: tuple[Run, ...]
    width: float
    actual: str | None
    rtl: bool

    def width_at(self, size: float) -> float:
        return self.width * size / 1000


@dataclass(frozen=True, slots=True)
class Run:
    """Characters drawn in one font, in visual order; ``width`` in 1/1000 of the font size."""

    font: str
    text: str
    width: float


def font_dir() -> Path:
    """``resources/fonts`` in a checkout, or inside the frozen bundle (deskops.spec ships it)."""
    frozen = getattr(sys, "_MEIPASS", None)
    base = Path(frozen) if frozen else Path(__file__).resolve().parents[2]
    return base / "resources" / "fonts"


class _EmbeddedFont(TTFont):  # type: ignore[misc]
    """reportlab's TrueType font with a ToUnicode map that gives back the typed letters.

    reportlab builds one ToUnicode map per 256-glyph subset when the document is saved; this
    rewrites each one after it is built (same subsets, same codes, other Unicode values).
    """

    def addObjects(self, doc: Any) -> None:  # reportlab's name
        subsets = [list(subset) for subset in self._assignState(doc).subsets]
        super().addObjects(doc)
        face = self.face
        for n, subset in enumerate(subsets):
            base = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            # KeyError here means reportlab changed how it names the map: better loud than a
            # file whose Arabic copies out as presentation forms.
            doc.idToObject["toUnicodeCMap:" + base].content = to_unicode_cmap(base, subset)


def to_unicode_cmap(name: str, subset: Sequence[int]) -> str:
    """A ToUnicode CMap for one subset: code ``i`` is the glyph of ``subset[i]``."""
    pairs = [
        f"<{i:02X}> <{typed_text(code).encode('utf-16-be').hex().upper()}>"
        for i, code in enumerate(subset)
    ]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            f"/CIDSystemInfo << /Registry ({name}) /Ordering ({name}) /Supplement 0 >> def",
            f"/CMapName /{name} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(pairs)} beginbfchar",
            *pairs,
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def typed_text(code: int) -> str:
    """What a glyph drawn for ``code`` stands for: presentation forms give back their letters."""
    char = chr(code)
    if _PRESENTATION_FORMS[0] <= code <= _PRESENTATION_FORMS[1]:
        # NFKC spells a joined form as its letter (U+FEE1 -> U+0645), lam-alef as both letters;
        # the isolated forms of marks come with a space in front, which is not in the glyph.
        return unicodedata.normalize("NFKC", char).strip() or char
    return char


@dataclass(frozen=True, slots=True)
class _Fonts:
    cmaps: dict[str, frozenset[int]]
    reshaper: Any


_REGISTERING = threading.Lock()


def _fonts() -> _Fonts:
    """The shipped fonts, registered with reportlab once per process (exports run on threads:
    two registrations would leave one canvas holding a font object the registry replaced)."""
    with _REGISTERING:
        return _load_fonts()


@lru_cache(maxsize=1)
def _load_fonts() -> _Fonts:
    """Register the shipped fonts with reportlab; raises if one is missing."""
    folder = font_dir()
    cmaps: dict[str, frozenset[int]] = {}
    for name, filename in FONT_FILES.items():
        path = folder / filename
        if not path.is_file():
            raise FileNotFoundError(f"pdf font missing: {path} (resources/fonts is not shipped)")
        font = _EmbeddedFont(name, str(path), asciiReadable=1, shapable=False)
        pdfmetrics.registerFont(font)
        cmaps[name] = frozenset(font.face.charToGlyph)
    for name in (SANS, SANS_BOLD):  # plain(): the writer draws printable ASCII without lookups
        if missing := _PRINTABLE_ASCII - cmaps[name]:
            raise ValueError(f"{FONT_FILES[name]} lacks {''.join(map(chr, sorted(missing)))!r}")
    # Harakat are kept: the clerk typed them. Ligatures: the reshaper's defaults (lam-alef and
    # the word Allah), all of which the Arabic font has.
    reshaper = ArabicReshaper(configuration={"delete_harakat": False})
    return _Fonts(cmaps, reshaper)


def register_fonts() -> None:
    """Make the report's font names usable on a canvas (idempotent)."""
    _fonts()


def plain(text: str) -> bool:
    """Whether ``text`` is drawn as typed in the base font, with no shaping or fallback.

    Printable ASCII is (the Latin fonts have all of it): that keeps numbers, dates and codes —
    most of a report — on the fast path.
    """
    return text.isascii() and text.isprintable()


@lru_cache(maxsize=_LAYOUT_CACHE)
def layout(text: str, bold: bool = False) -> Line:
    """``text`` shaped, in visual order and split into font runs (cached: names repeat)."""
    fonts = _fonts()
    chain = BOLD_CHAIN if bold else REGULAR_CHAIN
    if plain(text):
        width = _advance(chain[0], text)
        return Line((Run(chain[0], text, width),), width, None, False)
    rtl = any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in text)
    shaped = text
    if any(_ARABIC_LETTERS[0] <= ord(ch) <= _ARABIC_LETTERS[1] for ch in text):
        shaped = fonts.reshaper.reshape(text)
    visual = get_display(shaped) if rtl else shaped
    visual = "".join(ch for ch in visual if ord(ch) not in _INVISIBLE)
    runs = _font_runs(visual, chain, fonts.cmaps)
    width = sum(run.width for run in runs)
    return Line(runs, width, None if visual == text else text, rtl and get_base_level(text) == 1)


def _font_runs(
    visual: str, chain: Sequence[str], cmaps: dict[str, frozenset[int]]
) -> tuple[Run, ...]:
    pieces: list[tuple[str, list[str]]] = []
    current = chain[0]
    for ch in visual:
        code = ord(ch)
        category = unicodedata.category(ch)
        if code in cmaps[current] and (
            category[0] == "M" or (category[0] in "PZ" and current in _TEXT_FONTS)
        ):
            # Marks stay on their letter; spaces and punctuation stay in the text font they are
            # in (not in the emoji font, whose space is an emoji wide).
            face = current
        else:
            face = next((f for f in chain if code in cmaps[f]), chain[0])  # else .notdef
        if pieces and pieces[-1][0] == face:
            pieces[-1][1].append(ch)
        else:
            pieces.append((face, [ch]))
        current = face
    runs = []
    for face, chars in pieces:
        text = "".join(chars)
        runs.append(Run(face, text, _advance(face, text)))
    return tuple(runs)


def _advance(font: str, text: str) -> float:
    return float(pdfmetrics.stringWidth(text, font, 1000))


def actual_text_begin(text: str) -> str:
    """The content-stream operator that opens a span whose text is ``text``."""
    return f"/Span <</ActualText <FEFF{text.encode('utf-16-be').hex().upper()}>>> BDC"


ACTUAL_TEXT_END = "EMC"
