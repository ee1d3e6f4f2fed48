"""Where a SQLite store may live: on this computer's own disk, never on a share or a synced folder.

SQLite relies on the operating system's file locks (and, in WAL mode, on shared memory next to
the file). Network file systems and cloud sync tools (OneDrive, Dropbox, Google Drive, iCloud)
do not provide those guarantees: a sync tool uploads a half-written file or replaces it with
"the other computer's copy", and SMB/NFS locks are advisory at best. Either ends in a corrupt
database, so the store refuses such places up front with a message that says why and where to
put it instead. (The exports folder may be synced: exports are plain files written once.)

Invariants a newcomer must not break:
- Qt-free, and fast: this runs on every start before the store is opened (string checks,
  one ``GetDriveTypeW`` call on Windows, one read of ``/proc/self/mounts`` on Linux).
- Path checks are pure functions of their inputs (environment and mount table are parameters)
  so the Windows rules are tested on every platform.
- A false "refuse" locks a clerk out of the app, so the rules are narrow: a path component
  must *be* a sync root's name (``OneDrive``, ``OneDrive - Contoso``, ``Dropbox``…), not
  merely contain it.
"""

from __future__ import annotations

import ntpath
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.services.paths import data_dir

# Folder names that are the root of a sync client's folder (compared case-insensitively).
SYNC_FOLDER_NAMES = {
    "onedrive": "OneDrive",
    "dropbox": "Dropbox",
    "google drive": "Google Drive",
    "googledrive": "Google Drive",
    "my drive": "Google Drive",  # Google Drive for desktop mounts "G:\My Drive"
    "icloud drive": "iCloud Drive",
    "iclouddrive": "iCloud Drive",  # iCloud for Windows: %USERPROFILE%\iCloudDrive
    "mobile documents": "iCloud Drive",  # macOS: ~/Library/Mobile Documents/com~apple~CloudDocs
    "cloudstorage": "a cloud storage provider",  # macOS: ~/Library/CloudStorage/<provider>
}
# Windows sets these to the OneDrive folders of the signed-in user.
ONEDRIVE_ENV = ("OneDrive", "OneDriveCommercial", "OneDriveConsumer")
# Linux file system types that are network or FUSE-remote mounts.
NETWORK_FS_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "davfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.davfs2",
    }
)
DRIVE_REMOTE = 4  # GetDriveTypeW


class StoreLocationError(DeskOpsError):
    """The store's folder is a network share or a synced cloud folder."""


@dataclass(frozen=True)
class LocationProblem:
    """Why a folder is unsafe for a SQLite store (``kind`` is "network" or "sync")."""

    kind: str
    detail: str


def is_unc_path(path: str) -> bool:
    r"""``\\server\share\…`` (or ``//server/share``, or ``\\?\UNC\…``), not ``\\?\C:\…``."""
    text = path.replace("/", "\\")
    upper = text.upper()
    if upper.startswith("\\\\?\\UNC\\"):
        return True
    if upper.startswith(("\\\\?\\", "\\\\.\\")):  # extended-length or device path of a local drive
        return False
    return text.startswith("\\\\")


def sync_folder_of(path: PurePath, environ: Mapping[str, str] | None = None) -> str | None:
    """The sync service whose folder holds ``path``, or None.

    Two rules: the path lies under a OneDrive folder Windows names in the environment, or one
    of its folders is named exactly like a sync client's root (``OneDrive - Company`` included).
    """
    env = os.environ if environ is None else environ
    flavour = PureWindowsPath if isinstance(path, PureWindowsPath) else type(path)
    for var in ONEDRIVE_ENV:
        root = env.get(var)
        if root and _is_within(path, flavour(root)):
            return "OneDrive"
    for part in path.parts[:-1]:  # the last part is the store's own file name
        name = part.strip().lower()
        if name in SYNC_FOLDER_NAMES:
            return SYNC_FOLDER_NAMES[name]
        if name.startswith("onedrive - ") or name.startswith("onedrive-"):
            return "OneDrive"
        if name.startswith("dropbox (") and name.endswith(")"):  # "Dropbox (Team name)"
            return "Dropbox"
    return None


def _is_within(path: PurePath, root: PurePath) -> bool:
    def norm(p: PurePath) -> tuple[str, ...]:
        if isinstance(p, PureWindowsPath):
            return tuple(part.lower().rstrip("\\") for part in p.parts)
        return p.parts

    parts, root_parts = norm(path), norm(root)
    return len(root_parts) > 0 and parts[: len(root_parts)] == root_parts


def linux_network_mount(path: Path, mounts_text: str | None = None) -> str | None:
    """The network file system type holding ``path`` per ``/proc/self/mounts``, or None."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    best: tuple[int, str] | None = None
    target = str(path)
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), fields[2])
    if best is not None and best[1].lower() in NETWORK_FS_TYPES:
        return best[1]
    return None


def windows_drive_is_remote(path: str) -> bool:
    """A mapped network drive (``GetDriveTypeW == DRIVE_REMOTE``); only meaningful on win32."""
    if sys.platform != "win32":
        return False
    import ctypes

    drive = ntpath.splitdrive(path)[0]
    if not drive or drive.startswith("\\\\"):
        return False
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    return int(kernel32.GetDriveTypeW(drive + "\\")) == DRIVE_REMOTE


def location_problem(
    path: str | PurePath,
    *,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    mounts_text: str | None = None,
) -> LocationProblem | None:
    """Why ``path`` (the store file) must not hold a SQLite store, or None when it may.

    ``platform`` defaults to ``sys.platform``; passing "win32" applies the Windows rules to a
    Windows path on any machine (the drive-type query itself only runs on real Windows).
    """
    platform = sys.platform if platform is None else platform
    text = str(path)
    windows = platform == "win32"
    if windows and is_unc_path(text):
        return LocationProblem("network", "it is on a network share")
    if windows and windows_drive_is_remote(text):
        drive = ntpath.splitdrive(text)[0]
        return LocationProblem("network", f"drive {drive} is a mapped network drive")
    pure: PurePath = PureWindowsPath(text) if windows else PurePosixPath(text)
    service = sync_folder_of(pure, environ)
    if service is not None:
        return LocationProblem("sync", f"that folder is synced by {service}")
    if platform.startswith("linux"):
        fs_type = linux_network_mount(Path(text), mounts_text)
        if fs_type is not None:
            return LocationProblem("network", f"it is on a network file system ({fs_type})")
    return None


def refusal_message(path: str | PurePath, problem: LocationProblem, default_folder: Path) -> str:
    """The text a clerk reads: what was refused, why, and what to do instead."""
    default_problem = location_problem(default_folder / "deskops.sqlite3")
    if default_problem is None:
        instead = (
            f"Keep the store in DeskOps' own data folder on this computer ({default_folder}), "
            "which is the default when no store is configured; DeskOps backs it up there "
            "every day."
        )
    else:
        instead = (
            "Point DESKOPS_DB_URL (or --db) at a file on this computer's own disk, e.g. "
            "sqlite:///C:/DeskOps/deskops.sqlite3."
        )
    return (
        f"DeskOps will not keep its data at {path}: {problem.detail}. SQLite's file locking "
        "does not work reliably through network shares and sync tools (OneDrive, Dropbox, "
        f"Google Drive, iCloud), and the database ends up corrupted. {instead} To share data "
        "between computers, use Export, or a PostgreSQL server for several users."
    )


def check_store_location(path: str | PurePath, default_folder: Path | None = None) -> None:
    """Raise ``StoreLocationError`` when ``path`` is on a share or in a synced folder."""
    # realpath: relative paths become absolute, and on Windows a mapped drive resolves to its
    # UNC form (\\server\share\...), which the UNC rule then catches too.
    absolute = os.path.realpath(path)
    problem = location_problem(absolute)
    if problem is None:
        return
    if default_folder is None:
        default_folder = data_dir()
    raise StoreLocationError(refusal_message(path, problem, default_folder))
