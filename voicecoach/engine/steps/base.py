"""What every step object does: perform its phases one round at a time, against the stage."""

from __future__ import annotations

from collections.abc import Sequence

from transitions.core import EventData

from voicecoach.engine.ask import MEANS, Question, Reprompt
from voicecoach.engine.exercise import Step
from voicecoach.engine.stage import Stage
from voicecoach.engine.texts import TOGETHER
from voicecoach.engine.turn import TimedTurn
from voicecoach.speech.vocab import COMMANDS

# The phases of compound steps that are turns, and whose turn they are.
TURN_PHASES = {"speak": "speaker", "reflect": "listener", "add": "speaker", "correct": "speaker", "propose": "speaker"}


class StepRun:
    """One step of an exercise while the session is in it.

    The session calls `enter(phase)` as the machine enters each of the step's states, then
    `perform()` until it returns a trigger. The machine's conditions and actions for the
    step's transitions (`keep_agreement`, `rounds_left`, ...) are methods of its object.
    """

    def __init__(self, step: Step, stage: Stage) -> None:
        self.step = step
        self.stage = stage
        self.phase: str | None = None
        self.whys = 0  # "waarom" in this phase: the first explains the step, the next tell a fact
        self.question: Question | None = None
        self.turn: TimedTurn | None = None
        self.stuck: Question | None = None  # "zullen we even pauzeren?" after too many misses
        self.asking: int | None = None  # in a question for both, the partner asked now (by name)

    def enter(self, phase: str | None) -> None:
        """The machine entered one of this step's states (again): its phase starts afresh."""
        self.phase = phase
        self.whys = 0
        self.question = None
        self.turn = None
        self.stuck = None
        self.asking = 1 if phase in self.both_phases() else None

    def perform(self) -> str | None:
        """One round of the phase: a trigger for the machine, or None to be called again."""
        raise NotImplementedError

    def prompt(self) -> str:
        """What the phase says first ("herhaal" says it when nothing was said yet)."""
        return self.fill(self.step.text)

    def fill(self, text: str, **extra: str) -> str:
        """A text of this step, {spreker} being the partner asked (a question for both) or the step's speaker;
        {bewaard} says that what they agreed was kept, only when it was (their consent, and something said to keep)."""
        stage = self.stage
        kept = stage.texts.common.get("kept", "") if stage.memory.consent and stage.record.kept else ""
        return stage.texts.fill(text, self.asking or self.step.speaker, **{"bewaard": kept, **extra})

    def both_phases(self) -> tuple[str | None, ...]:
        """The phases whose question each partner answers by name: yes only when both said yes."""
        return ()

    def answers(self) -> list[str]:
        """The intents that answer the phase's question."""
        return ["confirm", "deny"]

    def help(self) -> str:
        turn = self.turn is not None or self.phase in TURN_PHASES
        return self.stage.help_for([] if turn else self.answers(), turn=turn)

    def speaker(self) -> int:
        """Whose turn it is in this phase: the step's speaker, the listener, or both together."""
        if self.step.together:
            return TOGETHER
        role = TURN_PHASES.get(self.phase or "speak", "speaker")
        return self.step.speaker if role == "speaker" else 3 - self.step.speaker

    def hold(self, seconds: float) -> None:
        """`seconds` went to something else (a command, a pause): a running turn's clock stands still."""
        if self.turn is not None:
            self.turn.hold(seconds)

    def resume(self) -> None:
        """After a pause: a turn goes on where it was, a question is asked again."""
        if self.turn is not None and self.turn.deadline is not None:
            self.turn.resume()
        elif self.question is not None:
            self.question.prompted = False

    # -- the two kinds of activity a phase has ------------------------------------------------

    def ask(self, answers: Sequence[str] | None = None, again: Reprompt | None = None) -> str | None:
        """One round of the phase's question; after too many misses, the session pauses."""
        if self.question is None:
            answers = self.answers() if answers is None else list(answers)
            self.question = Question(self.prompt, answers, self.stage.timing.question_seconds,
                                     self.stage.timing.max_tries, again or self.reprompt)
        if self.stuck is not None:
            return self._ask_stuck(self.stuck)
        reply = self.question.round(self.stage)
        if reply.gave_up:  # the machine did not hear them: it says so, and offers a pause
            self.stuck = Question(lambda: self.stage.texts.get("stuck"), ["confirm", "deny"],
                                  self.stage.timing.question_seconds, self.stage.timing.max_tries, self.stage.texts.nth)
            return None
        intent = MEANS.get(reply.intent or "", reply.intent)
        if intent is not None and self.why_not(intent):
            return None  # said why; the same partner answers on, and no try was used
        if self.asking is None or intent is None or intent in COMMANDS:
            return intent
        if intent == "confirm" and self.asking == 1:  # one yes: now the other partner, by name
            self.stage.emit("answered", step=self.step.id, partner=self.stage.names.of(1), answer=intent)
            self.asking, self.question = 2, None
            return None
        self.stage.emit("answered", step=self.step.id, partner=self.stage.names.of(self.asking), answer=intent)
        self.asking = 1  # a no (or a change) decides; asked again, both answer again
        return intent

    def why_not(self, intent: str) -> bool:
        """An answer understood but not possible here ("verander avontuur", not on the list): True when the step
        said why. It is no miss: the question listens on, as after a value named twice."""
        return False

    def _ask_stuck(self, stuck: Question) -> str | None:
        """"Zullen we even pauzeren?": yes (or no answer at all) pauses, no asks the question once more."""
        reply = stuck.round(self.stage)
        if reply.intent not in ("confirm", "deny", None) or (reply.intent is None and not reply.gave_up):
            return reply.intent  # a command, or one more try
        self.stuck = None
        if reply.intent == "deny":
            self.stage.say(self.stage.texts.get("stuck_retry"), remember=False)
            if self.question is not None:
                self.question.restart()
            return None
        return "pause"  # the pause itself (and "verder") is the controls'

    def reprompt(self, key: str, n: int) -> str:
        """After silence or an unclear answer: the shared reprompts, a little more help each time."""
        return self.stage.texts.nth(key, n)

    def take_turn(self, seconds: float, record: bool = False) -> str | None:
        """One round of the phase's timed turn; "next" when it is over."""
        if self.turn is None:
            self.turn = TimedTurn(self.stage, self.step.id, self.speaker(), seconds, self.prompt, record)
        return self.turn.perform()

    def turn_seconds(self) -> float:
        t, phase = self.stage.timing, self.phase
        if self.step.seconds and phase in (None, "speak", "propose"):
            return self.step.seconds
        if phase == "reflect":
            return t.mirror_seconds
        if phase in ("add", "correct"):
            return t.short_turn_seconds
        return t.turn_seconds

    # -- the machine's actions shared by several kinds -----------------------------------------

    def move_on_kindly(self, event: EventData) -> None:
        self.stage.say(self.stage.texts.get("move_on"), remember=False)
