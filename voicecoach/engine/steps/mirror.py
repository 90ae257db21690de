"""The mirroring check: one speaks, the other mirrors, "klopt dat?", and at most a few rounds to get it right."""

from __future__ import annotations

from transitions.core import EventData

from voicecoach.engine.ask import CHECK_ANSWERS
from voicecoach.engine.exercise import Step
from voicecoach.engine.stage import Stage
from voicecoach.engine.steps.base import TURN_PHASES, StepRun


class Mirror(StepRun):
    """Phases speak, reflect (turns), check, more (questions), add, correct (turns)."""

    def __init__(self, step: Step, stage: Stage) -> None:
        super().__init__(step, stage)
        self.rounds = 0  # corrections and additions so far

    def prompt(self) -> str:
        phase = self.phase
        text = self.step.text if phase == "speak" else self.stage.texts.step_text(self.step, phase or "")
        return self.stage.fill(text, self.step)

    def answers(self) -> list[str]:
        # "klopt dat?" takes klopt / klopt niet, and ja / nee too; "is er nog meer?" takes ja / nee.
        return list(CHECK_ANSWERS) if self.phase == "check" else super().answers()

    def reprompt(self, key: str, n: int) -> str:
        """A check that asked for "klopt of klopt niet" is reprompted with those words, not with "ja of nee"
        (both are heard; the words it asked for first are the ones it names again)."""
        if self.phase == "check" and "{klopt}" in self.stage.texts.step_text(self.step, "check"):
            return self.stage.texts.nth(f"{key}_klopt", n, self.step.speaker)
        return super().reprompt(key, n)

    def perform(self) -> str | None:
        if self.phase in TURN_PHASES:
            return self.take_turn(self.turn_seconds())
        return self.ask()

    # -- the machine's conditions and actions --------------------------------------------------

    def rounds_left(self, event: EventData) -> bool:
        return self.rounds + 1 < self.stage.timing.max_rounds

    def ask_more(self, event: EventData) -> bool:
        return bool(self.step.extra.get("ask_more", self.stage.timing.ask_more))

    def count_round(self, event: EventData) -> None:
        self.rounds += 1

    def mirror_done(self, event: EventData) -> None:
        self.stage.emit("mirror_done", step=self.step.id, rounds=self.rounds + 1)
