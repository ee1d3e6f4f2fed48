"""Cell-level rules shared by the writers: the formula-injection guard and number text.

Why a guard: a clerk's note such as ``=HYPERLINK("http://…")`` or ``+966…`` would run as a
formula when head office opens the file in Excel. OWASP's advice for csv is to prefix such a cell
with a single quote, which spreadsheet programs show as text; xlsx cells are instead written as
typed strings with Excel's "quote prefix" style, so the reader sees exactly what the clerk typed
and editing the cell never turns it into a formula.
"""

from __future__ import annotations

import re

DANGEROUS_PREFIXES = frozenset("=+-@\t\r")

# XML 1.0 forbids these control characters; openpyxl refuses them. Tab, LF, CR are allowed.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula."""
    return bool(text) and text[0] in DANGEROUS_PREFIXES


def guard_csv(text: str) -> str:
    """OWASP csv guard: a leading single quote on text a spreadsheet would run as a formula."""
    return "'" + text if text and text[0] in DANGEROUS_PREFIXES else text


def xml_safe(text: str) -> str:
    """``text`` without the control characters XML cannot hold (they are not printable)."""
    return _ILLEGAL_XML.sub("", text) if _ILLEGAL_XML.search(text) else text
