"""``deskops sync …``: join a remote-site laptop, sync it, show its status, decide conflicts.

Registered by one hook in ``deskops_desktop/cli.py`` (``add_parser``). Like the rest of the
command line: no Qt, every failure a user can cause is one line on stderr and exit status 1,
sign-in from ``DESKOPS_USER``/``DESKOPS_PASSWORD`` or asked for. Progress goes to stderr so
``deskops sync status --format json`` stays clean on stdout.

    deskops sync join SERVER_URL --site CODE [--site CODE …]   (a new laptop: first download)
    deskops sync now                                            (push, then pull; exit 1 if not)
    deskops sync status [--format json]                         (local; no sign-in needed)
    deskops sync conflicts [--all]                              (conflicts and held records)
    deskops sync resolve ID --keep mine|theirs                  (moderators)
    deskops sync dismiss SEQ                                    (a read rejection)
    deskops sync log [--lines N]                                (what the last syncs did)
    deskops sync prune --keep-days N                            (admins, on the server)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from deskops_desktop.cli_support import (
    CliError,
    credentials,
    format_table,
    positive_int,
)
from deskops_desktop.models.reference import Equipment, ManpowerRole, Material
from deskops_desktop.sync.adapter import (
    Store,
    UserService,
    local_authenticate,
    open_store,
    resolve_db_url,
)
from deskops_desktop.sync.attention import (
    KEEP_MINE,
    KEEP_THEIRS,
    AttentionItem,
    dismiss,
    list_items,
    local_items,
    resolve,
    short_ids,
)
from deskops_desktop.sync.desk import read_log, server_session
from deskops_desktop.sync.protocol import SyncOffline
from deskops_desktop.sync.runner import Credentials, join, run_sync
from deskops_desktop.sync.state import load_replica
from deskops_desktop.sync.status import sync_status


def add_parser(
    commands: argparse._SubParsersAction[Any], parents: list[argparse.ArgumentParser]
) -> None:
    """Add ``sync`` and its actions to the ``deskops`` parser (``commands``)."""
    text = "remote-site laptops: join head office, sync, status, conflicts"
    group = commands.add_parser("sync", help=text, description=text)
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(
            name, parents=parents, help=help_text, description=help_text
        )
        sub.set_defaults(handler=handler)
        return sub

    j = action("join", "make this (new, empty) store a laptop of head office's sites", _join)
    j.add_argument("server", metavar="SERVER_URL", help="e.g. postgresql://hq-server/deskops")
    j.add_argument(
        "--site",
        dest="sites",
        metavar="CODE",
        action="append",
        required=True,
        help="a site this laptop keeps (repeat for more)",
    )
    action("now", "send this laptop's changes, then receive head office's", _now)
    st = action("status", "how many changes wait, need attention; when last confirmed", _status)
    st.add_argument("--format", dest="fmt", choices=["text", "json"], default="text")
    c = action(
        "conflicts", "list conflicts and held records (head office's, else local)", _conflicts
    )
    c.add_argument("--all", action="store_true", help="include decided ones")
    r = action("resolve", "decide a conflict or held record (moderators)", _resolve)
    r.add_argument("ident", metavar="ID", help="the item's id (its first 8 characters do)")
    r.add_argument(
        "--keep",
        required=True,
        choices=[KEEP_MINE, KEEP_THEIRS],
        help="mine: the laptop's version (held: apply it); theirs: head office's",
    )
    d = action("dismiss", "mark a rejected change as read", _dismiss)
    d.add_argument("seq", metavar="SEQ", type=positive_int)
    lg = action("log", "what the last syncs did", _log)
    lg.add_argument("--lines", type=positive_int, default=30)
    p = action("prune", "drop head office's change feed older than N days (admins)", _prune)
    p.add_argument("--keep-days", type=positive_int, default=120)


# ------------------------------------------------------------------------ helpers
class _StderrProgress:
    def __init__(self) -> None:
        self._last = ""

    def set_progress(self, percent: int) -> None:
        del percent

    def set_status(self, text: str) -> None:
        if text != self._last:
            sys.stderr.write(f"{text}\n")
            self._last = text

    def is_cancelled(self) -> bool:
        return False


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[Store]:
    store = open_store(getattr(args, "db", None), clock=args.clock)
    try:
        yield store
    finally:
        store.dispose()


def _credentials() -> tuple[str, str]:
    """The clerk's sign-in as the main CLI takes it, the name as head office spells roles."""
    username, password = credentials()
    return username.strip().lower(), password


def _replica_url(store: Store) -> Any:
    with store.read() as session:
        replica = load_replica(session)
    if replica is None:
        raise CliError(
            "this store is not a remote-site laptop; join one first with "
            "'deskops sync join SERVER_URL --site CODE'"
        )
    return replica.url


def _server_session(store: Store, username: str, password: str) -> Any:
    """A transaction at head office as the clerk (``desk.server_session``); a lone store is
    not one (say so rather than fail obscurely)."""
    if store.is_sqlite:
        _replica_url(store)
    else:
        UserService(store).authenticate(username, password)
    return server_session(store, username, password)


# ------------------------------------------------------------------------ actions
def _join(args: argparse.Namespace) -> int:
    url = args.server
    db = resolve_db_url(getattr(args, "db", None))
    username, password = _credentials()
    with _store(args) as store:
        report = join(store, url, username, password, args.sites, _StderrProgress())
        status = sync_status(store)
    if not report.ok:
        raise CliError(report.error)
    print(f"{db}: a remote-site laptop of {', '.join(s.upper() for s in args.sites)}")
    print(report.summary())
    print(status.headline())
    return 0


def _now(args: argparse.Namespace) -> int:
    username, password = _credentials()
    with _store(args) as store:
        _replica_url(store)
        report = run_sync(store, Credentials.single(username, password), _StderrProgress())
        status = sync_status(store)
    print(report.summary())
    for name, why in sorted(report.push.waiting.items()):
        print(f"waiting: {name}: {why}")
    print(status.headline())
    return 0 if report.ok else 1


def _status(args: argparse.Namespace) -> int:
    with _store(args) as store:
        status = sync_status(store)
    if not status.is_replica:
        raise CliError("this store is not a remote-site laptop (nothing to sync)")
    if args.fmt == "json":
        print(json.dumps(status.to_json(), indent=2, sort_keys=True))
        return 0
    print(status.headline())
    rows = [
        ("waiting to be sent", status.pending),
        ("sent, no answer yet", status.sent),
        ("applied, not yet confirmed by a pull", status.unconfirmed),
        ("waiting for a clerk's sign-in", status.blocked),
        ("conflicts", status.conflicts),
        ("held for a supervisor", status.held),
        ("rejected (unread)", status.rejected),
    ]
    print(format_table(("", "Changes"), [(k, str(v)) for k, v in rows]))
    if status.last_error:
        print(f"last problem: {status.last_error}")
    for problem in status.sanity_problems:
        print(f"check: {problem}")
    return 0


def _describe(item: AttentionItem, codes: dict[str, str]) -> str:
    """The record and what differs, references by code; one side missing is said in words."""
    values = item.mine or item.theirs or {}
    day = values.get("date", "")
    if item.mine is None or item.theirs is None:
        where = "here" if item.mine is None else "at head office"
        return f"{item.module.value} {day}: deleted {where}"

    def shown(value: object) -> object:
        return codes.get(str(value), value)

    diff = "; ".join(
        f"{label}: {shown(mine)} ≠ {shown(theirs)}" for label, mine, theirs in item.differences()
    )
    return f"{item.module.value} {day} {diff}".strip()


def _codes(session: Session) -> dict[str, str]:
    """Material, equipment and role codes by id (what a clerk recognises)."""
    out: dict[str, str] = {}
    for model in (Material, Equipment, ManpowerRole):
        out.update({str(i): str(c) for i, c in session.execute(select(model.id, model.code))})
    return out


def _conflicts(args: argparse.Namespace) -> int:
    username, password = _credentials()
    with _store(args) as store:
        try:
            with _server_session(store, username, password) as session:
                items = list_items(session, include_resolved=args.all)
                codes = _codes(session)
        except SyncOffline as exc:
            if not store.is_sqlite:
                raise
            local_authenticate(store, username, password)
            sys.stderr.write(f"{exc}; showing this laptop's own list\n")
            mirror = local_items(store)
            print(
                format_table(
                    ("Seq", "State", "Kind", "Module", "Reason"),
                    [(str(i.seq), i.state, i.kind, i.module.value, i.reason) for i in mirror],
                )
            )
            return 0
    if not items:
        print("nothing needs a decision")
        return 0
    short = short_ids([i.id for i in items])
    print(
        format_table(
            ("ID", "Kind", "By", "What", "Why", "Decided"),
            [
                (
                    short[i.id],
                    i.kind,
                    i.author,
                    _describe(i, codes),
                    i.reason,
                    i.resolution if i.resolved_at else "",
                )
                for i in items
            ],
        )
    )
    return 0


def _resolve(args: argparse.Namespace) -> int:
    username, password = _credentials()
    with _store(args) as store, _server_session(store, username, password) as session:
        result = resolve(session, args.ident, args.keep)
    print(f"{result.item.id}: {result.item.resolution}; every laptop gets it with its next sync")
    return 0


def _dismiss(args: argparse.Namespace) -> int:
    username, password = _credentials()
    with _store(args) as store:
        local_authenticate(store, username, password)
        dismiss(store, args.seq)
    print(f"change {args.seq} marked as read")
    return 0


def _log(args: argparse.Namespace) -> int:
    with _store(args) as store:
        lines = read_log(store, args.lines)
    for line in lines:
        print(line.text())
    return 0


def _prune(args: argparse.Namespace) -> int:
    username, password = _credentials()
    with _store(args) as store, _server_session(store, username, password) as session:
        gone = session.execute(
            text("SELECT deskops_sync_prune(:d)"), {"d": args.keep_days}
        ).scalar()
    print(
        f"dropped {gone or 0:,} feed rows older than {args.keep_days} days; laptops whose "
        "cursor is older download their sites again"
    )
    return 0
