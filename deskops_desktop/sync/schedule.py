"""When to sync next: a plain policy the GUI's timer asks (no Qt, no clock of its own).

PowerSync's lesson (powersync-native#15, powersync.dart#203): a failed upload must be retried by
a timer and when the server comes back, not only when the clerk types the next record. So:

- after a complete sync: the regular ``interval`` (default 5 minutes), sooner when local changes
  wait (``soon``, default 30 s after a save, so an entry reaches head office promptly);
- after "head office cannot be reached": capped exponential backoff with jitter (10 s, 20 s,
  40 s … up to 10 minutes), so a hundred laptops coming back at once do not arrive together;
- when the connectivity probe sees the server again (``server_back``): at once;
- a refused replica or a version mismatch does not retry on a timer at all — it needs a person
  (the status line says what to do); "Sync now" still runs.

Callers pass the number of consecutive failures; the delay is seconds from now.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class SyncSchedule:
    """The waits of the policy above, in seconds; ``jitter`` is the ± share a retry's wait
    varies by, ``rng`` where that variation comes from (seeded in tests)."""

    interval: float = 300.0
    soon: float = 30.0
    first_retry: float = 10.0
    longest_retry: float = 600.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)

    def after_success(self, *, waiting: int = 0) -> float:
        return self.soon if waiting else self.interval

    def after_offline(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` offline results in a row."""
        base = min(self.longest_retry, self.first_retry * 2.0 ** max(0, failures - 1))
        return float(base * (1 + self.rng.uniform(-self.jitter, self.jitter)))

    def after_local_change(self, current_delay: float) -> float:
        """A clerk saved something: sync within ``soon``, never later than already planned."""
        return min(current_delay, self.soon)

    @staticmethod
    def server_back() -> float:
        return 0.0

    @staticmethod
    def needs_a_person(error: str) -> bool:
        """Errors a timer must not retry (refused replica, versions): someone must act."""
        words = ("refused", "copied", "revoked", "upgrade", "update DeskOps", "join it again")
        return any(w in error for w in words)
