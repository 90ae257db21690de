"""What the couple may say at any moment: repeat, why, help, safety, pause, resume, time-out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voicecoach.engine.exercise import Exercise, Step, Timing


class Controls:
    """The commands of Session, as internal transitions: they never leave the state."""

    if TYPE_CHECKING:  # provided by Session
        conv: Any
        texts: Any
        exercise: Exercise
        timing: Timing
        activity: Any
        paused_since: float | None
        pending: str | None
        last_prompt: str
        facts_told: int
        fact_base: int

        @property
        def step(self) -> Step: ...

        @property
        def phase(self) -> str | None: ...

        def _say(self, text: str, remember: bool = True) -> None: ...

        def _emit(self, kind: str, **fields: Any) -> None: ...

        def _prompt_text(self) -> str: ...

        def _speaker(self) -> int: ...

        def _is_turn(self) -> bool: ...

        def _help_text(self) -> str: ...

        def _listenable(self, answers: list[str], turn: bool = False) -> list[str]: ...

    def _frozen(self, action: Any) -> None:
        """Run `action` with the turn's clock stopped: speaking to them takes none of their time."""
        a, clock = self.activity, self.conv.clock
        start = clock.now()
        action()
        if a.deadline is not None:
            a.deadline += clock.now() - start

    def fact(self) -> str:
        """The next "wist je dat" moment; each session starts elsewhere in the list."""
        n = self.fact_base + self.facts_told
        self.facts_told += 1
        self._emit("fact", n=n % len(self.texts.common["facts"]))
        return self.texts.fact(n)

    def on_repeat(self, event: Any) -> None:
        self._frozen(lambda: self._say(self.last_prompt or self._prompt_text(), remember=False))

    def on_why(self, event: Any) -> None:
        # The first "waarom" explains this step; asking again gets a "wist je dat" moment.
        self.activity.whys += 1
        why = self.step.why or self.exercise.why
        text = self.texts.fill(why) if why and self.activity.whys == 1 else self.fact()
        self._frozen(lambda: self._say(text, remember=False))

    def on_help(self, event: Any) -> None:
        self._frozen(lambda: self._say(self._help_text(), remember=False))

    def on_safety(self, event: Any) -> None:
        self._frozen(lambda: self._say(self.texts.get("safety"), remember=False))

    def on_pause(self, event: Any) -> None:
        if self.paused_since is None:
            self.paused_since = self.conv.clock.now()
            self._emit("paused")
            self._say(self.texts.get("pause"), remember=False)

    def on_resume(self, event: Any) -> None:
        if self.paused_since is not None:
            started, self.paused_since = self.paused_since, None
            if self.activity.deadline is not None:
                self.activity.deadline += self.conv.clock.now() - started  # timers were frozen
            self._emit("resumed")
            self._say(self.texts.get("resume"), remember=False)
            if self.activity.deadline is not None:
                self._frozen(lambda: self._say(self.texts.get("turn_resume", self._speaker()), remember=False))
            else:
                self.activity.prompted = False

    def on_timeout(self, event: Any) -> None:
        minutes = self.timing.timeout_minutes
        start = self.conv.clock.now()
        self._emit("timeout_started", minutes=minutes)
        self.conv.chime("break")
        self._say(self.texts.get("timeout", minuten=int(minutes)), remember=False)
        heard = self.conv.listen(self._listenable(["resume"], turn=True), minutes * 60, turn=True)
        self.conv.chime("break")
        self._emit("timeout_ended", early=heard.kind == "intent")
        if heard.intent == "stop":
            self.pending = "stop"
            return
        self._say(self.texts.get("timeout_over"), remember=False)
        self.paused_since = start
