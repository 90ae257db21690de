"""Runs an exercise: one thread, one loop, events fed into the state machine in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecoach.audio.pcm import Audio
from voicecoach.engine.exercise import Exercise, Step
from voicecoach.engine.machine import COMMANDS, END, STOPPED, build_machine, split_state
from voicecoach.engine.texts import Names, Texts
from voicecoach.speech.decide import Heard
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)

QUESTION_PHASES = {"check", "more", "agree", "consent"}
TURN_PHASES = {"speak": "speaker", "reflect": "listener", "add": "speaker", "correct": "speaker",
               "propose": "speaker"}


@dataclass
class Activity:
    """What the current state is doing; made new on every state change."""

    prompted: bool = False
    silences: int = 0
    unclears: int = 0
    deadline: float | None = None
    started: float = 0.0
    warned: bool = False
    nudged: bool = False
    quiet_since: float = 0.0
    fresh: bool = True  # the next listen starts a new listening phase
    audio: list[np.ndarray] = field(default_factory=list)
    said: list[str] = field(default_factory=list)


class Session:
    """The model of the exercise's state machine, and the loop that drives it."""

    def __init__(self, exercise: Exercise, conversation: Conversation, names: Names, *, journal: Any = None,
                 events: Any = None, safety_first: bool = False, initial: str | None = None,
                 consent: bool | None = None) -> None:
        self.exercise = exercise
        self.conv = conversation
        self.names = names
        self.journal = journal
        self.events = events
        self.texts = Texts(conversation.vocab, names)
        self.timing = exercise.timing
        self.safety_first = safety_first
        self.consent = consent
        self.paused = False
        self.rounds = 0
        self.last_prompt = ""
        self.activity = Activity()
        self.outcome = "interrupted"
        self.chosen: str | None = None
        self.session_id: int | None = None
        self.kept_agreements = 0
        self.error: BaseException | None = None
        self.pending: str | None = None  # a trigger a callback asks for, fired after it
        self._proposal_said: list[str] = []
        self._proposal_audio: list[np.ndarray] = []
        self.machine = build_machine(self, exercise, initial)

    # -- the loop ---------------------------------------------------------------

    def run(self) -> str:
        self._emit("session_started", exercise=self.exercise.name, state=self.state)
        if self.journal is not None:
            self.session_id = self.journal.start_session(self.exercise.name, (self.names.one, self.names.two))
        try:
            if self.safety_first:
                self._say(self.texts.get("safety"))
            self._on_enter()
            while self.state not in (END, STOPPED):
                trigger = self._pause_step() if self.paused else self._perform()
                while trigger is not None:
                    self.trigger(trigger)
                    if self.error is not None:
                        raise self.error
                    trigger, self.pending = self.pending, None
            self.outcome = "completed" if self.state == END else "stopped"
        finally:
            self._emit("session_ended", outcome=self.outcome, state=self.state)
            if self.journal is not None and self.session_id is not None:
                self.journal.end_session(self.session_id, self.outcome)
                if self.outcome == "completed":
                    self.journal.clear_progress()
        return self.outcome

    @property
    def step(self) -> Step:
        return self.exercise.step(split_state(self.state)[0])

    @property
    def phase(self) -> str | None:
        return split_state(self.state)[1]

    def _perform(self) -> str | None:
        step, phase = self.step, self.phase
        if step.kind == "say":
            self._say(self._prompt_text())
            return "next"
        if phase in TURN_PHASES or step.kind == "turn":
            return self._turn()
        return self._question()

    def _prompt_text(self) -> str:
        step, phase = self.step, self.phase
        text = step.text if phase in (None, "speak", "propose") else step.say(phase, self._default(phase))
        return self.texts.fill(text, step.speaker)

    def _default(self, phase: str) -> str:
        return {
            "reflect": "{luisteraar}, vertel nu in je eigen woorden wat je hoorde. Begin met: ik hoorde je zeggen.",
            "check": "{spreker}, klopt dat? Zeg {ja} of {nee}.",
            "more": "Is er nog meer, {spreker}? Zeg {ja} of {nee}.",
            "add": "Vertel wat er nog meer is, {spreker}.",
            "correct": "{spreker}, wat heeft {luisteraar} gemist? Zeg het kort.",
            "agree": "Zijn jullie het hier allebei over eens? Zeg {ja} of {nee}.",
            "consent": "Mogen we jullie afspraak hier op dit apparaat bewaren, zodat ik jullie er de volgende keer aan herinner? Zeg {ja} of {nee}.",
        }[phase]

    # -- questions --------------------------------------------------------------

    def _answers(self) -> list[str]:
        candidates = ["confirm", "deny"] + list(self.step.options)
        return [t for t in candidates if t in self.conv.vocab.intents and self.may_trigger(t)]

    def _listenable(self, answers: list[str], turn: bool = False) -> list[str]:
        extra = (["done"] if turn else []) + list(COMMANDS) + ["stop"]
        return [i for i in answers + extra if i in self.conv.vocab.intents]

    def _question(self) -> str | None:
        a = self.activity
        if not a.prompted:
            self._say(self._prompt_text())
            a.prompted = True
        answers = self._answers()
        heard = self.conv.listen(self._listenable(answers), self.timing.question_seconds)
        if heard.kind == "intent":
            return heard.intent
        if heard.kind == "silence":
            a.silences += 1
            key, n = "silence", a.silences
        else:
            a.unclears += 1
            key, n = "unclear", a.unclears
        if a.silences + a.unclears >= self.timing.max_tries:
            self._say(self.texts.get("stuck"))
            a.silences = a.unclears = 0
            a.prompted = False
            self.paused = True
            return None
        reprompt = self.texts.nth(key, n - 1)
        if self.step.kind == "choice":
            reprompt = self.texts.get("help", woorden=self._words(answers))
        self._say(reprompt, remember=False)
        return None

    def _words(self, intents: list[str]) -> str:
        words = [self.conv.vocab.first(i) for i in intents]
        if len(words) > 1:
            return ", ".join(words[:-1]) + " of " + words[-1]
        return words[0] if words else ""

    # -- turns ------------------------------------------------------------------

    def _speaker(self) -> int:
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
            a.deadline = a.quiet_since = a.started + seconds
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
        if heard.speech_end is not None or heard.said:
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
        elif not a.nudged and now >= nudge_at:
            a.nudged = True
            self._frozen(lambda: self._say(self.texts.get("turn_nudge", speaker), remember=False))
        return None

    def _keep_turn_words(self, heard: Heard, record: bool) -> None:
        if record and isinstance(heard.audio, np.ndarray) and len(heard.audio):
            self.activity.audio.append(heard.audio)
        if heard.said:
            self.activity.said.append(heard.said)

    def _frozen(self, action: Any) -> None:
        """Run `action` with the turn's clock stopped: speaking to them takes none of their time."""
        a, clock = self.activity, self.conv.clock
        start = clock.now()
        action()
        if a.deadline is not None:
            a.deadline += clock.now() - start

    # -- pause ------------------------------------------------------------------

    def _pause_step(self) -> str | None:
        heard = self.conv.listen(self._listenable(["resume"], turn=True), 60.0, turn=True)
        return heard.intent if heard.kind == "intent" and heard.intent in ("resume", "stop", "safety", "help", "why", "repeat") else None

    # -- machine callbacks ------------------------------------------------------

    def on_state_changed(self, event: Any) -> None:
        # transitions calls this after internal transitions (commands) too; they keep the activity.
        if event.transition.dest is not None:
            self._on_enter()

    def _on_enter(self) -> None:
        previous = getattr(self, "_current_step", None)
        self.activity = Activity()
        step_id = split_state(self.state)[0]
        self._emit("state", state=self.state)
        if previous is not None and previous != step_id:
            self._step_finished(previous)
        if previous != step_id:
            self.rounds = 0
        self._current_step = step_id
        if self.state not in (END, STOPPED):
            self._save_progress()
        if self.state == STOPPED:
            self._say(self.texts.get("stop"))

    def _step_finished(self, step_id: str) -> None:
        self._emit("step_completed", step=step_id)
        if self.journal is not None and self.session_id is not None:
            self.journal.step_completed(self.session_id, step_id)

    def _save_progress(self) -> None:
        if self.journal is None:
            return
        step_id = split_state(self.state)[0]
        # Resume starts a step from its beginning: a half-mirrored message is said again.
        entry = self.machine.get_state(self.state).name if self.phase is None else f"{step_id}__{_first_phase(self.step)}"
        self.journal.save_progress(self.exercise.name, entry, {"names": [self.names.one, self.names.two],
                                                                 "consent": self.consent})

    def on_error(self, event: Any) -> None:
        self.error = event.error

    def rounds_left(self, event: Any) -> bool:
        return self.rounds + 1 < self.timing.max_rounds

    def ask_more(self, event: Any) -> bool:
        return bool(self.step.extra.get("ask_more", self.timing.ask_more))

    def needs_consent(self, event: Any) -> bool:
        return self.consent is None and self.journal is not None

    def count_round(self, event: Any) -> None:
        self.rounds += 1

    def mirror_done(self, event: Any) -> None:
        self._emit("mirror_done", step=split_state(event.transition.source)[0], rounds=self.rounds + 1)

    def move_on_kindly(self, event: Any) -> None:
        self._say(self.texts.get("move_on"), remember=False)

    def consent_given(self, event: Any) -> None:
        self.consent = True
        self._emit("consent", given=True)

    def consent_refused(self, event: Any) -> None:
        self.consent = False
        self._emit("consent", given=False)

    def keep_agreement(self, event: Any) -> None:
        step = self.exercise.step(split_state(event.transition.source)[0])
        if not self.consent or self.journal is None or self.session_id is None:
            self._emit("agreement", step=step.id, kept=False)
            return
        said = " ".join(self._proposal_said)
        recording = None
        if self._proposal_audio:
            wav = Audio(np.concatenate(self._proposal_audio)).to_wav_bytes()
            recording = self.journal.store_recording(self.session_id, wav)
        self.journal.add_agreement(self.session_id, said or None, recording)
        self.kept_agreements += 1
        self._emit("agreement", step=step.id, kept=True, recorded=recording is not None)

    def chose(self, event: Any) -> None:
        target = self.step.options.get(event.event.name, "")
        if target.startswith("exercise:"):
            self.chosen = target.split(":", 1)[1]

    def on_repeat(self, event: Any) -> None:
        self._frozen(lambda: self._say(self.last_prompt or self._prompt_text(), remember=False))

    def on_why(self, event: Any) -> None:
        why = self.step.why or self.exercise.why
        self._frozen(lambda: self._say(self.texts.fill(why) if why else self.texts.get("why_none"), remember=False))

    def on_help(self, event: Any) -> None:
        turn = self.phase in TURN_PHASES or self.step.kind == "turn"
        intents = self._listenable([] if turn else self._answers(), turn=turn)
        self._frozen(lambda: self._say(self.texts.get("help", woorden=self._words(intents)), remember=False))

    def on_safety(self, event: Any) -> None:
        self._frozen(lambda: self._say(self.texts.get("safety"), remember=False))

    def on_pause(self, event: Any) -> None:
        if not self.paused:
            self.paused = True
            self._pause_started = self.conv.clock.now()
            self._emit("paused")
            self._say(self.texts.get("pause"), remember=False)

    def on_resume(self, event: Any) -> None:
        if self.paused:
            self.paused = False
            started = getattr(self, "_pause_started", self.conv.clock.now())
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
        self.paused = True
        self._pause_started = start

    # -- helpers ----------------------------------------------------------------

    def _say(self, text: str, remember: bool = True) -> None:
        if remember:
            self.last_prompt = text
        self.conv.say(text)

    def _emit(self, kind: str, **fields: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, **fields)


def _first_phase(step: Step) -> str:
    from voicecoach.engine.machine import PHASES

    return PHASES[step.kind][0]
