"""Who may do what. Enforced here, in the service layer, not only by hiding buttons.

OPERATOR: assigned sites only; may create, edit and delete records dated within the last
7 days (today and the six days before, in the site's timezone); no adjustments, no master data.
MODERATOR: assigned sites, any date, adjustments. ADMIN: everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import PermissionDenied

OPERATOR_EDIT_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the services see them (a value, safe to pass between threads)."""

    user_id: str | None
    username: str
    role: Role
    site_ids: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def can_see_site(self, site_id: str) -> bool:
        return self.is_admin or site_id in self.site_ids


SYSTEM = Actor(None, "system", Role.ADMIN, display_name="DeskOps")


def require_site(actor: Actor, site_id: str) -> None:
    if not actor.can_see_site(site_id):
        raise PermissionDenied(f"{actor.username} is not assigned to this site")


def require_admin(actor: Actor, what: str = "change master data") -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"only an administrator may {what}")


def may_change_date(actor: Actor, record_date: date, today: date) -> bool:
    if actor.role is not Role.OPERATOR:
        return True
    return (today - record_date).days < OPERATOR_EDIT_WINDOW_DAYS


def require_record_change(
    actor: Actor, module: Module, site_id: str, record_date: date, today: date
) -> None:
    require_site(actor, site_id)
    if module is Module.ADJUSTMENTS and actor.role is Role.OPERATOR:
        raise PermissionDenied("stock adjustments need a supervisor (moderator) or administrator")
    if not may_change_date(actor, record_date, today):
        raise PermissionDenied(
            f"operators may change records of the last {OPERATOR_EDIT_WINDOW_DAYS} days only; "
            f"{record_date.isoformat()} is older — ask a supervisor"
        )
