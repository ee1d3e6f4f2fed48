"""Whole folders and replaced files, written so a reader never sees half of either.

A report pack run builds its folder beside the one it replaces (a hidden *staging* sibling on
the same volume), then swaps it in. Invariants a newcomer must not break:

- **The previous folder survives anything but a completed swap.** While the run writes, the old
  folder is untouched; a killed run leaves only a staging sibling, which the next run of the
  same folder removes (``recover``).
- **The swap.** On Linux it is one ``renameat2(RENAME_EXCHANGE)``: the final name always holds
  a complete folder, old or new. Elsewhere (Windows, macOS, file systems that refuse the
  exchange, such as some network shares) it is two renames — old aside to a fixed backup name,
  new into place — with a window of two system calls in which the final name is missing;
  ``recover`` puts the backup back if a run died in it.
- **Replaced files** (``replace_file``: a Power BI partition that changed) are written to a
  temporary sibling, flushed to disk, then ``os.replace``d: readers see the old bytes or the
  new, never a mix. Unlike ``files.atomic_output`` this overwrites on purpose — a Power BI
  Folder connector must find the same name every night.
- Two runs of one pack and period at the same moment are not serialised: each stages its own
  folder and the last swap wins; the loser fails loudly if ``recover`` removed its staging.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import sys
from pathlib import Path

from deskops_desktop.export.files import TEMP_PREFIX, TEMP_SUFFIX

_OLD_INFIX = "old-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def staging_folder(final: Path) -> Path:
    """A new, empty, hidden folder beside ``final`` to build its replacement in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staged = final.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{final.name}{TEMP_SUFFIX}")
    staged.mkdir()
    return staged


def backup_name(final: Path) -> Path:
    """Where the two-rename swap parks the old folder (a fixed name, so ``recover`` finds it)."""
    return final.with_name(f"{TEMP_PREFIX}{_OLD_INFIX}{final.name}{TEMP_SUFFIX}")


def recover(final: Path) -> None:
    """Undo what a killed run of ``final`` left: put a parked old folder back when the final
    name is missing, and delete stale staging folders and parked copies."""
    parent = final.parent
    if not parent.is_dir():
        return
    parked = backup_name(final)
    if parked.is_dir() and not final.exists():
        os.rename(parked, final)
    suffix = f"-{final.name}{TEMP_SUFFIX}"
    for entry in parent.iterdir():
        name = entry.name
        stale = entry == parked or (name.startswith(TEMP_PREFIX) and name.endswith(suffix))
        if stale and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def swap_in(staged: Path, final: Path) -> None:
    """Make ``staged`` the folder at ``final``; the folder it replaces is deleted."""
    _fsync_tree(staged)
    if not final.exists():
        os.rename(staged, final)
        _fsync_dir(final.parent)
        return
    if _exchange(staged, final):
        _fsync_dir(final.parent)
        shutil.rmtree(staged, ignore_errors=True)  # now the old folder
        return
    parked = backup_name(final)
    if parked.exists():
        shutil.rmtree(parked)
    os.rename(final, parked)
    os.rename(staged, final)
    _fsync_dir(final.parent)
    shutil.rmtree(parked, ignore_errors=True)


def replace_file(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target``, replacing it atomically (see the module docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{target.name}{TEMP_SUFFIX}")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not possible."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # musl or an old glibc without the wrapper
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(done == 0)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder below ``folder`` (the writers already flushed the files
    they published; this covers the manifest and the folder entries themselves)."""
    for root, _dirs, _files in os.walk(folder):
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # directories cannot be opened for fsync there
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
