"""The event log (--events FILE.jsonl): a line per thing that happened, in order."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, TextIO

from voicecoach.clock import Clock

log = logging.getLogger(__name__)


# Fields that can hold the couple's words: what they said or typed, their values, their names, and
# prompts (filled with names and values). In the file they are hidden unless asked for (--events-words).
WORD_FIELDS = frozenset({"text", "phrase", "values", "both", "proposal", "old", "new", "partner", "speaker"})
HIDDEN = "…"


def without_words(event: dict[str, Any]) -> dict[str, Any]:
    """The event with every word of theirs replaced by HIDDEN (a list keeps its length); "item:rust" becomes "item"."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in WORD_FIELDS and value is not None:
            value = [HIDDEN] * len(value) if isinstance(value, list | tuple) else HIDDEN
        elif key == "intent" and isinstance(value, str):
            value = value.partition(":")[0]
        elif key == "intents" and isinstance(value, list):
            value = list(dict.fromkeys(str(i).partition(":")[0] for i in value))
        out[key] = value
    return out


def _private_append(path: Path) -> TextIO:
    """Owner-only, like the journal (with --events-words it holds what they said)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


class EventLog:
    """Keeps events in memory and, when given a file, appends them as JSON lines.

    Each line is flushed at once so a crash loses nothing already written. The file
    holds no words of the couple unless `words` (they asked for it); memory keeps all.
    """

    def __init__(self, clock: Clock, path: Path | None = None, keep: int = 10000, words: bool = False) -> None:
        self.clock = clock
        self.words = words
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
            line = event if self.words else without_words(event)
            try:
                self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
                self._file.flush()
            except OSError as exc:  # a full disk: the events file is a diagnostic, the session is theirs
                self._give_up(exc)
        return event

    def _give_up(self, exc: OSError) -> None:
        log.warning("The events file could not be written (%s); the session goes on without it.",
                    exc.strerror or exc)
        file, self._file = self._file, None
        try:
            if file is not None:
                file.close()
        except OSError:
            pass  # what could not be flushed is lost from the file, not from the session

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                log.warning("The events file could not be written (%s).", exc.strerror or exc)
            self._file = None
