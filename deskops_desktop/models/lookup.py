"""What a clerk meant by part of a code or a name ("g1", "4 inch", "washed") — pure, Qt-free.

Forms resolve a type-to-search field with ``resolve`` before they save: a unique match becomes
its code, several matches stay the clerk's text and the error lists them. Imports never use it:
a file names codes, exactly.

Matching, case-insensitively and with runs of spaces folded: first the items whose code, name or
label *equals* the text (written with or without spaces, hyphens and slashes: "4inch" is
"4 INCH"); when there are none, the items whose code or name *contains* it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Choice:
    """One thing a field can hold: the stored ``code`` and what people read (``name``)."""

    code: str
    name: str

    @property
    def label(self) -> str:
        """ "AGG-G1 – G1"; the name alone when it only spells the code out
        ("MAINTENANCE_WORKER" is "Maintenance Worker": no need to say it twice)."""
        if not self.name:
            return self.code
        if _compact(self.name) == _compact(self.code):
            return self.name
        return f"{self.code} – {self.name}"


@dataclass(frozen=True)
class Resolution:
    """``code`` when the text names exactly one choice; else every candidate (maybe none)."""

    text: str
    code: str | None
    candidates: tuple[Choice, ...]

    @property
    def ambiguous(self) -> bool:
        return self.code is None and len(self.candidates) > 1

    def message(self, what: str) -> str:
        """The error a form shows when the text does not resolve."""
        if self.ambiguous:
            shown = ", ".join(c.label for c in self.candidates[:6])
            more = f" and {len(self.candidates) - 6} more" if len(self.candidates) > 6 else ""
            return f"'{self.text}' matches {len(self.candidates)} {what}s: {shown}{more}; type more"
        return f"no {what} matches '{self.text}'"


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", text).casefold()


def resolve(choices: Sequence[Choice], text: str) -> Resolution:
    """The choice ``text`` names (see the module docstring); blank text resolves to nothing."""
    wanted = _folded(text)
    if not wanted:
        return Resolution(text, None, ())
    compact = _compact(text)

    def equal(value: str) -> bool:
        return _folded(value) == wanted or (bool(compact) and _compact(value) == compact)

    exact = [c for c in choices if equal(c.code) or equal(c.name) or equal(c.label)]
    if len(exact) == 1:
        return Resolution(text, exact[0].code, tuple(exact))
    if exact:
        # An exact code beats exact names ("G1" the code of one item, the name of another).
        codes = [c for c in exact if equal(c.code)]
        if len(codes) == 1:
            return Resolution(text, codes[0].code, tuple(exact))
        return Resolution(text, None, tuple(exact))

    def contains(value: str) -> bool:
        return wanted in _folded(value) or (bool(compact) and compact in _compact(value))

    found = tuple(c for c in choices if contains(c.code) or contains(c.name))
    return Resolution(text, found[0].code if len(found) == 1 else None, found)
