"""The time of day: seconds since the epoch, which (unlike clock.Clock) may jump."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

from voicecoach.clock import Clock


class WallClock(Protocol):
    """Wall-clock time as `time.time()` gives it; local time follows from the system's zone (TZ)."""

    def time(self) -> float: ...


class SystemWallClock:
    def time(self) -> float:
        return time.time()


class SimWallClock:
    """A wall clock for tests and simulated days: starts at `start`, moves with `clock`, and can jump.

    Linked to a `SimClock`, the time of day moves as the simulated session does; `jump`
    is what NTP, a user or a machine waking from sleep does to a real one.
    """

    def __init__(self, start: float | dt.datetime, clock: Clock | None = None) -> None:
        self._offset = start.timestamp() if isinstance(start, dt.datetime) else float(start)
        self._clock = clock
        self._base = clock.now() if clock else 0.0

    def time(self) -> float:
        return self._offset + ((self._clock.now() - self._base) if self._clock else 0.0)

    def jump(self, seconds: float) -> None:
        """Move the time of day by `seconds` (negative: back) without time passing for the program."""
        self._offset += seconds

    def set(self, when: float | dt.datetime) -> None:
        target = when.timestamp() if isinstance(when, dt.datetime) else float(when)
        self._offset += target - self.time()


def local(ts: float) -> dt.datetime:
    """The local wall time at epoch seconds `ts`, naive, by the system's zone rules (DST included)."""
    return dt.datetime.fromtimestamp(ts)
