"""``deskops export``: the same job service and writers as the desktop, in the foreground.

``cli.py`` wires it in with ``add_parser(subparsers, parents=[db])`` and calls
``run(args, services, actor)`` once the user is signed in. Every refusal (role limits, too many
active jobs, bad dates, an unwritable folder) prints one clear line to stderr and returns 1; the
progress bar goes to stderr and only when it is a terminal, so stdout carries just the result.
Files written here never expire (``keep``): a scheduled Power BI feed must stay where it was put.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from deskops_desktop.cli_support import TerminalProgress, add_module_argument, iso_date
from deskops_desktop.export.files import human_size
from deskops_desktop.export.jobs import ExportJobService, ExportRequest
from deskops_desktop.models.enums import Category, ExportFormat, Granularity, Module
from deskops_desktop.models.errors import DeskOpsError, ValidationError
from deskops_desktop.models.jobs import JOB_COMPLETED
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services

EXIT_OK = 0
EXIT_FAILURE = 1
_FIELD_OPTIONS = {
    "date_from": "--from",
    "date_to": "--to",
    "site": "--site",
    "destination": "--out",
    "category": "--category",
    "module": "MODULE",
    "format": "--format",
}


def add_parser(subparsers: Any, **kwargs: Any) -> argparse.ArgumentParser:
    """Add ``export`` to ``subparsers`` (extra keyword arguments go to ``add_parser``)."""
    text = "write an export file (xlsx, csv, Power BI csv or pdf) with a progress bar"
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export", help=text, description=text, **kwargs
    )
    add_module_argument(parser, Module)
    parser.add_argument("--site", required=True, metavar="CODE", help="site code")
    parser.add_argument("--from", dest="date_from", required=True, type=iso_date, metavar="DATE")
    parser.add_argument("--to", dest="date_to", required=True, type=iso_date, metavar="DATE")
    parser.add_argument(
        "--format",
        dest="fmt",
        required=True,
        type=str.lower,
        choices=[f.value for f in ExportFormat],
        help="xlsx, csv, powerbi or pdf",
    )
    parser.add_argument(
        "--granularity",
        type=str.lower,
        default=Granularity.DAILY.value,
        choices=[g.value for g in Granularity],
        help="daily (default), weekly or monthly",
    )
    parser.add_argument(
        "--category",
        type=str.upper,
        choices=[c.value for c in Category],
        metavar="CAT",
        help="only materials of this category (material modules)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="a folder (the file is named for you) or a file name (default: the current folder)",
    )
    return parser


def run(args: argparse.Namespace, services: Services, actor: Actor) -> int:
    """Run the export described by ``args`` as ``actor``; print the result; 0 or 1."""
    try:
        site = services.master.site_by_code(actor, args.site)
        folder, name = _destination(args.out)
        # In the order of the command's options (MODULE --site --from --to --format …).
        request = ExportRequest(
            module=Module(args.module),
            site_id=site.id,
            date_from=args.date_from,
            date_to=args.date_to,
            format=ExportFormat(args.fmt),
            granularity=Granularity(args.granularity),
            category=getattr(args, "category", None),
            destination=str(folder),
            file_name=name,
            keep=True,
        )
        bar = TerminalProgress(sys.stderr)
        info = ExportJobService(services).export_now(actor, request, bar)
        bar.close()
    except ValidationError as exc:
        for problem in exc.problems:
            option = _FIELD_OPTIONS.get(problem.field, problem.field)
            _error(f"{option}: {problem.message}")
        return EXIT_FAILURE
    except DeskOpsError as exc:
        _error(str(exc))
        return EXIT_FAILURE
    if info.status != JOB_COMPLETED:
        _error(f"the export failed: {info.error}")
        return EXIT_FAILURE
    noun = "record" if info.record_count == 1 else "records"
    print(f"path:    {info.file_path}")
    print(f"records: {info.record_count:,} {noun}")
    print(f"size:    {info.size_bytes:,} bytes ({human_size(info.size_bytes or 0)})")
    print(f"sha256:  {info.sha256}")
    return EXIT_OK


def _destination(out: Path | None) -> tuple[Path, str]:
    if out is None:
        return Path.cwd(), ""
    path = out.expanduser()
    if path.is_dir() or str(out).endswith(("/", "\\")):
        return path.resolve(), ""
    return path.parent.resolve(), path.name


def _error(message: str) -> None:
    sys.stderr.write(f"deskops: error: {message}\n")
