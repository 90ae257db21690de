"""What the journal hands out: its rows as small frozen records, and how a follow-up is named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

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
    created_at: datetime
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
    started_at: datetime
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
    created_at: datetime
