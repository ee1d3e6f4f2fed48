"""The store refuses network shares and synced cloud folders, with a message that says why.

The Windows rules are pure functions of the path and the environment, so they are tested here
on any platform (``platform="win32"``); only the drive-type query itself needs real Windows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deskops_desktop.services import store_location
from deskops_desktop.services.paths import data_dir
from deskops_desktop.services.store import Store
from deskops_desktop.services.store_location import (
    StoreLocationError,
    check_store_location,
    is_unc_path,
    linux_network_mount,
    location_problem,
    refusal_message,
)

NO_ENV: dict[str, str] = {}


@pytest.mark.parametrize(
    ("path", "unc"),
    [
        (r"\\server\share\deskops.sqlite3", True),
        ("//server/share/deskops.sqlite3", True),
        (r"\\?\UNC\server\share\deskops.sqlite3", True),
        (r"\\?\C:\Users\clerk\deskops.sqlite3", False),
        (r"\\.\C:\deskops.sqlite3", False),
        (r"C:\Users\clerk\deskops.sqlite3", False),
        ("/home/clerk/deskops.sqlite3", False),
    ],
)
def test_unc_paths(path: str, unc: bool) -> None:
    assert is_unc_path(path) is unc


@pytest.mark.parametrize(
    ("path", "env", "kind"),
    [
        (r"\\plant-nas\office\deskops.sqlite3", NO_ENV, "network"),
        (
            r"C:\Users\clerk\OneDrive\DeskOps\deskops.sqlite3",
            {"OneDrive": r"C:\Users\clerk\OneDrive"},
            "sync",
        ),
        # Case differs from the environment: Windows paths are case-insensitive.
        (
            r"c:\users\CLERK\onedrive\deskops.sqlite3",
            {"OneDrive": r"C:\Users\clerk\OneDrive"},
            "sync",
        ),
        # OneDrive for Business ("OneDrive - Company"), found by name without any environment.
        (r"C:\Users\clerk\OneDrive - Contoso Recycling\deskops.sqlite3", NO_ENV, "sync"),
        (r"D:\Dropbox\plant\deskops.sqlite3", NO_ENV, "sync"),
        (r"D:\Dropbox (Contoso)\deskops.sqlite3", NO_ENV, "sync"),
        (r"G:\My Drive\deskops.sqlite3", NO_ENV, "sync"),
        (r"C:\Users\clerk\iCloudDrive\deskops.sqlite3", NO_ENV, "sync"),
        (
            r"C:\Users\clerk\AppData\Local\DeskOps\DeskOps\deskops.sqlite3",
            {"OneDrive": r"C:\Users\clerk\OneDrive"},
            None,
        ),
        # Names that merely contain a sync client's name are fine (no false refusals).
        (r"C:\Data\OneDriveNotes\deskops.sqlite3", NO_ENV, None),
        (r"C:\Data\dropbox-export\deskops.sqlite3", NO_ENV, None),
        # The file name itself never counts.
        (r"C:\Data\Dropbox", NO_ENV, None),
    ],
)
def test_windows_rules(
    path: str, env: dict[str, str], kind: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_location, "windows_drive_is_remote", lambda _path: False)
    problem = location_problem(path, environ=env, platform="win32")
    assert (problem.kind if problem else None) == kind


def test_mapped_network_drive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_location, "windows_drive_is_remote", lambda path: path[:2] == "Z:")
    problem = location_problem(r"Z:\DeskOps\deskops.sqlite3", environ=NO_ENV, platform="win32")
    assert problem is not None
    assert problem.kind == "network"
    assert "Z:" in problem.detail
    assert location_problem(r"C:\DeskOps\deskops.sqlite3", environ=NO_ENV, platform="win32") is None


def test_drive_type_is_only_asked_on_windows() -> None:
    # On any other platform the ctypes call is never made (it does not exist there).
    import sys

    if sys.platform != "win32":
        assert store_location.windows_drive_is_remote(r"Z:\deskops.sqlite3") is False


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/home/clerk/Dropbox/deskops.sqlite3", "sync"),
        ("/Users/clerk/Library/Mobile Documents/com~apple~CloudDocs/deskops.sqlite3", "sync"),
        ("/Users/clerk/Library/CloudStorage/GoogleDrive-me@example.com/deskops.sqlite3", "sync"),
        ("/Users/clerk/Google Drive/deskops.sqlite3", "sync"),
        ("/home/clerk/.local/share/DeskOps/deskops.sqlite3", None),
    ],
)
def test_posix_sync_folders(path: str, kind: str | None) -> None:
    problem = location_problem(path, environ=NO_ENV, platform="darwin")
    assert (problem.kind if problem else None) == kind


MOUNTS = """\
/dev/vda1 / ext4 rw,relatime 0 0
server:/export /mnt/share nfs4 rw,relatime 0 0
/dev/vdb1 /mnt/share/local ext4 rw 0 0
//nas/office /media/office\\040files cifs rw 0 0
tmpfs /tmp tmpfs rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "fs_type"),
    [
        ("/mnt/share/deskops.sqlite3", "nfs4"),
        ("/mnt/share/local/deskops.sqlite3", None),  # the longest mount point wins
        ("/media/office files/deskops.sqlite3", "cifs"),  # \040 is a space in the mount table
        ("/mnt/shared/deskops.sqlite3", None),  # a sibling, not inside /mnt/share
        ("/tmp/deskops.sqlite3", None),
    ],
)
def test_linux_network_mounts(path: str, fs_type: str | None) -> None:
    assert linux_network_mount(Path(path), MOUNTS) == fs_type
    problem = location_problem(path, environ=NO_ENV, platform="linux", mounts_text=MOUNTS)
    assert (problem.kind if problem else None) == ("network" if fs_type else None)


def test_the_message_says_why_and_where_instead(tmp_path: Path) -> None:
    target = tmp_path / "Dropbox" / "deskops.sqlite3"
    with pytest.raises(StoreLocationError) as caught:
        check_store_location(target, default_folder=tmp_path / "data")
    message = str(caught.value)
    assert str(target) in message
    assert "synced by Dropbox" in message
    assert "corrupt" in message
    assert str(tmp_path / "data") in message  # where to put it instead
    assert "PostgreSQL" in message


def test_when_the_default_folder_is_unsafe_too_the_message_points_elsewhere(
    tmp_path: Path,
) -> None:
    problem = location_problem(tmp_path / "OneDrive" / "x.sqlite3", environ=NO_ENV)
    assert problem is not None
    message = refusal_message("/x/OneDrive/x.sqlite3", problem, tmp_path / "Dropbox" / "DeskOps")
    assert "DESKOPS_DB_URL" in message
    assert "own disk" in message


def test_store_refuses_a_synced_folder_before_creating_anything(tmp_path: Path) -> None:
    folder = tmp_path / "OneDrive - Contoso" / "DeskOps"
    with pytest.raises(StoreLocationError, match="synced by OneDrive"):
        Store(f"sqlite:///{folder / 'deskops.sqlite3'}")
    assert not folder.exists()


def test_store_in_the_default_folder_is_accepted() -> None:
    store = Store(f"sqlite:///{data_dir() / 'deskops.sqlite3'}")
    store.dispose()
    check_store_location(data_dir() / "deskops.sqlite3")


def test_memory_and_postgres_urls_are_not_checked() -> None:
    Store("sqlite://").dispose()
    Store("sqlite:///:memory:").dispose()
