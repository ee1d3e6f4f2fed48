"""What needs a decision: conflicts and held records, listed and resolved by moderators.

Head office's ``sync_attention`` is the queue (under row-level security: a clerk sees their
own items and their sites'; moderators decide their sites'; admins everything). Each item keeps
both versions: ``mine`` (what the laptop sent) and ``theirs`` (head office's row when it
arrived), plus ``base`` (what the clerk started from). Nothing is dropped: an item stays open
until a moderator keeps one side.

- ``keep="mine"``: the record becomes the laptop's version (a held record is applied; a
  delete is carried out; for two records on one natural key, head office's is replaced), as the
  moderator's own write — their row-level security decides, the ledger and change log follow,
  and the feed carries the result to every laptop.
- ``keep="theirs"``: head office's version stays (a held record is rejected); nothing changes.

The laptop's mirror of its own items is its outbox (states ``conflict``, ``held``,
``rejected``, with the server's answer in ``result``), so it can show them offline;
``local_items`` lists them and ``dismiss`` marks a read rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from deskops_desktop.models.accounts import User
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import NotFound, PermissionDenied, ValidationError
from deskops_desktop.models.errors import Problem as _Problem
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.sync import (
    ATTENTION_STATES,
    OpState,
    SyncAppliedOp,
    SyncAttention,
    SyncOutbox,
)
from deskops_desktop.sync.adapter import ChangeSet, Store, for_module
from deskops_desktop.sync.server_apply import (
    KIND_HELD,
    KIND_SAME_KEY,
    force_apply,
    load_server_actor,
)
from deskops_desktop.sync.tables import module_of

KEEP_MINE = "mine"
KEEP_THEIRS = "theirs"


KIND_WORDS = {
    "edit_edit": "changed here and at head office",
    "edit_delete": "changed here, deleted at head office",
    "delete_edit": "deleted here, changed at head office",
    "same_key": "a second record for the same day and material",
    "same_id": "the same record made twice",
    "behind": "a later change of a record that awaits a decision",
    "held": "late record, held for a supervisor",
    "rejected": "rejected by head office",
}
"""A kind of decision in a clerk's words (the app's lists; the CLI prints the codes)."""


def short_ids(ids: list[str], least: int = 8) -> dict[str, str]:
    """The shortest prefixes (at least ``least`` characters) that tell these ids apart.

    Ids are UUIDv7: two items made in the same moment share their first 8 characters, so a
    fixed ``id[:8]`` would print two identical "IDs" that ``resolve`` then refuses as ambiguous.
    """
    length = least
    while length < 36 and len({i[:length] for i in ids}) < len(set(ids)):
        length += 1
    return {i: i[:length] for i in ids}


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " "))


@dataclass(frozen=True)
class AttentionItem:
    """One conflict or held record, with both versions (values keyed by column)."""

    id: str
    kind: str
    site_id: str
    table_name: str
    record_id: str
    op: str
    author: str
    reason: str
    mine: dict[str, object] | None
    theirs: dict[str, object] | None
    base: dict[str, object] | None
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str = ""

    @property
    def module(self) -> Module:
        return module_of(self.table_name)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def held(self) -> bool:
        return self.kind == KIND_HELD

    def differences(self) -> list[tuple[str, object, object]]:
        """(field label, mine, theirs) of every field that differs — the Compare dialog's rows."""
        spec = SPECS[self.module]
        mine, theirs = self.mine or {}, self.theirs or {}
        out = []
        for f in spec.fields:
            a, b = mine.get(f.column), theirs.get(f.column)
            if a != b:
                out.append((f.label, a, b))
        return out


@dataclass(frozen=True)
class Resolution:
    item: AttentionItem
    version: int | None
    changes: ChangeSet


def _item(row: SyncAttention, names: dict[str, str]) -> AttentionItem:
    return AttentionItem(
        row.id,
        row.kind,
        row.site_id,
        row.table_name,
        row.record_id,
        row.op,
        names.get(row.user_id, row.user_id),
        row.reason,
        row.mine,
        row.theirs,
        row.base,
        row.created_at,
        row.resolved_at,
        names.get(row.resolved_by or "", row.resolved_by),
        row.resolution,
    )


def list_items(session: Session, *, include_resolved: bool = False) -> list[AttentionItem]:
    """Head office's queue as this connection's role may see it, oldest first."""
    query = select(SyncAttention).order_by(SyncAttention.created_at, SyncAttention.id)
    if not include_resolved:
        query = query.where(SyncAttention.resolved_at.is_(None))
    rows = list(session.execute(query).scalars())
    names = {str(i): str(n) for i, n in session.execute(select(User.id, User.username))}
    return [_item(r, names) for r in rows]


def find_item(session: Session, ident: str) -> SyncAttention:
    """An item by id or by a unique prefix of at least 6 characters (as the CLI prints them)."""
    ident = ident.strip().lower()
    if len(ident) < 6:
        raise ValidationError([_Problem("id", "give at least 6 characters of the item's id")])
    matches = list(
        session.execute(
            select(SyncAttention).where(SyncAttention.id.like(ident.replace("%", "") + "%"))
        ).scalars()
    )
    if not matches:
        raise NotFound(f"no conflict or held record {ident} (or not one you may see)")
    if len(matches) > 1:
        raise ValidationError([_Problem("id", f"{ident} matches {len(matches)} items; give more")])
    return matches[0]


def resolve(session: Session, ident: str, keep: str) -> Resolution:
    """A moderator's decision, in the caller's transaction on the moderator's own connection."""
    if keep not in (KEEP_MINE, KEEP_THEIRS):
        raise ValidationError([_Problem("keep", "must be 'mine' or 'theirs'")])
    actor = load_server_actor(session)
    if actor.role is Role.OPERATOR:
        raise PermissionDenied("only a supervisor (moderator) or administrator decides this")
    row = find_item(session, ident)
    if row.resolved_at is not None:
        raise ValidationError([_Problem("id", f"already decided ({row.resolution})")])
    if not actor.may_use_site(row.site_id):
        raise PermissionDenied("this item belongs to a site you are not assigned to")
    version: int | None = None
    if keep == KEEP_MINE:
        mine = None if row.op == "delete" else row.mine
        remove = row.theirs_id if row.kind == KIND_SAME_KEY else None
        version = force_apply(session, actor, row.table_name, row.record_id, mine, remove_id=remove)
    resolution = ("applied" if keep == KEEP_MINE else "rejected") if row.kind == KIND_HELD else keep
    now = session.execute(text("SELECT now()")).scalar_one()
    session.execute(
        update(SyncAttention)
        .where(SyncAttention.id == row.id)
        .values(resolved_at=now, resolved_by=actor.user_id, resolution=resolution)
    )
    detail: dict[str, Any] = {"resolution": resolution, "attention_id": row.id}
    if version is not None:
        detail["server_version"] = version
    session.execute(
        update(SyncAppliedOp)
        .where(SyncAppliedOp.op_id == row.op_id)
        .values(outcome="resolved", detail=detail)
    )
    session.flush()
    names = {str(i): str(n) for i, n in session.execute(select(User.id, User.username))}
    refreshed = session.get(SyncAttention, row.id)
    assert refreshed is not None
    session.refresh(refreshed)
    return Resolution(
        _item(refreshed, names), version, for_module(module_of(row.table_name), row.site_id)
    )


# ---------------------------------------------------------------------- the laptop's mirror
@dataclass(frozen=True)
class LocalItem:
    """One of this laptop's operations that did not simply apply, as the laptop knows it."""

    seq: int
    state: str
    kind: str
    table_name: str
    record_id: str
    site_id: str
    op: str
    reason: str
    attention_id: str | None
    mine: dict[str, object] | None
    theirs: dict[str, object] | None
    author: str

    @property
    def module(self) -> Module:
        return module_of(self.table_name)


def local_items(store: Store, *, include_dismissed: bool = False) -> list[LocalItem]:
    states = (*ATTENTION_STATES, OpState.DISMISSED) if include_dismissed else ATTENTION_STATES
    with store.read() as session:
        names = {str(i): str(n) for i, n in session.execute(select(User.id, User.username))}
        out = []
        for row in session.execute(
            select(SyncOutbox).where(SyncOutbox.state.in_(states)).order_by(SyncOutbox.seq)
        ).scalars():
            result = row.result or {}
            theirs = result.get("theirs")
            out.append(
                LocalItem(
                    row.seq,
                    row.state,
                    str(result.get("kind", row.state)),
                    row.table_name,
                    row.record_id,
                    row.site_id,
                    row.op,
                    str(result.get("reason", row.last_error)),
                    str(result["attention_id"]) if result.get("attention_id") else None,
                    row.payload,
                    theirs if isinstance(theirs, dict) else None,
                    names.get(row.author_id, row.author_id),
                )
            )
        return out


def dismiss(store: Store, seq: int) -> None:
    """The clerk has read a rejection: it no longer counts as needing attention."""
    with store.write() as session:
        row = session.get(SyncOutbox, seq)
        if row is None or row.state != OpState.REJECTED:
            raise NotFound(f"no rejected change {seq} on this laptop")
        row.state = OpState.DISMISSED
