"""Where DeskOps keeps its files on this computer (platformdirs), in one leaf module.

A leaf on purpose: the store, the store-location check and the backups all need the data folder,
and none of them may import another just for it (that was an import circle).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "DeskOps"


def data_dir() -> Path:
    """DeskOps' per-user data folder: the default store, its ``backups/`` and nothing synced."""
    return platformdirs.user_data_path(APP_NAME, APP_NAME)


def default_db_url() -> str:
    """The embedded SQLite store in the data folder (what a new install uses)."""
    return f"sqlite:///{data_dir() / 'deskops.sqlite3'}"
