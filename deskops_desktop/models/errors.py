"""The few exception types every layer speaks.

``ValidationError`` carries *every* problem at once as (field, message) pairs so a form can mark
all bad fields together and an import can list all bad cells; raising on the first problem would
make a clerk fix one typo per save.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem of an input: the field, what is wrong, and the row of a file or paste."""

    field: str
    message: str
    row: int | None = None  # 1-based data row for imports/paste; None for a single record

    def __str__(self) -> str:
        where = f"row {self.row}, {self.field}" if self.row is not None else self.field
        return f"{where}: {self.message}"


MESSAGE_PROBLEMS = 20


class DeskOpsError(Exception):
    """Base of the errors a user is meant to read."""


class ValidationError(DeskOpsError):
    """Every problem of an input at once (forms show each next to its field)."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[:MESSAGE_PROBLEMS])
        more = len(self.problems) - MESSAGE_PROBLEMS
        # The message stays readable for a 100,000-row import; ``problems`` keeps them all.
        super().__init__(f"{shown}; … and {more:,} more" if more > 0 else shown)

    def for_field(self, field: str) -> list[str]:
        return [p.message for p in self.problems if p.field == field]


class PermissionDenied(DeskOpsError):
    """The signed-in user's role or sites do not allow this."""


class NotFound(DeskOpsError):
    """The record, site or user does not exist (any more)."""

    pass


class StaleRecordError(DeskOpsError):
    """The record changed since the caller read it (optimistic locking)."""


class AuthenticationError(DeskOpsError):
    """Wrong credentials or a locked account; never says which part was wrong."""


class StoreOfflineError(DeskOpsError):
    """The database server cannot be reached right now; nothing was written. Retry later."""
