"""Counting: a partner names a few things (what they are grateful for), each in a short turn of its own."""

from __future__ import annotations

from voicecoach.engine.exercise import Step
from voicecoach.engine.stage import Stage
from voicecoach.engine.steps.base import StepRun
from voicecoach.engine.texts import ordinal

MIN_ITEM_SECONDS = 4.0  # a counted turn this short, with nothing typed, named nothing


class Count(StepRun):
    """A turn per item until `count` were named; two empty turns in a row mean they are done."""

    def __init__(self, step: Step, stage: Stage) -> None:
        super().__init__(step, stage)
        self.counted = 0
        self.empties = 0

    def wanted(self) -> int:
        return int(self.step.extra.get("count", 3))

    def prompt(self) -> str:
        step, texts = self.step, self.stage.texts
        if self.empties:
            return texts.get("count_empty", step.speaker)
        text = step.text if self.counted == 0 else texts.step_text(step, "item", self.counted - 1)
        return self.stage.fill(text, step, nummer=ordinal(self.counted + 1))

    def perform(self) -> str | None:
        trigger = self.take_turn(self.turn_seconds())
        if trigger != "next" or self.turn is None:
            return trigger
        stage, step, turn = self.stage, self.step, self.turn
        spoke = bool(turn.said) or stage.clock.now() - turn.started >= MIN_ITEM_SECONDS
        self.turn = None  # the next item gets its own turn
        self.whys = 0
        if not spoke:
            self.empties += 1
            if self.empties < 2:
                return None  # once more, gently; a second empty turn means they are done
            stage.say(stage.texts.get("count_stop_early", step.speaker), remember=False)
            return self.done()
        self.empties = 0
        self.counted += 1
        stage.emit("counted", step=step.id, partner=stage.names.of(step.speaker), n=self.counted)
        said = stage.texts.step_text(step, "counted", self.counted - 1)
        stage.say(stage.fill(said, step, nummer=ordinal(self.counted)), remember=False)
        return None if self.counted < self.wanted() else self.done()

    def done(self) -> str:
        step = self.step
        if step.extra.get("keep") == "gratitude":
            partner = self.stage.names.of(step.speaker)
            self.stage.emit("gratitude", step=step.id, partner=partner, count=self.counted)
            self.stage.record.gratitude(partner, self.counted)
        return "next"
