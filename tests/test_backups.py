"""Automatic backups, retention, restore and the start-up integrity check (services.backups)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from deskops_desktop.services import backups
from deskops_desktop.services.backups import (
    BackupError,
    BackupKind,
    StoreUnavailable,
    backup_before_upgrade,
    backup_dir,
    check_store,
    daily_backup,
    list_backups,
    make_backup,
    newest_good_backup,
    prune,
    restore,
    verify,
)
from deskops_desktop.services.migrate import HEAD_REVISION
from deskops_desktop.services.paths import data_dir
from deskops_desktop.services.store import Store

MORNING = datetime(2026, 11, 27, 9, 0, 0)


@pytest.fixture
def file_store(sqlite_store: Store) -> Store:
    """The test's SQLite store (a file in tmp_path, outside the default data folder)."""
    return sqlite_store


def _db(store: Store) -> Path:
    path = store.sqlite_file
    assert path is not None
    return path


def _site_names(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sites ORDER BY name")]


def _rename_site(store: Store, name: str) -> None:
    with store.write() as session:
        session.execute(text("UPDATE sites SET name = :name"), {"name": name})


def _journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


# ----------------------------------------------------------------------------- where
def test_the_default_store_is_backed_up_into_the_data_folder() -> None:
    assert backup_dir(data_dir() / "deskops.sqlite3") == data_dir() / "backups"


def test_other_stores_get_a_folder_of_their_own(tmp_path: Path) -> None:
    a = backup_dir(tmp_path / "a" / "deskops.sqlite3")
    b = backup_dir(tmp_path / "b" / "deskops.sqlite3")
    assert a != b
    assert a.parent == b.parent == data_dir() / "backups"
    assert a.name.startswith("deskops-")


# ----------------------------------------------------------------------------- daily copies
def test_daily_backup_is_a_verified_single_file_copy(file_store: Store) -> None:
    info = daily_backup(file_store, now=MORNING)
    assert info is not None
    assert info.path.parent == backup_dir(_db(file_store))
    assert info.path.name == "store-20261127-090000-auto.sqlite3"
    assert info.kind == "daily"
    assert info.label == "Daily"
    assert info.size == info.path.stat().st_size > 0
    assert verify(info.path) is None
    # One self-contained file: a clerk can copy "the backup" to a USB stick.
    assert _journal_mode(info.path) == "delete"
    assert not info.path.with_name(info.path.name + "-wal").exists()
    assert _site_names(info.path) == _site_names(_db(file_store))


def test_at_most_one_automatic_backup_a_day(file_store: Store) -> None:
    assert daily_backup(file_store, now=MORNING) is not None
    assert daily_backup(file_store, now=MORNING + timedelta(hours=8)) is None
    assert daily_backup(file_store, now=MORNING + timedelta(days=1)) is not None
    assert [b.created.day for b in list_backups(_db(file_store))] == [28, 27]


def test_no_automatic_backup_for_stores_without_a_file() -> None:
    memory = Store("sqlite://")
    assert daily_backup(memory) is None
    with pytest.raises(BackupError, match="PostgreSQL"):
        make_backup(memory, BackupKind.MANUAL)
    memory.dispose()


def test_an_open_reader_does_not_stop_a_backup(file_store: Store) -> None:
    with file_store.read() as session:
        session.execute(text("SELECT count(*) FROM sites")).scalar()
        assert make_backup(file_store, BackupKind.MANUAL, MORNING).kind == "manual"


def test_a_copy_that_fails_its_check_is_deleted(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backups, "verify", lambda _path: "database disk image is malformed")
    with pytest.raises(BackupError, match="failed its check"):
        make_backup(file_store, BackupKind.MANUAL, MORNING)
    assert list(backup_dir(_db(file_store)).glob("*.sqlite3")) == []


def test_a_backup_that_cannot_be_written_is_a_backup_error(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(_target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(file_store, "backup", full_disk)
    with pytest.raises(BackupError, match="No space left"):
        make_backup(file_store, BackupKind.MANUAL, MORNING)


# ----------------------------------------------------------------------------- retention
def _fake_backups(
    db_path: Path, template: Path, stamps: list[datetime], kind: BackupKind = BackupKind.AUTO
) -> None:
    folder = backup_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    for when in stamps:
        shutil.copyfile(template, folder / backups._backup_name(db_path, when, kind))


@pytest.fixture
def template(file_store: Store) -> Path:
    info = make_backup(file_store, BackupKind.MANUAL, MORNING - timedelta(days=400))
    moved = info.path.with_name("template.bin")
    info.path.rename(moved)
    return moved


def test_retention_keeps_7_daily_and_4_weekly(file_store: Store, template: Path) -> None:
    db = _db(file_store)
    # Sixty days of start-ups, two on each day (morning and afternoon).
    stamps = [MORNING - timedelta(days=d) for d in range(60)]
    stamps += [s + timedelta(hours=6) for s in stamps]
    _fake_backups(db, template, stamps)
    removed = prune(db)
    kept = list_backups(db)
    assert len(kept) == 11
    assert len(removed) == 120 - 11
    dailies = [b for b in kept if b.kind == "daily"]
    weeklies = [b for b in kept if b.kind == "weekly"]
    assert len(dailies) == 7
    assert len(weeklies) == 4
    # The newest copy of each of the 7 newest days.
    assert [b.created for b in dailies] == [
        MORNING + timedelta(hours=6) - timedelta(days=d) for d in range(7)
    ]
    # Older than every daily, one per ISO week, the newest of its week.
    weeks = {b.created.isocalendar()[:2] for b in weeklies}
    assert len(weeks) == 4
    assert max(b.created for b in weeklies) < min(b.created for b in dailies)
    for weekly in weeklies:
        same_week = [
            s
            for s in stamps
            if s.isocalendar()[:2] == weekly.created.isocalendar()[:2]
            and s.date() < min(b.created for b in dailies).date()
        ]
        assert weekly.created == max(same_week)


def test_retention_keeps_the_newest_other_copies_of_each_kind(
    file_store: Store, template: Path
) -> None:
    db = _db(file_store)
    _fake_backups(db, template, [MORNING - timedelta(hours=h) for h in range(7)], BackupKind.MANUAL)
    _fake_backups(
        db, template, [MORNING - timedelta(hours=h) for h in range(2)], BackupKind.BEFORE_RESTORE
    )
    prune(db)
    kinds = [b.kind for b in list_backups(db)]
    assert kinds.count("manual") == backups.KEEP_OTHER
    assert kinds.count("before-restore") == 2


def test_prune_removes_leftovers_of_interrupted_copies(file_store: Store) -> None:
    folder = backup_dir(_db(file_store))
    folder.mkdir(parents=True, exist_ok=True)
    leftover = folder / "store-20261127-090000-auto.sqlite3.partial"
    leftover.write_bytes(b"half")
    (folder / "notes.txt").write_text("mine")
    prune(_db(file_store))
    assert not leftover.exists()
    assert (folder / "notes.txt").exists()  # files DeskOps did not write are left alone


# ----------------------------------------------------------------------------- the start-up check
def _damage_pages(path: Path) -> None:
    """Overwrite the middle of the file (a table's pages), leaving the header intact."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xa5" * 8192)


def test_a_missing_store_is_new(tmp_path: Path) -> None:
    health = check_store(tmp_path / "deskops.sqlite3", now=MORNING)
    assert health.state == "new"
    assert not health.needs_recovery


def test_a_sound_store_is_ok(file_store: Store) -> None:
    file_store.dispose()
    health = check_store(_db(file_store), now=MORNING)
    assert health.state == "ok"
    assert health.set_aside == ()


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_a_damaged_store_is_set_aside_with_its_wal(file_store: Store, damage: str) -> None:
    daily_backup(file_store, now=MORNING)
    file_store.dispose()
    db = _db(file_store)
    with sqlite3.connect(db) as conn:  # a -wal file beside it, as after a crash
        conn.execute("PRAGMA journal_mode=WAL")
    db.with_name(db.name + "-wal").write_bytes(b"")
    if damage == "header":
        with open(db, "r+b") as f:
            f.write(b"this is not a database at all")
    else:
        _damage_pages(db)
    health = check_store(db, now=MORNING + timedelta(hours=1))
    assert health.needs_recovery
    assert health.problem
    assert not db.exists()  # nothing will write to it, and no empty store replaces it silently
    moved = health.set_aside[0]
    assert moved.name == "store.sqlite3.damaged-20261127-100000"
    assert moved.exists()
    assert moved.with_name(moved.name + "-wal").exists()
    assert [b.kind for b in health.backups] == ["daily"]


def test_a_set_aside_store_still_needs_recovery_after_quitting(file_store: Store) -> None:
    file_store.dispose()
    db = _db(file_store)
    db.write_bytes(b"garbage" * 1000)
    first = check_store(db, now=MORNING)
    assert first.needs_recovery
    # The clerk quit the recovery dialog; on the next start nothing was created meanwhile.
    again = check_store(db, now=MORNING + timedelta(minutes=5))
    assert again.needs_recovery
    assert again.set_aside == first.set_aside


def test_an_empty_file_is_damage_only_when_backups_exist(file_store: Store) -> None:
    db = _db(file_store)
    empty = db.with_name("empty.sqlite3")
    empty.write_bytes(b"")  # no backups exist for this one: a store never written yet
    assert check_store(empty, now=MORNING).state == "new"
    daily_backup(file_store, now=MORNING)
    file_store.dispose()
    db.write_bytes(b"")  # its content is gone, but backups exist
    health = check_store(db, now=MORNING)
    assert health.needs_recovery
    assert health.problem == "the store file is empty"


def test_an_unreadable_store_is_not_called_damaged(tmp_path: Path) -> None:
    db = tmp_path / "deskops.sqlite3"
    db.mkdir()  # cannot be opened at all; that says nothing about damage
    with pytest.raises(StoreUnavailable):
        check_store(db, now=MORNING)
    assert db.exists()


def test_newest_good_backup_skips_a_rotten_copy(file_store: Store) -> None:
    older = make_backup(file_store, BackupKind.MANUAL, MORNING)
    newer = make_backup(file_store, BackupKind.MANUAL, MORNING + timedelta(hours=1))
    _damage_pages(newer.path)
    good = newest_good_backup(_db(file_store))
    assert good is not None
    assert good.path == older.path
    newer.path.write_bytes(b"")
    older.path.write_bytes(b"not sqlite")
    assert newest_good_backup(_db(file_store)) is None


def test_verify_wants_a_deskops_store(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert verify(other) == "it is not a DeskOps store (no schema version)"
    assert verify(tmp_path / "missing.sqlite3") == "the file does not exist"


# ----------------------------------------------------------------------------- restore
def test_restore_backs_up_the_current_store_first(file_store: Store) -> None:
    db = _db(file_store)
    before = _site_names(db)
    chosen = make_backup(file_store, BackupKind.MANUAL, MORNING)
    _rename_site(file_store, "Renamed after the backup")
    result = restore(db, chosen.path, now=MORNING + timedelta(hours=2))
    assert result.restored_from == chosen.path
    assert result.safety_copy is not None
    assert result.safety_copy.kind == "before-restore"
    assert _site_names(result.safety_copy.path) == ["Renamed after the backup"]
    # The live store (and the app's own engine) see the restored data.
    assert _site_names(db) == before
    with file_store.read() as session:
        assert session.execute(text("SELECT name FROM sites")).scalars().all() == before
    assert _journal_mode(db) == "wal"
    assert verify(db) is None


def test_a_bad_backup_is_refused_before_anything_changes(file_store: Store) -> None:
    db = _db(file_store)
    chosen = make_backup(file_store, BackupKind.MANUAL, MORNING)
    _rename_site(file_store, "Current")
    _damage_pages(chosen.path)
    with pytest.raises(BackupError, match="cannot be used"):
        restore(db, chosen.path, now=MORNING)
    assert _site_names(db) == ["Current"]
    assert [b.kind for b in list_backups(db)] == ["manual"]  # no safety copy was needed


def test_restore_into_a_set_aside_store(file_store: Store) -> None:
    db = _db(file_store)
    names = _site_names(db)
    chosen = make_backup(file_store, BackupKind.MANUAL, MORNING)
    file_store.dispose()
    db.write_bytes(b"garbage" * 100)
    health = check_store(db, now=MORNING)
    assert health.needs_recovery
    good = newest_good_backup(db, health.backups)
    assert good is not None
    assert good.path == chosen.path
    result = restore(db, good.path, now=MORNING)
    assert result.safety_copy is None  # there was no current store to keep
    assert _site_names(db) == names
    assert check_store(db, now=MORNING).state == "ok"


def test_restore_that_fails_leaves_the_store_as_it_was(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(file_store)
    chosen = make_backup(file_store, BackupKind.MANUAL, MORNING)
    _rename_site(file_store, "Current")

    real_connect = sqlite3.connect

    def connect(database: str | Path, *args: object, **kwargs: object) -> sqlite3.Connection:
        if Path(str(database)) == db:
            raise sqlite3.OperationalError("database is locked")
        return real_connect(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(backups.sqlite3, "connect", connect)
    with pytest.raises(BackupError, match="could not be backed up first"):
        restore(db, chosen.path, now=MORNING)
    monkeypatch.undo()
    assert _site_names(db) == ["Current"]


# ----------------------------------------------------------------------------- upgrades
def test_a_copy_is_made_before_a_schema_upgrade(file_store: Store) -> None:
    assert backup_before_upgrade(file_store) is None  # already at head
    with file_store.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    info = backup_before_upgrade(file_store, now=MORNING)
    assert info is not None
    assert info.kind == "before-upgrade"
    with file_store.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": HEAD_REVISION})


def test_no_copy_before_creating_a_new_store(tmp_path: Path) -> None:
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert backup_before_upgrade(fresh) is None
    fresh.dispose()
