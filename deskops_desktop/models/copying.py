"""Building a value from a row whose columns it repeats under the same names.

A frozen dataclass shown to pages (``SiteInfo``, ``JobInfo``) often copies most of an ORM row
as it is. ``from_attributes`` copies every field of the dataclass from the same-named attribute,
so adding a field needs no new line at each place a value is built; the fields that are not
plain copies (parsed enums, joined values) are passed by keyword and take precedence. A field
the source lacks fails loudly (``AttributeError``) rather than defaulting.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def from_attributes(cls: type[T], source: object, **given: Any) -> T:
    """A ``cls`` whose fields are ``source``'s same-named attributes, except those ``given``."""
    copied = {f.name: getattr(source, f.name) for f in fields(cls) if f.name not in given}
    return cls(**copied, **given)
