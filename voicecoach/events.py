"""The event log (--events FILE.jsonl): a line per thing that happened, in order."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, TextIO

from voicecoach.clock import Clock

log = logging.getLogger(__name__)


def _private_append(path: Path) -> TextIO:
    """The event log can hold typed turn words: owner-only, like the journal."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


class EventLog:
    """Keeps events in memory and, when given a file, appends them as JSON lines.

    Each line is flushed at once so a crash loses nothing already written.
    """

    def __init__(self, clock: Clock, path: Path | None = None, keep: int = 10000) -> None:
        self.clock = clock
        self.events: list[dict[str, Any]] = []
        self._keep = keep
        self._file: TextIO | None = _private_append(path) if path else None
        self._t0 = clock.now()

    def emit(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        event = {"t": round(self.clock.now() - self._t0, 3), "event": kind, **fields}
        self.events.append(event)
        if len(self.events) > self._keep:  # a two-hour session must not grow memory
            del self.events[: len(self.events) - self._keep]
        if self._file is not None:
            self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._file.flush()
        return event

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
