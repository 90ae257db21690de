"""Whether an utterance heard while waiting was the wake phrase: its own rule, not the answers' one.

The answers' rule (speech/decide.py) is made for one short word. On the tuning voices (scripts/
bench_wake.py --split tuning, and the per-item diagnosis in the README) every missed wake phrase had
been found and decoded, as the wake phrase or next to it, and then rejected by a rule of answers:
the grammar slipped in an extra word ("네 다시 계속", "다시 계속 알림": no phrase matches), or the
sureness, which counts a long utterance against an answer, put a two-word phrase below "sure"
("nearly sure" asks back in an exercise; while waiting there is nobody to ask).

A sure yes of the answers' rule stays a yes, as long as the wake phrase explains the sound at least as
well as the everyday words do (`sure_margin`, below). Otherwise the wake rule asks two questions of the
two decodes the listener makes anyway:

1. is the wake phrase one of the phrase grammar's readings, within `max_gap` of its best one (an
   extra grammar word beside it does not hide it);
2. does that reading explain the sound (per second, by `min_margin`) about as well as the garbage
   grammar, which here holds the wake phrase's words *as separate words* among the everyday ones?
   Talk that holds a wake word ("다시 기다려요") is explained better by that word and others; the
   wake phrase said on its own is explained best by the phrase.

Why the answers' rule alone is not enough while waiting: its sureness was fitted on answers to a question
just asked, and a short utterance counts for an answer there. While waiting no question is pending, so a
short sentence of talk that the phrase grammar reads as the wake phrase, but everyday words explain
better, must not wake it (on talk of the tuning voices, 3 of 16 false wakes in two hours; the wake phrase
said by those voices lost 2 of 168). `quiet_allowed` holds "niet luisteren" to the same bar.

The levels the answers' rule checks (too noisy, too little voice, a word not voiced) still reject.
Nothing more is decoded and no audio is kept for it. Tried on the tuning voices and dropped: a free
decode without a grammar (it heard the synthetic wake phrase in 1 of 80), and both words among the
garbage words with a per-word confidence (44 of 81 heard), and a third decode with the wake phrase
alone in place of the phrase grammar's reading (a little worse, and more to compute).

**Their own wake phrase.** After `voicecoach check` (with both partners' yes to learning their voices) each has
said the wake phrase three times, and its shapes are kept (own_answers.py, no audio). Then the recognizer's word
no longer suffices: every utterance heard while waiting is compared with their sayings by dynamic time warping,
in units of how alike their own sayings are (`OwnAnswers.apart`). Near enough on its own (`alone`), or near
enough and the wake rule above says yes (`with_words`), it wakes; otherwise it does not, whatever the words.
A television, a guest or a sentence with "hallo" in it is not their wake phrase; the button still wakes it for
anyone. Chosen on the tuning voices (160 wake phrases, half under a cooker hood; 2 hours 10 minutes of talk,
the couple saying half of it): the rule of the words alone heard 66 clean and 56 under the hood of 80 each and
woke 7 times on the talk; with their own wake phrase 80 and 59, and not once (the nearest talk was 2.7 units
apart, the nearest the rule of the words said yes to 3.05). README, "How well it wakes".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicecoach.speech.decide import Heard
from voicecoach.speech.own_answers import OwnAnswers
from voicecoach.speech.recognizer import Reading, Recognizer
from voicecoach.speech.vocab import normalize

LEVEL_REJECTS = ("too noisy", "too little voice", "a word was not voiced", "audio lost", "too long", "unknown words")
"""The answers' rule's own reasons that say the sound, not the words, was not sure: a wake is not either."""


@dataclass(frozen=True)
class WakeRule:
    """Chosen on the tuning voices (81 wake phrases, 10 minutes of talk full of near misses): at a margin
    of 2 per second 2 of 258 talk utterances woke it (at -2: 4, and on the benchmark's mixed talk 5 in
    10 minutes, all with margins from -1.6 to 1.4); scripts/bench_wake.py measures it on held-out voices."""

    max_gap: float = 1.5  # the wake reading's score may trail the phrase grammar's best reading by this much
    min_margin: float = 2.0  # (wake reading - garbage with the wake words apart) per second of audio
    sure_margin: float = 0.0  # the same, when the answers' rule is sure: never below the everyday words
    alone: float = 2.0  # their own wake phrase: this near to their sayings wakes it (OwnAnswers.apart) ...
    with_words: float = 2.75  # ... and this near when the rule above also says yes


@dataclass(frozen=True)
class WakeVerdict:
    """Whether it was the wake phrase, and the rule that said no (never what was said)."""

    wake: bool
    reason: str = ""
    margin: float | None = None
    words: bool | None = None  # with their own wake phrase: what the rule of the words alone said


class WakeEar:
    """The waiting listener's recognizer: the usual two decodes, with the wake phrase's words added to
    the garbage grammar, and the last reading kept until `check` decides about the wake phrase."""

    def __init__(self, inner: Recognizer, wake_phrase: str, rule: WakeRule | None = None,
                 theirs: OwnAnswers | None = None) -> None:
        self.inner = inner
        self.wake = normalize(wake_phrase)
        self.rule = rule or WakeRule()
        self.theirs: OwnAnswers | None = None
        self.learn(theirs)
        self._listening_for_wake = False
        self._last: Reading | None = None

    def learn(self, theirs: OwnAnswers | None) -> None:
        """Their own sayings of the wake phrase, if the check learned them for this phrase (not another one);
        None: the words decide, as for anyone."""
        self.theirs = theirs if theirs is not None and theirs.knows("wake", self.wake) else None

    def set_grammar(self, phrases: list[str], garbage: list[str] | None = None, broad: bool = False) -> None:
        self._listening_for_wake = self.wake in (normalize(p) for p in phrases)
        if self._listening_for_wake and garbage is not None:
            garbage = sorted({*garbage, *self.wake.split()})
        self.inner.set_grammar(phrases, garbage, broad)
        self._last = None

    def accept(self, pcm: bytes) -> None:
        self.inner.accept(pcm)

    def partial(self) -> str:
        return self.inner.partial()

    def final(self) -> Reading:
        self._last = self.inner.final()
        return self._last

    def has_word(self, word: str) -> bool:
        return self.inner.has_word(word)

    def reread(self, phrases: list[str], garbage: list[str]) -> Reading:
        return self.inner.reread(phrases, garbage)

    def check(self, heard: Heard, said: np.ndarray | None = None) -> WakeVerdict:
        """Did the utterance `heard` come from the wake phrase? (`said`: its audio, needed when `theirs`.)"""
        reading, self._last = self._last, None
        if reading is None or not self._listening_for_wake or heard.kind not in ("intent", "check", "unclear"):
            return WakeVerdict(False, "no utterance")
        verdict = judge_wake(reading, heard.reason, self.wake, self.rule)
        if not verdict.wake and heard.kind == "intent" and heard.intent == "wake":
            if verdict.margin is not None and verdict.margin >= self.rule.sure_margin:
                verdict = WakeVerdict(True, "the answers' rule is sure", verdict.margin)
        if self.theirs is None:
            return verdict
        if said is None or heard.reason in ("audio lost", "too long"):
            return WakeVerdict(False, "not compared with their own wake phrase", verdict.margin, verdict.wake)
        apart = self.theirs.apart(said, "wake")
        if apart <= self.rule.alone or (verdict.wake and apart <= self.rule.with_words):
            return WakeVerdict(True, "their own wake phrase", verdict.margin, verdict.wake)
        return WakeVerdict(False, "not like their own wake phrase", verdict.margin, verdict.wake)


def quiet_allowed(heard: Heard, rule: WakeRule | None = None) -> bool:
    """Whether "niet luisteren", decided by the answers' rule while waiting, explains the sound at least as
    well as the everyday words (its garbage ratio): the wake phrase's `sure_margin` bar. On talk of the
    tuning voices 2 of 4 false ones in two hours fell below it; "niet luisteren" said lost 1 of 168.
    (Not the reminder's one word: said on its own it fell below the bar in a quarter of the tries.)"""
    rule = rule or WakeRule()
    return heard.ratio is not None and heard.ratio >= rule.sure_margin


def judge_wake(reading: Reading, reason: str, wake: str, rule: WakeRule) -> WakeVerdict:
    """The rule itself, on one reading (`reason`: what the answers' rule said of it)."""
    if reason in LEVEL_REJECTS:
        return WakeVerdict(False, reason)
    if not reading.answers:
        return WakeVerdict(False, "no words")
    scores = [h.score for h in reading.answers if normalize(h.text) == wake]
    if not scores or reading.answers[0].score - scores[0] > rule.max_gap:
        return WakeVerdict(False, "not read as the wake phrase")
    if reading.garbage is None:
        return WakeVerdict(False, "no garbage reading")  # nothing to hold it against: never sure
    margin = (scores[0] - reading.garbage) / max(reading.seconds, 0.2)
    if not margin >= rule.min_margin:  # NaN is never sure
        return WakeVerdict(False, "its words apart explain it better", margin)
    return WakeVerdict(True, margin=margin)
