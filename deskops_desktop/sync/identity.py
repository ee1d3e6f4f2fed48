"""Who this replica is: its id and the fingerprint of the machine and file it lives in.

The server records both at join. A store copied to another computer (or to another folder of
this one) has the same replica id but a different fingerprint, and the server refuses it: two
laptops syncing as one would interleave their outboxes and cursors (Open mSupply's hardware id,
kept "to prevent accidental sync of dev clones"). A backup restored in place keeps its
fingerprint; that case is caught by the push sequence instead (``deskops_sync_hello``).

The machine id is the operating system's: Windows' ``MachineGuid``, ``/etc/machine-id`` on Linux,
``IOPlatformUUID`` on macOS; ``DESKOPS_SYNC_MACHINE_ID`` overrides it (imaging tools, tests that
play a second computer). It guards against mistakes, not against someone who forges it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

ENV_MACHINE_ID = "DESKOPS_SYNC_MACHINE_ID"


def machine_id() -> str:
    override = os.environ.get(ENV_MACHINE_ID)
    if override:
        return override
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as key:
            value, _ = winreg.QueryValueEx(key, "MachineGuid")
            return str(value)
    if sys.platform == "darwin":  # pragma: no cover - macOS only
        out = subprocess.run(
            ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout
        for line in out.splitlines():
            if "IOPlatformUUID" in line:
                return line.split("=")[-1].strip().strip('"')
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text:
            return text
    return f"mac-{uuid.getnode():012x}"  # pragma: no cover - no machine id at all


def fingerprint(database_file: Path | None) -> str:
    """The machine id and the store file's absolute path, hashed (64 hex digits)."""
    where = str(database_file.resolve()) if database_file is not None else ":memory:"
    return hashlib.sha256(f"{machine_id()}\0{where}".encode()).hexdigest()
