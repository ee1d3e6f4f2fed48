"""``deskops export`` through ``cli_export``: the result lines, refusals with exit 1, the bar."""

from __future__ import annotations

import argparse
import hashlib
import io
from pathlib import Path

import pytest

from deskops_desktop import cli_export as cli_command
from deskops_desktop.cli_support import TerminalProgress
from tests.test_export_support import Demo, demo_fixture, demo_template_fixture  # noqa: F401


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deskops")
    sub = parser.add_subparsers(dest="command")
    cli_command.add_parser(sub)
    return parser.parse_args(["export", *argv])


def test_export_prints_path_count_size_and_hash(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("production", "--site", "alasla-29", "--from", "2026-11-01", "--to", "2026-11-27",
                 "--format", "xlsx", "--granularity", "weekly", "--out", str(tmp_path))  # fmt: skip
    assert cli_command.run(args, demo.services, demo.actors.admin) == 0
    out = capsys.readouterr().out.splitlines()
    fields = dict(line.split(":", 1) for line in out)
    path = Path(fields["path"].strip())
    assert path.parent == tmp_path
    assert path.name == "ALASLA-29 Production weekly 2026-11-01 to 2026-11-27.xlsx"
    assert fields["sha256"].strip() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fields["size"].strip().startswith(f"{path.stat().st_size:,} bytes")
    assert fields["records"].strip().endswith("records")


def test_export_to_a_named_file(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "feed.csv"
    args = parse("inventory", "--site", "ALASLA-29", "--from", "2026-11-20", "--to", "2026-11-27",
                 "--format", "powerbi", "--out", str(target))  # fmt: skip
    assert cli_command.run(args, demo.services, demo.actors.admin) == 0
    assert target.read_text(encoding="utf-8").startswith("row_key,site_code,site_name,date,")
    assert "records: 136 records" in capsys.readouterr().out  # 17 materials x 8 days


def test_refusals_exit_1_with_a_clear_message(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    args = parse("production", "--site", "ALASLA-29", "--from", "2026-09-01", "--to", "2026-11-27",
                 "--format", "csv", "--out", str(tmp_path))  # fmt: skip
    assert cli_command.run(args, demo.services, demo.actors.operator) == 1
    err = capsys.readouterr().err
    assert "deskops: error: --to: the range is 87 days" in err
    assert "30 days" in err
    unknown = parse("production", "--site", "NOPE", "--from", "2026-11-01", "--to", "2026-11-02",
                    "--format", "csv")  # fmt: skip
    assert cli_command.run(unknown, demo.services, demo.actors.admin) == 1
    assert "unknown site 'NOPE'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_argparse_errors() -> None:
    with pytest.raises(SystemExit):
        parse(
            "production",
            "--site",
            "X",
            "--from",
            "2026-13-01",
            "--to",
            "2026-11-02",
            "--format",
            "csv",
        )
    with pytest.raises(SystemExit):
        parse(
            "stock", "--site", "X", "--from", "2026-11-01", "--to", "2026-11-02", "--format", "csv"
        )


def test_terminal_progress_draws_a_bar() -> None:
    stream = io.StringIO()
    bar = TerminalProgress(stream, force=True)
    bar.set_status("Writing rows…")
    for percent in (0, 50, 100):
        bar.set_progress(percent)
    bar.close()
    text = stream.getvalue()
    assert "[" + "#" * 30 + "] 100%" in text
    assert text.endswith("\n")
    quiet = io.StringIO()
    TerminalProgress(quiet).set_progress(50)  # not a terminal: nothing drawn
    assert quiet.getvalue() == ""
