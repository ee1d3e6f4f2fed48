"""``deskops --self-test`` (deskops_desktop.self_test) and the frozen entry point that runs it."""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import keyring
import pytest
from keyring.backends import fail

from deskops_desktop import self_test
from deskops_desktop.self_test import FAIL, PASS, WARN, CheckResult, run_self_test

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]


def test_the_whole_self_test_passes_here(qapp: object) -> None:
    out = io.StringIO()
    status = run_self_test(out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("DeskOps ")
    names = [name for name, _check in self_test.CHECKS]
    body = lines[1:-1]
    assert len(body) == len(names)  # one line per check
    for line, name in zip(body, names, strict=True):
        assert line.split()[0] in (PASS, WARN), line
        assert name.split()[0] in line
    assert lines[-1].startswith("Verdict: PASS")
    assert status == 0


def test_main_prints_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(self_test, "CHECKS", (("one", lambda: CheckResult(PASS, "one", "fine")),))
    assert self_test.main() == 0
    assert "PASS  one" in capsys.readouterr().out


def _report(*results: CheckResult | Exception) -> tuple[int, str]:
    def make(item: CheckResult | Exception) -> tuple[str, object]:
        def check() -> CheckResult:
            if isinstance(item, Exception):
                raise item
            return item

        return ("boom" if isinstance(item, Exception) else item.name, check)

    out = io.StringIO()
    status = run_self_test(out, [make(item) for item in results])  # type: ignore[misc]
    return status, out.getvalue()


def test_warnings_alone_still_pass() -> None:
    status, text = _report(CheckResult(PASS, "a", "ok"), CheckResult(WARN, "b", "old"))
    assert status == 0
    assert text.splitlines()[-1] == "Verdict: PASS (2 checks, 1 warning)"


def test_any_failure_fails_and_a_raising_check_is_a_failure() -> None:
    status, text = _report(CheckResult(PASS, "a", "ok"), RuntimeError("plugin missing\nmore"))
    assert status == 1
    assert "FAIL  boom         RuntimeError: plugin missing" in text
    assert text.splitlines()[-1] == "Verdict: FAIL (1 of 2 checks failed, 0 warnings)"


def test_store_check_uses_a_temporary_store_not_the_users() -> None:
    from deskops_desktop.services.paths import data_dir

    result = self_test.check_store()
    assert result.status == PASS
    assert "migrated to schema" in result.detail
    assert not (data_dir() / "deskops.sqlite3").exists()


@pytest.mark.parametrize(
    ("version", "status"), [("3.40.1", WARN), ("3.51.2", WARN), ("3.51.3", PASS), ("3.52.0", PASS)]
)
def test_sqlite_version(version: str, status: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(self_test, "sqlite3", SimpleNamespace(sqlite_version=version))
    result = self_test.check_sqlite()
    assert result.status == status
    assert version in result.detail


def test_keyring_a_real_backend_passes() -> None:
    # conftest installs an in-memory backend: a real backend as far as keyring is concerned.
    assert self_test.check_keyring("linux").status == PASS


def test_keyring_fail_backend_on_windows_and_macos_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setitem(
        self_test.REAL_KEYRING, "win32", ("Windows", "keyring.backends.Windows", None)
    )
    result = self_test.check_keyring("win32")
    assert result.status == FAIL
    assert "fail.Keyring" in result.detail


def test_keyring_fail_backend_on_linux_is_a_warning_with_the_reason() -> None:
    keyring.set_keyring(fail.Keyring())
    result = self_test.check_keyring("linux")
    assert result.status == WARN
    assert "PostgreSQL password" in result.detail


def test_keyring_without_its_entry_points_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_kw: [])
    result = self_test.check_keyring("linux")
    assert result.status == FAIL
    assert "not registered" in result.detail


def test_keyring_without_its_library_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        self_test,
        "LINUX_KEYRING",
        ("SecretService", "keyring.backends.SecretService", "no_such_library"),
    )
    result = self_test.check_keyring("linux")
    assert result.status == FAIL
    assert "cannot work in this build" in result.detail


def test_openpyxl_needs_defusedxml(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    assert self_test.check_openpyxl().status == PASS
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    assert self_test.check_openpyxl().status == FAIL


def test_reportlab_writes_a_pdf_with_arabic_and_emoji(monkeypatch: pytest.MonkeyPatch) -> None:
    from deskops_desktop.export import pdf_text

    result = self_test.check_reportlab()
    assert result.status == PASS, result.detail
    assert "Arabic (joined, right to left) and emoji" in result.detail
    only_latin = pdf_text.Line((pdf_text.Run(pdf_text.SANS, "x", 500.0),), 500.0, None, False)
    monkeypatch.setattr(pdf_text, "layout", lambda *_a, **_k: only_latin)
    result = self_test.check_reportlab()
    assert result.status == WARN
    assert "DeskOps-Arabic" in result.detail or "Arabic" in result.detail


def test_calamine_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert self_test.check_calamine().status == PASS
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    result = self_test.check_calamine()
    assert result.status == WARN
    assert "slower" in result.detail


def test_postgres_driver() -> None:
    result = self_test.check_postgres_driver()
    assert result.status in (PASS, WARN)
    assert "libpq" in result.detail


def test_exports_folder_is_created_and_must_be_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskops_desktop.export import jobs

    target = tmp_path / "Documents" / "DeskOps exports"
    monkeypatch.setattr(jobs, "default_destination", lambda: target)
    assert self_test.check_exports_folder().status == PASS
    assert target.is_dir()
    assert list(target.iterdir()) == []  # the probe file is gone
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(jobs, "default_destination", lambda: blocker / "DeskOps exports")
    assert self_test.check_exports_folder().status == FAIL


def test_data_folder_must_not_be_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert self_test.check_data_folder().status == PASS
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "Dropbox"))
    result = self_test.check_data_folder()
    assert result.status == FAIL
    assert "Dropbox" in result.detail


def test_qt_reports_a_missing_platform_plugin(
    qapp: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "nosuchplatform")
    result = self_test.check_qt()
    assert result.status == FAIL
    assert "nosuchplatform" in result.detail
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert self_test.check_qt().status == PASS
    assert self_test.check_charts().status == PASS


def test_qt_reports_missing_resources(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskops_desktop.views import theme

    monkeypatch.setattr(theme, "resources_dir", lambda: tmp_path)
    result = self_test.check_qt()
    assert result.status == FAIL
    assert "resources are missing" in result.detail


# ----------------------------------------------------------------------------- packaging/entry.py
def _entry() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deskops_entry", ROOT / "packaging" / "entry.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entry_runs_the_self_test_before_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import deskops_desktop.cli

    entry = _entry()
    monkeypatch.setattr(self_test, "main", lambda: 7)
    monkeypatch.setattr(deskops_desktop.cli, "main", lambda args: 40 + len(args))
    assert entry.main(["--self-test"]) == 7
    assert entry.main(["user", "list"]) == 42
    assert entry.main([]) == 40


def test_entry_knows_how_old_its_process_is() -> None:
    age = _entry()._process_age()
    if age is not None:  # Linux and Windows
        assert 0 <= age < 24 * 3600
