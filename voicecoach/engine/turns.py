"""Speaking turns: a timer per turn, a warning before the end, a nudge after a long silence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from voicecoach.engine.texts import TOGETHER
from voicecoach.speech.decide import Heard

if TYPE_CHECKING:
    from voicecoach.engine.exercise import Step

# The phases of compound steps that are turns, and whose turn they are.
TURN_PHASES = {"speak": "speaker", "reflect": "listener", "add": "speaker", "correct": "speaker",
               "propose": "speaker"}


class Turns:
    """The turns of Session: a mixin, for the size of session.py."""

    if TYPE_CHECKING:  # provided by Session
        conv: Any
        texts: Any
        names: Any
        timing: Any
        journal: Any
        session_id: int | None
        activity: Any
        _proposal_said: list[str]
        _proposal_audio: list[np.ndarray]

        @property
        def step(self) -> Step: ...

        @property
        def phase(self) -> str | None: ...

        def _prompt_text(self) -> str: ...

        def _listenable(self, answers: list[str], turn: bool = False) -> list[str]: ...

        def _say(self, text: str, remember: bool = True) -> None: ...

        def _emit(self, kind: str, **fields: Any) -> None: ...

        def _frozen(self, action: Any) -> None: ...

    def _speaker(self) -> int:
        if self.step.together:
            return TOGETHER
        role = TURN_PHASES.get(self.phase or "speak", "speaker")
        return self.step.speaker if role == "speaker" else 3 - self.step.speaker

    def _turn_seconds(self) -> float:
        t, step, phase = self.timing, self.step, self.phase
        if step.seconds and phase in (None, "speak", "propose"):
            return step.seconds
        if phase == "reflect":
            return t.mirror_seconds
        if phase in ("add", "correct"):
            return t.short_turn_seconds
        return t.turn_seconds

    def _turn(self) -> str | None:
        a, t, clock = self.activity, self.timing, self.conv.clock
        speaker = self._speaker()
        if a.deadline is None:
            self._say(self._prompt_text())
            self.conv.chime("turn")
            seconds = self._turn_seconds()
            a.started = clock.now()
            a.deadline = a.started + seconds
            a.quiet_since = a.started
            self._emit("turn_started", speaker=self.names.of(speaker), seconds=seconds)
        warn_at = a.deadline - t.warn_before
        nudge_at = a.quiet_since + t.nudge_after
        until = a.deadline
        if not a.warned and warn_at > a.started + 1:
            until = min(until, warn_at)
        if not a.nudged:
            until = min(until, nudge_at)
        record = self.step.kind == "agreement" and self.phase == "propose"
        heard = self.conv.listen(self._listenable([], turn=True), max(0.0, until - clock.now()), turn=True,
                                 record=record, new_phase=a.fresh)
        a.fresh = heard.kind == "intent"  # after a command they answer anew; after a warning they go on
        a.deadline += heard.lost  # a lost microphone froze the turn
        self._keep_turn_words(heard, record)
        if heard.speech_end is not None:
            a.quiet_since = heard.speech_end
        elif heard.said:
            a.quiet_since = clock.now()
        if heard.kind == "intent" and heard.intent != "done":
            return heard.intent
        now = clock.now()
        if heard.kind == "intent" or now >= a.deadline:
            how = "done" if heard.kind == "intent" else "time"
            self.conv.chime("end")
            seconds = now - a.started
            self._emit("turn_ended", speaker=self.names.of(speaker), seconds=round(seconds, 2), how=how)
            if self.phase == "propose":  # the agreement in their own words, kept until they consent
                self._proposal_said, self._proposal_audio = list(a.said), list(a.audio)
            if self.journal is not None and self.session_id is not None:
                self.journal.turn(self.session_id, self.step.id, self.names.of(speaker), seconds)
            return "next"
        if not a.warned and now >= warn_at:
            a.warned = True
            self._emit("turn_warned", speaker=self.names.of(speaker), remaining=round(a.deadline - now, 2))
            self._frozen(lambda: self._say(self.texts.get("turn_warning", seconden=int(round(t.warn_before))), remember=False))
        elif not a.nudged and now >= a.quiet_since + t.nudge_after:  # quiet_since may have moved
            a.nudged = True
            self._frozen(lambda: self._say(self.texts.get("turn_nudge", speaker), remember=False))
        return None

    def _keep_turn_words(self, heard: Heard, record: bool) -> None:
        if record and isinstance(heard.audio, np.ndarray) and len(heard.audio):
            self.activity.audio.append(heard.audio)
        if heard.said:
            self.activity.said.append(heard.said)

