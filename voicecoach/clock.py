"""The single source of time: real for people, simulated for tests and --fast."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds on a monotonic scale; `sleep` may return early only if woken."""

    simulated: bool

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def advance_to(self, t: float) -> None:
        """Move simulated time forward (a no-op on the real clock)."""


class RealClock:
    simulated = False

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def advance_to(self, t: float) -> None:
        return None


class SimClock:
    """Time moves only when the program moves it: a 30-minute session runs in seconds.

    Audio sources advance it as they deliver chunks and the speaker as it
    "plays", so everything that waits on time sees the same simulated world.
    """

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance_to(self._t + seconds)

    def advance_to(self, t: float) -> None:
        with self._lock:
            if t > self._t:
                self._t = t
