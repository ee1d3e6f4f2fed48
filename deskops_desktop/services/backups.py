"""Backups of the SQLite store: daily at start-up, on demand, restore, and the start-up check.

A clerk's laptop holds the only copy of the plant's records, so the app protects it by itself:

- ``daily_backup`` runs after the store is open, at most once per local calendar day, and keeps
  the newest copy of each of the 7 newest days plus the newest copy of each of the 4 weeks before
  those (``KEEP_DAILY``/``KEEP_WEEKLY``). Copies made by hand, before a restore and before a
  schema upgrade are kept apart: the newest ``KEEP_OTHER`` of each kind.
- ``check_store`` runs on start, before the store is opened: ``PRAGMA quick_check``. A damaged
  file is set aside (renamed with a timestamp, with its -wal/-shm) and the caller is told which
  backups exist. It is never replaced by an empty store: while a set-aside file exists and the
  store does not, ``check_store`` keeps answering "needs recovery".
- ``restore`` checks the chosen copy, backs up the current store first, then copies the backup
  *into* the store with SQLite's backup API.

Invariants a newcomer must not break:
- Every copy goes through SQLite's online backup API (``Store.backup`` / ``sqlite3.backup``),
  never a file copy: copying the file of an open WAL database can produce a torn copy.
- Every backup is verified (``quick_check``) right after it is written; a copy that fails is
  deleted, so the folder only ever holds copies that were good when made. ``newest_good_backup``
  checks again before a recovery (disks rot).
- Backups live in ``<data dir>/backups/`` (a sub-folder per store when the store is not the
  default one), never next to a store the user moved elsewhere: the data folder is local.
- Qt-free (the views call this; ``daily_backup`` runs on a plain thread).
- Times in file names are local wall-clock time: "one backup a day" means the clerk's day.
- Those times come from the app's clock (``store.clock.local_now()``); the functions that run
  before a store exists (``check_store``, ``restore``) take ``now`` from their caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.services.paths import data_dir
from deskops_desktop.services.store import Store
from deskops_desktop.services.store_location import check_store_location

log = logging.getLogger(__name__)

KEEP_DAILY = 7
KEEP_WEEKLY = 4
KEEP_OTHER = 5
BACKUP_SUFFIX = ".sqlite3"
SET_ASIDE_MARK = ".damaged-"
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})-(?P<kind>[a-z-]+)\.sqlite3$")
# sqlite3 result codes that mean "the file is damaged", as opposed to busy, locked or unreadable.
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class BackupKind(StrEnum):
    """Why a copy was made; part of its file name."""

    AUTO = "auto"  # the daily start-up copy; listed as "daily" or "weekly" by retention
    MANUAL = "manual"
    BEFORE_RESTORE = "before-restore"
    BEFORE_UPGRADE = "before-upgrade"


KIND_LABELS = {
    "daily": "Daily",
    "weekly": "Weekly",
    BackupKind.MANUAL.value: "Made by hand",
    BackupKind.BEFORE_RESTORE.value: "Before a restore",
    BackupKind.BEFORE_UPGRADE.value: "Before an upgrade",
}


class BackupError(DeskOpsError):
    """A backup or restore could not be done; the message says why, for a clerk."""


class StoreUnavailable(DeskOpsError):
    """The store file cannot be checked (locked, unreadable): not a sign of damage."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup file. ``kind`` is "daily"/"weekly" for automatic copies, else the BackupKind."""

    path: Path
    created: datetime
    kind: str
    size: int

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class StoreHealth:
    """What ``check_store`` found.

    ``state``: "new" (no file yet: a first start), "ok", or "damaged" (the caller must offer
    recovery; the damaged file is already set aside at ``set_aside``).
    """

    path: Path
    state: str
    problem: str = ""
    set_aside: tuple[Path, ...] = ()
    backups: tuple[BackupInfo, ...] = ()

    @property
    def needs_recovery(self) -> bool:
        return self.state == "damaged"


@dataclass(frozen=True)
class RestoreResult:
    """What ``restore`` did: from which copy, and the safety copy of the replaced store."""

    restored_from: Path
    safety_copy: BackupInfo | None


# ----------------------------------------------------------------------------- where
def backup_dir(db_path: Path) -> Path:
    """``<data dir>/backups`` for the default store, a sub-folder of it for any other store.

    The sub-folder is named after the store file and a hash of its full path, so the backups of
    two stores never mix (a restore must never pick another store's copy).
    """
    base = data_dir() / "backups"
    default = data_dir() / "deskops.sqlite3"
    if _same_path(db_path, default):
        return base
    digest = hashlib.sha256(str(_resolved(db_path)).lower().encode()).hexdigest()[:8]
    return base / f"{db_path.stem}-{digest}"


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _uri(path: Path, mode: str) -> str:
    """A ``file:`` URI for sqlite3 (percent-encoded, ``file:///C:/...`` on Windows)."""
    return f"{_resolved(path).as_uri()}?mode={mode}"


def _same_path(a: Path, b: Path) -> bool:
    return os.path.normcase(_resolved(a)) == os.path.normcase(_resolved(b))


def _backup_name(db_path: Path, when: datetime, kind: BackupKind) -> str:
    return f"{db_path.stem}-{when.strftime(_STAMP)}-{kind.value}{BACKUP_SUFFIX}"


# ----------------------------------------------------------------------------- listing
@dataclass(frozen=True)
class _Found:
    path: Path
    created: datetime
    kind: BackupKind


def _scan(db_path: Path) -> list[_Found]:
    folder = backup_dir(db_path)
    found: list[_Found] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            created = datetime.strptime(match["stamp"], _STAMP)
            kind = BackupKind(match["kind"])
        except ValueError:
            continue
        found.append(_Found(path, created, kind))
    found.sort(key=lambda f: (f.created, f.path.name), reverse=True)
    return found


def _classify_auto(autos: Sequence[_Found]) -> dict[Path, str]:
    """Retention of automatic copies: path -> "daily"/"weekly"; a path not in it is surplus.

    The newest copy of each of the ``KEEP_DAILY`` newest days is a daily; of the copies from
    before those days, the newest of each of the ``KEEP_WEEKLY`` newest ISO weeks is a weekly.
    """
    kept: dict[Path, str] = {}
    days: set[date] = set()
    for found in sorted(autos, key=lambda f: f.created, reverse=True):
        day = found.created.date()
        if day not in days and len(days) < KEEP_DAILY:
            days.add(day)
            kept[found.path] = "daily"
    weeks: set[tuple[int, int]] = set()
    for found in sorted(autos, key=lambda f: f.created, reverse=True):
        if days and found.created.date() >= min(days):
            continue  # a second copy of a day the dailies already cover
        iso = found.created.isocalendar()
        week = (iso.year, iso.week)
        if week not in weeks and len(weeks) < KEEP_WEEKLY:
            weeks.add(week)
            kept[found.path] = "weekly"
    return kept


def _kept(found: Sequence[_Found]) -> dict[Path, str]:
    """Every copy retention keeps, with the kind it is listed as."""
    autos = [f for f in found if f.kind is BackupKind.AUTO]
    kept = _classify_auto(autos)
    for kind in BackupKind:
        if kind is BackupKind.AUTO:
            continue
        of_kind = [f for f in found if f.kind is kind]  # already newest first
        kept.update((f.path, kind.value) for f in of_kind[:KEEP_OTHER])
    return kept


def list_backups(db_path: Path) -> list[BackupInfo]:
    """The backups of the store at ``db_path``, newest first (surplus copies not yet pruned
    are listed too, as the kind they were made as)."""
    found = _scan(db_path)
    kept = _kept(found)
    infos: list[BackupInfo] = []
    for f in found:
        try:
            size = f.path.stat().st_size
        except OSError:  # removed meanwhile (another instance pruned it)
            continue
        kind = kept.get(f.path, "daily" if f.kind is BackupKind.AUTO else f.kind.value)
        infos.append(BackupInfo(f.path, f.created, kind, size))
    return infos


def prune(db_path: Path) -> list[Path]:
    """Delete the copies retention does not keep, and leftovers of interrupted copies."""
    found = _scan(db_path)
    kept = _kept(found)
    removed: list[Path] = []
    for f in found:
        if f.path not in kept:
            with contextlib.suppress(FileNotFoundError):
                f.path.unlink()
                removed.append(f.path)
    folder = backup_dir(db_path)
    if folder.is_dir():
        for partial in folder.glob(f"*{BACKUP_SUFFIX}.partial"):
            with contextlib.suppress(OSError):
                partial.unlink()
                removed.append(partial)
    return removed


# ----------------------------------------------------------------------------- checking
def verify(path: Path) -> str | None:
    """None when ``path`` is a sound DeskOps store (quick_check ok, has a schema version);
    otherwise what is wrong, in words."""
    if not path.is_file():
        return "the file does not exist"
    try:
        conn = sqlite3.connect(_uri(path, "ro"), uri=True, timeout=10)
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
        if rows != ["ok"]:
            return "; ".join(rows[:3])
        if conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone() != (1,):
            return "it is not a DeskOps store (no schema version)"
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None


def _quick_check(db_path: Path) -> str | None:
    """None when quick_check passes; the problem when the file is damaged.

    Raises ``StoreUnavailable`` for errors that say nothing about damage (locked by another
    program, no permission): setting such a file aside would be wrong.
    """
    try:
        conn = sqlite3.connect(_uri(db_path, "rw"), uri=True, timeout=10)  # never creates it
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open {db_path}: {exc}") from exc
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return str(exc)
        raise StoreUnavailable(f"cannot check {db_path}: {exc}") from exc
    finally:
        conn.close()
    return None if rows == ["ok"] else "; ".join(rows[:3])


def set_aside_files(db_path: Path) -> list[Path]:
    """Damaged store files set aside earlier (the main files, not their -wal/-shm)."""
    if not db_path.parent.is_dir():
        return []
    pattern = f"{db_path.name}{SET_ASIDE_MARK}*"
    return sorted(p for p in db_path.parent.glob(pattern) if not p.name.endswith(("-wal", "-shm")))


def set_aside(db_path: Path, now: datetime) -> Path:
    """Rename the damaged store (and its -wal/-shm) out of the way; returns the new name.

    The -wal file goes along: it may hold the newest records, and a specialist can sometimes
    recover them from the pair. Nothing is deleted.
    """
    stamp = now.strftime(_STAMP)
    target = db_path.with_name(f"{db_path.name}{SET_ASIDE_MARK}{stamp}")
    for suffix in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    os.replace(db_path, target)
    log.error("damaged store set aside: %s -> %s", db_path, target)
    return target


def check_store(db_path: Path, now: datetime) -> StoreHealth:
    """The start-up check, before the store is opened: quick_check, and set aside if damaged.

    - No file, nothing set aside: "new" (the first start creates the store).
    - No file, but a damaged one was set aside earlier (the clerk quit the recovery dialog):
      "damaged" again, so the app never quietly starts over with an empty store.
    - An empty (0-byte) file while backups exist: "damaged". A store is never empty once
      created, and an empty file next to backups means its content was lost.
    - quick_check fails (or SQLite says "not a database"/"malformed"): set aside, "damaged".

    Raises ``StoreLocationError`` for a store on a share or synced folder and
    ``StoreUnavailable`` when the file cannot be read at all (that is not damage).
    """
    check_store_location(db_path)
    backups = tuple(list_backups(db_path))
    if not db_path.exists():
        earlier = tuple(set_aside_files(db_path))
        if earlier:
            return StoreHealth(
                db_path, "damaged", "the store was set aside earlier as damaged", earlier, backups
            )
        return StoreHealth(db_path, "new", backups=backups)
    if db_path.stat().st_size == 0:
        if not backups:
            return StoreHealth(db_path, "new")
        problem = "the store file is empty"
    else:
        found = _quick_check(db_path)
        if found is None:
            return StoreHealth(db_path, "ok", backups=backups)
        problem = found
    moved = set_aside(db_path, now)
    others = [p for p in set_aside_files(db_path) if p != moved]
    return StoreHealth(db_path, "damaged", problem, (moved, *others), backups)


def newest_good_backup(
    db_path: Path, backups: Iterable[BackupInfo] | None = None
) -> BackupInfo | None:
    """The newest backup that passes ``verify`` now, or None."""
    for info in backups if backups is not None else list_backups(db_path):
        problem = verify(info.path)
        if problem is None:
            return info
        log.warning("backup %s is not usable: %s", info.path, problem)
    return None


# ----------------------------------------------------------------------------- making copies
def make_backup(store: Store, kind: BackupKind, now: datetime | None = None) -> BackupInfo:
    """A verified copy of ``store`` (SQLite only) in its backup folder, then prune.

    Raises ``BackupError`` when the store is not a SQLite file or the copy fails its check
    (the bad copy is deleted: a damaged store must not push good copies out of retention).
    """
    db_path = store.sqlite_file
    if db_path is None:
        raise BackupError(
            "automatic backups are for a SQLite store on this computer; back up a PostgreSQL "
            "server on the server (pg_dump)"
        )
    when = now or store.clock.local_now()
    target = backup_dir(db_path) / _backup_name(db_path, when, kind)
    try:
        store.backup(target)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"the backup could not be written to {target.parent}: {exc}") from exc
    return _finish(db_path, target, kind, when)


def _finish(db_path: Path, target: Path, kind: BackupKind, when: datetime) -> BackupInfo:
    _single_file(target)
    problem = verify(target)
    if problem is not None:
        with contextlib.suppress(OSError):
            target.unlink()
        raise BackupError(
            f"the copy of {db_path.name} failed its check ({problem}); the store may be damaged"
        )
    prune(db_path)
    info = next((b for b in list_backups(db_path) if b.path == target), None)
    if info is None:  # pruned at once: only when the clock is far behind the newest copies
        stat = target.stat() if target.exists() else None
        return BackupInfo(target, when, kind.value, stat.st_size if stat else 0)
    log.info("backup written: %s (%s bytes)", target, info.size)
    return info


def _single_file(path: Path) -> None:
    """Switch a copy to rollback-journal mode so it is one self-contained file.

    The online backup copies the WAL flag of the live store; a copy in WAL mode grows -wal and
    -shm files whenever it is opened, and a clerk copying "the backup" to a USB stick would
    take only part of it.
    """
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def _copy_file_store(db_path: Path, target: Path) -> None:
    """Online backup of a store file that is not open through a ``Store`` (recovery paths)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    with (
        contextlib.closing(sqlite3.connect(db_path, timeout=10)) as source,
        contextlib.closing(sqlite3.connect(tmp)) as dest,
    ):
        source.backup(dest)
    os.replace(tmp, target)


def last_auto_backup(db_path: Path) -> datetime | None:
    autos = [f.created for f in _scan(db_path) if f.kind is BackupKind.AUTO]
    return max(autos) if autos else None


def daily_backup(store: Store, now: datetime | None = None) -> BackupInfo | None:
    """The start-up backup: a copy unless one was already made today (local time).

    Returns the new copy, or None when there was nothing to do (today's copy exists, or the
    store is PostgreSQL or in memory). Errors are raised for the caller to log: the app keeps
    running without a backup rather than refusing to start.
    """
    db_path = store.sqlite_file
    if db_path is None or not db_path.exists():
        return None
    when = now or store.clock.local_now()
    last = last_auto_backup(db_path)
    if last is not None and last.date() == when.date():
        return None
    return make_backup(store, BackupKind.AUTO, when)


def backup_before_upgrade(store: Store, now: datetime | None = None) -> BackupInfo | None:
    """A copy before Alembic changes the schema of an existing store (None when none is due).

    A migration that goes wrong half-way on a clerk's laptop must leave a way back.
    """
    from deskops_desktop.services.migrate import HEAD_REVISION, current_revision

    if store.sqlite_file is None or not store.sqlite_file.exists():
        return None
    current = current_revision(store.engine)
    if current is None or current == HEAD_REVISION:
        return None
    return make_backup(store, BackupKind.BEFORE_UPGRADE, now)


# ----------------------------------------------------------------------------- restoring
def restore(db_path: Path, backup: Path, now: datetime) -> RestoreResult:
    """Replace the store at ``db_path`` with ``backup``, after backing up the current store.

    Steps, each a reason to stop before the store is touched: the backup must pass ``verify``;
    the current store (if any) is copied to a "before-restore" backup; only then are the
    backup's pages copied into the store with SQLite's backup API, which takes the write lock
    and keeps the WAL consistent for every connection (a file replace would not).

    The restored data may have an older schema: the app upgrades it on its next start (with a
    "before-upgrade" copy), so callers restart the app after a restore.
    """
    problem = verify(backup)
    if problem is not None:
        raise BackupError(f"the backup {backup.name} cannot be used: {problem}")
    when = now
    safety: BackupInfo | None = None
    if db_path.exists() and db_path.stat().st_size > 0:
        target = backup_dir(db_path) / _backup_name(db_path, when, BackupKind.BEFORE_RESTORE)
        try:
            _copy_file_store(db_path, target)
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(
                f"the current store could not be backed up first ({exc}); nothing was restored"
            ) from exc
        safety = _finish(db_path, target, BackupKind.BEFORE_RESTORE, when)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            contextlib.closing(sqlite3.connect(_uri(backup, "ro"), uri=True)) as source,
            contextlib.closing(sqlite3.connect(db_path, timeout=30)) as dest,
        ):
            source.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(
            f"the restore failed ({exc}); the store was not changed"
            + (f"; the copy made first is {safety.path}" if safety else "")
        ) from exc
    log.warning("store %s restored from %s", db_path, backup)
    return RestoreResult(backup, safety)
