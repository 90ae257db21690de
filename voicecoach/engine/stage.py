"""What a step may use, and nothing more: speak, listen, the clock, the texts, and what the session keeps."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from voicecoach.audio.sources import Chunk
from voicecoach.clock import Clock
from voicecoach.engine.exercise import Exercise, Step, Timing
from voicecoach.engine.texts import Names, Texts, join
from voicecoach.events import EventLog
from voicecoach.journal import Journal
from voicecoach.speech.decide import Heard
from voicecoach.speech.vocab import COMMANDS, Vocabulary
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)


class TurnObserver(Protocol):
    """Watches one timed turn (speech/turn_watch.TurnWatch): fed every chunk the turn listens to,
    with its stream times, and asked for its summary when the turn ends."""

    def feed(self, chunk: Chunk) -> None: ...

    def summary(self) -> object: ...


class TurnHooks(Protocol):
    """Turn awareness for one exercise (voicecoach/turns.ExerciseTurns): an observer for each timed turn,
    whether the listener gets a gentle word after it, and "geen opmerkingen"."""

    def watch(self, speaker: int) -> TurnObserver | None: ...

    def after_turn(self, speaker: int, summary: object) -> bool: ...

    def quiet(self) -> None: ...


class Record:
    """What a session writes to its journal; with no journal (--no-journal) it keeps nothing."""

    def __init__(self, journal: Journal | None) -> None:
        self.journal = journal
        self.session_id: int | None = None

    @property
    def active(self) -> bool:
        return self.journal is not None and self.session_id is not None

    @property
    def kept(self) -> bool:
        """Something of theirs (an agreement, a goal, their sentence) was kept in this session."""
        return self.journal is not None and self.session_id is not None and self.journal.kept_in(self.session_id)

    def turn(self, step: str, speaker: str, seconds: float) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.turn(self.session_id, step, speaker, seconds)

    def speaking(self, step: str, partners: dict[str, tuple[float, int]], attributed: bool) -> None:
        """Per partner: seconds spoken in the step's turns, and how often they talked over the other's turn."""
        if self.journal is not None and self.session_id is not None:
            for partner, (spoken, interruptions) in partners.items():
                self.journal.speaking(self.session_id, step, partner, spoken, interruptions, attributed)

    def step_completed(self, step: str) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.step_completed(self.session_id, step)

    def gratitude(self, partner: str, count: int) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.gratitude(self.session_id, partner, count)

    def values(self, partner: str, items: list[str]) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.set_values(self.session_id, partner, items)

    def shared(self, items: list[str], sentence: str | None, recording: Path | None = None) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.set_shared_values(self.session_id, items, sentence, recording)

    def recording(self, wav: bytes) -> Path | None:
        if self.journal is None or self.session_id is None:
            return None
        return self.journal.store_recording(self.session_id, wav)

    def goal(self, term: str, text: str | None, recording: Path | None) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.add_goal(self.session_id, term, text, recording)

    def agreement(self, text: str | None, recording: Path | None) -> None:
        if self.journal is not None and self.session_id is not None:
            self.journal.add_agreement(self.session_id, text, recording)


@dataclass
class Memory:
    """What the session keeps across its steps, and saves for a resume."""

    lists: dict[str, list[str]] = field(default_factory=dict)  # "1", "2": each partner's values; "shared"
    consent: bool | None = None  # may their agreements be kept (asked once per session)
    chosen: str | None = None  # the exercise a choice step leads on to

    @staticmethod
    def restore(saved: dict[str, Any]) -> Memory:
        lists = saved.get("lists", {})
        return Memory({str(k): [str(v) for v in vs] for k, vs in lists.items()}, saved.get("consent"))


class Stage:
    """The narrow interface a step performs against: built by the session, easy to build in a test."""

    def __init__(self, conv: Conversation, exercise: Exercise, names: Names, *, events: EventLog | None = None,
                 record: Record | None = None, memory: Memory | None = None,
                 observe_turn: Callable[[int], TurnObserver | None] | None = None,
                 turns: TurnHooks | None = None, told: set[str] | None = None) -> None:
        self.conv = conv
        self.exercise = exercise
        self.names = names
        self.texts = Texts(conv.vocab, names)
        self.timing: Timing = exercise.timing
        self.events = events
        self.record = record or Record(None)
        self.memory = memory or Memory()
        self.turns = turns
        # whose turn (a partner's number) -> an observer of its audio
        self.observe_turn = observe_turn or (turns.watch if turns is not None else None)
        self.watched: list[tuple[str, int, object]] = []  # (step, whose turn, the observer's summary)
        self._unkept: list[tuple[str, int, object]] = []  # watched turns of steps not completed yet
        self._unkept_turns: list[tuple[str, str, float]] = []  # (step, speaker, seconds) of steps not completed yet
        self.last_prompt = ""
        self.paused_since: float | None = None  # clock time a pause began; None while going on
        # What the couple was told once per visit ("klaar" on its own ends a turn), shared by its exercises.
        self.told: set[str] = told if told is not None else set()

    def turn_watched(self, step: str, speaker: int, summary: object) -> bool:
        """A watched turn ended: kept for its step; True when the listener gets a gentle word now."""
        self.watched.append((step, speaker, summary))
        self._unkept.append((step, speaker, summary))
        return self.turns is not None and self.turns.after_turn(speaker, summary)

    def turn_ended(self, step: str, speaker: str, seconds: float) -> None:
        """A turn's length, kept with its step (keep_turns)."""
        self._unkept_turns.append((step, speaker, seconds))

    def keep_turns(self, step: str) -> None:
        """The step is completed: its turns, and how long each spoke in them, go into the journal, in the
        same transaction as the step's completion and the next progress. A step redone after a resume was
        never kept, so its turns are not counted twice."""
        for done, name, seconds in self._unkept_turns:
            if done == step:
                self.record.turn(step, name, seconds)
        self._unkept_turns = [t for t in self._unkept_turns if t[0] != step]
        mine = [w for w in self._unkept if w[0] == step]
        self._unkept = [w for w in self._unkept if w[0] != step]
        totals, interrupted = {1: 0.0, 2: 0.0}, {1: 0, 2: 0}
        attributed = False
        for _, speaker, summary in mine:
            spoken = getattr(summary, "spoken", None)
            if spoken is None or speaker not in (1, 2):
                continue
            for partner, seconds in spoken().items():
                totals[partner] += seconds
            interrupted[3 - speaker] += len(getattr(summary, "interruptions", ()))  # the listener talked over it
            attributed = attributed or bool(getattr(summary, "attributed", False))
        if mine:
            self.record.speaking(step, {self.names.of(p): (totals[p], interrupted[p]) for p in (1, 2)}, attributed)

    @property
    def clock(self) -> Clock:
        return self.conv.clock

    @property
    def vocab(self) -> Vocabulary:
        return self.conv.vocab

    def say(self, text: str, remember: bool = True) -> None:
        """Say `text`; "herhaal" says the last remembered one again (a step's prompt, not a reprompt)."""
        if remember:
            self.last_prompt = text
        self.conv.say(text)

    def ask(self, text: str) -> None:
        """A step's question (engine/ask.py): remembered for "herhaal"."""
        self.say(text)

    def tell(self, text: str) -> None:
        """A reprompt: said once, not what "herhaal" repeats."""
        self.say(text, remember=False)

    def chime(self, kind: str) -> None:
        self.conv.chime(kind)

    def emit(self, kind: str, **fields: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, **fields)

    def listen(self, answers: Sequence[str], seconds: float, *, turn: bool = False, record: bool = False,
               new_phase: bool = True) -> Heard:
        """Listen for `answers` and every command whose words no answer uses."""
        return self.conv.listen(self.listenable(answers, turn), seconds, turn=turn, record=record,
                                new_phase=new_phase)

    def listenable(self, answers: Sequence[str], turn: bool = False) -> list[str]:
        """The answers (list items too: "item:rust"), then the commands whose words no answer uses.

        "veiligheid" is a value and the safety command: while values are asked for, the value wins.
        """
        vocab = self.vocab
        extra = (["done"] if turn else []) + list(COMMANDS)
        keep = list(dict.fromkeys(i for i in answers if i in vocab.intents or ":" in i))
        taken = set(vocab.phrase_map(keep))
        return keep + [i for i in extra if i in vocab.intents and i not in keep and not taken & set(vocab.intents[i])]

    def words(self, intents: Sequence[str]) -> str:
        """What to say to mean these intents: "klopt, klopt niet of herhaal"."""
        vocab = self.vocab
        return join([vocab.first(i) if i in vocab.intents else next(iter(vocab.phrase_map([i])), i)
                     for i in intents], alternatives=True)

    def help_for(self, answers: Sequence[str], turn: bool = False) -> str:
        """The words that do something now: not "help" itself, "verder" only in a pause, and in a turn
        neither "waarom" (not listened for there) nor the answers of a question."""
        idle = {"help", "why"} if turn else {"help"}
        if self.paused_since is None:
            idle.add("resume")
        useful = [i for i in self.listenable(answers, turn) if i not in idle]
        return self.texts.get("help", woorden=self.words(useful))

    def pause(self) -> None:
        """Nothing works for now: pause, so they can take their time ("verder" goes on)."""
        self.paused_since = self.clock.now()

    def fill(self, text: str, step: Step, **extra: Any) -> str:
        return self.texts.fill(text, step.speaker, **extra)
