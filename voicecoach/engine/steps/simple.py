"""Steps of one state: say something, ask yes or no, offer a choice, give a turn to speak."""

from __future__ import annotations

from transitions.core import EventData

from voicecoach.engine.steps.base import StepRun
from voicecoach.engine.texts import TOGETHER


class Say(StepRun):
    """Says its text, then moves on; with `wait_seconds` it first waits that long for them ("klaar", "ja")."""

    until: float | None = None

    def enter(self, phase: str | None) -> None:
        super().enter(phase)
        self.until = None

    def perform(self) -> str | None:
        stage, wait = self.stage, self.step.extra.get("wait_seconds")
        if self.until is None:
            stage.say(self.prompt())
            if not wait:
                return "next"
            self.until = stage.clock.now() + float(wait)
        ready = ["done", "confirm", "resume"]
        heard = stage.listen(ready, max(0.0, self.until - stage.clock.now()))
        if heard.kind == "intent" and heard.intent not in ready:
            return heard.intent  # a command; the waiting goes on after it
        return "next" if heard.kind == "intent" or stage.clock.now() >= self.until else None


class Confirm(StepRun):
    """A yes/no question: yes goes on, no goes to `on_deny` (or on). With `ask_both`, each partner answers by name."""

    def both_phases(self) -> tuple[str | None, ...]:
        return (None,) if self.step.extra.get("ask_both") else ()

    def perform(self) -> str | None:
        return self.ask()


class Choice(StepRun):
    """A question whose answers are its options; each leads to a step, or on to another exercise."""

    def answers(self) -> list[str]:
        return [intent for intent in self.step.options if intent in self.stage.vocab.intents]

    def perform(self) -> str | None:
        return self.ask()

    def reprompt(self, key: str, n: int) -> str:
        # "stop" is a way out of every choice ("of zeg stop, en doe het een andere keer"): named with the options.
        way_out = ["stop"] if "stop" in self.stage.vocab.intents else []
        return self.stage.texts.get("help", woorden=self.stage.words([*self.answers(), *way_out]))

    def chose(self, event: EventData) -> None:
        target = self.step.options.get(event.event.name, "")
        if target.startswith("exercise:"):
            self.stage.memory.chosen = target.split(":", 1)[1]


class Turn(StepRun):
    """A timed turn to speak, for one partner or both together."""

    def prompt(self) -> str:
        return self.stage.texts.fill(self.step.text, TOGETHER if self.step.together else self.step.speaker)

    def perform(self) -> str | None:
        return self.take_turn(self.turn_seconds())
