"""Push: the laptop's outbox to head office, in batches, each as its author's own role.

Order of one push:
1. Read the unanswered operations (``pending`` and ``sent``) in outbox order.
2. Cut them into batches of at most ``PUSH_BATCH``: consecutive operations of one author
   (every push runs as the operation's author, so RLS decides what *they* may do), a record at
   most once per batch (the server decides a batch set-based against the rows as they are).
   An operation whose author has no credentials here (not signed in, or refused by the server)
   waits, and so does every later operation of the same record — other records keep flowing.
3. Per batch: mark the operations ``sent`` locally (committed), run the server transaction
   (``server_apply.apply_batch``), then record every outcome locally (committed).

Crash safety, by where a failure hits: before the server COMMIT, nothing happened there and
the ``sent`` operations go again; after it and before the local record, the retry finds every
op id in ``sync_applied_ops`` and gets the stored outcomes back — nothing is applied twice.
An outcome other than *applied* also puts the record on the refetch list: the laptop shows what
head office holds, and keeps its own version in the outcome (and head office in its queue).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from deskops_desktop.models.accounts import User
from deskops_desktop.models.sync import (
    STATE_APPLIED,
    STATE_CONFLICT,
    STATE_HELD,
    STATE_PENDING,
    STATE_REJECTED,
    STATE_SENT,
    SyncOutbox,
)
from deskops_desktop.sync.adapter import Store
from deskops_desktop.sync.faults import fault
from deskops_desktop.sync.link import AuthorRefused, ServerLink
from deskops_desktop.sync.protocol import PUSH_BATCH
from deskops_desktop.sync.server_apply import Outcome, apply_batch, load_server_actor
from deskops_desktop.sync.state import OutboxOp, Replica, add_refetch, log, outbox_ops

LinkFor = Callable[[str], ServerLink | None]
"""The link of a user name, or None when that user has no credentials on this run."""


@dataclass
class PushReport:
    """What one push did; ``waiting`` says, per author, why their operations did not go."""

    sent: int = 0
    applied: int = 0
    conflicts: int = 0
    held: int = 0
    rejected: int = 0
    replayed: int = 0
    waiting: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        self.sent += 1
        self.replayed += outcome.replayed
        if outcome.outcome == STATE_APPLIED:
            self.applied += 1
        elif outcome.outcome == STATE_CONFLICT:
            self.conflicts += 1
        elif outcome.outcome == STATE_HELD:
            self.held += 1
        else:
            self.rejected += 1


def usernames(session: Session) -> dict[str, str]:
    return {str(i): str(n) for i, n in session.execute(select(User.id, User.username))}


def plan_batches(
    ops: Sequence[OutboxOp], has_link: Callable[[str], bool], limit: int = PUSH_BATCH
) -> tuple[list[list[OutboxOp]], list[OutboxOp]]:
    """(batches in outbox order, operations that must wait) — see the module notes."""
    batches: list[list[OutboxOp]] = []
    waiting: list[OutboxOp] = []
    blocked: set[tuple[str, str]] = set()
    current: list[OutboxOp] = []
    in_current: set[tuple[str, str]] = set()
    for op in ops:
        key = (op.table_name, op.record_id)
        if key in blocked or not has_link(op.author_id):
            blocked.add(key)
            waiting.append(op)
            continue
        if current and (
            current[0].author_id != op.author_id or key in in_current or len(current) >= limit
        ):
            batches.append(current)
            current, in_current = [], set()
        current.append(op)
        in_current.add(key)
    if current:
        batches.append(current)
    return batches, waiting


def push(
    store: Store,
    replica: Replica,
    link_for: LinkFor,
    report: PushReport,
    *,
    batch_size: int = PUSH_BATCH,
) -> None:
    """Push every operation that can go now; outcomes are recorded in ``report``."""
    with store.read() as session:
        ops = outbox_ops(session)
        names = usernames(session)
    refused: dict[str, str] = {}

    def has_link(author_id: str) -> bool:
        name = names.get(author_id, "")
        return name not in refused and link_for(name) is not None

    batches, waiting = plan_batches(ops, has_link, batch_size)
    for op in waiting:
        name = names.get(op.author_id, op.author_id)
        report.waiting.setdefault(name, f"waiting for {name} to sign in on this laptop")
    for number, batch in enumerate(batches):
        if number:
            fault("between_batches")
        name = names.get(batch[0].author_id, "")
        if name in refused:
            report.waiting.setdefault(name, refused[name])
            continue
        link = link_for(name)
        assert link is not None
        _mark_sent(store, batch)
        fault("after_outbox_staged")
        try:
            with link.transaction() as conn, Session(bind=conn) as session:
                actor = load_server_actor(session)
                outcomes = apply_batch(session, actor, replica.replica_id, batch)
        except AuthorRefused as exc:
            refused[name] = str(exc)
            report.waiting[name] = str(exc)
            _back_to_pending(store, batch, str(exc))
            continue
        fault("after_server_commit")
        _record_outcomes(store, batch, outcomes)
        for outcome in outcomes:
            report.count(outcome)


def _mark_sent(store: Store, batch: Sequence[OutboxOp]) -> None:
    with store.write() as session:
        session.execute(
            update(SyncOutbox)
            .where(SyncOutbox.seq.in_([op.seq for op in batch]))
            .values(state=STATE_SENT, attempts=SyncOutbox.attempts + 1, last_error="")
        )


def _back_to_pending(store: Store, batch: Sequence[OutboxOp], reason: str) -> None:
    """The server never saw these (its sign-in refused): they wait, with the reason shown."""
    with store.write() as session:
        session.execute(
            update(SyncOutbox)
            .where(SyncOutbox.seq.in_([op.seq for op in batch]))
            .values(state=STATE_PENDING, last_error=reason)
        )
        log(session, "push", reason, "warning")


def _record_outcomes(store: Store, batch: Sequence[OutboxOp], outcomes: Sequence[Outcome]) -> None:
    refetch: list[tuple[str, str]] = []
    with store.write() as session:
        for op, outcome in zip(batch, outcomes, strict=True):
            state = outcome.outcome
            if state not in (STATE_APPLIED, STATE_CONFLICT, STATE_HELD, STATE_REJECTED):
                state = STATE_REJECTED
            result = {**outcome.detail, "outcome": outcome.outcome}
            if outcome.server_version is not None:
                result["server_version"] = outcome.server_version
            session.execute(
                update(SyncOutbox)
                .where(SyncOutbox.seq == op.seq)
                .values(state=state, result=result, server_xid=outcome.xid, last_error="")
            )
            if state != STATE_APPLIED:
                refetch.append((op.table_name, op.record_id))
        if refetch:
            add_refetch(session, refetch, "outcome")
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        log(
            session,
            "push",
            "batch of "
            + str(len(batch))
            + ": "
            + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())),
        )
