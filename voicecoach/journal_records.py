"""What the journal hands out: its rows as small frozen records, and how a follow-up is named."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OUTCOMES = frozenset({"completed", "stopped", "interrupted"})
# How a follow-up went, as kept, and as the overview and the fridge page show it.
FOLLOW_UP_WORDS = {"goed": "ging goed", "beetje": "ging een beetje", "niet": "lukte niet",
                   "overgeslagen": "overgeslagen"}
FOLLOW_UPS = frozenset(FOLLOW_UP_WORDS)
# A goal's term, as the overview and the fridge page name it.
GOAL_WORDS = {"kort": "Ons doel voor dit jaar", "lang": "Ons doel voor de lange termijn"}


@dataclass(frozen=True)
class Agreement:
    id: int
    session_id: int
    text: str | None
    recording: Path | None
    created_at: datetime | None  # None: the journal's date could not be read
    follow_up: str | None = None


@dataclass(frozen=True)
class Progress:
    exercise: str
    state: str
    data: dict[str, Any]
    saved_at: datetime


@dataclass(frozen=True)
class ValueMap:
    """One session's value map: the shared five, the sentence, and each partner's own."""

    shared: tuple[str, ...] = ()
    sentence: str | None = None
    partners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    recording: Path | None = None  # the sentence as they said it


@dataclass(frozen=True)
class Speaking:
    """How long each partner's voice was heard in one session's turns."""

    session_id: int
    exercise: str
    started_at: datetime | None  # None: the journal's date could not be read
    seconds: dict[str, float]  # partner's name -> seconds, in the order they were named
    interruptions: dict[str, int]  # partner's name -> turns of the other they talked over


@dataclass(frozen=True)
class Summary:
    sessions_by_exercise: dict[str, int]
    last_session: datetime | None
    shared_values: tuple[str, ...]
    open_agreements: tuple[Agreement, ...]
    gratitude_total: int
    turn_minutes: float

    @property
    def sessions(self) -> int:
        return sum(self.sessions_by_exercise.values())


@dataclass(frozen=True)
class Goal:
    """One of the toekomstbeeld's goals: for the short ('kort') or the long ('lang') term."""

    term: str
    text: str | None
    recording: Path | None
    created_at: datetime | None  # None: the journal's date could not be read


class Reading:
    """Reads the journal's fields as voicecoach wrote them. SQLite keeps whatever another program (a database
    viewer) writes, a blob in a text column or 'not a date', and the file still passes its integrity check: such
    a field is read as well as it can be and noted, never raised, so one row does not hide all the others."""

    def __init__(self, path: Path, tell: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.tell = tell  # where the one sentence about it goes (the screen); the first field found says it
        self.unreadable: list[str] = []  # what could not be read, as "the date of agreement 3"

    def note(self, what: str) -> None:
        if what in self.unreadable:
            return
        self.unreadable.append(what)
        log.info("journal: %s could not be read", what)
        if len(self.unreadable) == 1:  # said once: the rest are in the -v log
            sentence = (f"Part of the journal {self.path} could not be read ({what}), as if another program changed"
                        " it; the rest is used as always, and nothing in the journal was changed.")
            if self.tell is not None:
                self.tell(sentence)
            else:
                log.warning("%s", sentence)

    def text(self, value: object, what: str) -> str | None:
        """A text field; bytes (a blob) as their UTF-8, with a replacement sign where that is not UTF-8."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bytes):
            self.note(what)
            # Control characters too: a NUL or an escape would reach the terminal, the page and the synthesizer.
            return "".join("\ufffd" if unicodedata.category(c) == "Cc" and c not in "\t\n" else c
                           for c in value.decode("utf-8", errors="replace"))
        return str(value)

    def when(self, value: object, what: str) -> datetime | None:
        """A time as voicecoach writes it (ISO 8601); None, for unknown, if it is not one."""
        if isinstance(value, str):
            try:
                at = datetime.fromisoformat(value)
                at.astimezone()  # a year that cannot be placed in any zone is no more use than none
                return at
            except (ValueError, OverflowError, OSError):
                pass
        self.note(what)
        return None

    def items(self, value: object, what: str) -> tuple[str, ...] | None:
        """A list of values (a JSON array of texts); None if it is not one."""
        try:
            found = json.loads(value) if isinstance(value, str | bytes) else None
        except (ValueError, RecursionError):
            found = None
        if not isinstance(found, list):
            self.note(what)
            return None
        kept = tuple(str(v) for v in found if isinstance(v, str | int | float))
        if len(kept) != len(found):
            self.note(what)
        return kept
