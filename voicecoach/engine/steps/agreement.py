"""An agreement: one proposes, the other says it back, both agree, and it is kept only with their consent."""

from __future__ import annotations

import numpy as np
from transitions.core import EventData

from voicecoach.audio.pcm import Audio
from voicecoach.engine.exercise import Step
from voicecoach.engine.stage import Stage
from voicecoach.engine.steps.base import TURN_PHASES, StepRun

# `keep` of a goal (the toekomstbeeld) -> the term it is kept under in the journal.
GOALS = {"short_goal": "kort", "long_goal": "lang"}


class Agreement(StepRun):
    """Phases propose, reflect (turns; reflect can be left out), agree, consent (questions)."""

    def __init__(self, step: Step, stage: Stage) -> None:
        super().__init__(step, stage)
        self.rounds = 0  # proposals made again after a no
        self.said: list[str] = []  # the proposal in their own words (typed), kept until they consent
        self.audio: list[np.ndarray] = []  # ... and in their own voice

    def prompt(self) -> str:
        phase = self.phase
        if phase == "consent" and not self.audio:
            return self.fill(self._unrecorded_consent())
        text = self.step.text if phase == "propose" else self.stage.texts.step_text(self.step, phase or "")
        return self.fill(text)

    def _unrecorded_consent(self) -> str:
        """Nothing was recorded (typed, --text): a question that mentions no recording. A step with its own
        consent text and no such variant keeps its own."""
        own = self.step.field_text("consent_unrecorded")
        if own is None and self.step.field_text("consent") is not None:
            return self.stage.texts.step_text(self.step, "consent")
        return own if own is not None else self.stage.texts.step_text(self.step, "consent_unrecorded")

    def both_phases(self) -> tuple[str | None, ...]:
        return ("agree", "consent")  # both agree, and both consent to keeping it (their voices)

    def perform(self) -> str | None:
        if self.phase not in TURN_PHASES:
            return self.ask()
        recording = self.phase == "propose"
        trigger = self.take_turn(self.turn_seconds(), record=recording)
        if trigger == "next" and recording and self.turn is not None:
            # A turn nobody spoke in recorded only the room: that is no proposal in their own voice.
            self.said, self.audio = list(self.turn.said), list(self.turn.audio) if self.turn.spoken else []
        return trigger

    # -- the machine's conditions and actions --------------------------------------------------

    def rounds_left(self, event: EventData) -> bool:
        return self.rounds + 1 < self.stage.timing.max_rounds

    def count_round(self, event: EventData) -> None:
        self.rounds += 1

    def propose_again(self, event: EventData) -> None:
        """A no to the proposal: said so kindly before the proposal is asked for again (not the same words twice)."""
        self.stage.say(self.fill(self.stage.texts.step_text(self.step, "again")), remember=False)

    def proposed_nothing(self, event: EventData) -> bool:
        return not self.said and not self.audio

    def nothing_to_keep(self, event: EventData) -> None:
        """Said kindly instead of asking to agree; the step is done, with nothing kept (as keep_agreement says)."""
        self.stage.emit(str(self.step.extra.get("keep", "agreement")), step=self.step.id, kept=False)
        self.stage.say(self.fill(self.stage.texts.step_text(self.step, "empty")), remember=False)

    def needs_consent(self, event: EventData) -> bool:
        return self.stage.memory.consent is None and self.stage.record.journal is not None

    def consent_given(self, event: EventData) -> None:
        self.stage.memory.consent = True
        self.stage.emit("consent", given=True)

    def consent_refused(self, event: EventData) -> None:
        self.stage.memory.consent = False
        self.stage.emit("consent", given=False)

    def keep_agreement(self, event: EventData) -> None:
        """Store the agreement (or the shared sentence) in their own words: only with their consent."""
        stage, step = self.stage, self.step
        kind = str(step.extra.get("keep", "agreement"))
        if not stage.memory.consent or not stage.record.active:
            stage.emit(kind, step=step.id, kept=False)
            return
        said = " ".join(self.said)
        recording = None
        if self.audio:
            recording = stage.record.recording(Audio(np.concatenate(self.audio)).to_wav_bytes())
        if not said and recording is None:
            stage.emit(kind, step=step.id, kept=False)  # nothing was said or typed to keep
            return
        if kind == "sentence":
            stage.record.shared(stage.memory.lists.get("shared", []), said or None, recording)
        elif kind in GOALS:
            stage.record.goal(GOALS[kind], said or None, recording)
        else:
            stage.record.agreement(said or None, recording)
        stage.emit(kind, step=step.id, kept=True, recorded=recording is not None)
