"""Runs an exercise: one thread, one loop; the state machine decides what comes next, a step object performs it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from transitions.core import EventData

from voicecoach.engine.controls import Controls
from voicecoach.engine.exercise import Exercise, Step
from voicecoach.engine.machine import CONTROLS, END, STOPPED, build_machine, entry_state, split_state
from voicecoach.engine.stage import Memory, Record, Stage, TurnHooks, TurnObserver
from voicecoach.engine.steps import StepRun, make_step
from voicecoach.engine.texts import Names
from voicecoach.errors import DataFileError, UserError
from voicecoach.events import EventLog
from voicecoach.journal import Journal
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)

# Heard while paused: what may end the pause or be answered in it.
PAUSE_INTENTS = ("resume", "stop", "safety", "help", "why", "repeat")
PAUSE_LISTEN_SECONDS = 60.0  # listening in a pause goes round this often, to notice when it expired


class Session:
    """One exercise from its first step (or a saved one) to its end, by voice or by text.

    The model of the exercise's `transitions` machine: `state` is "<step>" or "<step>__<phase>".
    `memory` is what a stopped session saved (its progress data): values named so far survive a resume.
    """

    state: str  # set by transitions
    trigger: Callable[[str], bool]  # set by transitions: fire a trigger by name

    def __init__(self, exercise: Exercise, conversation: Conversation, names: Names, *, journal: Journal | None = None,
                 events: EventLog | None = None, initial: str | None = None, memory: dict[str, Any] | None = None,
                 fact_base: int = 0, observe_turn: Callable[[int], TurnObserver | None] | None = None,
                 turns: TurnHooks | None = None, told: set[str] | None = None) -> None:
        self.exercise = exercise
        self.names = names
        self.journal = journal
        self.initial = initial
        self.saved = dict(memory or {})
        self.stage = Stage(conversation, exercise, names, events=events, record=Record(journal),
                           memory=Memory.restore(self.saved), observe_turn=observe_turn,
                           turns=turns, told=told)
        self.controls = Controls(self.stage, lambda: self.current, lambda t: self.trigger(t), fact_base)
        self.current: StepRun = make_step(exercise.steps[0], self.stage)
        self.outcome = "interrupted"
        self.error: BaseException | None = None
        self.machine = build_machine(self, exercise, initial, hook=self._hook)
        self._check_lists()

    @property
    def chosen(self) -> str | None:
        """The exercise a choice step leads on to."""
        return self.stage.memory.chosen

    @property
    def fact_base(self) -> int:
        return self.controls.fact_base

    @property
    def facts_told(self) -> int:
        return self.controls.facts_told

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> str:
        stage, record = self.stage, self.stage.record
        stage.emit("session_started", exercise=self.exercise.name, state=self.state)
        if self.journal is not None:
            # A resumed session goes on as the same session (one herstelgesprek, not two halves).
            saved = self.saved.get("session")
            if isinstance(saved, int) and self.initial is not None and self.journal.reopen_session(saved):
                record.session_id = saved
            else:
                record.session_id = self.journal.start_session(self.exercise.name, (self.names.one, self.names.two))
        try:
            self._enter(None)
            if self.initial is not None and self.state not in (END, STOPPED):
                stage.say(stage.texts.recap(self.current.step), remember=False)  # where they were
            while self.state not in (END, STOPPED):
                trigger = self._paused() if stage.paused_since is not None else self.current.perform()
                if trigger is None:
                    continue
                with self._batch(trigger):
                    self.trigger(trigger)  # and whatever its callbacks fire, in order (queued)
                    if self.error is not None:
                        raise self.error  # inside the batch: nothing of a failed move is kept
            self.outcome = "completed" if self.state == END else "stopped"
        finally:
            stage.emit("session_ended", outcome=self.outcome, state=self.state)
            if self.journal is not None and record.session_id is not None:
                self.journal.end_session(record.session_id, self.outcome)
                if self.outcome == "completed":
                    self.journal.clear_progress()
        return self.outcome

    def _batch(self, trigger: str) -> AbstractContextManager[Any]:
        """A step's move is one transaction: what it keeps (an agreement, values) and the next step's
        progress are stored together or not at all, so a kill never keeps an agreement twice.
        Commands stay outside: a time-out listens for minutes."""
        if self.journal is None or trigger in CONTROLS:
            return contextlib.nullcontext()
        return self.journal.batch()

    def _paused(self) -> str | None:
        stage = self.stage
        heard = stage.conv.listen(stage.listenable(["resume"], turn=True), PAUSE_LISTEN_SECONDS, turn=True)
        if heard.kind == "intent" and heard.intent in PAUSE_INTENTS:
            return heard.intent
        started = stage.paused_since if stage.paused_since is not None else stage.clock.now()
        if stage.clock.now() - started >= stage.timing.pause_minutes * 60:
            # Nobody came back: stop, so a forgotten session does not listen for ever; resume goes on.
            stage.emit("pause_expired", minutes=stage.timing.pause_minutes)
            return "stop"
        return None

    # -- the machine's callbacks ------------------------------------------------------------------

    def _hook(self, name: str) -> Callable[[EventData], Any]:
        """A command's callback is the controls'; every other condition or action is the current step's."""
        if name.startswith("on_") and name[3:] in CONTROLS:
            return getattr(self.controls, name)  # type: ignore[no-any-return]

        def call(event: EventData) -> Any:
            return getattr(self.current, name)(event)

        call.__name__ = name
        return call

    def on_state_changed(self, event: EventData) -> None:
        # transitions calls this after internal transitions (commands) too; they keep the step as it is.
        if event.transition is not None and event.transition.dest is not None:
            self._enter(split_state(self.current.step.id)[0])

    def on_error(self, event: EventData) -> None:
        self.error = event.error

    def _enter(self, previous: str | None) -> None:
        stage = self.stage
        step_id, phase = split_state(self.state)
        stage.emit("state", state=self.state)
        if previous is not None and previous != step_id and self.state != STOPPED:
            # A stopped step is done again on resume: it is completed, and its turns are counted, then.
            stage.record.step_completed(previous)
            stage.keep_turns(previous)
        if self.state in (END, STOPPED):
            if self.state == STOPPED:
                kept = stage.record.active  # with --no-journal nothing is kept: it must not say so
                stage.say(stage.texts.get("stop") + (" " + stage.texts.get("stop_kept") if kept else ""))
            return
        if previous != step_id:
            self.current = make_step(self.exercise.step(step_id), stage)
        self.current.enter(phase)
        self._save_progress()

    def _save_progress(self) -> None:
        if self.journal is None:
            return
        # Resume starts a step from its beginning: a half-mirrored message is said again. A step with
        # `resume` goes on elsewhere: "neem eerst afstand" is not what a couple coming back days later needs.
        step = self.current.step
        entry = self.state if self.current.phase is None else entry_state(step)
        if step.extra.get("resume"):
            entry = entry_state(self.exercise.step(str(step.extra["resume"])))
        memory = self.stage.memory
        self.journal.save_progress(self.exercise.name, entry, {
            "names": [self.names.one, self.names.two], "consent": memory.consent, "lists": memory.lists,
            "session": self.stage.record.session_id, "source": self.exercise.source})

    def _check_lists(self) -> None:
        """A values step needs its list in the vocabulary: say so before anything is spoken."""
        vocab = self.stage.vocab
        for step in self.exercise.steps:
            name = str(step.extra.get("list", "values"))
            if step.kind == "values" and name in vocab.lists and not vocab.lists[name]:  # the model left out every one
                raise DataFileError(vocab.source, f"lists.{name}", "none of its values are words the speech model knows",
                                    "Write values in the speech model's language, or use a model of the vocabulary's.")
            if step.kind == "values" and not vocab.lists.get(name):
                raise UserError(f"The vocabulary {vocab.source} has no list of {name} for the step "
                                f"{step.id!r}.", f"Add `{name} = [...]` under [lists], as in voicecoach/lang/nl.toml.")

    @property
    def step(self) -> Step:
        return self.current.step
