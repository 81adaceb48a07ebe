"""The per-person message limit of the channel-neutral core, for every kind of update (text, photos, voice,
locations, button presses, /start links).

Why: one stuck client, script or joker sending hundreds of messages would hold the dialogue (and the
exchange behind it) for everyone in the village. Over the limit a person is told once, politely, and
their further messages are left unanswered until the window has room again: answering each of them
would itself be a flood.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

TRACKED_BEFORE_SWEEP = 10_000
# A role's own commands (``exempt_role`` in desks/commands.py) are never limited for its holders, since a busy
# volunteer, chair or expert must not be shut out of their own work; the core checks that before counting.
# Everything else they send (their own chat, photos, button presses, other roles' commands) counts like anyone's.


class Verdict(Enum):
    """What to do with one message."""

    PASS = "pass"
    WARN = "warn"  # the first message over the limit: say why nothing more is answered for now
    DROP = "drop"  # later ones in the same window: silence


@dataclass
class RateLimit:
    """At most ``messages`` per person in any ``seconds`` (a sliding window, kept in memory)."""

    messages: int
    seconds: float
    clock: Callable[[], float] = time.monotonic
    _recent: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _warned: set[str] = field(default_factory=set, init=False, repr=False)

    def admit(self, sender_id: str) -> Verdict:
        """Count one message of ``sender_id`` if the window has room."""
        now = self.clock()
        recent = self._recent.setdefault(sender_id, deque())
        while recent and recent[0] <= now - self.seconds:
            recent.popleft()
        if len(recent) < self.messages:
            recent.append(now)
            self._warned.discard(sender_id)
            self._sweep(now)
            return Verdict.PASS
        if sender_id in self._warned:
            return Verdict.DROP
        self._warned.add(sender_id)
        return Verdict.WARN

    def _sweep(self, now: float) -> None:
        """Forget people quiet for a whole window, so memory follows the active people, not everyone ever seen."""
        if len(self._recent) < TRACKED_BEFORE_SWEEP:
            return
        for sender_id in [s for s, times in self._recent.items() if not times or times[-1] <= now - self.seconds]:
            del self._recent[sender_id]
            self._warned.discard(sender_id)
