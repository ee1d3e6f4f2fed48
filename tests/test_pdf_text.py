"""Arabic, mixed and emoji text in the pdf export: read back, rendered, and kept by xlsx and csv.

What a reader of the pdf gets:
- ``read_cells`` is a reader that honours ``/ActualText`` (ISO 32000-1 §14.9.4), built on pypdf's
  content-stream parser: each cell is the span's ActualText where there is one, else its glyphs
  through the font's ToUnicode map. It must give back exactly what the clerk typed.
- pypdf's own ``extract_text`` ignores ActualText and reads glyphs only; it must still give the
  typed text of pure Arabic and of left-to-right cells with emoji (ToUnicode maps glyphs back).
- poppler's ``pdftotext`` (when installed) reads left-to-right emoji cells exactly. It does not
  assert Arabic: poppler lays ActualText out left to right and then reverses right-to-left runs
  as if they were glyphs in visual order, so Arabic comes out reversed (a poppler limitation).

Rendered (pypdfium2, so no system poppler is needed): the Arabic cells match a committed
reference rendering (``tests/fixtures/pdf_arabic_cells.png``; after a deliberate change to the
report's look, rewrite it with ``DESKOPS_UPDATE_PDF_REFERENCE=1`` and look at it before
committing), the comparison fails on the old unjoined, reversed drawing, and a word's glyphs are
joined (narrower than its letters drawn apart).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject

from deskops_desktop.export import pdf_text
from deskops_desktop.export.csv_writer import write_csv
from deskops_desktop.export.pdf_writer import write_pdf
from deskops_desktop.export.powerbi_writer import write_powerbi_csv
from deskops_desktop.export.table import Column, ColumnKind, StaticSource
from deskops_desktop.export.xlsx_writer import write_xlsx
from deskops_desktop.models.enums import Module
from deskops_desktop.models.progress import RecordingProgress
from tests.test_export_support import meta

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = FIXTURES / "pdf_arabic_cells.png"
SCALE = 2.0  # 144 dpi
ZWNJ = "\u200c"

ARABIC = "تسليم الموقع"  # site delivery
MIXED = "Order 12 تسليم الموقع (3 trips) 🚚 at ٤٥ km"
RTL_MIXED = "شاحنة رقم 12 Volvo"  # truck no. 12 Volvo: a right-to-left paragraph
EMOJI = "Truck 🚚 ✓ 25 °C ±0.5 t − 2 × 3 – ok → yard"
LIGATURE = "مؤسسة الراجحي للمقاولات"  # lam-alef is one glyph
HARAKAT = "مُحَمَّد"
VARIATION = "⚠️ late, لا بأس"  # U+FE0F asks for emoji presentation: not drawn, still typed
WORD = "تسليم"
APART = ZWNJ.join(WORD)  # the same letters, each drawn on its own (isolated forms)

COLUMNS = (
    Column("Date", "date", ColumnKind.DATE),
    Column("Material Code", "material_code"),
    Column("Owner", "owner", label="Customer"),
    Column("Quantity", "quantity", ColumnKind.QUANTITY),
    Column("Trips", "trips", ColumnKind.INTEGER),
    Column("Notes", "notes"),
)
ROWS = [
    (date(2026, 11, 1), "AGG-3/4", LIGATURE, Decimal("1234.500"), 12, ARABIC),
    (date(2026, 11, 1), "AGG-G1", "Saudi Binladin Group", Decimal("50.000"), 3, MIXED),
    (date(2026, 11, 2), "BASE-CRUSHED", RTL_MIXED, Decimal("7.125"), 1, EMOJI),
    (date(2026, 11, 2), "FINE-WASHED", HARAKAT, Decimal("-2.500"), None, VARIATION),
    (date(2026, 11, 3), "RAW-MIXED", WORD, Decimal("999999.999"), 100, APART),
]
TYPED = [text for row in ROWS for text in (row[2], row[5])]


def source() -> StaticSource:
    return StaticSource(meta(Module.DISPATCH), COLUMNS, ROWS)


@pytest.fixture(name="pdf", scope="module")
def pdf_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "dispatch.pdf"
    return write_pdf(source().table(), path, RecordingProgress()).path


# ------------------------------------------------------------------- an ActualText reader
@dataclass(frozen=True)
class Cell:
    """One string as drawn: where its text line starts (points, page origin bottom left)."""

    x: float
    y: float
    text: str


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    """Code -> text of a simple font's ToUnicode CMap (reportlab writes bfchar entries only)."""
    data = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    pairs = re.findall(r"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]+)>", data.split("beginbfchar", 1)[1])
    return {int(code, 16): bytes.fromhex(text).decode("utf-16-be") for code, text in pairs}


def _raw(string: Any) -> bytes:
    """The bytes of a content-stream string (pypdf decodes some of them as text)."""
    return bytes(string.get_original_bytes() if hasattr(string, "get_original_bytes") else string)


def read_cells(reader: PdfReader, page_number: int = 0) -> list[Cell]:
    """The page's strings as a reader that honours ActualText gets them, one per text position.

    Every ``Tm``/``Td`` starts a new string (the writer moves once per cell); inside a
    ``/Span <</ActualText …>> BDC … EMC`` the glyphs are replaced by the span's text.
    """
    page = reader.pages[page_number]
    fonts = page["/Resources"]["/Font"]
    maps = {name: _to_unicode(ref.get_object()) for name, ref in fonts.items()}
    cells: list[Cell] = []
    line_x = line_y = 0.0
    start: tuple[float, float] | None = None
    parts: list[str] = []
    actual: str | None = None
    font = ""

    def flush() -> None:
        nonlocal start
        if start is not None and parts:
            cells.append(Cell(start[0], start[1], "".join(parts)))
        parts.clear()
        start = None

    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator in (b"BT", b"ET"):
            flush()
            line_x = line_y = 0.0
        elif operator == b"Tm":
            flush()
            line_x, line_y = float(operands[4]), float(operands[5])
        elif operator == b"Td":
            flush()
            line_x, line_y = line_x + float(operands[0]), line_y + float(operands[1])
        elif operator == b"Tf":
            font = str(operands[0])
        elif operator == b"BDC" and isinstance(operands[1], DictionaryObject):
            actual = operands[1].get("/ActualText")
        elif operator == b"EMC" and actual is not None:
            start = start or (line_x, line_y)
            parts.append(str(actual))
            actual = None
        elif operator in (b"Tj", b"TJ"):
            start = start or (line_x, line_y)
            strings = operands[0] if operator == b"TJ" else [operands[0]]
            glyphs = "".join(
                maps[font].get(code, "\ufffd")
                for item in strings
                if not isinstance(item, int | float)
                for code in _raw(item)
            )
            if actual is None:
                parts.append(glyphs)
    flush()
    return cells


def cell_texts(pdf: Path) -> list[str]:
    return [cell.text for cell in read_cells(PdfReader(pdf))]


# ------------------------------------------------------------------------------ reading
def test_a_reader_gets_back_exactly_what_the_clerk_typed(pdf: Path) -> None:
    texts = cell_texts(pdf)
    for typed in TYPED:
        assert typed in texts, f"{typed!r} not read back; cells: {texts}"


def test_glyphs_map_back_to_the_typed_letters_without_actual_text(pdf: Path) -> None:
    """pypdf ignores ActualText: what it finds comes from the glyphs' ToUnicode entries."""
    text = PdfReader(pdf).pages[0].extract_text()
    for typed in (ARABIC, LIGATURE, WORD, EMOJI):
        assert typed in text
    assert not re.search("[\ufb50-\ufeff]", text)  # no presentation forms leak out


def test_only_strings_drawn_other_than_typed_carry_actual_text(pdf: Path) -> None:
    data = b"".join(page.get_contents().get_data() for page in PdfReader(pdf).pages)
    spans = re.findall(rb"/ActualText <FEFF([0-9A-F]*)>", data)
    actual = {bytes.fromhex(span.decode()).decode("utf-16-be") for span in spans}
    assert actual == {t for t in TYPED if t not in ("Saudi Binladin Group", EMOJI)}


def test_to_unicode_maps_are_valid_utf16_and_give_letters(pdf: Path) -> None:
    reader = PdfReader(pdf)
    for name, ref in reader.pages[0]["/Resources"]["/Font"].items():
        data = ref.get_object()["/ToUnicode"].get_object().get_data().decode("latin-1")
        entries = data.split("beginbfchar", 1)[1].split("endbfchar", 1)[0]
        targets = re.findall(r"<[0-9A-F]{2}>\s*<([0-9A-F]+)>", entries)
        assert targets, name
        for target in targets:
            assert len(target) % 4 == 0, f"{name}: <{target}> is not UTF-16"  # reportlab: <1F69A>
            assert not re.search("[\ufb50-\ufeff]", bytes.fromhex(target).decode("utf-16-be"))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_reads_emoji_and_symbols_exactly(pdf: Path) -> None:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert EMOJI in out
    assert "Saudi Binladin Group" in out


def test_every_font_is_embedded_and_none_is_a_standard_font(pdf: Path) -> None:
    reader = PdfReader(pdf)
    seen = set()
    for page in reader.pages:
        resources = [page["/Resources"]]
        xobjects = page["/Resources"].get("/XObject", {})
        resources += [x.get_object()["/Resources"] for x in xobjects.values()]  # page count form
        for resource in resources:
            for ref in resource.get("/Font", {}).values():
                font = ref.get_object()
                seen.add(str(font["/BaseFont"]).split("+", 1)[-1])
                assert font["/Subtype"] == "/TrueType"
                assert "/FontFile2" in font["/FontDescriptor"].get_object()
    assert {"NotoSans-Regular", "NotoSans-Bold", "NotoSansArabic-Regular"} <= seen
    assert {"NotoEmoji-Regular", "NotoSansSymbols2-Regular", "NotoSansMath-Regular"} <= seen
    assert not any("Helvetica" in name for name in seen)


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_pdffonts_lists_every_font_as_embedded(pdf: Path) -> None:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    fonts = out.stdout.splitlines()[2:]
    assert fonts
    for line in fonts:
        _name, kind, _encoding, embedded, subset, unicode, *_ = line.split()
        assert (kind, embedded, subset, unicode) == ("TrueType", "yes", "yes", "yes"), line


def test_numbers_stay_right_aligned_and_arabic_starts_at_the_right(pdf: Path) -> None:
    cells = read_cells(PdfReader(pdf))
    by_text = {cell.text: cell for cell in cells}
    quantities = [f"{row[3]:,.3f}" for row in ROWS]
    rights = {
        round(by_text[q].x + pdf_text.layout(q).width_at(7.5), 2) for q in quantities
    }  # every quantity ends at the same x
    assert len(rights) == 1
    arabic_ends = {
        round(by_text[t].x + pdf_text.layout(t).width_at(7.5), 2) for t in (ARABIC, APART)
    }
    assert len(arabic_ends) == 1  # right-to-left text starts at the cell's right edge
    assert by_text[MIXED].x < by_text[ARABIC].x  # left-to-right text starts at the left


# ---------------------------------------------------------------------------- rendering
def render(pdf: Path) -> Image.Image:
    document = pdfium.PdfDocument(str(pdf))
    try:
        image = document[0].render(scale=SCALE).to_pil().convert("L")
    finally:
        document.close()
    return image


def cell_box(pdf: Path, text: str, *, pad: float = 2.0) -> tuple[int, int, int, int]:
    """The pixel box around one drawn string (its advance, a line of body text high)."""
    cell = next(c for c in read_cells(PdfReader(pdf)) if c.text == text)
    height = float(PdfReader(pdf).pages[0].mediabox.height)
    width = pdf_text.layout(text).width_at(7.5)
    left, right = (cell.x - pad) * SCALE, (cell.x + width + pad) * SCALE
    top, bottom = (height - cell.y - 8.5) * SCALE, (height - cell.y + 3.0) * SCALE
    return round(left), round(top), round(right), round(bottom)


def table_box(pdf: Path) -> tuple[int, int, int, int]:
    """The first four rows of the table, full width: Arabic, mixed, emoji and harakat cells."""
    cells = read_cells(PdfReader(pdf))
    height = float(PdfReader(pdf).pages[0].mediabox.height)
    top_row = next(c for c in cells if c.text == LIGATURE).y
    fourth = next(c for c in cells if c.text == HARAKAT).y
    width = float(PdfReader(pdf).pages[0].mediabox.width)
    # A row is 12 pt high and its baseline 3.5 pt above its bottom.
    return (0, round((height - top_row - 8.4) * SCALE), round(width * SCALE),
            round((height - fourth + 3.4) * SCALE))  # fmt: skip


def ink(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box of the dark pixels (text), ignoring the zebra background."""
    return image.point(lambda v: 255 if v < 128 else 0).getbbox()


def difference(got: Image.Image, expected: Image.Image) -> tuple[float, float]:
    """(share of pixels more than 64 grey levels apart, mean difference in grey levels)."""
    assert got.size == expected.size
    histogram = ImageChops.difference(got, expected).histogram()
    pixels = got.size[0] * got.size[1]
    return sum(histogram[64:]) / pixels, sum(i * n for i, n in enumerate(histogram)) / pixels


def test_rendered_cells_match_the_reference_rendering(pdf: Path) -> None:
    got = render(pdf).crop(table_box(pdf))
    if os.environ.get("DESKOPS_UPDATE_PDF_REFERENCE"):
        FIXTURES.mkdir(exist_ok=True)
        got.save(REFERENCE, optimize=True)
        pytest.skip(f"reference rendering written to {REFERENCE}")
    far, mean = difference(got, Image.open(REFERENCE).convert("L"))
    # Anti-aliasing may differ a little between PDFium builds; a reversed or unjoined word, a
    # box instead of a glyph or a moved cell changes far more than this (next test).
    assert far < 0.01, f"{far:.2%} of the pixels differ by more than 64 levels"
    assert mean < 3.0, f"mean difference {mean:.2f}"


def test_the_reference_comparison_catches_unjoined_reversed_arabic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drawing of issue 14: letters in typed order, each in its isolated form."""
    fonts = pdf_text._fonts()

    def unshaped(text: str, bold: bool = False) -> pdf_text.Line:
        chain = pdf_text.BOLD_CHAIN if bold else pdf_text.REGULAR_CHAIN
        runs = pdf_text._font_runs(text, chain, fonts.cmaps)
        return pdf_text.Line(runs, sum(r.width for r in runs), None, False)

    monkeypatch.setattr(pdf_text, "layout", unshaped)
    broken = write_pdf(source().table(), tmp_path / "broken.pdf", RecordingProgress()).path
    monkeypatch.undo()
    got = render(broken).crop(table_box(broken))
    far, _mean = difference(got, Image.open(REFERENCE).convert("L"))
    assert far > 0.02, f"only {far:.2%} of the pixels differ"


def test_a_word_is_drawn_with_joined_glyphs(pdf: Path) -> None:
    image = render(pdf)
    joined = ink(image.crop(cell_box(pdf, WORD)))
    apart = ink(image.crop(cell_box(pdf, APART)))
    assert joined is not None
    assert apart is not None
    joined_width, apart_width = joined[2] - joined[0], apart[2] - apart[0]
    # Joined forms connect on the baseline; isolated forms each carry their own tails.
    assert joined_width < 0.8 * apart_width, (joined_width, apart_width)


def test_layout_joins_letters_and_orders_them_right_to_left() -> None:
    line = pdf_text.layout(ARABIC)
    assert [run.font for run in line.runs] == [pdf_text.ARABIC]
    drawn = line.runs[0].text
    assert all("\ufb50" <= ch <= "\ufeff" or ch == " " for ch in drawn)  # joined forms
    assert "".join(pdf_text.typed_text(ord(ch)) for ch in reversed(drawn)) == ARABIC
    assert line.actual == ARABIC
    assert line.rtl
    mixed = pdf_text.layout(MIXED)
    assert not mixed.rtl  # the first strong character is Latin
    assert mixed.runs[0].text.startswith("Order 12 ")
    assert [run.font for run in mixed.runs].count(pdf_text.EMOJI) == 1
    assert pdf_text.layout("Ünïcödé Ltd").actual is None  # drawn as typed: no ActualText
    assert pdf_text.plain("AGG-3/4 1,234.500")
    assert not pdf_text.plain("bell\x07")  # control characters go the long way (.notdef)


def test_unknown_characters_fall_back_to_a_box_but_keep_their_text() -> None:
    line = pdf_text.layout("混合 ok")
    assert line.runs[0].font == pdf_text.SANS  # .notdef of the Latin font
    assert line.actual is None  # glyph order is the typed order; ToUnicode keeps the text


def test_to_unicode_cmap_writes_surrogate_pairs_and_ligature_letters() -> None:
    cmap = pdf_text.to_unicode_cmap("X", [0x1F69A, 0xFEFB, 0xFE8E, 0x41])
    assert "<00> <D83DDE9A>" in cmap
    assert "<01> <06440627>" in cmap  # lam-alef -> lam, alef
    assert "<02> <0627>" in cmap  # final alef -> alef
    assert "<03> <0041>" in cmap


# ------------------------------------------------------------------- xlsx, csv: the text
def test_xlsx_keeps_arabic_and_emoji_text_exactly(tmp_path: Path) -> None:
    result = write_xlsx(source().table(), tmp_path / "d.xlsx", RecordingProgress())
    sheet = openpyxl.load_workbook(result.path)["Dispatch"]
    cells = list(sheet.iter_rows(min_row=2, max_row=len(ROWS) + 1, values_only=True))
    assert [(row[2], row[5]) for row in cells] == [(row[2], row[5]) for row in ROWS]


@pytest.mark.parametrize("writer", [write_csv, write_powerbi_csv])
def test_csv_keeps_arabic_and_emoji_text_exactly(tmp_path: Path, writer: Any) -> None:
    result = writer(source().table(), tmp_path / "d.csv", RecordingProgress())
    with result.path.open(encoding="utf-8-sig", newline="") as handle:
        rows: Iterator[list[str]] = csv.reader(handle)
        header = next(rows)
        body = list(rows)
    owner, notes = header.index(next(h for h in header if h.lower() == "owner")), len(header) - 1
    assert [(row[owner], row[notes]) for row in body] == [(row[2], row[5]) for row in ROWS]
