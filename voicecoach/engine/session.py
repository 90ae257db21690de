"""Runs an exercise: one thread, one loop, events fed into the state machine in order."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecoach.audio.pcm import Audio
from voicecoach.engine.controls import Controls
from voicecoach.engine.exercise import Exercise, Step
from voicecoach.engine.lists import LIST_KINDS, ListSteps
from voicecoach.engine.machine import (
    COMMANDS,
    END,
    STOPPED,
    build_machine,
    entry_state,
    split_state,
)
from voicecoach.engine.texts import Names, Texts
from voicecoach.engine.turns import TURN_PHASES, Turns
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)

# (silence or unclear, how many times before) -> what to say: a question's own reprompts.
Again = Callable[[str, int], str]


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
    whys: int = 0
    audio: list[np.ndarray] = field(default_factory=list)
    said: list[str] = field(default_factory=list)


class Session(Controls, ListSteps, Turns):
    """The model of the exercise's state machine, and the loop that drives it.

    `memory` is what a stopped session saved (its progress data): the values
    named so far survive a resume.
    """

    def __init__(self, exercise: Exercise, conversation: Conversation, names: Names, *, journal: Any = None,
                 events: Any = None, safety_first: bool = False, initial: str | None = None,
                 consent: bool | None = None, memory: dict[str, Any] | None = None, fact_base: int = 0) -> None:
        self.exercise = exercise
        self.conv = conversation
        self.names = names
        self.journal = journal
        self.events = events
        self.texts = Texts(conversation.vocab, names)
        self.timing = exercise.timing
        self.safety_first = safety_first
        self.consent = consent
        self.paused_since: float | None = None  # clock time a pause began; None while going on
        self._current_step: str | None = None
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
        self.initial = initial
        self.memory: dict[str, Any] = dict(memory or {})
        saved = self.memory.get("lists", {})
        self.lists: dict[str, list[str]] = {str(k): [str(v) for v in vs] for k, vs in saved.items()}
        self.target: str | None = None  # the value being changed
        self.picked: str | None = None  # the list item just heard
        self.counted = 0
        self.empties = 0
        self.facts_told = 0
        self.fact_base = fact_base
        self.machine = build_machine(self, exercise, initial)
        self._check_lists()

    # -- the loop ---------------------------------------------------------------

    def run(self) -> str:
        self._emit("session_started", exercise=self.exercise.name, state=self.state)
        if self.journal is not None:
            # A resumed session goes on as the same session (one herstelgesprek, not two halves).
            saved = self.memory.get("session")
            if isinstance(saved, int) and self.initial is not None and self.journal.reopen_session(saved):
                self.session_id = saved
            else:
                self.session_id = self.journal.start_session(self.exercise.name, (self.names.one, self.names.two))
        try:
            if self.safety_first:
                self._say(self.texts.get("safety"))
            self._on_enter()
            while self.state not in (END, STOPPED):
                trigger = self._pause_step() if self.paused else self._perform()
                while trigger is not None:
                    with self._journal_batch(trigger):
                        self.trigger(trigger)
                        if self.error is not None:
                            raise self.error  # inside the batch: nothing of a failed move is kept
                    trigger, self.pending = self.pending, None
            self.outcome = "completed" if self.state == END else "stopped"
        finally:
            self._emit("session_ended", outcome=self.outcome, state=self.state)
            if self.journal is not None and self.session_id is not None:
                self.journal.end_session(self.session_id, self.outcome)
                if self.outcome == "completed":
                    self.journal.clear_progress()
        return self.outcome

    def _journal_batch(self, trigger: str) -> Any:
        """A step's move is one transaction: what it keeps (an agreement, values) and the next step's
        progress are stored together or not at all, so a kill never keeps an agreement twice.
        Commands stay outside: a time-out listens for minutes."""
        if self.journal is None or trigger in COMMANDS:
            return contextlib.nullcontext()
        return self.journal.batch()

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    @property
    def step(self) -> Step:
        return self.exercise.step(split_state(self.state)[0])

    @property
    def phase(self) -> str | None:
        return split_state(self.state)[1]

    def _perform(self) -> str | None:
        step = self.step
        if step.kind == "say":
            self._say(self._prompt_text())
            return "next"
        if step.kind in LIST_KINDS:
            return self._list_step()
        if step.kind == "count":
            return self._count_step()
        if self._is_turn():
            return self._turn()
        return self._question()

    def _is_turn(self) -> bool:
        return self.phase in TURN_PHASES or self.step.kind == "turn"

    def _new_activity(self) -> None:
        """Start the state's work afresh (the next item of a list or count) without leaving it."""
        self.activity = Activity()

    def _prompt_text(self) -> str:
        step, phase = self.step, self.phase
        if step.kind in (*LIST_KINDS, "count"):
            return self._list_prompt()
        text = step.text if phase in (None, "speak", "propose") else step.say(phase, self._default(phase))
        return self.texts.fill(text, self._speaker() if step.together else step.speaker)

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
        """The answers (list items too: "item:rust"), then the commands whose words no answer uses.

        "veiligheid" is a value and the safety command: while values are
        asked for, the value wins.
        """
        vocab = self.conv.vocab
        extra = (["done"] if turn else []) + list(COMMANDS) + ["stop"]
        keep = list(dict.fromkeys(i for i in answers if i in vocab.intents or ":" in i))
        taken = set(vocab.phrase_map(keep))
        return keep + [i for i in extra if i in vocab.intents and i not in keep and not taken & set(vocab.intents[i])]

    def _question(self, answers: list[str] | None = None, again: Again | None = None) -> str | None:
        a = self.activity
        if not a.prompted:
            self._say(self._prompt_text())
            a.prompted = True
        answers = self._answers() if answers is None else answers
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
            self.paused_since = self.conv.clock.now()
            return None
        if again is not None:
            reprompt = again(key, n - 1)
        elif self.step.kind == "choice":
            reprompt = self.texts.get("help", woorden=self._words(answers))
        else:
            reprompt = self.texts.nth(key, n - 1)
        self._say(reprompt, remember=False)
        return None

    def _words(self, intents: list[str]) -> str:
        vocab = self.conv.vocab
        words = [vocab.first(i) if i in vocab.intents else next(iter(vocab.phrase_map([i])), i) for i in intents]
        if len(words) > 1:
            return ", ".join(words[:-1]) + " of " + words[-1]
        return words[0] if words else ""

    def _help_text(self) -> str:
        if self.step.kind in LIST_KINDS:
            return self._list_help()
        turn = self._is_turn() or self.step.kind == "count"
        intents = self._listenable([] if turn else self._answers(), turn=turn)
        return self.texts.get("help", woorden=self._words(intents))

    # -- pause ------------------------------------------------------------------

    def _pause_step(self) -> str | None:
        heard = self.conv.listen(self._listenable(["resume"], turn=True), 60.0, turn=True)
        if heard.kind == "intent" and heard.intent in ("resume", "stop", "safety", "help", "why", "repeat"):
            return heard.intent
        started = self.paused_since if self.paused_since is not None else self.conv.clock.now()
        if self.conv.clock.now() - started >= self.timing.pause_minutes * 60:
            # Nobody came back: stop, so a forgotten session does not listen for ever; resume goes on.
            self._emit("pause_expired", minutes=self.timing.pause_minutes)
            return "stop"
        return None

    # -- machine callbacks ------------------------------------------------------

    def on_state_changed(self, event: Any) -> None:
        # transitions calls this after internal transitions (commands) too; they keep the activity.
        if event.transition.dest is not None:
            self._on_enter()

    def _on_enter(self) -> None:
        previous = self._current_step
        self.activity = Activity()
        step_id = split_state(self.state)[0]
        self._emit("state", state=self.state)
        if previous is not None and previous != step_id:
            self._step_finished(previous)
        if previous != step_id:
            self.rounds = 0
            self.counted = self.empties = 0
            self.target = self.picked = None
        if self.phase == "name":  # a values step starts (or starts again after a resume) with an empty list
            self.lists[self._list_key()] = []
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
        # Resume starts a step from its beginning: a half-mirrored message is said again.
        entry = self.state if self.phase is None else entry_state(self.step)
        self.journal.save_progress(self.exercise.name, entry, {"names": [self.names.one, self.names.two],
                                                                 "consent": self.consent, "lists": self.lists,
                                                                 "session": self.session_id,
                                                                 "source": self.exercise.source})

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
        """Store the agreement (or the shared sentence) in their own words: only with their consent."""
        step = self.exercise.step(split_state(event.transition.source)[0])
        kind = str(step.extra.get("keep", "agreement"))
        if not self.consent or self.journal is None or self.session_id is None:
            self._emit(kind, step=step.id, kept=False)
            return
        said = " ".join(self._proposal_said)
        recording = None
        if self._proposal_audio:
            wav = Audio(np.concatenate(self._proposal_audio)).to_wav_bytes()
            recording = self.journal.store_recording(self.session_id, wav)
        if not said and recording is None:
            self._emit(kind, step=step.id, kept=False)  # nothing was said or typed to keep
            return
        if kind == "sentence":
            self.journal.set_shared_values(self.session_id, self.lists.get("shared", []), said or None, recording)
        else:
            self.journal.add_agreement(self.session_id, said or None, recording)
            self.kept_agreements += 1
        self._emit(kind, step=step.id, kept=True, recorded=recording is not None)

    def chose(self, event: Any) -> None:
        target = self.step.options.get(event.event.name, "")
        if target.startswith("exercise:"):
            self.chosen = target.split(":", 1)[1]

    # -- helpers ----------------------------------------------------------------

    def _say(self, text: str, remember: bool = True) -> None:
        if remember:
            self.last_prompt = text
        self.conv.say(text)

    def _emit(self, kind: str, **fields: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, **fields)

