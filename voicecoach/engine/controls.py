"""What the couple may say at any moment: repeat, why, help, safety, pause, resume, time-out, no remarks."""

from __future__ import annotations

from collections.abc import Callable

from transitions.core import EventData

from voicecoach.engine.stage import Stage
from voicecoach.engine.steps import StepRun


class Controls:
    """The commands, as the machine's internal transitions: they never leave the state.

    `current` gives the step being performed; `trigger` fires a trigger after this one (queued).
    """

    def __init__(self, stage: Stage, current: Callable[[], StepRun], trigger: Callable[[str], object],
                 fact_base: int = 0) -> None:
        self.stage = stage
        self.current = current
        self.trigger = trigger
        self.fact_base = fact_base  # where this session starts in the list of facts
        self.facts_told = 0

    def _frozen(self, text: str) -> None:
        """Say `text` with the turn's clock stopped: speaking to them takes none of their time."""
        clock = self.stage.clock
        start = clock.now()
        self.stage.say(text, remember=False)
        self.current().hold(clock.now() - start)

    def fact(self) -> str:
        """The next "wist je dat" moment; each session starts elsewhere in the list."""
        n = self.fact_base + self.facts_told
        self.facts_told += 1
        self.stage.emit("fact", n=n % len(self.stage.texts.common["facts"]))
        return self.stage.texts.fact(n)

    def on_repeat(self, event: EventData) -> None:
        self._frozen(self.stage.last_prompt or self.current().prompt())

    def on_why(self, event: EventData) -> None:
        # The first "waarom" explains this step; asking again gets a "wist je dat" moment.
        step = self.current()
        step.whys += 1
        why = step.step.why or self.stage.exercise.why
        self._frozen(self.stage.texts.fill(why) if why and step.whys == 1 else self.fact())

    def on_help(self, event: EventData) -> None:
        step = self.current()
        # "Zullen we even pauzeren?" is the question now: its words, not those of the step's own question.
        self._frozen(self.stage.help_for(["confirm", "deny"]) if step.stuck is not None else step.help())

    def on_safety(self, event: EventData) -> None:
        self._frozen(self.stage.texts.get("safety"))

    def on_quiet(self, event: EventData) -> None:
        """ "geen opmerkingen": no word about interrupting any more (kept in config.toml)."""
        if self.stage.turns is not None:
            self.stage.turns.quiet()
        self.stage.emit("remarks_off")
        self._frozen(self.stage.texts.get("turns.quiet"))

    def on_pause(self, event: EventData) -> None:
        if self.stage.paused_since is None:
            self.stage.pause()
            self.stage.emit("paused")
            self.stage.say(self.stage.texts.get("pause"), remember=False)

    def on_resume(self, event: EventData) -> None:
        stage = self.stage
        if stage.paused_since is None:
            return
        started, stage.paused_since = stage.paused_since, None
        self._go_on(started, "resume")

    def _go_on(self, since: float, said: str) -> None:
        """Back from a pause or a time-out that began at `since`: its time is not the step's, and it goes on."""
        stage = self.stage
        self.current().hold(stage.clock.now() - since)  # timers were frozen
        stage.emit("resumed")
        stage.say(stage.texts.get(said), remember=False)
        self.current().resume()

    def on_timeout(self, event: EventData) -> None:
        stage = self.stage
        minutes = stage.timing.timeout_minutes
        start = stage.clock.now()
        stage.emit("timeout_started", minutes=minutes)
        stage.chime("break")
        stage.say(stage.texts.get("timeout", minuten=int(minutes)), remember=False)
        end = start + minutes * 60
        while True:
            heard = stage.conv.listen(stage.listenable(["resume"], turn=True), max(0.0, end - stage.clock.now()),
                                      turn=True)
            if heard.intent == "safety":  # whom to call matters most in a heated moment; the break goes on
                stage.say(stage.texts.get("safety"), remember=False)
            elif heard.intent == "help":  # what ends the break; the rest waits until after it
                stage.say(stage.texts.get("help", woorden=stage.words(["resume", "stop"])), remember=False)
            # Only "verder" or "stop" ends the cooling-off early: another word ("klaar", "waarom") is no
            # sign that they calmed down.
            if heard.intent in ("resume", "stop") or stage.clock.now() >= end:
                break
        stage.chime("break")
        stage.emit("timeout_ended", early=heard.intent in ("resume", "stop"))
        if heard.intent == "stop":
            self.trigger("stop")  # queued: it runs right after this time-out
            return
        if heard.intent == "resume":  # "verder" before the bell: they are back and ready, not asked again
            self._go_on(start, "timeout_back")
            return
        stage.say(stage.texts.get("timeout_over"), remember=False)
        stage.paused_since = start
