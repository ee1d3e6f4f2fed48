"""A company PostgreSQL store the server itself guards: roles, grants, forced row-level security.

``deskops db init-server URL`` (``init_server``) turns a PostgreSQL database into a *secured
store*. Afterwards every DeskOps user is a PostgreSQL login role and the desktop app connects as
the signed-in clerk's own role, so a clerk who takes the connection details to psql, Excel or
Power BI gets exactly what the app would show them — nothing the service layer alone refuses.

Roles (cluster-wide names, prefixed per database so two DeskOps databases on one server never
share a role; the database ``deskops`` gives the names below):

- ``deskops_owner``: owns the tables, runs the migrations. NOLOGIN: nobody signs in as it; it is
  used only inside ``init_server``'s own transaction (``SET ROLE``). Row-level security is FORCED,
  so even the owner sees no rows outside that maintenance transaction.
- ``deskops_guard``: NOLOGIN; owns the SECURITY DEFINER helpers the policies call (which user am
  I, which sites are mine, what is today at a site). It may read only the columns they need.
- ``deskops_operator`` / ``deskops_moderator`` / ``deskops_admin``: NOLOGIN group roles holding
  the grants; each login role is a member of exactly one.
- ``deskops_u_<username>``: one LOGIN role per DeskOps user, created and changed by
  ``UserService`` through ``deskops_sync_login`` (admins only). Its password IS the user's DeskOps
  password: the app sends only a SCRAM verifier computed on the laptop, never the password, and
  the users table keeps a placeholder instead of a hash (nothing to crack for anyone).

What the server enforces (policies below, ``OPERATOR_EDIT_WINDOW_DAYS`` shared with the services):
operators and moderators read and change only rows of their assigned sites (``user_sites``);
operators change only records dated within the last 7 days in the site's time zone and no stock
adjustments; master data (sites, materials, equipment, manpower roles, targets, report packs) and
users are changed by admins only; ``users.password_hash`` is readable by nobody but the owner.

Invariants a newcomer must not break:
- ``apply_security`` is idempotent and runs in the caller's transaction: policies are dropped and
  created again, grants revoked and given again, so running init-server twice (or after an
  upgrade that added a table) leaves exactly the rules of this file.
- A new table must be added to ``TABLE_RULES`` (a test fails when a table lacks rules).
- Nothing here runs on SQLite: there the laptop's account is the boundary and the services'
  checks are all there is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock
from deskops_desktop.services.access import OPERATOR_EDIT_WINDOW_DAYS

SECURITY_VERSION = 4
"""Bumped whenever the rules below change, so ``init-server`` reports that it re-applied them."""

LOGIN_INFIX = "_u_"
PLACEHOLDER_HASH = "!server-role"
"""Stored in ``users.password_hash`` on a secured store: the password lives in PostgreSQL only."""

GROUPS = ("operator", "moderator", "admin")
_PREFIX_MAX = 30
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")
_VERIFIER = re.compile(r"^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")


class ServerSecurityError(Exception):
    """init-server cannot proceed (not a superuser, a role name taken by something else, …)."""


@dataclass(frozen=True)
class ServerRoles:
    """The role names of one secured database."""

    prefix: str

    @property
    def owner(self) -> str:
        return f"{self.prefix}_owner"

    @property
    def guard(self) -> str:
        return f"{self.prefix}_guard"

    def group(self, role: str) -> str:
        """``role`` is a DeskOps role value (OPERATOR, MODERATOR, ADMIN) or a group suffix."""
        name = role.lower()
        if name not in GROUPS:
            raise ValueError(f"unknown DeskOps role {role!r}")
        return f"{self.prefix}_{name}"

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.group(g) for g in GROUPS)

    def login(self, username: str) -> str:
        return f"{self.prefix}{LOGIN_INFIX}{username.strip().lower()}"

    @property
    def max_username_length(self) -> int:
        return 63 - len(self.prefix) - len(LOGIN_INFIX)


def role_prefix(database: str) -> str:
    """The role-name prefix of a database: its name, lower case, only ``[a-z0-9_]``.

    Derived, not configured, so a laptop knows the login role of a user name before it has
    connected at all (sign-in *is* connecting).
    """
    prefix = re.sub(r"[^a-z0-9_]", "_", database.lower())[:_PREFIX_MAX].rstrip("_")
    if not prefix or not _IDENT.match(prefix):
        prefix = f"d_{prefix}"[:_PREFIX_MAX]
    return prefix


def roles_for(url: URL) -> ServerRoles:
    return ServerRoles(role_prefix(url.database or "postgres"))


def clerk_url(url: URL) -> URL:
    """The store URL clerks use: no user name (sign-in picks the role), no password."""
    # URL.set() ignores None, so clear the fields through the NamedTuple API.
    return url._replace(username=None, password=None)


def is_secured(conn: Connection | Session) -> bool:
    """Whether ``init_server`` has secured this database (its marker function exists)."""
    dialect = conn.get_bind().dialect if isinstance(conn, Session) else conn.dialect
    if dialect.name != "postgresql":
        return False
    found = conn.execute(text("SELECT to_regprocedure('deskops_security_version()')")).scalar()
    return found is not None


# ------------------------------------------------------------------------------ the rules
_MY_SITE = "{col} IN (SELECT deskops_site_ids())"
_RECENT = f"{{day}} >= deskops_site_today(site_id) - {OPERATOR_EDIT_WINDOW_DAYS - 1}"
_ME = "user_id = (SELECT deskops_user_id())"
# Every table's first policy: administrators read and write every row.
_ADMIN_ALL = ("admin_all", "ALL", "{adm}", "true", "true")


@dataclass(frozen=True)
class Rule:
    """Grants and policies of one table. ``{op}``, ``{mod}``, ``{adm}`` name the groups."""

    grants: dict[str, str]
    policies: tuple[tuple[str, str, str, str | None, str | None], ...]
    """(name, command, roles, USING, WITH CHECK)."""
    guard_columns: str | None = None


def _record_rule(day: str = "date", *, operators_write: bool = True) -> Rule:
    mine = _MY_SITE.format(col="site_id")
    recent = f"{mine} AND {_RECENT.format(day=day)}"
    write = "SELECT, INSERT, UPDATE, DELETE"
    policies: list[tuple[str, str, str, str | None, str | None]] = [
        _ADMIN_ALL,
        ("moderator_all", "ALL", "{mod}", mine, mine),
        ("operator_read", "SELECT", "{op}", mine, None),
    ]
    if operators_write:
        policies += [
            ("operator_insert", "INSERT", "{op}", None, recent),
            ("operator_update", "UPDATE", "{op}", recent, recent),
            ("operator_delete", "DELETE", "{op}", recent, None),
        ]
    return Rule(
        grants={"{adm}": write, "{mod}": write, "{op}": write if operators_write else "SELECT"},
        policies=tuple(policies),
    )


def _master_rule(*, site_column: str | None = None, deletable: bool = False) -> Rule:
    read = _MY_SITE.format(col=site_column) if site_column else "true"
    admin = "SELECT, INSERT, UPDATE" + (", DELETE" if deletable else "")
    return Rule(
        grants={"{adm}": admin, "{mod}": "SELECT", "{op}": "SELECT"},
        policies=(
            _ADMIN_ALL,
            ("clerk_read", "SELECT", "{op}, {mod}", read, None),
        ),
    )


def _own_rows_rule(write: str) -> Rule:
    own = f"{_ME} AND {_MY_SITE.format(col='site_id')}"
    return Rule(
        grants={"{adm}": "SELECT, INSERT, UPDATE, DELETE", "{mod}": write, "{op}": write},
        policies=(
            _ADMIN_ALL,
            ("clerk_own", "ALL", "{op}, {mod}", own, own),
        ),
    )


_RECORD_TABLES = (
    "production",
    "dispatches",
    "received",
    "equipment_logs",
    "manpower_logs",
    "feed",
)
# Users: every column but the password hash is readable by everyone (names in "who" columns);
# clerks may "update" only updated_at of their own row, which is what SELECT … FOR UPDATE (the
# export queue's per-user lock) needs, and changes nothing that matters.
_USER_COLUMNS = (
    "id, username, display_name, role, active, failed_logins, locked_until, created_at, "
    "updated_at, created_by"
)
_CHANGE_LOG_VISIBLE = (
    "CASE table_name "
    + " ".join(
        f"WHEN '{t}' THEN EXISTS (SELECT 1 FROM {t} r WHERE r.id = change_log.record_id)"
        for t in (*_RECORD_TABLES, "inventory_adjustments")
    )
    + " ELSE false END OR user_id = (SELECT deskops_user_id())"
)

# Remote-site sync (models/sync.py, deskops_desktop/sync). The feed is written by its triggers
# only (SECURITY DEFINER as the owner; sync.server_schema adds the owner's own policies), and a
# clerk reads the rows of their sites, master rows and their own site assignments. A pushed
# operation's outcome and the attention queue are written as the pushing clerk; moderators
# decide the queue of their sites. The laptop-only tables hold nothing on a server: no grants.
_FEED_VISIBLE = (
    f"(site_id IS NULL AND user_id IS NULL) OR site_id IN (SELECT deskops_site_ids()) OR {_ME}"
)
_NOBODY = Rule(grants={}, policies=())
_MINE_SITE = _MY_SITE.format(col="site_id")
# A pushed operation's outcome and the attention queue: clerks add rows, moderators decide them.
_PUSHED_GRANTS = {
    "{adm}": "SELECT, INSERT, UPDATE",
    "{mod}": "SELECT, INSERT, UPDATE",
    "{op}": "SELECT, INSERT",
}
_SYNC_RULES: dict[str, Rule] = {
    "sync_changes": Rule(
        grants={"{adm}": "SELECT", "{mod}": "SELECT", "{op}": "SELECT"},
        policies=(
            ("admin_read", "SELECT", "{adm}", "true", None),
            ("clerk_read", "SELECT", "{op}, {mod}", _FEED_VISIBLE, None),
        ),
    ),
    "sync_applied_ops": Rule(
        grants=_PUSHED_GRANTS,
        policies=(
            _ADMIN_ALL,
            ("clerk_insert", "INSERT", "{op}, {mod}", None, _ME),
            ("operator_read", "SELECT", "{op}", _ME, None),
            ("moderator_read", "SELECT", "{mod}", f"{_ME} OR {_MINE_SITE}", None),
            ("moderator_decide", "UPDATE", "{mod}", _MINE_SITE, _MINE_SITE),
        ),
    ),
    "sync_attention": Rule(
        grants=_PUSHED_GRANTS,
        policies=(
            _ADMIN_ALL,
            ("clerk_insert", "INSERT", "{op}, {mod}", None, f"{_ME} AND {_MINE_SITE}"),
            ("clerk_read", "SELECT", "{op}, {mod}", f"{_ME} OR {_MINE_SITE}", None),
            ("moderator_decide", "UPDATE", "{mod}", _MINE_SITE, _MINE_SITE),
        ),
    ),
    "sync_replicas": Rule(
        grants={"{adm}": "SELECT"},
        policies=(("admin_read", "SELECT", "{adm}", "true", None),),
    ),
    "sync_horizon": Rule(
        grants={"{adm}": "SELECT", "{mod}": "SELECT", "{op}": "SELECT"},
        policies=(("everyone_read", "SELECT", "{op}, {mod}, {adm}", "true", None),),
    ),
    **{
        t: _NOBODY
        for t in (
            "sync_state",
            "sync_outbox",
            "sync_cursors",
            "sync_downloads",
            "sync_refetch",
            "sync_log",
        )
    },
}

TABLE_RULES: dict[str, Rule] = {
    **{t: _record_rule() for t in _RECORD_TABLES},
    "inventory_adjustments": _record_rule(operators_write=False),
    "stock_days": _record_rule("day"),
    "sites": Rule(
        grants={"{adm}": "SELECT, INSERT, UPDATE", "{mod}": "SELECT", "{op}": "SELECT"},
        policies=(
            _ADMIN_ALL,
            ("clerk_read", "SELECT", "{op}, {mod}", _MY_SITE.format(col="id"), None),
        ),
        guard_columns="id, timezone",
    ),
    "materials": _master_rule(),
    "equipment": _master_rule(),
    "manpower_roles": _master_rule(),
    "production_targets": _master_rule(site_column="site_id", deletable=True),
    # Company-wide factors (site_id NULL) are everyone's; a site's own factor is its clerks'.
    "conversion_factors": Rule(
        grants={"{adm}": "SELECT, INSERT, UPDATE", "{mod}": "SELECT", "{op}": "SELECT"},
        policies=(
            _ADMIN_ALL,
            (
                "clerk_read",
                "SELECT",
                "{op}, {mod}",
                "site_id IS NULL OR " + _MY_SITE.format(col="site_id"),
                None,
            ),
        ),
    ),
    "users": Rule(
        grants={
            "{adm}": f"SELECT ({_USER_COLUMNS}), INSERT, UPDATE",
            "{mod}": f"SELECT ({_USER_COLUMNS}), UPDATE (updated_at)",
            "{op}": f"SELECT ({_USER_COLUMNS}), UPDATE (updated_at)",
        },
        policies=(
            _ADMIN_ALL,
            ("clerk_read", "SELECT", "{op}, {mod}", "true", None),
            (
                "clerk_lock_self",
                "UPDATE",
                "{op}, {mod}",
                "id = (SELECT deskops_user_id())",
                "id = (SELECT deskops_user_id())",
            ),
        ),
        guard_columns="id, username, active",
    ),
    "user_sites": Rule(
        grants={"{adm}": "SELECT, INSERT, UPDATE, DELETE", "{mod}": "SELECT", "{op}": "SELECT"},
        policies=(
            _ADMIN_ALL,
            ("clerk_own", "SELECT", "{op}, {mod}", _ME, None),
        ),
        guard_columns="user_id, site_id",
    ),
    "change_log": Rule(
        grants={"{adm}": "SELECT, INSERT", "{mod}": "SELECT, INSERT", "{op}": "SELECT, INSERT"},
        policies=(
            _ADMIN_ALL,
            ("clerk_read", "SELECT", "{op}, {mod}", _CHANGE_LOG_VISIBLE, None),
            ("clerk_write", "INSERT", "{op}, {mod}", None, _ME),
        ),
    ),
    "export_jobs": _own_rows_rule("SELECT, INSERT, UPDATE, DELETE"),
    # A company-wide row (site_id NULL: a pack's Power BI partition) is an admin's alone.
    "export_audits": _own_rows_rule("SELECT, INSERT, UPDATE"),
    # Report packs: admins define, run and schedule them; clerks may see that they exist (the
    # Settings page lists them) but a pack names every site, so nothing more.
    "report_packs": _master_rule(deletable=True),
    **_SYNC_RULES,
}


def admin_only(roles: ServerRoles, doing: str) -> str:
    """The PL/pgSQL guard a ``SECURITY DEFINER`` function opens with when only administrators
    may call it: it runs as its owner, so the caller's own membership is what is checked."""
    return (
        f"IF NOT pg_has_role(session_user, '{roles.group('admin')}', 'MEMBER') THEN"
        f" RAISE EXCEPTION 'only a DeskOps administrator may {doing}'"
        " USING ERRCODE = 'insufficient_privilege'; END IF;"
    )


def _functions(roles: ServerRoles, database: str) -> list[str]:
    """The helpers the policies call, and the one admins use to manage login roles.

    SECURITY DEFINER with a fixed search_path (nobody can shadow ``users`` with a temp table).
    ``session_user``, not ``current_user``: inside a definer function current_user is the
    definer, and a clerk's ``SET ROLE`` to their group must not change who they are.
    """
    login = f"'{roles.prefix}{LOGIN_INFIX}' || u.username"
    definer = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public"
    groups = ", ".join(f"'{g}'" for g in roles.groups)
    marker = f"DeskOps login of database {database}"
    return [
        f"CREATE OR REPLACE FUNCTION deskops_security_version() RETURNS integer "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT {SECURITY_VERSION} $$",
        f"CREATE OR REPLACE FUNCTION deskops_role_prefix() RETURNS text "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT '{roles.prefix}'::text $$",
        f"CREATE OR REPLACE FUNCTION deskops_user_id() RETURNS varchar {definer} AS $$ "
        f"SELECT u.id FROM public.users u WHERE {login} = session_user AND u.active $$",
        f"CREATE OR REPLACE FUNCTION deskops_site_ids() RETURNS SETOF varchar {definer} AS $$ "
        f"SELECT us.site_id FROM public.user_sites us "
        f"JOIN public.users u ON u.id = us.user_id WHERE {login} = session_user AND u.active $$",
        f"CREATE OR REPLACE FUNCTION deskops_site_today(site varchar) RETURNS date {definer} AS $$ "
        f"SELECT (now() AT TIME ZONE s.timezone)::date FROM public.sites s WHERE s.id = site $$",
        # Runs as the owner (CREATEROLE). Only admins may call it; it touches only this
        # database's login roles (marked by their comment), never another role on the server.
        f"""CREATE OR REPLACE FUNCTION deskops_sync_login(
                username text, grp text, can_login boolean, verifier text)
            RETURNS void LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = pg_catalog AS $fn$
            DECLARE
                target text := '{roles.prefix}{LOGIN_INFIX}' || username;
                other text;
            BEGIN
                {admin_only(roles, "manage logins")}
                IF username !~ '^[a-z0-9._-]{{2,64}}$' OR length(target) > 63 THEN
                    RAISE EXCEPTION 'not a DeskOps user name: %', username;
                END IF;
                IF grp NOT IN ({groups}) THEN
                    RAISE EXCEPTION 'not a DeskOps group: %', grp;
                END IF;
                IF verifier IS NOT NULL AND verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
                    RAISE EXCEPTION 'a login password must arrive as a SCRAM verifier';
                END IF;
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = target) THEN
                    IF coalesce(shobj_description(
                            (SELECT oid FROM pg_roles WHERE rolname = target), 'pg_authid'), '')
                            <> '{marker}' THEN
                        RAISE EXCEPTION 'role % exists and is not a login of this store', target;
                    END IF;
                ELSE
                    EXECUTE format('CREATE ROLE %I LOGIN', target);
                    EXECUTE format('COMMENT ON ROLE %I IS %L', target, '{marker}');
                END IF;
                EXECUTE format('ALTER ROLE %I %s', target,
                               CASE WHEN can_login THEN 'LOGIN' ELSE 'NOLOGIN' END);
                IF verifier IS NOT NULL THEN
                    EXECUTE format('ALTER ROLE %I PASSWORD %L', target, verifier);
                END IF;
                FOREACH other IN ARRAY ARRAY[{groups}] LOOP
                    IF other <> grp AND pg_has_role(target, other, 'MEMBER') THEN
                        EXECUTE format('REVOKE %I FROM %I', other, target);
                    END IF;
                END LOOP;
                EXECUTE format('GRANT %I TO %I', grp, target);
            END
            $fn$""",
    ]


def login_marker(database: str) -> str:
    return f"DeskOps login of database {database}"


# --------------------------------------------------------------------------- applying it
@dataclass
class InitReport:
    """What ``init_server`` did, for the command line to print."""

    roles_created: list[str] = field(default_factory=list)
    tables_secured: list[str] = field(default_factory=list)
    schema_before: str | None = None
    schema_after: str | None = None
    logins_synced: list[str] = field(default_factory=list)
    need_password: list[str] = field(default_factory=list)
    admin_created: bool = False


def _q(name: str) -> str:
    """A quoted identifier (role and table names come from this module or ``role_prefix``)."""
    return '"' + name.replace('"', '""') + '"'


def _ddl(conn: Connection, sql: str) -> None:
    """SQL with literal ``%`` (PL/pgSQL ``format``, LIKE patterns), sent exactly as written."""
    conn.execution_options(no_parameters=True).exec_driver_sql(sql)


def _server_major(conn: Connection) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _ensure_role(conn: Connection, name: str, options: str, report: InitReport) -> None:
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    if exists is None:
        conn.execute(text(f"CREATE ROLE {_q(name)} {options}"))
        report.roles_created.append(name)
    else:
        conn.execute(text(f"ALTER ROLE {_q(name)} {options}"))


def ensure_roles(conn: Connection, roles: ServerRoles, report: InitReport) -> None:
    """The owner, guard and group roles (as a superuser); none of them can log in."""
    _ensure_role(conn, roles.owner, "NOLOGIN NOINHERIT CREATEROLE NOBYPASSRLS", report)
    _ensure_role(conn, roles.guard, "NOLOGIN NOBYPASSRLS", report)
    for group in roles.groups:
        _ensure_role(conn, group, "NOLOGIN NOBYPASSRLS", report)
    if _server_major(conn) >= 16:
        # PostgreSQL 16: CREATEROLE alone no longer lets the owner hand out group membership;
        # ADMIN OPTION does, without making the owner a member in any useful sense.
        for group in roles.groups:
            conn.execute(
                text(
                    f"GRANT {_q(group)} TO {_q(roles.owner)} "
                    "WITH ADMIN OPTION, INHERIT FALSE, SET FALSE"
                )
            )


def existing_tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ).scalars()
    )


def prepare_for_migration(conn: Connection, roles: ServerRoles, database: str) -> None:
    """As a superuser: hand the schema and any existing tables to the owner, lift FORCE.

    FORCE is lifted only inside this transaction (DDL is transactional in PostgreSQL): the
    migrations and seeding that follow run as the owner, which must see the rows it changes;
    ``apply_security`` forces it again before the transaction commits, so no other session ever
    sees the store unforced.
    """
    conn.execute(text(f"REVOKE ALL ON DATABASE {_q(database)} FROM PUBLIC"))
    conn.execute(
        text(
            f"GRANT CONNECT, TEMPORARY ON DATABASE {_q(database)} TO "
            + ", ".join(_q(g) for g in roles.groups)
        )
    )
    conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {_q(roles.owner)}"))
    conn.execute(
        text(
            "GRANT USAGE ON SCHEMA public TO "
            + ", ".join(_q(r) for r in (roles.guard, *roles.groups))
        )
    )
    for table in existing_tables(conn):
        conn.execute(text(f"ALTER TABLE {_q(table)} OWNER TO {_q(roles.owner)}"))
        conn.execute(text(f"ALTER TABLE {_q(table)} NO FORCE ROW LEVEL SECURITY"))


def apply_security(conn: Connection, roles: ServerRoles, database: str) -> list[str]:
    """Grants, helper functions and forced policies on every table (as a superuser).

    Returns the tables secured. Raises ``ServerSecurityError`` when a table of the schema has no
    rules here (a new table must be thought about, not silently left open or shut).
    """
    tables = [t for t in existing_tables(conn) if t != "alembic_version"]
    missing = sorted(set(tables) - set(TABLE_RULES))
    if missing:
        raise ServerSecurityError(f"no security rules for table(s) {', '.join(missing)}")
    names = {
        "{op}": _q(roles.group("operator")),
        "{mod}": _q(roles.group("moderator")),
        "{adm}": _q(roles.group("admin")),
    }
    everyone = ", ".join(_q(r) for r in (roles.guard, *roles.groups))

    for sql in _functions(roles, database):
        _ddl(conn, sql)
    for fn in ("deskops_user_id()", "deskops_site_ids()", "deskops_site_today(varchar)"):
        conn.execute(text(f"ALTER FUNCTION {fn} OWNER TO {_q(roles.guard)}"))
        conn.execute(text(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC"))
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {fn} TO {everyone}"))
    sync = "deskops_sync_login(text, text, boolean, text)"
    conn.execute(text(f"ALTER FUNCTION {sync} OWNER TO {_q(roles.owner)}"))
    conn.execute(text(f"REVOKE ALL ON FUNCTION {sync} FROM PUBLIC"))
    conn.execute(text(f"GRANT EXECUTE ON FUNCTION {sync} TO {names['{adm}']}"))
    for fn in ("deskops_security_version()", "deskops_role_prefix()"):
        conn.execute(text(f"ALTER FUNCTION {fn} OWNER TO {_q(roles.owner)}"))

    conn.execute(text(f"REVOKE ALL ON alembic_version FROM PUBLIC, {everyone}"))
    conn.execute(text("GRANT SELECT ON alembic_version TO " + ", ".join(names.values())))
    for table in tables:
        rule = TABLE_RULES[table]
        qt = _q(table)
        conn.execute(text(f"REVOKE ALL ON {qt} FROM PUBLIC, {everyone}"))
        for role, privileges in rule.grants.items():
            conn.execute(text(f"GRANT {privileges} ON {qt} TO {names[role]}"))
        for old in (
            conn.execute(
                text(
                    "SELECT policyname FROM pg_policies WHERE schemaname = 'public' "
                    "AND tablename = :t AND policyname LIKE 'deskops_%'"
                ),
                {"t": table},
            )
            .scalars()
            .all()
        ):
            conn.execute(text(f"DROP POLICY {_q(old)} ON {qt}"))
        for name, command, to, using, check in rule.policies:
            sql = f"CREATE POLICY {_q('deskops_' + name)} ON {qt} FOR {command} TO "
            sql += ", ".join(names[r.strip()] for r in to.split(","))
            if using is not None:
                sql += f" USING ({using})"
            if check is not None:
                sql += f" WITH CHECK ({check})"
            _ddl(conn, sql)
        if rule.guard_columns:
            conn.execute(text(f"GRANT SELECT ({rule.guard_columns}) ON {qt} TO {_q(roles.guard)}"))
            conn.execute(
                text(
                    f"CREATE POLICY deskops_guard_read ON {qt} FOR SELECT TO {_q(roles.guard)} "
                    "USING (true)"
                )
            )
        conn.execute(text(f"ALTER TABLE {qt} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"ALTER TABLE {qt} FORCE ROW LEVEL SECURITY"))
    return tables


def scram_verifier(conn: Connection | Session, login: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password``, computed here (libpq), not on the server.

    ``ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'`` stores it as is: the password itself never
    crosses the network and never appears in a server log, even with log_statement = all.
    """
    raw = conn.connection() if isinstance(conn, Session) else conn
    driver = raw.connection.driver_connection
    pgconn = driver.pgconn  # type: ignore[union-attr]
    verifier: bytes = pgconn.encrypt_password(
        password.encode("utf-8"), login.encode("utf-8"), b"scram-sha-256"
    )
    return verifier.decode("ascii")


def sync_login(
    conn: Connection | Session,
    roles: ServerRoles,
    username: str,
    role: str,
    active: bool,
    password: str | None = None,
) -> None:
    """Create or change the login role of a DeskOps user (admins only; in the caller's txn)."""
    login = roles.login(username)
    verifier = scram_verifier(conn, login, password) if password is not None else None
    conn.execute(
        text("SELECT deskops_sync_login(:u, :g, :l, :v)"),
        {"u": username.strip().lower(), "g": roles.group(role), "l": active, "v": verifier},
    )


def set_own_password(conn: Connection | Session, login: str, password: str) -> None:
    """A signed-in clerk changes their own role's password (PostgreSQL allows that to anyone)."""
    verifier = scram_verifier(conn, login, password)
    # ALTER ROLE takes no bind parameters; the verifier is base64 and "$:" only (checked).
    if not _VERIFIER.match(verifier):
        raise ServerSecurityError("unexpected password verifier from libpq")
    raw = conn.connection() if isinstance(conn, Session) else conn
    _ddl(raw, f"ALTER ROLE CURRENT_USER PASSWORD '{verifier}'")


def drop_server_roles(conn: Connection, prefix: str) -> list[str]:
    """Drop every role of a prefix (tests, or removing a store): logins first, then groups.

    The database must already be dropped (roles that own objects cannot be dropped).
    """
    names = list(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY rolname"),
            {"p": prefix.replace("_", r"\_") + r"\_%"},
        ).scalars()
    )
    logins = [n for n in names if n.startswith(prefix + LOGIN_INFIX)]
    for name in [*logins, *(n for n in names if n not in logins)]:
        conn.execute(text(f"DROP ROLE IF EXISTS {_q(name)}"))
    return names


def quoted(names: Iterable[str]) -> str:
    return ", ".join(_q(n) for n in names)


def valid_username(name: str) -> bool:
    return bool(_USERNAME.match(name))


# ------------------------------------------------------------------------------ init-server
def init_server(
    url: str | URL,
    admin: tuple[str, str] | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    extensions: Sequence[Callable[[Connection, ServerRoles], None]] = (),
) -> InitReport:
    """Secure the database at ``url`` (a superuser's connection); safe to run again.

    One transaction: roles, ownership, migrations and seeding as the owner, grants, functions,
    forced policies, and a login role for every DeskOps user. ``admin`` (user name, password)
    creates that administrator, or gives an existing one this password — the way in for the
    first sign-in, and for stores that had users before they were secured.

    ``extensions`` run in the same transaction, as the superuser, right after the policies:
    layers above the services add their server objects there (the command line passes the
    remote-site sync's feed triggers and functions), so one init-server installs everything.
    """
    from alembic import command

    from deskops_desktop.models.enums import Role
    from deskops_desktop.services.migrate import alembic_config, current_revision
    from deskops_desktop.services.store import Store, _seed

    store = Store(url, clock=clock)
    try:
        if store.is_sqlite:
            raise ServerSecurityError("init-server secures a PostgreSQL store; this is SQLite")
        database = store.url.database or ""
        roles = roles_for(store.url)
        report = InitReport(schema_before=current_revision(store.engine))
        with store.engine.connect() as conn, conn.begin():
            if not conn.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar():
                raise ServerSecurityError(
                    "init-server must connect as a PostgreSQL superuser (e.g. postgres); "
                    "it creates roles and hands the tables to the schema owner"
                )
            _refuse_foreign_roles(conn, roles, database)
            ensure_roles(conn, roles, report)
            marker = login_marker(database).replace("login", "role")
            for name in (roles.owner, roles.guard, *roles.groups):
                conn.execute(text(f"COMMENT ON ROLE {_q(name)} IS '{marker}'"))
            prepare_for_migration(conn, roles, database)
            conn.execute(text(f"SET LOCAL ROLE {_q(roles.owner)}"))
            cfg = alembic_config(store.engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            with Session(bind=conn, info={"clock": store.clock}) as session:
                _seed(session)
                session.flush()
            conn.execute(text("RESET ROLE"))
            report.tables_secured = apply_security(conn, roles, database)
            for extension in extensions:
                extension(conn, roles)
            report.schema_after = conn.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar()
            with Session(bind=conn, info={"clock": store.clock}) as session:
                if admin is not None:
                    report.admin_created = _ensure_admin(session, roles, *admin)
                conn.execute(text("UPDATE users SET password_hash = :p"), {"p": PLACEHOLDER_HASH})
                for username, role, active in session.execute(
                    text("SELECT username, role, active FROM users ORDER BY username")
                ):
                    password = admin[1] if admin and username == admin[0].strip().lower() else None
                    sync_login(conn, roles, username, role, active, password)
                    report.logins_synced.append(roles.login(username))
                    if role not in {r.value for r in Role}:
                        raise ServerSecurityError(f"user {username} has an unknown role {role}")
                report.need_password = list(
                    conn.execute(
                        text(
                            "SELECT u.username FROM users u JOIN pg_authid a "
                            "ON a.rolname = :p || u.username "
                            "WHERE a.rolpassword IS NULL AND u.active ORDER BY u.username"
                        ),
                        {"p": roles.prefix + LOGIN_INFIX},
                    ).scalars()
                )
        return report
    finally:
        store.dispose()


def _refuse_foreign_roles(conn: Connection, roles: ServerRoles, database: str) -> None:
    """Stop when our role names are taken by something that is not this database's DeskOps."""
    marker = login_marker(database).replace("login", "role")
    for name in (roles.owner, roles.guard, *roles.groups):
        row = conn.execute(
            text(
                "SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles "
                "WHERE rolname = :n"
            ),
            {"n": name},
        ).first()
        if row is not None and row[0] != marker:
            raise ServerSecurityError(
                f"the role {name} already exists and is not DeskOps' role for database "
                f"{database}; rename the database or drop that role"
            )


def _ensure_admin(session: Session, roles: ServerRoles, username: str, password: str) -> bool:
    """Create the administrator ``username`` (True) or check an existing one is an admin."""
    from sqlalchemy import select

    from deskops_desktop.models.accounts import User
    from deskops_desktop.models.enums import Role
    from deskops_desktop.services.passwords import password_problem

    name = username.strip().lower()
    if not valid_username(name) or len(name) > roles.max_username_length:
        raise ServerSecurityError(
            f"'{username}' is not a usable user name "
            f"(2-{roles.max_username_length} of a-z 0-9 . _ -)"
        )
    weak = password_problem(password)
    if weak:
        raise ServerSecurityError(f"the administrator's password {weak}")
    existing = session.execute(select(User.role).where(User.username == name)).scalar()
    if existing is not None:
        if existing != Role.ADMIN.value:
            raise ServerSecurityError(f"user {name} exists and is not an administrator")
        return False
    session.add(
        User(
            username=name, display_name=name, password_hash=PLACEHOLDER_HASH, role=Role.ADMIN.value
        )
    )
    session.flush()
    return True
