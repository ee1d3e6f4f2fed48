"""``run_sync`` and ``join``: one sync of a remote-site laptop, start to finish, as plain functions.

Long work as a plain function with a progress object (STYLE.md): the GUI runs ``run_sync`` on a
worker thread (never the GUI thread), the command line and the tests call it directly. It
returns a ``SyncReport`` with the ``ChangeSet`` of what the pull changed, so the app announces
it through its data gateway and open pages refresh.

One sync, in order:
1. **Handshake** as the pulling clerk: protocol and schema versions both ways (refused before
   anything is sent), the server's clock (skew measured and shown, never used), the replica's
   identity and machine fingerprint (a copied store is refused; a restored backup is noticed
   and re-downloaded after its unanswered operations were pushed once).
2. **First download** (``sync.download``), resumable, when the join has not finished it.
3. **Push** (``sync.push``): every operation that can go, as its author.
4. **Answers**: moderators' decisions on this laptop's conflicts and held records.
5. **Pull** (``sync.pull``) until caught up; what the pull covered confirms the pushed work.
6. **Sanity check** (``sync.sanity``), repaired by re-download when it fails.
7. Sites no clerk of this laptop is assigned to any more are purged; verifiers cached.

Every step commits its own local transactions; a failure (the server gone, the laptop killed)
between any two leaves a state the next run continues from. Nothing here reads the wall clock:
times shown are the server's, the laptop's own clock only gives the skew.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from deskops_desktop.models.accounts import User, UserSite
from deskops_desktop.models.base import Base
from deskops_desktop.models.enums import Role
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.progress import NullProgress, Progress
from deskops_desktop.models.sync import (
    PUSHED_TABLES,
    UNACKNOWLEDGED_STATES,
    OpState,
    SyncCursor,
    SyncOutbox,
    SyncState,
)
from deskops_desktop.sync.adapter import (
    HEAD_REVISION,
    PLACEHOLDER_HASH,
    ChangeSet,
    Store,
    get_db_password,
    normalised_server_url,
    roles_for,
)
from deskops_desktop.sync.apply import ChangeCollector, purge_site
from deskops_desktop.sync.download import count_rows, download_scope, rows_done
from deskops_desktop.sync.feed import Cursor
from deskops_desktop.sync.identity import fingerprint
from deskops_desktop.sync.link import AuthorRefused, LinkOptions, ServerLink
from deskops_desktop.sync.protocol import (
    PROTOCOL,
    NotAReplica,
    ReplicaRefused,
    SyncError,
    SyncOffline,
    SyncTuning,
    VersionMismatch,
    check_versions,
)
from deskops_desktop.sync.pull import PullReport, pull, scopes_for
from deskops_desktop.sync.push import PushReport, push
from deskops_desktop.sync.sanity import SanityResult, check
from deskops_desktop.sync.signin import cache_verifier
from deskops_desktop.sync.sql import sqlstate
from deskops_desktop.sync.state import (
    PHASE_DOWNLOAD,
    PHASE_READY,
    Replica,
    bump_sequence,
    cursors,
    high_seq,
    load_replica,
    log,
    require_replica,
    update_state,
)
from deskops_desktop.sync.status import SyncStatus, sync_status
from deskops_desktop.sync.tables import MASTER_SCOPE, site_scope, user_scope

FENCE_RETRIES = 4
FENCE_WAIT_SECONDS = 0.25


class RisingProgress:
    """The caller's progress, never moving backwards within one run (the ``Progress`` contract).

    The percentages are estimates from row counts taken at different moments (a download's
    total, its committed rows, the fixed marks of the later steps); whichever path reports, a
    clerk watching the bar must not see it slide back.
    """

    def __init__(self, inner: Progress) -> None:
        self._inner = inner
        self._highest = -1

    def set_progress(self, percent: int) -> None:
        if percent > self._highest:
            self._highest = percent
            self._inner.set_progress(percent)

    def set_status(self, text: str) -> None:
        self._inner.set_status(text)

    def is_cancelled(self) -> bool:
        return self._inner.is_cancelled()


class SyncCancelled(SyncError):
    """The caller cancelled; every committed step stays, the next sync continues."""


@dataclass(frozen=True)
class Credentials:
    """Passwords of the clerks signed in on this laptop, by user name.

    Pushes run as each operation's author, so each author needs theirs; the first (or
    ``primary``) pulls. ``use_keyring`` also looks a user's password up in the OS keyring
    (``deskops db set-password`` with the login role's URL), for unattended syncs.
    """

    passwords: Mapping[str, str]
    primary: str | None = None
    use_keyring: bool = True

    @classmethod
    def single(cls, username: str, password: str) -> Credentials:
        name = username.strip().lower()
        return cls({name: password}, name)

    @property
    def puller(self) -> str | None:
        if self.primary:
            return self.primary.strip().lower()
        return next(iter(self.passwords), None)


class _Links:
    def __init__(self, url: URL, credentials: Credentials, options: LinkOptions | None) -> None:
        self.url = url
        self.credentials = credentials
        self.options = options
        self._links: dict[str, ServerLink | None] = {}
        self.accepted: dict[str, str] = {}

    def password(self, username: str) -> str | None:
        name = username.strip().lower()
        given = {k.strip().lower(): v for k, v in self.credentials.passwords.items()}
        if name in given:
            return given[name]
        if self.credentials.use_keyring:
            login = roles_for(self.url).login(name)
            return get_db_password(self.url.set(username=login).render_as_string(False))
        return None

    def __call__(self, username: str) -> ServerLink | None:
        name = username.strip().lower()
        if not name:
            return None
        if name not in self._links:
            password = self.password(name)
            self._links[name] = (
                ServerLink(self.url, name, password, self.options) if password else None
            )
        return self._links[name]

    def dispose(self) -> None:
        for link in self._links.values():
            if link is not None:
                link.dispose()


@dataclass
class SyncReport:
    """What one sync did, and the status after it (see ``SyncStatus``)."""

    ok: bool = False
    offline: bool = False
    error: str = ""
    push: PushReport = field(default_factory=PushReport)
    pull: PullReport = field(default_factory=PullReport)
    downloaded: int = 0
    sanity: SanityResult | None = None
    repaired: list[str] = field(default_factory=list)
    purged_sites: list[str] = field(default_factory=list)
    restored: bool = False
    skew_seconds: int | None = None
    changes: ChangeSet = field(default_factory=ChangeSet)
    status: SyncStatus | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each step took (a monotonic timer; for the log and the benchmark)."""

    def timed(self, step: str, started: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started

    def summary(self) -> str:
        if self.offline:
            return f"not synced: {self.error}"
        if not self.ok:
            return f"sync failed: {self.error}"
        return self.details()

    def details(self) -> str:
        """What was sent, received, downloaded and repaired (the log's line for a sync)."""
        parts = [
            f"sent {self.push.sent} (applied {self.push.applied}, conflicts "
            f"{self.push.conflicts}, held {self.push.held}, rejected {self.push.rejected})",
            f"received {self.pull.changes} change(s)",
        ]
        if self.downloaded:
            parts.insert(0, f"downloaded {self.downloaded:,} rows")
        if self.repaired:
            parts.append(f"repaired {', '.join(self.repaired)}")
        if self.purged_sites:
            parts.append(f"removed {len(self.purged_sites)} site(s) no longer assigned here")
        return "; ".join(parts)


# ---------------------------------------------------------------------------- handshake
@dataclass(frozen=True)
class _Meta:
    protocol: int
    min_client: int
    schema: str | None
    now: datetime
    horizon: Cursor


def _meta(conn: Any) -> _Meta:
    try:
        raw = conn.execute(text("SELECT deskops_sync_meta()")).scalar()
    except DBAPIError as exc:
        if sqlstate(exc) == "42883":
            raise VersionMismatch(
                "head office's server has no remote-site sync yet: an administrator must run "
                "'deskops db init-server' with this DeskOps version; nothing was sent"
            ) from None
        raise
    data = _json(raw)
    now = data["now"]
    return _Meta(
        int(data["protocol"]),
        int(data["min_client_protocol"]),
        data.get("schema"),
        now if isinstance(now, datetime) else datetime.fromisoformat(str(now)),
        Cursor(int(data.get("horizon_xid") or 0), int(data.get("horizon_seq") or 0)),
    )


def _json(raw: object) -> dict[str, Any]:
    """A jsonb result (psycopg gives a dict; a text result is parsed)."""
    if isinstance(raw, dict):
        return raw
    if raw is None:
        return {}
    loaded = json.loads(str(raw))
    return loaded if isinstance(loaded, dict) else {}


def _handshake(store: Store, replica: Replica, link: ServerLink, report: SyncReport) -> _Meta:
    with store.read() as session:
        high = high_seq(session)
    with link.connect() as conn:
        meta = _meta(conn)
        check_versions(meta.protocol, meta.min_client, meta.schema, HEAD_REVISION)
        hello_raw = conn.execute(
            text("SELECT deskops_sync_hello(:r, :f, :h, :p, :s, CAST(:sites AS jsonb))"),
            {
                "r": replica.replica_id,
                "f": fingerprint(store.sqlite_file),
                "h": high,
                "p": PROTOCOL,
                "s": HEAD_REVISION,
                "sites": json.dumps(list(replica.site_ids)),
            },
        ).scalar()
        conn.commit()
    hello = _json(hello_raw)
    status = hello.get("status")
    report.skew_seconds = round((store.clock.now() - meta.now).total_seconds())
    if status == "clone":
        raise ReplicaRefused(
            "this store was copied from another computer or folder; head office refuses to "
            "sync it as the original. Keep using the original, or join this computer as a new "
            "laptop (deskops sync join) with a new store"
        )
    if status == "revoked":
        raise ReplicaRefused("an administrator has revoked this laptop's sync")
    if status != "ok":
        raise ReplicaRefused(
            "head office does not know this laptop (was it joined to another server?): join "
            "it again with a new store"
        )
    if hello.get("restored"):
        report.restored = True
        with store.write() as session:
            bump_sequence(session, int(hello.get("last_acked_seq") or 0) + 1)
            log(
                session,
                "handshake",
                "this store is older than what head office last received from it (a restored "
                "backup): its unanswered changes are sent once, then its sites download again",
                "warning",
            )
    with store.write() as session:
        update_state(
            session, skew_seconds=report.skew_seconds, server_schema=meta.schema or "", refused=""
        )
    return meta


def _visible_sites(link: ServerLink) -> tuple[Role, str, frozenset[str]]:
    with link.connect() as conn:
        user_id = conn.execute(text("SELECT deskops_user_id()")).scalar()
        if user_id is None:
            raise AuthorRefused(
                link.username, f"{link.username} is not an active user", deactivated=True
            )
        role = conn.execute(text("SELECT role FROM users WHERE id = :u"), {"u": user_id}).scalar()
        sites = frozenset(str(s) for s in conn.execute(text("SELECT deskops_site_ids()")).scalars())
        if role == Role.ADMIN.value:
            sites = frozenset(str(s) for s in conn.execute(text("SELECT id FROM sites")).scalars())
    return Role(str(role)), str(user_id), sites


# ---------------------------------------------------------------------------- the run
def run_sync(
    store: Store,
    credentials: Credentials,
    progress: Progress | None = None,
    *,
    options: LinkOptions | None = None,
    tuning: SyncTuning | None = None,
) -> SyncReport:
    """One sync of a replica store (see the module notes). Never raises for a lost server:
    ``report.offline`` says so and the next run continues. A refused replica or a version
    mismatch ends the run with ``report.error`` (and the status line says why)."""
    progress = RisingProgress(progress or NullProgress())
    report = SyncReport()
    with store.read() as session:
        replica = require_replica(session)
    links = _Links(replica.url, credentials, options)
    try:
        _run(store, replica, links, progress, report, tuning or SyncTuning())
        report.ok = True
    except SyncOffline as exc:
        report.offline, report.error = True, str(exc)
        _note(store, "offline", str(exc), "warning")
    except ReplicaRefused as exc:
        report.error = str(exc)
        with store.write() as session:
            update_state(session, refused=str(exc), last_error=str(exc))
            log(session, "handshake", str(exc), "error")
    except (VersionMismatch, AuthorRefused, SyncCancelled, NotAReplica) as exc:
        report.error = str(exc)
        _note(store, "sync", str(exc), "error")
    finally:
        links.dispose()
    report.status = sync_status(store)
    return report


def _note(store: Store, step: str, message: str, level: str) -> None:
    with store.write() as session:
        update_state(session, last_error=message)
        log(session, step, message, level)


def _check_cancel(progress: Progress) -> None:
    if progress.is_cancelled():
        raise SyncCancelled("sync cancelled; what was done so far is kept")


def _run(
    store: Store,
    replica: Replica,
    links: _Links,
    progress: Progress,
    report: SyncReport,
    tuning: SyncTuning,
) -> None:
    puller_name = links.credentials.puller
    puller = links(puller_name) if puller_name else None
    if puller is None or puller_name is None:
        raise SyncError("sign in as a clerk of this laptop to sync")
    progress.set_status("Contacting head office…")
    meta = _handshake(store, replica, puller, report)
    _, puller_id, visible = _visible_sites(puller)
    links.accepted[puller_name] = puller_name
    kept = [s for s in replica.site_ids if s in visible]
    collector = ChangeCollector()

    started = time.perf_counter()
    with store.read() as session:
        have = cursors(session)
    if replica.phase == PHASE_DOWNLOAD:
        _first_download(
            store, puller, replica, puller_id, kept, collector, progress, report, tuning
        )
    else:
        # A site added to this laptop since (join again with --site): its own full download.
        added = [site_scope(s) for s in kept if site_scope(s) not in have]
        if added:
            _download(store, puller, added, collector, progress, report, tuning)
    _check_cancel(progress)
    progress.set_status("Sending this laptop's changes…")
    progress.set_progress(60 if report.downloaded else 5)
    report.timed("download", started)
    started = time.perf_counter()
    push(store, replica, links, report.push, batch_size=tuning.push_batch)
    report.timed("push", started)
    _refresh_answers(store, links)
    _check_cancel(progress)

    redownload = [MASTER_SCOPE, *(site_scope(s) for s in kept)] if report.restored else []
    with store.read() as session:
        positions = cursors(session)
    for scope, position in positions.items():
        if position < meta.horizon and scope not in redownload:
            redownload.append(scope)
    for scope in redownload:
        progress.set_status("Downloading again what head office pruned or this copy lost…")
        download_scope(
            store,
            puller,
            scope,
            collector,
            replace=True,
            reset_cursor=True,
            page_size=tuning.download_page,
        )
        report.repaired.append(scope)

    progress.set_status("Receiving head office's changes…")
    progress.set_progress(75)
    scopes = scopes_for(kept, [puller_id])
    started = time.perf_counter()
    pull(
        store,
        puller,
        scopes,
        report.pull,
        page_size=tuning.pull_page,
        replica_id=replica.replica_id,
    )
    report.timed("pull", started)
    for name in list(links.credentials.passwords):
        other = links(name)
        if other is None or other is puller:
            continue
        try:
            _, user_id, _ = _visible_sites(other)
            pull(store, other, [user_scope(user_id)], PullReport(collector=report.pull.collector))
            links.accepted[name] = name
        except AuthorRefused:
            continue
    _confirm(store, report.pull, kept)
    _check_cancel(progress)

    progress.set_status("Checking this laptop against head office…")
    progress.set_progress(90)
    started = time.perf_counter()
    result = check(store, puller, kept)
    report.timed("check", started)
    for attempt in range(1, FENCE_RETRIES + 1):
        if not result.held_back:
            break
        # An older transaction at head office still runs: the feed holds later commits back
        # (never wrong, only late). Wait a moment, pull what it lets through, look again.
        time.sleep(FENCE_WAIT_SECONDS * attempt)
        pull(store, puller, scopes, report.pull, page_size=tuning.pull_page)
        _confirm(store, report.pull, kept)
        result = check(store, puller, kept)
    if not result.ok:
        with store.write() as session:
            log(session, "check", "; ".join(result.problems[:10]), "warning")
        for scope in result.repair:
            download_scope(
                store, puller, scope, collector, replace=True, page_size=tuning.download_page
            )
            report.repaired.append(scope)
        result = check(store, puller, kept)
        if not result.ok:
            with store.write() as session:
                log(
                    session,
                    "check",
                    "still different after repair: " + "; ".join(result.problems[:10]),
                    "error",
                )
    report.sanity = result

    report.purged_sites = _purge_unassigned(store, replica, collector)
    for name in links.accepted:
        password = links.password(name)
        if password:
            cache_verifier(store, name, password)
    with store.write() as session:
        update_state(
            session,
            last_sync_at=report.pull.at,
            last_confirmed_at=report.pull.at,
            sanity=result.to_json(),
            last_error="",
        )
        log(session, "sync", report.details())  # ``ok`` is set once this run returns
    report.changes = collector.changes | report.pull.collector.changes
    progress.set_progress(100)
    progress.set_status("Synced with head office")


def _first_download(
    store: Store,
    link: ServerLink,
    replica: Replica,
    user_id: str,
    kept: list[str],
    collector: ChangeCollector,
    progress: Progress,
    report: SyncReport,
    tuning: SyncTuning,
) -> None:
    missing = [s for s in replica.site_ids if s not in kept]
    if missing:
        raise SyncError(
            "the signed-in clerk is not assigned to every site of this laptop; sign in as one "
            "who is to finish the first download"
        )
    scopes = [MASTER_SCOPE, *(site_scope(s) for s in kept), user_scope(user_id)]
    _download(store, link, scopes, collector, progress, report, tuning)
    with store.write() as session:
        update_state(session, phase=PHASE_READY)
        log(session, "download", f"first download complete ({report.downloaded:,} rows)")


def _download(
    store: Store,
    link: ServerLink,
    scopes: list[str],
    collector: ChangeCollector,
    progress: Progress,
    report: SyncReport,
    tuning: SyncTuning,
) -> None:
    """Full downloads of ``scopes``, with one progress bar over all of them (resumable)."""
    with link.snapshot() as (conn, _fence):
        total = max(1, count_rows(conn, scopes))
    done = rows_done(store, scopes)

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        progress.set_progress(min(60, 60 * done // total))
        progress.set_status(f"First download: {done:,} of about {total:,} rows")
        _check_cancel(progress)

    progress.set_status("First download from head office…")
    for scope in scopes:
        got = download_scope(
            store, link, scope, collector, progress=advance, page_size=tuning.download_page
        )
        report.downloaded += got.rows


def _refresh_answers(store: Store, links: _Links) -> None:
    """Moderators' decisions on this laptop's conflicts and held records, by op id."""
    with store.read() as session:
        waiting = list(
            session.execute(
                select(SyncOutbox.seq, SyncOutbox.op_id, User.username)
                .join(User, User.id == SyncOutbox.author_id)
                .where(SyncOutbox.state.in_((OpState.CONFLICT, OpState.HELD)))
            )
        )
    by_author: dict[str, list[tuple[int, str]]] = {}
    for seq, op_id, username in waiting:
        by_author.setdefault(username, []).append((seq, op_id))
    for username, ops in by_author.items():
        link = links(username)
        if link is None:
            continue
        answers: dict[str, tuple[str, Any]] = {}
        try:
            with link.connect() as conn:
                for start in range(0, len(ops), 1000):
                    for op_id, outcome, detail in conn.execute(
                        text(
                            "SELECT op_id, outcome, detail FROM sync_applied_ops "
                            "WHERE op_id = ANY(:ids) AND outcome = 'resolved'"
                        ),
                        {"ids": [o for _, o in ops[start : start + 1000]]},
                    ):
                        answers[str(op_id)] = (str(outcome), detail)
        except AuthorRefused:
            continue
        if not answers:
            continue
        with store.write() as session:
            decided: dict[str, int] = {}
            for seq, op_id in ops:
                outcome, detail = answers.get(op_id, ("", None))
                if outcome == "resolved":
                    row = session.get(SyncOutbox, seq)
                    assert row is not None
                    row.state = OpState.RESOLVED
                    row.result = {**(row.result or {}), **(detail or {})}
                    row.confirmed = False
                    how = str((detail or {}).get("resolution", ""))
                    decided[how] = decided.get(how, 0) + 1
            log(
                session,
                "answers",
                "a supervisor decided: "
                + ", ".join(f"{n} {how}" for how, n in sorted(decided.items())),
            )


def _confirm(store: Store, pulled: PullReport, kept: list[str]) -> None:
    """Acknowledged work a completed pull has covered is confirmed ("synced")."""
    with store.write() as session:
        session.execute(
            update(SyncOutbox)
            .where(
                SyncOutbox.state.in_((OpState.APPLIED, OpState.RESOLVED)),
                SyncOutbox.confirmed.is_(False),
                SyncOutbox.server_xid.is_not(None),
                SyncOutbox.server_xid < pulled.fence,
                SyncOutbox.site_id.in_(kept),
            )
            .values(confirmed=True)
        )


def _purge_unassigned(store: Store, replica: Replica, collector: ChangeCollector) -> list[str]:
    """Sites none of this laptop's known clerks is assigned to any more leave the laptop."""
    with store.write() as session:
        known = list(
            session.execute(
                select(User.id, User.role).where(
                    User.active.is_(True), User.password_hash != PLACEHOLDER_HASH
                )
            )
        )
        if any(role == Role.ADMIN.value for _, role in known):
            return []
        assigned = set(
            session.execute(
                select(UserSite.site_id).where(UserSite.user_id.in_([u for u, _ in known]))
            ).scalars()
        )
        waiting = set(
            session.execute(
                select(SyncOutbox.site_id).where(SyncOutbox.state.in_(UNACKNOWLEDGED_STATES))
            ).scalars()
        )
        gone = [s for s in replica.site_ids if s not in assigned and s not in waiting]
        if not known or not gone:
            return []
        for site_id in gone:
            purge_site(session, site_id)
            # Should the site come back, it downloads afresh (its cursor is no longer true).
            session.execute(delete(SyncCursor).where(SyncCursor.scope == site_scope(site_id)))
            collector.changes = collector.changes | ChangeSet(site_ids=frozenset({site_id}))
        update_state(session, site_ids=[s for s in replica.site_ids if s not in gone])
        log(
            session,
            "sites",
            f"removed {len(gone)} site(s) no clerk of this laptop is assigned "
            "to any more (their rejected changes stay listed)",
            "warning",
        )
    return gone


# ---------------------------------------------------------------------------- join
def join(
    store: Store,
    server_url: str | URL,
    username: str,
    password: str,
    site_codes: list[str],
    progress: Progress | None = None,
    *,
    options: LinkOptions | None = None,
    tuning: SyncTuning | None = None,
) -> SyncReport:
    """Make ``store`` (a new or empty SQLite store) a replica of ``site_codes`` and sync it.

    Resumable: joining again with the same server after a killed first download continues it.
    """
    if not store.is_sqlite:
        raise SyncError("a remote-site laptop keeps its data in a file on this computer (SQLite)")
    url = normalised_server_url(server_url)
    name = username.strip().lower()
    with store.read() as session:
        existing = load_replica(session)
        records = sum(
            int(session.scalar(select(func.count()).select_from(Base.metadata.tables[t])) or 0)
            for t in PUSHED_TABLES
        )
    if existing is not None:
        if existing.url.render_as_string(False) != url.render_as_string(False):
            raise SyncError(
                f"this store is already a replica of {existing.url.render_as_string(True)}"
            )
        _add_sites(store, existing, url, name, password, site_codes, options)
        return run_sync(
            store, Credentials.single(name, password), progress, options=options, tuning=tuning
        )
    if records:
        raise SyncError(
            "this store already holds records; a remote-site laptop starts from an empty store "
            "(choose a new file with --db, or keep this one as a lone store)"
        )
    if not site_codes:
        raise SyncError("name at least one site to keep on this laptop (--site CODE)")
    link = ServerLink(url, name, password, options)
    try:
        with link.connect() as conn:
            meta = _meta(conn)
            check_versions(meta.protocol, meta.min_client, meta.schema, HEAD_REVISION)
            found: dict[str, str] = {
                str(code): str(site_id)
                for code, site_id in conn.execute(
                    text("SELECT upper(code), id FROM sites WHERE upper(code) = ANY(:c)"),
                    {"c": [c.strip().upper() for c in site_codes]},
                )
            }
            unknown = [c for c in site_codes if c.strip().upper() not in found]
            if unknown:
                raise SyncError(
                    f"head office has no site {', '.join(unknown)} that {name} is assigned to"
                )
            user_id = conn.execute(text("SELECT deskops_user_id()")).scalar()
            if user_id is None:
                raise SyncError(f"{name} is not an active DeskOps user at head office")
            replica_id = new_id()
            site_ids = [found[c.strip().upper()] for c in site_codes]
            print_ = fingerprint(store.sqlite_file)
            registered = conn.execute(
                text("SELECT deskops_sync_register(:r, :f, CAST(:s AS jsonb), :p, :v)"),
                {
                    "r": replica_id,
                    "f": print_,
                    "s": json.dumps(site_ids),
                    "p": PROTOCOL,
                    "v": HEAD_REVISION,
                },
            ).scalar()
            conn.commit()
            now = meta.now
    finally:
        link.dispose()
    status = _json(registered)
    if status.get("status") != "ok":  # pragma: no cover - a fresh id is never a clone
        raise ReplicaRefused("head office refused to register this laptop")
    with store.write() as session:
        _wipe_local(session)
        session.execute(
            insert(SyncState).values(
                id=1,
                replica_id=replica_id,
                server_url=url.render_as_string(hide_password=False),
                site_ids=site_ids,
                fingerprint=print_,
                phase=PHASE_DOWNLOAD,
                joined_at=now,
                joined_by=str(user_id),
                server_schema=meta.schema or "",
                last_error="",
                refused="",
            )
        )
        log(session, "join", f"joined head office as replica {replica_id[:8]} by {name}")
    return run_sync(
        store, Credentials.single(name, password), progress, options=options, tuning=tuning
    )


def _add_sites(
    store: Store,
    replica: Replica,
    url: URL,
    username: str,
    password: str,
    site_codes: list[str],
    options: LinkOptions | None,
) -> None:
    """Join again with more sites: they are added here (their download runs in the sync)."""
    link = ServerLink(url, username, password, options)
    try:
        with link.connect() as conn:
            found = {
                str(code): str(site_id)
                for code, site_id in conn.execute(
                    text("SELECT upper(code), id FROM sites WHERE upper(code) = ANY(:c)"),
                    {"c": [c.strip().upper() for c in site_codes]},
                )
            }
    finally:
        link.dispose()
    unknown = [c for c in site_codes if c.strip().upper() not in found]
    if unknown:
        raise SyncError(
            f"head office has no site {', '.join(unknown)} that {username} is assigned to"
        )
    added = [s for s in found.values() if s not in replica.site_ids]
    if added:
        with store.write() as session:
            update_state(session, site_ids=[*replica.site_ids, *added])
            log(session, "join", f"{len(added)} site(s) added to this laptop by {username}")


_WIPE_ORDER = (
    "export_audits",
    "export_jobs",
    "change_log",
    "stock_days",
    *reversed(PUSHED_TABLES),
    "production_targets",
    "user_sites",
    "users",
    "manpower_roles",
    "equipment",
    "materials",
    "sites",
    "sync_outbox",
    "sync_cursors",
    "sync_downloads",
    "sync_refetch",
    "sync_log",
    "sync_state",
)


def _wipe_local(session: Session) -> None:
    """An empty store's seeded master data makes way for head office's (same codes, other ids)."""
    for name in _WIPE_ORDER:
        session.execute(delete(Base.metadata.tables[name]))
