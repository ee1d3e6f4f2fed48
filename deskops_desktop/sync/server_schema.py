"""The server's side of sync, installed by ``deskops db init-server``: feed triggers and functions.

``install(conn, roles)`` runs inside init-server's own transaction, as the superuser, right after
``pg_security.apply_security`` (``init_server(..., extensions=[install])``). It is idempotent:
functions are replaced, triggers and this module's policies dropped and created again.

What it creates:

- **Feed triggers** on every synced table (``sync.tables``): statement-level AFTER INSERT /
  UPDATE / DELETE triggers with transition tables, one row per changed row into
  ``sync_changes`` with the writing transaction's id (``pg_current_xact_id()``), the row's scope,
  version and the pushing laptop (``deskops.replica_id``, set by push; NULL for online clerks).
  The functions are SECURITY DEFINER, owned by the schema owner, with a fixed search_path: a
  clerk cannot write the feed directly (no grant), only by changing rows RLS lets them change.
  Online clerks write straight to PostgreSQL, so the feed must come from triggers, not app code.
- **Owner policies** (``sync_owner_*``): the owner is under FORCE ROW LEVEL SECURITY like everyone,
  so the definer functions need their own policies on the feed, replicas and horizon tables.
- **Functions** clerks call: ``deskops_sync_meta()`` (versions, server time, feed horizon: the
  handshake), ``deskops_sync_register`` / ``deskops_sync_hello`` (replica identity and machine
  fingerprint, push high-water mark), ``deskops_sync_ack`` (raise that mark, inside the push
  transaction), and ``deskops_sync_prune`` (admins: drop feed rows older than N days and publish
  the horizon).

Invariants: the feed is never written outside these triggers; ``stock_days``, the change log and
exports have no feed trigger (each side derives its ledger from the records).
"""

from __future__ import annotations

from sqlalchemy import Connection

from deskops_desktop.sync.adapter import ServerRoles, admin_only, quote_ident
from deskops_desktop.sync.protocol import MIN_CLIENT_PROTOCOL, PROTOCOL
from deskops_desktop.sync.sql import run_ddl
from deskops_desktop.sync.tables import SyncedTable, synced_tables

_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
_XID = "pg_current_xact_id()::text::bigint"


def _feed_columns(table: SyncedTable, alias: str) -> dict[str, str]:
    """SQL expressions (over transition-table alias ``alias``) of one feed row."""
    a = alias
    if table.name == "user_sites":
        return {
            "scope": f"'u:' || {a}.user_id",
            "record_id": f"{a}.user_id || '/' || {a}.site_id",
            "site_id": "NULL",
            "user_id": f"{a}.user_id",
        }
    site = table.site_column
    return {
        "scope": f"coalesce('s:' || {a}.{site}, 'm')" if site else "'m'",
        "record_id": f"{a}.id",
        "site_id": f"{a}.{site}" if site else "NULL",
        "user_id": "NULL",
    }


def _feed_insert(table: SyncedTable, alias: str, op: str, source: str, where: str = "") -> str:
    cols = _feed_columns(table, alias)
    version = f"{alias}.version" if table.has_version else "NULL"
    return (
        "INSERT INTO public.sync_changes (xid, scope, table_name, record_id, op, site_id, "
        "user_id, version, origin_replica, at) "
        f"SELECT {_XID}, {cols['scope']}, '{table.name}', {cols['record_id']}, '{op}', "
        f"{cols['site_id']}, {cols['user_id']}, {version}, origin, now() FROM {source}{where};"
    )


def feed_function_sql(table: SyncedTable) -> str:
    """The trigger function of one table (exposed for tests and the docs)."""
    join = " AND ".join(f"n.{k} = o.{k}" for k in table.key)
    moved = _feed_columns(table, "n")["scope"] + " <> " + _feed_columns(table, "o")["scope"]
    return f"""CREATE OR REPLACE FUNCTION deskops_feed_{table.name}() RETURNS trigger
        LANGUAGE plpgsql {_DEFINER} AS $fn$
        DECLARE
            origin varchar := nullif(current_setting('deskops.replica_id', true), '');
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_feed_insert(table, "n", "upsert", "new_rows n")}
            END IF;
            IF TG_OP = 'DELETE' THEN
                {_feed_insert(table, "o", "delete", "old_rows o")}
            ELSIF TG_OP = 'UPDATE' THEN
                -- A row that left its scope (a different site) is a delete in the old one.
                {
        _feed_insert(
            table, "o", "delete", f"old_rows o JOIN new_rows n ON {join}", f" WHERE {moved}"
        )
    }
            END IF;
            RETURN NULL;
        END
        $fn$"""


def _triggers_sql(table: SyncedTable) -> list[str]:
    name = quote_ident(table.name)
    fn = f"deskops_feed_{table.name}()"
    out = []
    for event, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        trigger = f"deskops_feed_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {name}")
        out.append(
            f"CREATE TRIGGER {trigger} AFTER {event} ON {name} REFERENCING {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}"
        )
    return out


def _functions_sql(roles: ServerRoles) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION deskops_sync_meta() RETURNS jsonb
            LANGUAGE sql STABLE {_DEFINER} AS $fn$
            SELECT jsonb_build_object(
                'protocol', {PROTOCOL},
                'min_client_protocol', {MIN_CLIENT_PROTOCOL},
                'schema', (SELECT version_num FROM public.alembic_version LIMIT 1),
                'now', now(),
                'horizon_xid', coalesce((SELECT xid FROM public.sync_horizon WHERE id = 1), 0),
                'horizon_seq', coalesce((SELECT seq FROM public.sync_horizon WHERE id = 1), 0))
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION deskops_sync_register(
                replica varchar, print varchar, sites jsonb, protocol integer, schema varchar)
            RETURNS jsonb LANGUAGE plpgsql {_DEFINER} AS $fn$
            DECLARE
                me varchar := public.deskops_user_id();
                known public.sync_replicas;
            BEGIN
                IF me IS NULL THEN
                    RAISE EXCEPTION 'only a DeskOps user may register a laptop'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                SELECT * INTO known FROM public.sync_replicas WHERE replica_id = replica;
                IF FOUND THEN
                    IF known.fingerprint <> print THEN
                        RETURN jsonb_build_object('status', 'clone');
                    END IF;
                    UPDATE public.sync_replicas SET site_ids = sites, last_seen_at = now(),
                        client_protocol = protocol, schema_rev = schema
                    WHERE replica_id = replica;
                ELSE
                    INSERT INTO public.sync_replicas (replica_id, fingerprint, user_id, site_ids,
                        created_at, last_seen_at, last_acked_seq, client_protocol, schema_rev,
                        revoked)
                    VALUES (replica, print, me, sites, now(), now(), 0, protocol, schema, false);
                END IF;
                RETURN jsonb_build_object('status', 'ok');
            END
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION deskops_sync_hello(
                replica varchar, print varchar, high_seq bigint, protocol integer,
                schema varchar, sites jsonb)
            RETURNS jsonb LANGUAGE plpgsql {_DEFINER} AS $fn$
            DECLARE
                known public.sync_replicas;
            BEGIN
                IF public.deskops_user_id() IS NULL THEN
                    RAISE EXCEPTION 'only an active DeskOps user may sync'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                SELECT * INTO known FROM public.sync_replicas WHERE replica_id = replica;
                IF NOT FOUND THEN
                    RETURN jsonb_build_object('status', 'unknown');
                END IF;
                IF known.revoked THEN
                    RETURN jsonb_build_object('status', 'revoked');
                END IF;
                IF known.fingerprint <> print THEN
                    RETURN jsonb_build_object('status', 'clone');
                END IF;
                UPDATE public.sync_replicas SET last_seen_at = now(), client_protocol = protocol,
                    schema_rev = schema, site_ids = sites
                WHERE replica_id = replica;
                RETURN jsonb_build_object('status', 'ok',
                    'last_acked_seq', known.last_acked_seq,
                    'restored', high_seq < known.last_acked_seq);
            END
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION deskops_sync_ack(replica varchar, seq bigint)
            RETURNS void LANGUAGE sql {_DEFINER} AS $fn$
            UPDATE public.sync_replicas SET last_acked_seq = greatest(last_acked_seq, seq)
            WHERE replica_id = replica
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION deskops_sync_prune(keep_days integer)
            RETURNS bigint LANGUAGE plpgsql {_DEFINER} AS $fn$
            DECLARE
                edge record;
                gone bigint;
            BEGIN
                {admin_only(roles, "prune the sync feed")}
                SELECT xid, seq INTO edge FROM public.sync_changes
                WHERE at < now() - make_interval(days => keep_days)
                ORDER BY xid DESC, seq DESC LIMIT 1;
                IF NOT FOUND THEN
                    RETURN 0;
                END IF;
                DELETE FROM public.sync_changes
                WHERE at < now() - make_interval(days => keep_days);
                GET DIAGNOSTICS gone = ROW_COUNT;
                INSERT INTO public.sync_horizon (id, xid, seq, pruned_at)
                VALUES (1, edge.xid, edge.seq, now())
                ON CONFLICT (id) DO UPDATE SET
                    xid = excluded.xid, seq = excluded.seq, pruned_at = excluded.pruned_at
                WHERE (excluded.xid, excluded.seq)
                    > (public.sync_horizon.xid, public.sync_horizon.seq);
                RETURN gone;
            END
            $fn$""",
    ]


_CLERK_FUNCTIONS = (
    "deskops_sync_meta()",
    "deskops_sync_register(varchar, varchar, jsonb, integer, varchar)",
    "deskops_sync_hello(varchar, varchar, bigint, integer, varchar, jsonb)",
    "deskops_sync_ack(varchar, bigint)",
)
_ADMIN_FUNCTIONS = ("deskops_sync_prune(integer)",)
_OWNER_POLICIES = {
    "sync_changes": "sync_owner_feed",
    "sync_replicas": "sync_owner_replicas",
    "sync_horizon": "sync_owner_horizon",
}


def install(conn: Connection, roles: ServerRoles) -> None:
    """Create or replace the server's sync objects (as a superuser, in the caller's txn)."""
    owner = quote_ident(roles.owner)
    groups = ", ".join(quote_ident(g) for g in roles.groups)
    for table in synced_tables():
        run_ddl(conn, feed_function_sql(table))
        run_ddl(conn, f"ALTER FUNCTION deskops_feed_{table.name}() OWNER TO {owner}")
        run_ddl(conn, f"REVOKE ALL ON FUNCTION deskops_feed_{table.name}() FROM PUBLIC")
        for sql in _triggers_sql(table):
            run_ddl(conn, sql)
    for sql in _functions_sql(roles):
        run_ddl(conn, sql)
    for fn in (*_CLERK_FUNCTIONS, *_ADMIN_FUNCTIONS):
        run_ddl(conn, f"ALTER FUNCTION {fn} OWNER TO {owner}")
        run_ddl(conn, f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in _CLERK_FUNCTIONS:
        run_ddl(conn, f"GRANT EXECUTE ON FUNCTION {fn} TO {groups}")
    for fn in _ADMIN_FUNCTIONS:
        run_ddl(conn, f"GRANT EXECUTE ON FUNCTION {fn} TO {quote_ident(roles.group('admin'))}")
    # The definer functions run as the owner, which asks who the clerk is like the policies do.
    for fn in ("deskops_user_id()", "deskops_site_ids()"):
        run_ddl(conn, f"GRANT EXECUTE ON FUNCTION {fn} TO {owner}")
    for name, policy in _OWNER_POLICIES.items():
        run_ddl(conn, f"DROP POLICY IF EXISTS {policy} ON {quote_ident(name)}")
        run_ddl(
            conn,
            f"CREATE POLICY {policy} ON {quote_ident(name)} FOR ALL TO {owner} "
            "USING (true) WITH CHECK (true)",
        )


def installed(conn: Connection) -> bool:
    """Whether this server has the sync functions (init-server of a sync-capable DeskOps)."""
    found = conn.exec_driver_sql("SELECT to_regprocedure('deskops_sync_meta()')").scalar()
    return found is not None
