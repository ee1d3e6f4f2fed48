"""Bulk import of records from spreadsheets: .csv, .xlsx and pasted tab-separated text.

The clerks' real competitor is the spreadsheet they already keep, so an import must accept what
Excel writes (UTF-8 with or without BOM, typed xlsx cells, headers in any case, extra columns) and
refuse everything else with a sentence a clerk can act on.

Invariants a newcomer must not break:
- **Blank rows are skipped**: a row with nothing in any recognised column is not data (Excel
  leaves formatted empty rows and formula columns below a table).
- **All or nothing.** Rows go to ``RecordService.create_many`` in one transaction; one bad row
  means nothing is written, and *every* bad row is reported.
- **Row numbers are the sheet's own.** ``Problem.row`` is the row number the clerk sees in Excel:
  the header is row 1, so the first data row is row 2; skipped blank rows keep their numbers (a
  problem on the 10th line of the file says "row 10"). For pasted text without a header line the
  first pasted line is row 1. ``Problem.field`` is the column *header* (``Material Code``), not
  the internal key, so messages read ``row 7, Material Code: unknown material code 'X'``.
- **Hostile input never escapes as a traceback.** Anything that cannot be read as a table of the
  module (binary, empty, not UTF-8, missing columns, too large, a zip bomb posing as .xlsx) raises
  ``ImportFileError``; rows that break the rules raise ``ImportRejected``. Both are
  ``DeskOpsError``s.
- **Two xlsx readers, one table.** python-calamine (Rust) reads a sheet 7-9 times faster than
  openpyxl (bench/README.md, "Imports"), so it reads every workbook it can, *exactly* as openpyxl
  would: its cells are turned into openpyxl's values (``_calamine_rows``), and
  tests/test_xlsx_reading.py compares the two cell by cell. openpyxl stays the reference and
  the fallback: for sheets with Excel error cells (calamine reads ``#DIV/0!`` as an empty cell),
  sheets whose rectangle would not fit in memory (calamine holds the whole rectangle), and
  anything unusual or broken (openpyxl then words the message). Never hand calamine a sheet
  ``_calamine_rows`` has not scanned.
- **Excel error cells are problems** (``row 7, Quantity: shows the Excel error #DIV/0!; …``),
  all of them listed at once, before the rows are validated: the reader cannot validate, and a
  broken formula usually means more values to fix.
- Qt-free, like every service.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeElementTree  # type: ignore[import-untyped]

from deskops_desktop.models.enums import RECORD_MODULES, Module, Role
from deskops_desktop.models.errors import DeskOpsError, PermissionDenied, Problem, ValidationError
from deskops_desktop.models.modules import SPECS, FieldSpec, Kind, ModuleSpec
from deskops_desktop.services.access import Actor
from deskops_desktop.services.changes import Changed
from deskops_desktop.services.records import RecordService

if TYPE_CHECKING:
    from python_calamine import CalamineSheet

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Largest file accepted; far above a year of any site's records, far below a memory problem."""
MAX_ROWS = 1_000_000
"""Most data rows in one import (Excel itself stops at 1,048,576 rows)."""
MAX_XLSX_UNPACKED_BYTES = 1024 * 1024 * 1024
"""Most bytes an .xlsx may unpack to: a zip bomb is refused before a single byte is inflated."""
MAX_XLSX_RATIO = 200
"""Most compression ratio of one large workbook part; real sheet XML stays well below it."""
MAX_CALAMINE_CELLS = 8_000_000
"""Largest sheet rectangle (rows × columns, empty cells included) read with python-calamine.

calamine holds the whole rectangle in memory, about 64 bytes a cell while it reads (measured:
40 MB for 100,000 rows × 6 columns), so this is about 500 MB — 1,000,000 rows of 8 columns.
A bigger sheet streams through openpyxl instead: slower, but flat in memory. Without the limit a
5 KB file with one stray cell at XFD1048576 asks calamine for 550 GB and ends the process.
"""

CSV_SUFFIXES = frozenset({".csv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
TSV_SUFFIXES = frozenset({".tsv", ".tab"})

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
_SNIFF_BYTES = 64 * 1024
_GUARDED_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(DeskOpsError):
    """The input cannot be read as a table of the module; nothing was written."""


class ImportRejected(ValidationError):
    """The table was read but some rows break the rules; nothing was written.

    ``problems`` name the sheet row and the column header, one entry per bad cell.
    """


@dataclass(frozen=True)
class SheetData:
    """A table read from a file or the clipboard, mapped onto one module's fields.

    ``rows`` are keyed by ``FieldSpec.key`` (ready for ``create_many``); ``row_numbers[i]`` is
    the sheet row of ``rows[i]``. ``ignored`` lists the extra headers that were skipped, so the
    UI can say which columns did not count.
    """

    module: Module
    rows: tuple[Mapping[str, object], ...]
    row_numbers: tuple[int, ...]
    columns: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    has_header: bool = True


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote: how many records of which module, from where, what was ignored.

    An import returns ``Changed[ImportReport]``, like every write (the change-set says which
    areas the app must refresh).
    """

    module: Module
    site_id: str
    count: int
    source: str = ""
    ignored: tuple[str, ...] = ()


def module_from_name(name: str) -> Module:
    """``production`` … ``adjustments`` (any case; ``adjustment`` too) to the ``Module``."""
    wanted = name.strip().lower()
    for module in RECORD_MODULES:
        if wanted in (module.value, module.value.rstrip("s")):
            return module
    choices = ", ".join(m.value for m in RECORD_MODULES)
    raise ImportFileError(f"unknown module '{name}'; choose one of {choices}")


# ---------------------------------------------------------------------------- reading
def read_table(path: str | Path, module: Module) -> SheetData:
    """Read ``path`` by its extension (.csv, .xlsx/.xlsm, .tsv) into rows of ``module``."""
    file = Path(path)
    suffix = file.suffix.lower()
    _check_file(file)
    if suffix in CSV_SUFFIXES:
        return read_csv(file, module)
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(file, module)
    if suffix in TSV_SUFFIXES:
        return read_csv(file, module, delimiter="\t")
    if suffix == ".xls":
        raise ImportFileError(
            f"{file.name}: old Excel .xls files are not supported; in Excel use "
            "Save As > Excel Workbook (.xlsx) or CSV UTF-8"
        )
    raise ImportFileError(
        f"{file.name}: unsupported file type '{suffix or '(none)'}'; use .csv or .xlsx"
    )


def read_csv(path: str | Path, module: Module, *, delimiter: str = ",") -> SheetData:
    """RFC 4180 csv in UTF-8 (a BOM is allowed and dropped), streamed row by row."""
    file = Path(path)
    _check_file(file)
    with file.open("rb") as raw:
        return _parse_delimited(raw, module, delimiter, name=file.name)


def parse_tsv(text: str, module: Module) -> SheetData:
    """Tab-separated text as Excel puts it on the clipboard (cells with tabs/newlines quoted).

    The header line is optional: when no cell of the first non-blank line is a known header, the
    columns are taken in the module's field order (``SPECS[module].headers``) and the first
    pasted line is row 1.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ImportFileError("the pasted text is too large; import it from a file instead")
    if "\x00" in text:
        raise ImportFileError("the pasted text contains binary data (NUL characters)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    return _guarded_rows(reader, module, name="pasted text", header_optional=True)


def read_xlsx(path: str | Path, module: Module) -> SheetData:
    """The first worksheet of an .xlsx, typed cells kept (dates, numbers) for the validators.

    Formulas count by the value the spreadsheet saved with them (a formula openpyxl wrote, never
    opened in Excel, has none and reads as empty). Cells showing an Excel error refuse the
    import, every one of them named (``ImportRejected``).
    """
    file = Path(path)
    _check_file(file)
    _check_zip(file)
    rows = _calamine_rows(file)
    if rows is None:
        return _read_xlsx_with_openpyxl(file, module)
    try:
        return _guarded_rows(rows, module, name=file.name, header_optional=False)
    except DeskOpsError:
        raise
    except Exception as exc:  # pragma: no cover - the sheet was read and scanned already
        raise ImportFileError(f"{file.name} could not be read ({_reason(exc)})") from None


def _read_xlsx_with_openpyxl(file: Path, module: Module) -> SheetData:
    """The reference reader (streaming, flat in memory), for what calamine must not read."""
    # Imported lazily: openpyxl costs ~0.2 s to import and csv users never need it.
    import openpyxl  # type: ignore[import-untyped]

    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # a corrupt workbook can raise almost anything from its parser
        raise ImportFileError(
            f"{file.name} is not a readable Excel workbook ({_reason(exc)})"
        ) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(f"{file.name} has no worksheet")
        sheet = workbook.worksheets[0]
        # The <dimension> tag may lie (some generators write A1); trust the rows themselves,
        # or rows past the stated size would be dropped without a word.
        sheet.reset_dimensions()
        rows = _openpyxl_rows(sheet.iter_rows(min_row=1, min_col=1))
        return _guarded_rows(rows, module, name=file.name, header_optional=False)
    except DeskOpsError:
        raise
    except Exception as exc:  # malformed sheet XML, forbidden DTDs/entities (defusedxml), …
        raise ImportFileError(f"{file.name} could not be read ({_reason(exc)})") from None
    finally:
        workbook.close()


# -------------------------------------------------------------------------- importing
class ImportService:
    """Reads a table and writes it through ``RecordService.create_many`` (one transaction).

    Role checks stay in ``RecordService``; the only one repeated here is the module-wide refusal
    of adjustments to operators, so a clerk reads one sentence instead of one per row.
    """

    def __init__(self, records: RecordService) -> None:
        self._records = records

    def import_file(
        self, actor: Actor, module: Module, site_id: str, path: str | Path
    ) -> Changed[ImportReport]:
        """Read ``path`` and add every row, or nothing (see the module docstring)."""
        sheet = read_table(path, module)
        return self.import_sheet(actor, site_id, sheet, source=Path(path).name)

    def import_sheet(
        self, actor: Actor, site_id: str, sheet: SheetData, *, source: str = ""
    ) -> Changed[ImportReport]:
        """Add the rows of an already read table (a file, or text pasted in the desktop)."""
        if sheet.module is Module.ADJUSTMENTS and actor.role is Role.OPERATOR:
            raise PermissionDenied(
                "stock adjustments need a supervisor (moderator) or administrator"
            )
        try:
            result = self._records.create_many(
                actor, sheet.module, site_id, sheet.rows, row_numbers=sheet.row_numbers
            )
        except ValidationError as exc:
            raise ImportRejected(_by_header(SPECS[sheet.module], exc.problems)) from None
        report = ImportReport(sheet.module, site_id, result.value, source, sheet.ignored)
        return Changed(report, result.changes)


# --------------------------------------------------------------------------- internals
def _check_file(file: Path) -> None:
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise ImportFileError(f"{file}: no such file") from None
    except OSError as exc:
        raise ImportFileError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if not file.is_file():
        raise ImportFileError(f"{file} is not a file")
    if size == 0:
        raise ImportFileError(f"{file.name} is empty")
    if size > MAX_FILE_BYTES:
        raise ImportFileError(
            f"{file.name} is {size / 1024 / 1024:.0f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB — split it into several files"
        )


def _check_zip(file: Path) -> None:
    """Refuse what is not an Office zip, and zip bombs, before openpyxl inflates anything."""
    with file.open("rb") as raw:
        magic = raw.read(4)
    if magic == _OLE_MAGIC:
        raise ImportFileError(
            f"{file.name} is an old-format (.xls) or protected workbook; in Excel use "
            "Save As > Excel Workbook (.xlsx)"
        )
    if magic != _ZIP_MAGIC:
        raise ImportFileError(
            f"{file.name} is not an Excel workbook (.xlsx files are zip archives)"
        )
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(f"{file.name} is a damaged workbook ({_reason(exc)})") from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise ImportFileError(f"{file.name} is a zip archive but not an Excel workbook")
    unpacked = sum(info.file_size for info in infos)
    bomb = any(
        info.file_size > 10 * 1024 * 1024
        and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1)
        for info in infos
    )
    if unpacked > MAX_XLSX_UNPACKED_BYTES or bomb:
        raise ImportFileError(
            f"{file.name} unpacks to {unpacked / 1024 / 1024:.0f} MB, far more than a real "
            "workbook of this size; refusing it (a 'zip bomb'?)"
        )


# ----------------------------------------------------------------- xlsx: calamine, openpyxl
_EXACT_FLOAT_INT = float(2**53)
"""Below this a float that is a whole number is exactly that integer."""
_EXCEL_MAX_ROW = 1_048_576
_EXCEL_MAX_COLUMN = 16_384
_SCAN_CHUNK = 1024 * 1024
# A cell as Excel, Calc, openpyxl and xlsxwriter write it: ``<c r="B7"``, its reference first.
# ``_scan_sheet_xml`` refuses a sheet with any other spelling of a cell tag, so no cell escapes
# the scan: every "<c" must start such a cell or another element (<col>, <cfRule>…), and no
# "c" element may carry a namespace prefix.
_CELL_REF = re.compile(rb'<c r="[A-Z]{1,3}([1-9][0-9]{0,6})"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[1-9]')
_NAMED_C = re.compile(rb"<c[\w.-]")
_PREFIXED_C = re.compile(rb":c[^\w.=-]")
# Error cells and long integers are about faithful values, not safety: spreadsheets write
# exactly these spellings, and a hostile file gains nothing by hiding an error cell (it could
# leave the cell empty).
_ERROR_CELL = b't="e"'
# openpyxl reads a number without '.' or exponent as an exact int; calamine as a float, which
# loses digits past 2**53 (Excel itself keeps 15 digits, but generators may write more).
_LONG_INTEGER = re.compile(rb"<v>[+-]?[0-9]{16}")
_REL_OFFICE_DOCUMENT = "/relationships/officeDocument"


@dataclass(frozen=True, slots=True)
class _ExcelError:
    """A cell that shows an Excel error (``#DIV/0!``, ``#N/A``…): its formula failed."""

    code: str

    def __str__(self) -> str:
        return self.code


def _calamine_rows(file: Path) -> Iterator[list[object]] | None:
    """The first worksheet's rows as openpyxl reads them, read by calamine; or ``None``.

    ``None`` means "let openpyxl read it": python-calamine is not installed, the sheet has
    Excel error cells (calamine reads them as empty, which would hide them), its rectangle is
    over ``MAX_CALAMINE_CELLS``, its XML is unusual enough that the scan cannot vouch for it,
    or calamine failed (openpyxl then fails too and words the message, or reads what calamine
    could not).

    Cells come out as openpyxl's: empty cells ``None`` (calamine: ``""``), whole numbers ``int``
    (calamine: ``7.0``; a material code typed as 101 must stay "101"), dates ``datetime`` at
    midnight (calamine: ``date``), rows padded on the left when column A is empty. The one
    difference left: a whole number *written* with a fraction or exponent ("7.0", "1E3", which
    no spreadsheet writes) is an int here and a float for openpyxl.
    """
    try:
        import python_calamine
    except ImportError:  # a dependency; a bundle that lost it still reads, only slower
        return None
    try:
        with python_calamine.CalamineWorkbook.from_path(str(file)) as workbook:
            names = [
                m.name
                for m in workbook.sheets_metadata
                if m.typ == python_calamine.SheetTypeEnum.WorkSheet
            ]
            if not names or not _scan_sheet(file, names[0], workbook.sheet_names):
                return None
            sheet = workbook.get_sheet_by_name(names[0])
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine's errors, and a Rust panic (pyo3's PanicException)
        return None
    return _calamine_cells(sheet)


def _calamine_cells(sheet: CalamineSheet) -> Iterator[list[object]]:
    start = sheet.start
    if start is None:  # an empty sheet (and iter_rows() would panic on it)
        return
    pad: list[object] = [None] * start[1]
    for cells in sheet.iter_rows():  # rows above the first used one come as empty rows
        row = cast(list[object], cells)  # the same list, refilled with openpyxl's values
        for index, value in enumerate(cells):
            if type(value) is str:
                if not value:
                    row[index] = None
            elif type(value) is float:
                if value.is_integer() and -_EXACT_FLOAT_INT < value < _EXACT_FLOAT_INT:
                    row[index] = int(value)
            elif type(value) is date:
                row[index] = datetime(value.year, value.month, value.day)
        yield pad + row if pad else row


def _openpyxl_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[object]]:
    """openpyxl's cell values, error cells marked (openpyxl gives their text, e.g. "#N/A")."""
    for cells in rows:
        yield [_ExcelError(str(c.value)) if c.data_type == "e" else c.value for c in cells]


def _scan_sheet(file: Path, sheet_name: str, sheet_names: Sequence[str]) -> bool:
    """True when calamine may read ``sheet_name``: no error cells, a rectangle that fits.

    Reads the sheet's XML once, streamed (about 0.2 s for 100,000 rows), and only counts: a cell
    tag spelled any other way than ``<c r="B7"``, a whole number of 16 digits or more, or
    anything unexpected in finding the sheet sends the file to openpyxl.
    """
    try:
        with zipfile.ZipFile(file) as archive:
            member = _sheet_member(archive, sheet_name, sheet_names)
            if member is None:
                return False
            with archive.open(member) as xml:
                return _scan_sheet_xml(xml)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, SyntaxError):
        return False  # SyntaxError: ParseError and defusedxml's refusals derive from it


def _scan_sheet_xml(xml: IO[bytes]) -> bool:
    rows: set[bytes] = set()
    columns: set[bytes] = set()
    seen_sheet_data = False
    carry = b""
    while True:
        chunk = xml.read(_SCAN_CHUNK)
        data = carry + chunk
        if chunk:  # cut before the last '<' so that no tag is split between two chunks
            cut = data.rfind(b"<")
            data, carry = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
        seen_sheet_data = seen_sheet_data or b"<sheetData" in data
        refs = _CELL_REF.findall(data)
        if (
            data.count(b"<c") != len(refs) + len(_NAMED_C.findall(data))
            or _PREFIXED_C.search(data)
            or _ERROR_CELL in data
            or _LONG_INTEGER.search(data)
        ):
            return False
        rows.update(refs)
        columns.update(_CELL_COLUMN.findall(data))
        if not chunk:
            break
    if not seen_sheet_data:  # a prefixed or UTF-16 sheet: the byte patterns would miss it
        return False
    if not rows:
        return True
    numbers = [int(r) for r in rows]
    letters = [_column_number(c) for c in columns]
    top, bottom, left, right = min(numbers), max(numbers), min(letters), max(letters)
    if bottom > _EXCEL_MAX_ROW or right > _EXCEL_MAX_COLUMN:
        return False
    return (bottom - top + 1) * (right - left + 1) <= MAX_CALAMINE_CELLS


def _sheet_member(
    archive: zipfile.ZipFile, sheet_name: str, sheet_names: Sequence[str]
) -> str | None:
    """The zip member calamine reads for ``sheet_name``, found the way calamine finds it.

    The workbook's folder comes from ``_rels/.rels``, the sheet's part from the workbook's
    relationships; names match case-insensitively. ``None`` when the sheets listed differ
    from calamine's or a name would be ambiguous, so the scan never reads another part than
    calamine does.
    """
    members: dict[bytes, str] = {}
    for info in archive.infolist():
        key = _zip_key(info.filename)
        if key in members:
            return None
        members[key] = info.filename

    def part(path: str) -> bytes | None:
        member = members.get(_zip_key(path))
        return archive.read(member) if member is not None else None

    base = "xl/"
    package_rels = part("_rels/.rels")
    if package_rels is not None:
        targets = [
            target
            for _, kind, target in _relationships(package_rels)
            if kind.endswith(_REL_OFFICE_DOCUMENT)
        ]
        if not targets:
            return None
        base = targets[-1][: targets[-1].rfind("/") + 1].removeprefix("/")
    workbook = part(f"{base}workbook.xml")
    workbook_rels = part(f"{base}_rels/workbook.xml.rels")
    if workbook is None or workbook_rels is None:
        return None
    by_id = {rel_id: target for rel_id, _, target in _relationships(workbook_rels)}
    sheets: list[tuple[str, str]] = []
    for element in _parse_xml(workbook).iter():
        if _local(element.tag) == "sheet":
            ids = [v for k, v in element.attrib.items() if _local(k) == "id"]
            sheets.append((element.get("name", ""), ids[-1] if ids else ""))
    if [name for name, _ in sheets] != list(sheet_names):
        return None
    target = next((by_id.get(rel_id) for name, rel_id in sheets if name == sheet_name), None)
    if target is None:
        return None
    path = target[1:] if target.startswith("/") else f"{base}{target}"
    return members.get(_zip_key(path))


def _relationships(xml: bytes) -> list[tuple[str, str, str]]:
    """(Id, Type, Target) of each ``<Relationship>`` of a .rels part."""
    return [
        (e.get("Id", ""), e.get("Type", ""), e.get("Target", ""))
        for e in _parse_xml(xml).iter()
        if _local(e.tag) == "Relationship"
    ]


def _parse_xml(xml: bytes) -> Element:
    root: Element = SafeElementTree.fromstring(xml)  # no DTDs, no entities
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _zip_key(name: str) -> bytes:
    """A zip member's name as calamine compares it: '/' for '\\', ASCII letters lowercased."""
    return name.replace("\\", "/").encode("utf-8", "surrogateescape").lower()


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _parse_delimited(raw: BinaryIO, module: Module, delimiter: str, *, name: str) -> SheetData:
    head = raw.read(_SNIFF_BYTES)
    raw.seek(0)
    if head.startswith(_ZIP_MAGIC):
        raise ImportFileError(f"{name} is an Excel workbook, not csv text; rename it to .xlsx")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            f"{name} is UTF-16 text; in Excel use Save As > CSV UTF-8 (Comma delimited)"
        )
    if b"\x00" in head:
        raise ImportFileError(f"{name} is a binary file, not csv text")
    reader = csv.reader(_decoded_lines(raw, name), delimiter=delimiter, strict=True)
    return _guarded_rows(reader, module, name=name, header_optional=False)


def _decoded_lines(raw: BinaryIO, name: str) -> Iterator[str]:
    """UTF-8 lines (the BOM dropped), decoded one by one so an invalid byte names its line."""
    for number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{name} is not UTF-8 text (line {number} has the byte 0x{line[exc.start]:02X}); "
                "in Excel use Save As > CSV UTF-8 (Comma delimited)"
            ) from None


def _guarded_rows(
    rows: Iterable[Sequence[object]], module: Module, *, name: str, header_optional: bool
) -> SheetData:
    """``_map_rows`` with reader failures turned into one readable ``ImportFileError``."""
    position = _Position()
    try:
        return _map_rows(_counted(rows, position), SPECS[module], name, header_optional)
    except csv.Error as exc:
        raise ImportFileError(f"{name}, row {position.row + 1}: not valid csv ({exc})") from None


class _Position:
    """The last row handed out by a reader, for error messages raised while reading."""

    row = 0


def _counted(rows: Iterable[Sequence[object]], position: _Position) -> Iterator[Sequence[object]]:
    for position.row, row in enumerate(rows, start=1):
        yield row


def _norm_header(value: object) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _map_rows(
    rows: Iterator[Sequence[object]], spec: ModuleSpec, name: str, header_optional: bool
) -> SheetData:
    by_header = {_norm_header(f.header): f for f in spec.fields}
    number = 0
    header: Sequence[object] = ()
    for number, candidate in enumerate(rows, start=1):  # noqa: B007 - number is used below
        if not all(_is_blank(c) for c in candidate):
            header = candidate
            break
    else:
        raise ImportFileError(f"{name} is empty" if number == 0 else f"{name} has no rows")
    header_row = number
    matched = [by_header.get(_norm_header(cell)) for cell in header]
    has_header = any(matched) or not header_optional
    if has_header:
        plan, ignored = _plan_from_header(spec, header, matched, name)
        pending: list[tuple[int, Sequence[object]]] = []
    else:
        # Pasted cells without a header line: the module's own column order.
        plan = list(enumerate(spec.fields))
        ignored = []
        pending = [(header_row, header)]

    out_rows: list[Mapping[str, object]] = []
    numbers: list[int] = []
    errors: list[Problem] = []
    text_keys = {f.key for _, f in plan if f.kind is Kind.TEXT}
    defaulted = [f.key for _, f in plan if f.default is not None]

    def take(row_number: int, cells: Sequence[object]) -> None:
        width = len(cells)
        values: dict[str, object] = {}
        blank = True
        for index, fspec in plan:
            value = cells[index] if index < width else None
            if value is None:
                continue
            if type(value) is _ExcelError:
                errors.append(Problem(fspec.header, _error_message(value), row_number))
                blank = False
                continue
            if isinstance(value, str):
                if "\x00" in value:
                    raise ImportFileError(f"{name}, row {row_number}: contains binary data (NUL)")
                if not value.strip():
                    continue
                if fspec.key in text_keys and value[:1] == "'" and value[1:2] in _GUARDED_STARTS:
                    # Our csv exports prefix text that a spreadsheet would run as a formula with
                    # a quote (OWASP); take it off so an export imports back unchanged.
                    value = value[1:]
            elif fspec.key in text_keys:
                value = _cell_text(value)
            values[fspec.key] = value
            blank = False
        if blank:
            return
        for key in defaulted:
            # The column is there but this cell is empty: "required", not the default.
            values.setdefault(key, "")
        if len(out_rows) >= MAX_ROWS:
            raise ImportFileError(
                f"{name} has more than {MAX_ROWS:,} data rows; split it into several files"
            )
        out_rows.append(values)
        numbers.append(row_number)

    for row_number, cells in pending:
        take(row_number, cells)
    for row_number, cells in enumerate(rows, start=header_row + 1):
        take(row_number, cells)
    if errors:
        raise ImportRejected(errors)
    if not out_rows:
        what = "no data rows below the header" if has_header else "no data rows"
        raise ImportFileError(f"{name} has {what}")
    return SheetData(
        spec.module,
        tuple(out_rows),
        tuple(numbers),
        tuple(f.header for _, f in plan),
        tuple(ignored),
        has_header,
    )


def _plan_from_header(
    spec: ModuleSpec, header: Sequence[object], matched: list[FieldSpec | None], name: str
) -> tuple[list[tuple[int, FieldSpec]], list[str]]:
    plan: list[tuple[int, FieldSpec]] = []
    ignored: list[str] = []
    seen: dict[str, int] = {}
    for index, (cell, fspec) in enumerate(zip(header, matched, strict=True)):
        if fspec is None:
            if not _is_blank(cell):
                ignored.append(str(cell).strip())
            continue
        if fspec.key in seen:
            raise ImportFileError(
                f"{name}: the column '{fspec.header}' appears twice "
                f"(columns {_column_letter(seen[fspec.key])} and {_column_letter(index)})"
            )
        seen[fspec.key] = index
        plan.append((index, fspec))
    # A required field with a default (a dispatch's Fate) may be left out: files written before
    # the field existed still import.
    missing = [
        f.header for f in spec.fields if f.required and f.default is None and f.key not in seen
    ]
    if missing:
        found = ", ".join(str(c).strip() for c in header if not _is_blank(c))
        hint = ""
        filled = [c for c in header if not _is_blank(c)]
        if len(filled) == 1 and ";" in str(filled[0]):
            hint = " — the file seems to use ';' between columns; save it as CSV UTF-8 (comma)"
        raise ImportFileError(
            f"{name}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} for {spec.title.lower()} "
            f"(expected {', '.join(spec.headers)}; found {found[:300] or 'nothing'}){hint}"
        )
    return plan, ignored


def _cell_text(value: object) -> str:
    """A typed cell in a text column as the clerk sees it (DR No. 12345, not 12345.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value == datetime.combine(value.date(), datetime.min.time()):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _error_message(error: _ExcelError) -> str:
    return f"shows the Excel error {error.code}; correct its formula or type the value"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _by_header(spec: ModuleSpec, problems: Iterable[Problem]) -> list[Problem]:
    headers = {f.key: f.header for f in spec.fields}
    return [Problem(headers.get(p.field, p.field), p.message, p.row) for p in problems]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def describe_problems(problems: Sequence[Problem], limit: int | None = None) -> list[str]:
    """``row N, COLUMN: message`` lines, optionally capped with an "and N more" line."""
    lines = [str(p) for p in problems]
    if limit is not None and len(lines) > limit:
        rest = len(lines) - limit
        lines = [*lines[:limit], f"… and {rest:,} more problem{'s' if rest > 1 else ''}"]
    return lines


__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ImportFileError",
    "ImportRejected",
    "ImportReport",
    "ImportService",
    "SheetData",
    "describe_problems",
    "module_from_name",
    "parse_tsv",
    "read_csv",
    "read_table",
    "read_xlsx",
]
