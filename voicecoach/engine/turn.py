"""A speaking turn: a timer, a warning before the end, a nudge after a long silence, a chime at the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from voicecoach.engine.ask import Question, Reply
from voicecoach.engine.stage import Stage, TurnObserver
from voicecoach.speech.decide import Heard


def turn_commands(stage: Stage) -> list[str]:
    """What a speaking turn listens for: "klaar" and the commands, but not "waarom" or "help": a word
    inside someone's ik-boodschap must not start a lecture (they work again once the turn is over)."""
    return [i for i in stage.listenable([], turn=True) if i not in ("why", "help")]


class _Aside:
    """The stop question inside a turn: asked, and heard with the other answers left out."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def ask(self, text: str) -> None:
        self.stage.say(text, remember=False)

    def tell(self, text: str) -> None:
        self.stage.say(text, remember=False)

    def listen(self, intents: Sequence[str], seconds: float) -> Heard:
        return self.stage.conv.listen(list(intents), seconds)


class TimedTurn:
    """One partner's (or both partners') turn to speak, performed one listen at a time.

    Time spent on anything else (a command answered, a pause) is given back through `hold`.
    What was said is kept in `said` (typed) and `audio` (recorded, when asked for).
    """

    def __init__(self, stage: Stage, step_id: str, speaker: int, seconds: float, prompt: Callable[[], str],
                 record: bool = False) -> None:
        self.stage = stage
        self.step_id = step_id
        self.speaker = speaker
        self.seconds = seconds
        self.prompt = prompt
        self.record = record
        self.started = 0.0
        self.deadline: float | None = None
        self.quiet_since = 0.0
        self.warned = False
        self.nudged = False
        self.fresh = True  # the next listen starts a new listening phase
        self.said: list[str] = []
        self.audio: list[np.ndarray] = []
        self.observer: TurnObserver | None = None

    def perform(self) -> str | None:
        """Listen until the next thing to do: "next" when the turn is over, a command's trigger, or None."""
        stage, t, clock = self.stage, self.stage.timing, self.stage.clock
        name = stage.names.of(self.speaker)
        if self.deadline is None:
            self._start(name)
        assert self.deadline is not None
        warn_at = self.deadline - t.warn_before
        until = self.deadline
        if not self.warned and warn_at > self.started + 1:
            until = min(until, warn_at)
        if not self.nudged:
            until = min(until, self.quiet_since + t.nudge_after)
        heard = stage.conv.listen(turn_commands(stage), max(0.0, until - clock.now()), turn=True,
                                  record=self.record, new_phase=self.fresh,
                                  observe=self.observer.feed if self.observer is not None else None)
        self.fresh = heard.kind == "intent"  # after a command they answer anew; after a warning they go on
        self.deadline += heard.lost  # a lost microphone froze the turn
        self._keep(heard)
        if heard.kind == "intent" and heard.intent == "stop" and not self._really_stop():
            return None
        if heard.kind == "intent" and heard.intent != "done":
            return heard.intent
        now = clock.now()
        if heard.kind == "intent" or now >= self.deadline:
            self._end(name, "done" if heard.kind == "intent" else "time")
            return "next"
        if not self.warned and now >= warn_at:
            self.warned = True
            stage.emit("turn_warned", speaker=name, remaining=round(self.deadline - now, 2))
            self._aside(stage.texts.get("turn_warning", seconden=int(round(t.warn_before))))
        elif not self.nudged and now >= self.quiet_since + t.nudge_after:  # quiet_since may have moved
            self.nudged = True
            # nothing said yet: no "nog iets"
            self._aside(stage.texts.get("turn_nudge" if self.spoken else "turn_nudge_start", self.speaker))
        return None

    @property
    def spoken(self) -> bool:
        """Someone spoke (talk that decided nothing too) or typed in the turn."""
        return self.quiet_since > self.started or bool(self.said)

    def hold(self, seconds: float) -> None:
        if self.deadline is not None:
            self.deadline += seconds

    def resume(self) -> None:
        """After a pause: "ga verder", on the turn's own time."""
        self._aside(self.stage.texts.get("turn_resume", self.speaker))

    def _start(self, name: str) -> None:
        stage = self.stage
        if "klaar" not in stage.told and "done" in stage.vocab.intents:  # once per visit, before the first turn
            stage.told.add("klaar")
            stage.emit("told", tip="klaar")
            stage.say(stage.texts.get("turn_klaar", self.speaker), remember=False)
        stage.say(self.prompt())
        stage.chime("turn")
        self.started = self.quiet_since = stage.clock.now()
        self.deadline = self.started + self.seconds
        if stage.observe_turn is not None:
            self.observer = stage.observe_turn(self.speaker)
        stage.emit("turn_started", speaker=name, seconds=self.seconds)

    def _end(self, name: str, how: str) -> None:
        stage = self.stage
        stage.chime("end")
        seconds = stage.clock.now() - self.started
        stage.emit("turn_ended", speaker=name, seconds=round(seconds, 2), how=how)
        stage.turn_ended(self.step_id, name, seconds)
        if self.observer is not None and stage.turn_watched(self.step_id, self.speaker, self.observer.summary()):
            # After the turn, never in it: the listener talked over the speaker (at most once per exercise).
            stage.emit("turn_remark", speaker=name)
            stage.say(stage.texts.get("turns.remark", self.speaker), remember=False)

    def _keep(self, heard: Heard) -> None:
        if heard.speech_end is not None:
            self.quiet_since = heard.speech_end
        elif heard.said:
            self.quiet_since = self.stage.clock.now()
        if self.record and isinstance(heard.audio, np.ndarray) and len(heard.audio):
            self.audio.append(heard.audio)
        if heard.said:
            self.said.append(heard.said)

    def _really_stop(self) -> bool:
        """"stop" in the middle of someone's words may be part of them: ask first, on the turn's own time."""
        stage, start = self.stage, self.stage.clock.now()
        safety = ["safety"] if "safety" in stage.vocab.intents else []
        question = Question(lambda: stage.texts.get("stop_ask"), ["confirm", "deny", *safety],
                            stage.timing.question_seconds, stage.timing.max_tries, stage.texts.nth)
        reply = Reply()
        while reply.intent not in ("confirm", "deny") and not reply.gave_up:
            reply = question.round(_Aside(stage))
            if reply.intent == "safety":  # wanting to stop may be wanting help: whom to call, then the question
                stage.say(stage.texts.get("safety"), remember=False)
                question.prompted = False
        stage.emit("stop_asked", stop=reply.intent == "confirm")
        if reply.intent != "confirm":
            stage.say(stage.texts.get("stop_not", self.speaker), remember=False)
        self.hold(stage.clock.now() - start)
        self.fresh = True
        return reply.intent == "confirm"

    def _aside(self, text: str) -> None:
        """A remark of ours inside the turn: speaking to them takes none of their time."""
        start = self.stage.clock.now()
        self.stage.say(text, remember=False)
        self.hold(self.stage.clock.now() - start)
