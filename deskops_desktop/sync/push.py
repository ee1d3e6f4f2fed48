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

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from deskops_desktop.models.accounts import User
from deskops_desktop.models.modules import ReferenceIndex
from deskops_desktop.models.sync import OpState, SyncOutbox
from deskops_desktop.sync.adapter import Store, load_reference_index
from deskops_desktop.sync.faults import fault
from deskops_desktop.sync.link import AuthorRefused, ServerLink
from deskops_desktop.sync.protocol import PUSH_BATCH
from deskops_desktop.sync.server_apply import (
    Outcome,
    ServerActor,
    apply_batch,
    load_server_actor,
)
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
        if outcome.outcome == OpState.APPLIED:
            self.applied += 1
        elif outcome.outcome == OpState.CONFLICT:
            self.conflicts += 1
        elif outcome.outcome == OpState.HELD:
            self.held += 1
        else:
            self.rejected += 1


def usernames(session: Session) -> dict[str, str]:
    return {str(i): str(n) for i, n in session.execute(select(User.id, User.username))}


def plan_batches(
    ops: Sequence[OutboxOp],
    has_link: Callable[[str], bool],
    limit: int = PUSH_BATCH,
    blocked: set[tuple[str, str]] | None = None,
) -> tuple[list[list[OutboxOp]], list[OutboxOp]]:
    """(batches in outbox order, operations that must wait) — see the module notes.

    ``blocked`` (records with an earlier operation that waits) is updated in place, so a plan
    made chunk by chunk keeps every record's order.
    """
    batches: list[list[OutboxOp]] = []
    waiting: list[OutboxOp] = []
    blocked = set() if blocked is None else blocked
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
    """Push every operation that can go now; outcomes are recorded in ``report``.

    The outbox is read in chunks (memory stays flat however long the laptop was offline), and a
    batch's outcomes are recorded in the same local transaction that marks the next batch sent
    (one local commit per batch; a crash in between leaves them ``sent``, answered by op id).
    """
    with store.read() as session:
        names = usernames(session)
    refused: dict[str, str] = {}
    blocked: set[tuple[str, str]] = set()

    def has_link(author_id: str) -> bool:
        name = names.get(author_id, "")
        return name not in refused and link_for(name) is not None

    known: dict[str, tuple[ServerActor, ReferenceIndex]] = {}
    answered: tuple[Sequence[OutboxOp], Sequence[Outcome]] | None = None
    after = 0
    number = 0
    while True:
        with store.read() as session:
            ops = outbox_ops(session, after=after, limit=batch_size * 5)
        if not ops:
            break
        after = ops[-1].seq
        batches, waiting = plan_batches(ops, has_link, batch_size, blocked)
        for op in waiting:
            name = names.get(op.author_id, op.author_id)
            report.waiting.setdefault(name, f"waiting for {name} to sign in on this laptop")
        for batch in batches:
            name = names.get(batch[0].author_id, "")
            if name in refused:
                blocked.update((op.table_name, op.record_id) for op in batch)
                report.waiting.setdefault(name, refused[name])
                continue
            if number:
                fault("between_batches")
            number += 1
            link = link_for(name)
            assert link is not None
            _stage(store, answered, batch)
            answered = None
            fault("after_outbox_staged")
            try:
                with link.transaction() as conn, Session(bind=conn) as session:
                    if name not in known:  # who they are and what they may see: once a run
                        known[name] = (load_server_actor(session), load_reference_index(session))
                    actor, refs = known[name]
                    outcomes = apply_batch(session, actor, replica.replica_id, batch, refs=refs)
            except AuthorRefused as exc:
                refused[name] = str(exc)
                report.waiting[name] = str(exc)
                blocked.update((op.table_name, op.record_id) for op in batch)
                _back_to_pending(store, batch, str(exc))
                continue
            fault("after_server_commit")
            answered = (batch, outcomes)
            for outcome in outcomes:
                report.count(outcome)
    if answered is not None:
        _stage(store, answered, [])


def _stage(
    store: Store,
    answered: tuple[Sequence[OutboxOp], Sequence[Outcome]] | None,
    batch: Sequence[OutboxOp],
) -> None:
    """One local transaction: the previous batch's outcomes, then this batch marked sent."""
    with store.write() as session:
        if answered is not None:
            _record_outcomes(session, *answered)
        if batch:
            session.execute(
                update(SyncOutbox)
                .where(SyncOutbox.seq.in_([op.seq for op in batch]))
                .values(state=OpState.SENT, attempts=SyncOutbox.attempts + 1, last_error="")
            )


def _back_to_pending(store: Store, batch: Sequence[OutboxOp], reason: str) -> None:
    """The server never saw these (its sign-in refused): they wait, with the reason shown."""
    with store.write() as session:
        session.execute(
            update(SyncOutbox)
            .where(SyncOutbox.seq.in_([op.seq for op in batch]))
            .values(state=OpState.PENDING, last_error=reason)
        )
        log(session, "push", reason, "warning")


def _record_outcomes(
    session: Session, batch: Sequence[OutboxOp], outcomes: Sequence[Outcome]
) -> None:
    refetch: list[tuple[str, str]] = []
    params = []
    counts: dict[str, int] = {}
    for op, outcome in zip(batch, outcomes, strict=True):
        state = outcome.outcome
        if state not in (OpState.APPLIED, OpState.CONFLICT, OpState.HELD, OpState.REJECTED):
            state = OpState.REJECTED
        result = {**outcome.detail, "outcome": outcome.outcome}
        if outcome.server_version is not None:
            result["server_version"] = outcome.server_version
        params.append({"b_seq": op.seq, "state": state, "result": result, "xid": outcome.xid})
        if state != OpState.APPLIED:
            refetch.append((op.table_name, op.record_id))
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    # One executemany of a Core statement: the ORM's bulk-update bookkeeping per row would
    # cost more than the server's whole batch.
    outbox = SyncOutbox.__table__
    session.connection().execute(
        outbox.update()  # type: ignore[attr-defined]
        .where(outbox.c.seq == bindparam("b_seq"))
        .values(
            state=bindparam("state"),
            result=bindparam("result"),
            server_xid=bindparam("xid"),
            last_error="",
        ),
        params,
    )
    if refetch:
        add_refetch(session, refetch, "outcome")
    log(
        session,
        "push",
        f"batch of {len(batch)}: "
        + ", ".join(
            f"{n} {state}{'s' if n != 1 and state == 'conflict' else ''}"
            for state, n in sorted(counts.items())
        ),
    )
