"""The honest status line: "N waiting · M need attention · last confirmed with head office at …".

Counts come from the outbox's states, never from cursor arithmetic (Open mSupply's false
"synced" badges, #12141): *waiting* is every operation the server has not answered (or answered
but a pull has not yet confirmed), *need attention* every conflict, held record and unread
rejection. "Synced" is claimed only when nothing waits, nothing is unconfirmed, the last sanity
check passed and the replica is not refused — PowerSync's lesson that a "downloaded" flag does
not prove freshness.

``sync_status(store)`` reads the laptop only (no network), fast enough for a header refreshed
after every write. Times shown are the *server's* (the last confirmation); the laptop's clock
is shown only as its measured skew.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from deskops_desktop.models.sync import OpState, SyncOutbox, SyncState
from deskops_desktop.sync.adapter import Store
from deskops_desktop.sync.protocol import SKEW_WARNING_SECONDS
from deskops_desktop.sync.state import PHASE_READY


@dataclass(frozen=True)
class SyncStatus:
    """Everything the header, Settings → Sync and ``deskops sync status`` show."""

    is_replica: bool
    phase: str = ""
    pending: int = 0
    sent: int = 0
    unconfirmed: int = 0
    blocked: int = 0
    conflicts: int = 0
    held: int = 0
    rejected: int = 0
    last_sync_at: datetime | None = None
    last_confirmed_at: datetime | None = None
    skew_seconds: int | None = None
    last_error: str = ""
    refused: str = ""
    sanity_ok: bool | None = None
    sanity_problems: tuple[str, ...] = ()
    held_back: int = 0
    """Changes committed at head office that its feed still holds behind a running one."""
    site_ids: tuple[str, ...] = field(default=())

    @property
    def waiting(self) -> int:
        """Operations head office has not confirmed yet (pending, sent, unconfirmed)."""
        return self.pending + self.sent + self.unconfirmed

    @property
    def attention(self) -> int:
        return self.conflicts + self.held + self.rejected

    @property
    def skew_warning(self) -> bool:
        return self.skew_seconds is not None and abs(self.skew_seconds) > SKEW_WARNING_SECONDS

    @property
    def synced(self) -> bool:
        """Nothing waits, a pull past every acknowledgement is applied, the check passed."""
        return (
            self.is_replica
            and self.phase == PHASE_READY
            and not self.refused
            and self.waiting == 0
            and self.sanity_ok is True
            and self.held_back == 0
            and self.last_confirmed_at is not None
        )

    def headline(self) -> str:
        """One line for the header (the GUI may style the parts; the words are these)."""
        if not self.is_replica:
            return ""
        if self.refused:
            return f"Sync refused: {self.refused}"
        parts = [
            f"{self.waiting} waiting",
            f"{self.attention} need{'s' if self.attention == 1 else ''} attention",
        ]
        if self.phase != PHASE_READY:
            parts.insert(0, "first download not finished")
        if self.last_confirmed_at is None:
            parts.append("not yet confirmed with head office")
        else:
            parts.append(
                f"last confirmed with head office at {self.last_confirmed_at:%Y-%m-%d %H:%M} UTC"
            )
        if self.skew_warning and self.skew_seconds is not None:
            parts.append(f"this computer's clock is off by {_duration(self.skew_seconds)}")
        if self.held_back:
            parts.append(
                f"{self.held_back} change(s) still in progress at head office arrive next time"
            )
        if self.sanity_ok is False:
            parts.append("check against head office failed: repair scheduled")
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_sync_at", "last_confirmed_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        data["sanity_problems"] = list(self.sanity_problems)
        data["site_ids"] = list(self.site_ids)
        data.update(
            waiting=self.waiting,
            attention=self.attention,
            synced=self.synced,
            skew_warning=self.skew_warning,
            headline=self.headline(),
        )
        return data


def _duration(seconds: int) -> str:
    sign = "ahead" if seconds > 0 else "behind"
    value = abs(seconds)
    if value >= 86400:
        text = f"{value / 86400:.1f} days"
    elif value >= 3600:
        text = f"{value / 3600:.1f} hours"
    else:
        text = f"{value // 60} minutes"
    return f"{text} ({sign})"


def sync_status(store: Store) -> SyncStatus:
    """The status of a replica store (``is_replica`` False for any other store)."""
    if not store.is_sqlite:
        return SyncStatus(False)
    with store.read() as session:
        state = session.get(SyncState, 1)
        if state is None:
            return SyncStatus(False)
        counts: dict[tuple[str, bool], int] = {}
        for row_state, confirmed, blocked, number in session.execute(
            select(
                SyncOutbox.state,
                SyncOutbox.confirmed,
                SyncOutbox.last_error != "",
                func.count(),
            ).group_by(SyncOutbox.state, SyncOutbox.confirmed, SyncOutbox.last_error != "")
        ):
            key = (str(row_state), bool(confirmed))
            counts[key] = counts.get(key, 0) + int(number)
            if blocked and row_state == OpState.PENDING:
                counts[("blocked", True)] = counts.get(("blocked", True), 0) + int(number)

        def count(row_state: str, confirmed: bool | None = None) -> int:
            if confirmed is None:
                return counts.get((row_state, True), 0) + counts.get((row_state, False), 0)
            return counts.get((row_state, confirmed), 0)

        sanity: dict[str, Any] = dict(state.sanity or {})
        ok = sanity.get("ok")
        problems = sanity.get("problems") or []
        return SyncStatus(
            True,
            phase=state.phase,
            pending=count(OpState.PENDING),
            sent=count(OpState.SENT),
            unconfirmed=count(OpState.APPLIED, False),
            blocked=counts.get(("blocked", True), 0),
            conflicts=count(OpState.CONFLICT),
            held=count(OpState.HELD),
            rejected=count(OpState.REJECTED),
            last_sync_at=state.last_sync_at,
            last_confirmed_at=state.last_confirmed_at,
            skew_seconds=state.skew_seconds,
            last_error=state.last_error,
            refused=state.refused,
            sanity_ok=ok if isinstance(ok, bool) else None,
            sanity_problems=tuple(str(p) for p in problems),
            held_back=int(sanity.get("held_back") or 0),
            site_ids=tuple(state.site_ids),
        )
