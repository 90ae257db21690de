"""Other orders of answers: every built-in exercise and the menu, driven by a seeded random couple.

The couple types (text mode: the real engine, state machines, journal and coach, without audio) whatever
people may say at any question: every intent of the vocabulary wherever it is, silence, unclear talk, values,
the same answer many times, "stop" and "pauze" at odd moments, a Ctrl-C between two answers; and after a
stop, `resume` (or the menu's "verder gaan?"). After some random answers it answers sensibly, so every
sequence must end. What must hold for every sequence is checked in `_check`. A failure names its seed:
`_check(drive(seed, tmp_path))` replays it exactly.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_properties import SETTINGS
from voicecoach.clock import SimClock
from voicecoach.coach import Coach
from voicecoach.device.wallclock import SimWallClock
from voicecoach.engine.exercise import available, load_exercise
from voicecoach.engine.machine import END, STOPPED, entry_state, split_state
from voicecoach.engine.texts import Names, Texts
from voicecoach.events import EventLog
from voicecoach.journal import Journal
from voicecoach.settings import Exercises, Settings
from voicecoach.speech.vocab import load_vocabulary
from voicecoach.voice import TextConversation

NL = load_vocabulary()
TEXTS = Texts(NL, Names("Sanne", "Joris"))
SAFETY = TEXTS.get("safety")
KEPT = TEXTS.common["kept"]
SAFETY_WORDS = set(NL.intents["safety"])
ANOTHER = TEXTS.get("another").split("?")[0]
EXERCISES = sorted(available())
# Every phrase of every intent: what may be said, valid at that moment or not.
PHRASES = sorted({p for phrases in NL.intents.values() for p in phrases})
VALUES = sorted(NL.lists["values"])
OTHER = ["", "", "hmm", "appel", "ik weet het niet", "Ik voel me moe als de avond vol zit", "Elke zondag wandelen"]
# Answers wanted often, so the random part also gets far into an exercise.
LIKELY = ["ja", "klopt", "nee", "klopt niet", "stop", "pauze", "verder", "veiligheid", "herhaal", "waarom", "help",
          "time-out", "een beetje", "laat maar", "klaar"]
RANDOM_ANSWERS = 40  # per visit at most, then the couple answers sensibly
SENSIBLE_ANSWERS = 400  # more than any exercise needs from start to end (with the menu and follow-ups)
MAX_VISITS = 5


class Endless(BaseException):
    """The session did not end within the answers a cooperative couple gives (not an Exception: nothing catches it)."""


class Couple(io.TextIOBase):
    """The keyboard: random answers first, then sensible ones for what is listened for now."""

    def __init__(self, rng: random.Random, events: EventLog, random_answers: int, interrupt_at: int | None) -> None:
        self.rng, self.events = rng, events
        self.random_answers, self.interrupt_at = random_answers, interrupt_at
        self.n = 0
        self.last = ""
        self.turn_verder = False  # in a turn (or a pause) the sensible couple says "verder", then talks

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.n += 1
        if self.n == self.interrupt_at:
            raise KeyboardInterrupt  # Ctrl-C while it listens
        if self.n > self.random_answers + SENSIBLE_ANSWERS:
            raise Endless(f"still going after {self.n} answers")
        listening = self.events.of("listening")[-1]
        line = self._random() if self.n <= self.random_answers else self._sensible(listening)
        self.last = line
        return line + "\n"

    def _random(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            self.events.clock.sleep(rng.choice([30.0, 300.0, 1500.0, 3600.0]))  # a long silence: timers run out
            return ""
        if roll < 0.2:
            return self.last  # the same answer again, and again
        if roll < 0.45:
            return rng.choice(LIKELY)
        if roll < 0.65:
            return rng.choice(PHRASES)
        if roll < 0.8:
            value = rng.choice(VALUES)
            return value if rng.random() < 0.7 else f"verander {value}"
        return rng.choice(OTHER)

    def _sensible(self, listening: dict[str, Any]) -> str:
        intents = listening["intents"]
        prompts = self.events.of("prompt")
        if listening["turn"]:
            # "verder" ends a pause or a time-out (in a turn it does nothing); then a sentence ends the turn.
            self.turn_verder = not self.turn_verder
            return "verder" if self.turn_verder else "Ik voel me blij als we samen eten"
        if prompts and prompts[-1]["text"].startswith(ANOTHER):
            return "nee"  # one more exercise, for ever, would never end
        for intent in ("confirm", "right", "done"):
            if intent in intents:
                return NL.first(intent)
        items = [i.partition(":")[2] for i in intents if i.startswith("item:")]
        if items:
            return self.rng.choice(items)
        choices = [i for i in intents if i.startswith("ex_")]
        if choices:
            return NL.first(self.rng.choice(choices))
        return NL.first(next(i for i in intents if i in NL.intents))


@dataclass
class Visit:
    mode: str  # "named", "resume", "menu"
    outcome: str
    first: int  # index of its first event
    last: int
    saved: Any = None  # the progress in the journal after it
    saved_before: Any = None


@dataclass
class Run:
    events: EventLog
    journal: Path
    out: str
    visits: list[Visit] = field(default_factory=list)

    def log(self, visit: Visit | None = None) -> list[dict[str, Any]]:
        events = self.events.events
        return events if visit is None else events[visit.first:visit.last]


def drive(seed: int, tmp: Path) -> Run:
    """A few visits of one couple, from a named exercise (or the menu) to its end, stops and resumes between."""
    rng = random.Random(seed)
    clock = SimClock()
    events = EventLog(clock, keep=10**7)
    wall = SimWallClock(dt.datetime(2026, 3, 2, 20, 0))
    path = tmp / f"journal-{seed}.sqlite3"
    menu = rng.random() < 0.4  # visits from the menu, as `voicecoach` alone: follow-ups, "verder gaan?"
    named = None if menu else rng.choice(EXERCISES)
    out = io.StringIO()
    run = Run(events, path, "")
    with Journal(path, wall=wall) as journal:
        for n in range(MAX_VISITS):
            saved_before = journal.load_progress()
            if n and not menu and saved_before is None:
                break
            calm = n == MAX_VISITS - 1  # the last visit: only sensible answers, it must complete
            answers = 0 if calm else rng.randrange(RANDOM_ANSWERS)
            interrupt = None if calm or rng.random() < 0.7 else rng.randrange(1, answers + 2)
            couple = Couple(rng, events, answers, interrupt)
            conv = TextConversation(NL, clock, events, couple, out)
            coach = Coach(conv, events, journal, Exercises(Settings()), lambda line: out.write(line + "\n"))
            mode = "menu" if menu else "named" if n == 0 else "resume"
            first = len(events.events)
            try:
                outcome = coach.visit(named if mode == "named" else None, resume=mode == "resume",
                                      names="Sanne,Joris" if mode == "named" else None)
            except KeyboardInterrupt:
                outcome = "interrupted"
            run.visits.append(Visit(mode, outcome, first, len(events.events), journal.load_progress(), saved_before))
            if rng.random() < 0.5:
                wall.jump(24 * 3600)  # the next visit a day later: its agreements are followed up (menu)
    run.out = out.getvalue()
    return run


# -- what must hold -----------------------------------------------------------------------------------


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def _completed(log: list[dict[str, Any]]) -> tuple[Counter[str], Counter[tuple[str, str, float]]]:
    """The steps completed (left by their machine, not by a stop or a Ctrl-C), and the turns they keep."""
    done: Counter[str] = Counter()
    kept: Counter[tuple[str, str, float]] = Counter()
    step: str | None = None
    pending: list[tuple[str, str, float]] = []
    for e in log:
        if e["event"] == "session_started":
            step, pending = None, []
        elif e["event"] == "state":
            now = split_state(e["state"])[0]
            if step is not None and now != step and e["state"] != STOPPED:
                done[step] += 1
                kept.update(pending)
            if now != step:
                pending = []
            step = now
        elif e["event"] == "turn_ended" and step is not None:
            pending.append((step, e["speaker"], round(e["seconds"], 2)))
    return done, kept


def _where_stopped(log: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(exercise, state a resume must start at) of the visit's last session that did not complete."""
    started = [e for e in log if e["event"] == "session_started"]
    states = [e["state"] for e in log if e["event"] == "state" and e["state"] != STOPPED]
    if not started or not states or states[-1] == END:
        return None
    exercise = load_exercise(started[-1]["exercise"])
    step = exercise.step(split_state(states[-1])[0])
    if step.extra.get("resume"):  # "neem eerst afstand" is not where a couple coming back goes on
        step = exercise.step(str(step.extra["resume"]))
    return exercise.name, entry_state(step)  # the step from its beginning: a half-mirrored message again


def _check(run: Run) -> None:
    log = run.log()
    # It ended: the last visit completed its exercise, or left the menu with nothing unfinished.
    last = run.visits[-1]
    assert last.outcome in ("completed", "left") and last.saved is None, last
    assert "Traceback" not in run.out
    assert len([e for e in log if e["event"] == "prompt"]) < 2000
    assert all(outcome is not None for (outcome,) in _rows(run.journal, "SELECT outcome FROM sessions"))

    # Every completed step, and every turn of one, is in the journal once; nothing of a step that was cut off.
    steps, turns = _completed(log)
    assert Counter(s for (s,) in _rows(run.journal, "SELECT step FROM steps")) == steps
    journal = Counter((s, p, round(x, 2)) for s, p, x in _rows(run.journal, "SELECT step, speaker, seconds FROM turns"))
    assert journal == turns

    # Every agreement, goal, sentence, gratitude and value list said to be kept is in the journal exactly once.
    kept = Counter(e["event"] for e in log if e.get("kept") is True)
    agreements = _rows(run.journal, "SELECT COUNT(*) FROM agreements")[0][0]
    assert agreements == kept["agreement"]
    goals = _rows(run.journal, "SELECT term, COUNT(*) FROM goals GROUP BY term")
    assert dict(goals) == {t: n for t, n in (("kort", kept["short_goal"]), ("lang", kept["long_goal"])) if n}
    sentences = _rows(run.journal, "SELECT COUNT(*) FROM shared_values WHERE sentence IS NOT NULL"
                                   " OR session_id IN (SELECT session_id FROM sentence_recordings)")[0][0]
    assert sentences == kept["sentence"]
    gratitude = sorted(_rows(run.journal, "SELECT partner, count FROM gratitude"))
    assert gratitude == sorted((e["partner"], e["count"]) for e in log if e["event"] == "gratitude")
    confirmed = [(e["partner"], e["values"]) for e in log if e["event"] == "values_confirmed"]
    shared = sorted(json.loads(items) for (items,) in _rows(run.journal, "SELECT items FROM shared_values"))
    assert shared == sorted(values for partner, values in confirmed if partner == "samen")
    for partner, items in _rows(run.journal, "SELECT partner, items FROM partner_values"):
        assert (partner, json.loads(items)) in confirmed
    follow_ups = Counter(h for (h,) in _rows(run.journal, "SELECT follow_up FROM agreements WHERE follow_up IS NOT NULL"))
    assert follow_ups == Counter(e["how"] for e in log if e["event"] == "follow_up" and e["how"])
    if kept["agreement"] or kept["short_goal"] or kept["long_goal"] or kept["sentence"]:
        assert any(e["event"] == "consent" and e["given"] for e in log)  # only ever with their consent
    for i, e in enumerate(log):  # "Jullie afspraken zijn bewaard" only after something was
        if e["event"] == "prompt" and KEPT in e["text"]:
            assert any(x.get("kept") is True for x in log[:i])

    # After a stop (or Ctrl-C), `resume` goes on at the step that was cut off: not before it, not after it.
    for before, visit in zip(run.visits, run.visits[1:], strict=False):
        stopped = _where_stopped(run.log(before))
        if before.outcome not in ("stopped", "interrupted") or stopped is None or visit.saved_before is None:
            continue
        assert (visit.saved_before.exercise, visit.saved_before.state) == stopped
        started = [e for e in run.log(visit) if e["event"] == "session_started"]
        if visit.mode == "resume":
            assert started and (started[0]["exercise"], started[0]["state"]) == stopped

    # "veiligheid" is the safety note again wherever it is heard (while values are named it is a value).
    for i, e in enumerate(log):
        if e["event"] == "heard" and (e["intent"] == "safety" or e["phrase"] in SAFETY_WORDS and e["intent"] is None):
            said = next(p["text"] for p in log[i:] if p["event"] == "prompt")
            assert said == SAFETY, said


# A case is a few whole visits: a third of the other properties' examples keeps the default run short.
@settings(SETTINGS, max_examples=max(10, (SETTINGS.max_examples or 300) // 3))
@given(st.integers(0, 2**32 - 1))
def test_any_order_of_answers_ends_and_keeps_everything_once(tmp_path_factory, seed):  # type: ignore[no-untyped-def]
    _check(drive(seed, tmp_path_factory.mktemp("orders")))

