"""Export files on disk: Windows-safe names, write-to-temp-then-rename, SHA-256 and size.

Invariants a newcomer must not break:
- A reader of the target folder never sees a half-written export under its final name. Writers
  write to a hidden temporary file *in the same folder* (so the rename is atomic on one volume)
  and ``atomic_output`` moves it into place only after the writer returned normally and the bytes
  were flushed to disk. Any exception (cancel included) removes the temporary file.
- An existing file is never overwritten: the final name gets " (2)", " (3)", … The no-clobber
  move is a hard link (POSIX) or ``os.rename`` (Windows refuses to rename onto an existing file).
- Names are safe on Windows whatever the site code or module holds: no reserved device names,
  no path separators or ``..``, no characters NTFS refuses, no trailing dots or spaces.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

TEMP_PREFIX = ".~deskops-"
TEMP_SUFFIX = ".part"
MAX_NAME_LENGTH = 150

_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in "123456789¹²³"}
    | {f"LPT{i}" for i in "123456789¹²³"}
)
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


@dataclass(frozen=True)
class FileResult:
    """What a writer produced: the final path, its size, its SHA-256 and the data rows in it."""

    path: Path
    size_bytes: int
    sha256: str
    record_count: int


def safe_filename(name: str, *, fallback: str = "export") -> str:
    """``name`` made safe as one file name on Windows, macOS and Linux.

    Characters Windows refuses become ``_``; ``..`` runs collapse to one dot; leading dots and
    trailing dots/spaces go (Explorer cannot open such files); device names such as ``CON`` or
    ``com1.csv`` get a ``_`` prefix; the stem is cut so the whole name stays under
    ``MAX_NAME_LENGTH`` characters with its extension intact.
    """
    text = _BAD_CHARS.sub("_", name)
    text = re.sub(r"\.{2,}", ".", text)
    text = " ".join(text.split())  # tabs/newlines were replaced; also collapse space runs
    text = text.strip(" .")
    if not text:
        text = fallback
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 8:
        stem, ext = text, ""
    if len(text) > MAX_NAME_LENGTH:
        keep = MAX_NAME_LENGTH - (len(ext) + 1 if ext else 0)
        stem = stem[:keep].rstrip(" .") or fallback
        text = f"{stem}.{ext}" if ext else stem
    base = text.split(".", 1)[0].rstrip(" ").upper()
    if base in _RESERVED:
        text = "_" + text
    return text


def export_filename(
    site_code: str, title: str, granularity: str, date_from: date, date_to: date, extension: str
) -> str:
    """The default name of an export: ``SITE Production daily 2026-10-01 to 2026-10-31.xlsx``."""
    period = (
        date_from.isoformat()
        if date_from == date_to
        else f"{date_from.isoformat()} to {date_to.isoformat()}"
    )
    return safe_filename(f"{site_code} {title} {granularity} {period}.{extension}")


def temp_path_for(target: Path) -> Path:
    """A fresh hidden temporary name beside ``target`` (same folder, same volume)."""
    return target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{target.name}{TEMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def _candidates(target: Path) -> Iterator[Path]:
    yield target
    stem, suffix = target.stem, target.suffix
    for n in range(2, 10_000):
        yield target.with_name(f"{stem} ({n}){suffix}")


def publish(temp: Path, target: Path) -> Path:
    """Move ``temp`` to ``target`` (or ``target (n)``) without ever replacing an existing file."""
    for candidate in _candidates(target):
        if sys.platform == "win32":
            try:
                os.rename(temp, candidate)
            except FileExistsError:
                continue
            return candidate
        try:
            os.link(temp, candidate)
        except FileExistsError:
            continue
        except OSError:
            # File systems without hard links (FAT, some network shares): check, then rename.
            if candidate.exists():
                continue
            os.replace(temp, candidate)
            return candidate
        os.unlink(temp)
        return candidate
    raise FileExistsError(f"no free file name for {target}")


@contextmanager
def atomic_output(target: Path) -> Iterator[tuple[Path, list[Path]]]:
    """Yield a temporary path to write; on success publish it (the final path is appended to
    the yielded list), on any exception delete it.

    The yielded list is how the caller learns the final name (it may be ``target (2)``).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(target)
    published: list[Path] = []
    try:
        yield temp, published
        _fsync(temp)
        published.append(publish(temp, target))
    finally:
        if not published:
            remove_quietly(temp)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(path: Path) -> bool:
    """Delete ``path`` if it exists; True when a file was removed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


def digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file, read in chunks (memory stays flat)."""
    with path.open("rb") as handle:
        sha = hashlib.file_digest(handle, "sha256")
    return sha.hexdigest(), path.stat().st_size


def human_size(size: int) -> str:
    """1 234 567 -> "1.2 MB" (decimal units, as Explorer and Finder show them)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # pragma: no cover - the loop always returns
