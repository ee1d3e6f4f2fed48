"""A keyring that lives in one JSON file, so a child process sees what the test stored.

The autouse fake of ``conftest`` lives in the test's memory; a scheduled task runs in another
process. Tests that run a task's command line for real point both sides at one file:
``keyring.set_keyring(FileKeyring(path))`` here, and ``PYTHON_KEYRING_BACKEND=
tests.file_keyring.FileKeyring`` plus ``DESKOPS_TEST_KEYRING=path`` for the child.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties

ENV = "DESKOPS_TEST_KEYRING"


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        """Viable only where a test asked for it: keyring tries every backend class it
        knows when it chooses one, and must never pick this one by itself."""
        if ENV not in os.environ:
            raise RuntimeError(f"{ENV} is not set")
        return 1

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.path = path or Path(os.environ.get(ENV, os.devnull))

    def _load(self) -> dict[str, str]:
        try:
            loaded: dict[str, str] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return loaded

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        secrets = self._load()
        secrets[f"{service}\n{username}"] = password
        self.path.write_text(json.dumps(secrets))

    def delete_password(self, service: str, username: str) -> None:
        secrets = self._load()
        secrets.pop(f"{service}\n{username}", None)
        self.path.write_text(json.dumps(secrets))
