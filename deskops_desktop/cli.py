"""The ``deskops`` command line (also ``python -m deskops_desktop``), over the app's services.

Invariants a newcomer must not break:
- Importing this module imports no Qt: without a subcommand the desktop app is imported lazily,
  so the command line works on a server without a display.
- Every failure a user can cause — a bad argument, a refused sign-in, a rule the services
  enforce, an unreadable file, an unreachable database — prints a clear message to stderr and
  ``main`` returns 1. Never a traceback (``DESKOPS_DEBUG=1`` adds one for developers).
- Role checks live in the services: the CLI signs in and hands the ``Actor`` to them.
- The store is opened (upgraded and seeded) once per command and disposed at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from deskops_desktop import __version__, cli_pack, cli_plant
from deskops_desktop import cli_export as export_command
from deskops_desktop.cli_support import (
    ENV_DB_PASSWORD,
    CliError,
    TerminalProgress,
    add_module_argument,
    ask_secret,
    format_table,
    interactive,
    inventory_table,
    iso_date,
    new_password,
    non_negative_int,
    positive_int,
    require_actor,
    require_actor_at,
    sign_in,
    write_inventory_csv,
)
from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock
from deskops_desktop.models.display import first_line
from deskops_desktop.models.enums import RECORD_MODULES, Granularity, Module, Role
from deskops_desktop.models.errors import DeskOpsError, NotFound, ValidationError
from deskops_desktop.services.access import require_admin
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.imports import ImportRejected
from deskops_desktop.services.store import Store, describe_url, open_store, resolve_db_url
from deskops_desktop.sync import cli as sync_command

PROG = "deskops"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


class _ParserExit(Exception):
    """argparse wants to end the program (help, usage error); ``main`` returns instead."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """Bad arguments exit 1 like every other failure (argparse's default is 2), never raise."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _ParserExit(status)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILURE, f"{self.prog}: error: {message}\n")


# --------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    # --db is accepted before or after the subcommand; SUPPRESS keeps a later default from
    # overwriting an earlier value.
    db = _Parser(add_help=False)
    db.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="store to use, e.g. sqlite:///C:/data/deskops.sqlite3 or "
        "postgresql+psycopg://clerk@hq-server/deskops (default: $DESKOPS_DB_URL, else the "
        "SQLite file in your user data folder)",
    )
    parser = _Parser(
        prog=PROG,
        parents=[db],
        description="DeskOps Desktop: daily production, dispatch and stock ledger. Without a "
        "command it starts the desktop app.",
        epilog="Sign-in: commands that read or change data use $DESKOPS_USER and "
        "$DESKOPS_PASSWORD, or ask. Run 'deskops COMMAND --help' for details.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (Qt, store, keyring, fonts, folders) and exit; "
        "exit status 0 only when every check passes",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(
        group: argparse._SubParsersAction[_Parser], name: str, text: str, handler: Handler
    ) -> _Parser:
        sub = group.add_parser(name, parents=[db], help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    def group(name: str, text: str) -> argparse._SubParsersAction[_Parser]:
        sub = commands.add_parser(name, help=text, description=text)
        return sub.add_subparsers(dest="action", metavar="ACTION", required=True)

    demo = command(commands, "demo", "fill the store with a believable demo plant", _demo)
    demo.add_argument("--sites", type=positive_int, default=3, help="sites (default 3)")
    demo.add_argument("--days", type=positive_int, default=365, help="days back (default 365)")
    demo.add_argument("--seed", type=non_negative_int, default=1, help="random seed (default 1)")

    sites = group("site", "add and list sites (admins)")
    add = command(sites, "add", "add a site", _site_add)
    add.add_argument("code", metavar="CODE", help="unique code, 3-20 letters/digits/-/_")
    add.add_argument("--name", required=True, help="the site's name")
    add.add_argument("--timezone", default="Asia/Riyadh", help="IANA zone (default Asia/Riyadh)")
    add.add_argument("--location", default="", help="town or address")
    command(sites, "list", "list the sites you may see", _site_list)

    users = group("user", "add, list and change users")
    add = command(users, "add", "add a user (the first user of a store: no sign-in)", _user_add)
    add.add_argument("username", metavar="USERNAME")
    add.add_argument(
        "--role", required=True, type=str.lower, choices=[r.value.lower() for r in Role]
    )
    add.add_argument(
        "--site",
        dest="sites",
        metavar="CODE",
        nargs="+",
        action="extend",
        default=[],
        help="assigned site(s); operators and moderators need one",
    )
    add.add_argument("--name", default="", help="display name (default: the user name)")
    command(users, "list", "list users (admins see everyone)", _user_list)
    passwd = command(
        users,
        "passwd",
        "change a password (the new one from $DESKOPS_NEW_PASSWORD, or asked)",
        _user_passwd,
    )
    passwd.add_argument(
        "username",
        metavar="USERNAME",
        nargs="?",
        help="whose password (default: your own; others need an admin)",
    )

    imp = command(
        commands, "import", "add records from a .csv or .xlsx file (all or nothing)", _import
    )
    add_module_argument(imp, RECORD_MODULES)
    imp.add_argument("file", metavar="FILE", type=Path, help=".csv (UTF-8) or .xlsx")
    imp.add_argument("--site", required=True, metavar="CODE", help="site the records belong to")

    inv = command(commands, "inventory", "print the stock ledger of a site", _inventory)
    inv.add_argument("--site", required=True, metavar="CODE")
    inv.add_argument("--from", dest="date_from", required=True, type=iso_date, metavar="DATE")
    inv.add_argument("--to", dest="date_to", required=True, type=iso_date, metavar="DATE")
    inv.add_argument(
        "--granularity", type=str.lower, default="daily", choices=[g.value for g in Granularity]
    )
    inv.add_argument("--category", metavar="CAT", help="e.g. AGGREGATES, RAW_FEED")
    inv.add_argument(
        "--format",
        dest="fmt",
        type=str.lower,
        default="table",
        choices=["table", "csv"],
        help="csv: exact 3-decimal quantities",
    )

    # factor, report, dispatch: the plant's mass balance commands.
    cli_plant.add_parsers(command, group, _services)
    # pack: report packs, their runs and their operating-system schedule.
    cli_pack.add_parsers(command, group, _services)

    # `deskops export` lives with the export package (same job service as the desktop).
    export_command.add_parser(commands, parents=[db]).set_defaults(handler=_export)
    # `deskops sync` lives with the sync package (remote-site laptops).
    sync_command.add_parser(commands, [db])

    shots = command(
        commands,
        "screenshots",
        "write one PNG per page of the desktop app (README, look checks)",
        _screenshots,
    )
    shots.add_argument("directory", metavar="DIR", type=Path)
    shots.add_argument("--theme", type=str.lower, default="light", choices=["light", "dark"])
    shots.add_argument(
        "--site", metavar="CODE", help="site to show (default: the first you may see)"
    )
    shots.add_argument(
        "--size",
        type=_window_size,
        default=(1366, 800),
        metavar="WxH",
        help="window size (default 1366x800)",
    )

    dbs = group("db", "maintain the store")
    command(dbs, "upgrade", "bring the store's schema up to date", _db_upgrade)
    backup = command(dbs, "backup", "write a consistent online backup of the store", _db_backup)
    backup.add_argument("path", metavar="PATH", type=Path)
    backup.add_argument("--force", action="store_true", help="replace an existing file")
    setpw = command(
        dbs, "set-password", "keep a PostgreSQL password in the OS keyring", _db_set_password
    )
    setpw.add_argument("url", metavar="URL", help="the store URL, without a password")
    check = command(
        dbs,
        "check-ledger",
        "compare stored balances with the records (exit 1 on differences)",
        _db_check_ledger,
    )
    check.add_argument("--site", required=True, metavar="CODE")
    init = command(
        dbs,
        "init-server",
        "secure a company PostgreSQL store: roles, schema, row-level security (run again after "
        "upgrading DeskOps)",
        _db_init_server,
    )
    init.add_argument(
        "url",
        metavar="URL",
        help="a PostgreSQL superuser's URL, e.g. postgresql://postgres@hq/deskops",
    )
    init.add_argument(
        "--admin",
        metavar="USERNAME",
        help="create this administrator, or give the existing one a new password "
        "($DESKOPS_NEW_PASSWORD, or asked)",
    )
    return parser


# ------------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """Run one command; returns the exit status (0 success, 1 failure, 130 interrupted).

    ``clock`` is the app's one clock (tests pin it); every store a command opens carries it.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ParserExit as stop:
        return stop.status
    args.clock = clock
    if getattr(args, "self_test", False):
        # Imported here: the self-test loads Qt, and the CLI must stay importable without it.
        from deskops_desktop.self_test import main as self_test_main

        return self_test_main()
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            return _run_desktop(args)
        return handler(args)
    except KeyboardInterrupt:
        _error("cancelled")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `deskops inventory --format csv | head`: the reader left; say nothing more, and point
        # stdout at devnull so the interpreter's final flush does not complain either.
        _silence_stdout()
        return EXIT_FAILURE
    except ImportRejected as exc:
        n = len(exc.problems)
        _error(f"nothing was imported: {n} problem{'s' if n != 1 else ''} to fix")
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_FAILURE
    except ValidationError as exc:
        for problem in exc.problems:
            _error(str(problem))
        return EXIT_FAILURE
    except DeskOpsError as exc:
        _error(str(exc))
        return EXIT_FAILURE
    except Exception as exc:  # a database down, a disk full, …: one line, not a traceback
        _error(_describe_unexpected(exc))
        if os.environ.get("DESKOPS_DEBUG"):
            traceback.print_exc()
        return EXIT_FAILURE


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (embedded, captured)
        pass


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")


def _describe_unexpected(exc: Exception) -> str:
    from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

    first = first_line(exc)
    if isinstance(exc, ArgumentError):
        return f"not a valid database URL ({first})"
    if isinstance(exc, DBAPIError | SQLAlchemyError):
        return f"database problem: {first}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or first}{f': {exc.filename}' if exc.filename else ''}"
    return f"unexpected {type(exc).__name__}: {first} (set DESKOPS_DEBUG=1 for details)"


def _run_desktop(args: argparse.Namespace) -> int:
    try:
        from deskops_desktop.app import run_app
    except ImportError as exc:
        raise CliError(
            f"the desktop app cannot start here ({exc}); run 'deskops --help' for the commands"
        ) from None
    return run_app(getattr(args, "db", None), args.clock)


@contextmanager
def _services(args: argparse.Namespace, *, migrate: bool = True) -> Iterator[Services]:
    store = open_store(getattr(args, "db", None), migrate=migrate, clock=args.clock)
    try:
        yield build_services(store)
    finally:
        store.dispose()


# ---------------------------------------------------------------------------- commands
def _demo(args: argparse.Namespace) -> int:
    with _services(args) as services:
        # A secured server store cannot count its users before a sign-in (and always has an
        # administrator: init-server made one), so only a plain store is checked here.
        if not services.store.needs_sign_in and services.users.count() == 0:
            # The demo adds an operator and a moderator; run first it would leave a store with
            # users but no administrator, and nobody could ever add one.
            raise CliError(
                "create the first administrator before the demo data: "
                "'deskops user add NAME --role admin'"
            )
        require_admin(require_actor(services), "fill the store with demo data")
        from deskops_desktop.services.demo import generate_demo

        bar = TerminalProgress(sys.stderr)
        result = generate_demo(
            services, sites=args.sites, days=args.days, seed=args.seed, progress=bar
        )
        bar.close()
        print(result)
    return EXIT_OK


def _site_add(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor = require_actor(services)
        site = services.master.add_site(
            actor, args.code, args.name, location=args.location, timezone=args.timezone
        ).value
    print(f"added site {site.label} ({site.timezone})")
    return EXIT_OK


def _site_list(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor = require_actor(services)
        sites = services.master.sites(actor, include_inactive=True)
    rows = [(s.code, s.name, s.timezone, s.location, "yes" if s.active else "no") for s in sites]
    print(format_table(("Code", "Name", "Timezone", "Location", "Active"), rows))
    return EXIT_OK


def _user_add(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor = sign_in(services, setup_allowed=True)
        role = Role(args.role.upper())
        if actor is None and role is not Role.ADMIN:
            raise CliError("the first user of a store must be an administrator (--role admin)")
        password = new_password(args.username)
        created = services.users.create(actor, args.username, password, role, args.sites, args.name)
        user = created.value
    sites = f" for {', '.join(user.site_codes)}" if user.site_codes else ""
    print(f"added {user.role.value.lower()} {user.username}{sites}")
    if actor is None:
        print("this is the store's first user: other commands now sign in as a user")
    return EXIT_OK


def _user_list(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor = require_actor(services)
        users = services.users.list(actor)
    rows = [
        (
            u.username,
            u.display_name,
            u.role.value,
            ", ".join(u.site_codes) or ("(all)" if u.role is Role.ADMIN else ""),
            "yes" if u.active else "no",
            f"until {u.locked_until:%Y-%m-%d %H:%M} UTC" if u.locked_until else "",
        )
        for u in users
    ]
    print(format_table(("User", "Name", "Role", "Sites", "Active", "Locked"), rows))
    return EXIT_OK


def _user_passwd(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor = require_actor(services)
        target = (args.username or actor.username).strip().lower()
        if target == actor.username:
            user_id = actor.user_id
        else:
            require_admin(actor, "change other users' passwords")
            match = [u for u in services.users.list(actor) if u.username == target]
            if not match:
                raise NotFound(f"unknown user '{target}'")
            user_id = match[0].id
        assert user_id is not None  # signed-in users always have an id
        services.users.set_password(actor, user_id, new_password(target))
    print(f"password of {target} changed")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor, site = require_actor_at(services, args.site)
        result = services.imports.import_file(actor, Module(args.module), site.id, args.file).value
    noun = "record" if result.count == 1 else "records"
    print(f"added {result.count:,} {args.module} {noun} to {site.code} from {args.file.name}")
    if result.ignored:
        print(f"ignored columns: {', '.join(result.ignored)}")
    return EXIT_OK


def _inventory(args: argparse.Namespace) -> int:
    if args.date_to < args.date_from:
        raise CliError(
            f"--to {args.date_to.isoformat()} is before --from {args.date_from.isoformat()}"
        )
    category = args.category.strip().upper() if args.category else None
    with _services(args) as services:
        actor, site = require_actor_at(services, args.site)
        ledger = services.ledger.ledger(
            actor, site.id, args.date_from, args.date_to, Granularity(args.granularity), category
        )
    if args.fmt == "csv":
        write_inventory_csv(ledger, sys.stdout)
    else:
        print(inventory_table(ledger))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    with _services(args) as services:
        return export_command.run(args, services, require_actor(services))


def _window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if not (640 <= width <= 4000 and 480 <= height <= 3000):
        raise argparse.ArgumentTypeError("the size must be between 640x480 and 4000x3000")
    return width, height


def _screenshots(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor = require_actor(services)
        try:
            from deskops_desktop.views.screenshots import take_screenshots
        except ImportError as exc:
            raise CliError(f"screenshots need the desktop libraries ({exc})") from None
        paths = take_screenshots(
            services,
            args.directory,
            theme=args.theme,
            size=args.size,
            actor=actor,
            site_code=args.site,
        )
    for path in paths:
        print(path)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from deskops_desktop.services.migrate import current_revision, head_revision

    store = Store(resolve_db_url(getattr(args, "db", None)), clock=args.clock)
    try:
        before = current_revision(store.engine)
        store.upgrade()
        store.seed_reference_data()
        after = head_revision(store.engine)
    finally:
        store.dispose()
    where = store.display_url
    if before == after:
        print(f"{where} is up to date (schema {after})")
    else:
        print(f"{where} upgraded from schema {before or '(empty)'} to {after}")
    return EXIT_OK


def _db_backup(args: argparse.Namespace) -> int:
    url = resolve_db_url(getattr(args, "db", None))
    target: Path = args.path.expanduser()
    store = Store(url, clock=args.clock)
    try:
        if store.is_sqlite:
            source = store.url.database or ""
            if source in ("", ":memory:") or not Path(source).is_file():
                raise CliError(f"there is no store at {store.display_url} to back up")
            if target.exists() and target.resolve() == Path(source).resolve():
                raise CliError("the backup must not overwrite the store itself")
        if target.exists() and not args.force:
            raise CliError(f"{target} already exists; choose another name or add --force")
        try:
            written = store.backup(target)
        except Exception as exc:  # pg_dump missing or failing, disk full, …
            raise CliError(f"the backup failed: {_describe_unexpected(exc)}") from None
    finally:
        store.dispose()
    size = written.stat().st_size
    print(f"backup of {store.display_url} written to {written} ({size:,} bytes)")
    return EXIT_OK


def _db_set_password(args: argparse.Namespace) -> int:
    import keyring.errors
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from deskops_desktop.services.secrets import keyring_backend_name, set_db_password

    try:
        url = make_url(args.url)
    except ArgumentError:
        raise CliError(f"'{args.url}' is not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise CliError("only PostgreSQL stores have a password (SQLite stores are plain files)")
    if url.password:
        raise CliError("leave the password out of the URL; it is asked for without echo")
    password = os.environ.get(ENV_DB_PASSWORD) or ""
    if not password:
        if not interactive():
            raise CliError(f"set {ENV_DB_PASSWORD} or run in a terminal to enter the password")
        password = ask_secret(f"Password for {url.username or ''}@{url.host or 'localhost'}: ")
    if not password:
        raise CliError("no password given; nothing was stored")
    try:
        set_db_password(args.url, password)
    except keyring.errors.KeyringError as exc:
        raise CliError(f"the OS keyring refused the password ({exc})") from None
    print(f"password for {describe_url(args.url)} stored in {keyring_backend_name()}")
    return EXIT_OK


def _db_init_server(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from deskops_desktop.services.pg_security import ServerSecurityError, clerk_url, init_server
    from deskops_desktop.sync.server_schema import install as install_sync

    admin = (args.admin, new_password(args.admin)) if args.admin else None
    try:
        report = init_server(args.url, admin, clock=args.clock, extensions=[install_sync])
    except ServerSecurityError as exc:
        raise CliError(str(exc)) from None
    url = make_url(args.url)
    print(
        f"{describe_url(args.url)}: secured DeskOps store, schema {report.schema_after}, "
        f"{len(report.tables_secured)} tables under forced row-level security"
    )
    if report.roles_created:
        print(f"created roles: {', '.join(report.roles_created)}")
    print(f"login roles: {len(report.logins_synced)} (one per DeskOps user)")
    if report.admin_created and admin is not None:
        print(f"added administrator {admin[0].strip().lower()}")
    if not report.logins_synced:
        print("the store has no users yet: run again with --admin USERNAME")
    if report.need_password:
        print(
            "without a password until an administrator sets one (deskops user passwd NAME): "
            + ", ".join(report.need_password)
        )
    clerks = clerk_url(url).render_as_string(hide_password=True)
    print(f"clerks connect with {clerks} (no user name: each signs in as their own role)")
    print(f"remote-site laptops join with: deskops sync join {clerks} --site CODE")
    return EXIT_OK


def _db_check_ledger(args: argparse.Namespace) -> int:
    with _services(args) as services:
        actor, site = require_actor_at(services, args.site)
        differences = services.ledger.verify(actor, site.id)
    if not differences:
        print(f"{site.code}: the stock ledger matches the records")
        return EXIT_OK
    _error(f"{site.code}: {len(differences)} stored balances differ from the records")
    for line in differences:
        sys.stderr.write(f"{line}\n")
    return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover - python -m deskops_desktop is the entry point
    raise SystemExit(main())
