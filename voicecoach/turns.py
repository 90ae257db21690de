"""Turn awareness in a visit: the couple's consent to a voice profile, learning it from their first turns,
watching every timed turn, one gentle word after a turn the listener talked over, and how long each spoke.

The profile is biometric data: it is made only after both partners said yes (each asked by name), kept
owner-only in the data folder (`speakers.profile_path()`), removed by `voicecoach forget`, and never logged.
Refused, nothing of their voices is kept and no remark is made; how long each spoke is still measured,
by voice activity in each partner's own turns.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach import name_clips
from voicecoach.audio.pcm import RATE, Audio, resample
from voicecoach.audio.sources import Chunk
from voicecoach.engine import placeholders
from voicecoach.engine.ask import Asking
from voicecoach.engine.texts import load_common
from voicecoach.errors import StorageError, UserError
from voicecoach.paths import data_dir, private_dir, write_atomically
from voicecoach.settings import Settings
from voicecoach.speech.speakers import ProfileError, SpeakerProfile, profile_path
from voicecoach.speech.turn_watch import TurnSummary, TurnWatch, energy_vad
from voicecoach.tomlfile import TextFileMissing, TextFileProblem, read_text

log = logging.getLogger(__name__)

CONSENT_FILE = "voice-consent.json"
# Seconds of each partner's voice learned from before a profile is made (the benchmark enrolls on about 10 s,
# measured on held-out voices; 2 s is the least the profile accepts).
ENROLL_SECONDS = 8.0


@dataclass(frozen=True)
class TurnSettings:
    """config.toml [turns]: `remarks = false` turns the word after an interrupted turn off,
    `speaking_time = false` the sentence at the end of an exercise."""

    remarks: bool = True
    speaking_time: bool = True

    @staticmethod
    def of(settings: Settings) -> TurnSettings:
        return TurnSettings(**{k: bool(v) for k, v in settings.turns.items()})


def consent_path() -> Path:
    return data_dir() / CONSENT_FILE


def load_consent() -> bool | None:
    """Both said yes (True), it was refused (False), or they were never asked (None)."""
    try:
        given = json.loads(read_text(consent_path())).get("voice_profile")
    except TextFileMissing:
        return None
    except (TextFileProblem, ValueError, AttributeError):
        return None  # unreadable: ask again rather than assume a yes
    return given if isinstance(given, bool) else None


def save_consent(given: bool) -> None:
    """Their answer, owner-only and whole; a refusal also removes any profile made before, and the first
    names they recorded in their own voices (name_clips.py: kept only with this consent)."""
    path = consent_path()
    try:
        private_dir(path.parent)
        write_atomically(path, json.dumps({"voice_profile": given}))
    except OSError as exc:
        raise StorageError(f"Your answer about the voice profile could not be saved in {path.parent} "
                           f"({exc.strerror or exc}).", "Free some disk space; nothing else was lost.") from None
    if not given:
        with contextlib.suppress(FileNotFoundError):
            profile_path().unlink()
        name_clips.remove()


def spoken_duration(seconds: float, common: dict[str, Any] | None = None) -> str:
    """A duration as people say it, to half a minute: "anderhalve minuut", "twee minuten" (_common.toml [turns])."""
    said = common or load_common()
    halves = int(seconds / 30 + 0.5)
    if halves == 0:
        return str(said["turns.under_half"])
    if halves <= 3:
        return str(said[("turns.half", "turns.one", "turns.one_and_half")[halves - 1]])
    key = "turns.minutes_and_half" if halves % 2 else "turns.minutes"
    # a part of "Sanne sprak ongeveer twee minuten": no capital of its own
    return placeholders.fill(str(said[key]), {"aantal": _number(halves // 2, said)}, sentence=False)


def _number(n: int, said: dict[str, Any]) -> str:
    """1..99 as a Dutch word ("vijfentwintig", "tweeëntwintig"); larger numbers as digits."""
    numbers, tens = said["turns.numbers"], said["turns.tens"]
    if n < len(numbers):
        return str(numbers[n])
    if n >= 100:
        return str(n)
    unit, ten = str(numbers[n % 10]), str(tens[n // 10])
    if n % 10 == 0:
        return ten
    return f"{unit}{'ën' if unit.endswith('e') else 'en'}{ten}"


@dataclass
class Enrollment:
    """Each partner's voice from their own turns, in memory only, until there is enough to learn it."""

    seconds: float = ENROLL_SECONDS
    voice: dict[int, list[np.ndarray]] = field(default_factory=lambda: {1: [], 2: []})

    def heard(self, partner: int) -> float:
        return sum(len(x) for x in self.voice[partner]) / RATE

    def add(self, partner: int, chunk: Chunk) -> None:
        if self.heard(partner) < self.seconds:
            samples = chunk.samples if chunk.rate == RATE else resample(chunk.samples, chunk.rate, RATE)
            self.voice[partner].append(samples)

    def ready(self) -> bool:
        return all(self.heard(p) >= self.seconds for p in (1, 2))

    def clips(self) -> list[list[Audio]]:
        return [[Audio(np.concatenate(self.voice[p]))] if self.voice[p] else [] for p in (1, 2)]


class _Observer:
    """Watches one turn (speech/turn_watch.TurnWatch) and, while the profile is being learned, keeps the
    speaker's voice for it."""

    def __init__(self, awareness: TurnAwareness, speaker: int) -> None:
        self.awareness = awareness
        self.speaker = speaker
        self.watch = TurnWatch(speaker, awareness.profile)
        self.learning = awareness.learning()

    def feed(self, chunk: Chunk) -> None:
        voice = bool(self.watch.vad(chunk))
        self.watch.feed(chunk, voice)
        if voice and self.learning:
            self.awareness.enrollment.add(self.speaker, chunk)

    def summary(self) -> TurnSummary:
        summary = self.watch.summary()
        if self.learning:
            self.awareness.learn()
        return summary


class TurnAwareness:
    """Everything turn awareness keeps for one visit; `exercise()` gives the hooks for one exercise."""

    def __init__(self, settings: TurnSettings, consent: bool | None = None, profile: SpeakerProfile | None = None,
                 notice: Callable[[str], None] | None = None, enroll_seconds: float = ENROLL_SECONDS) -> None:
        self.settings = settings
        self.consent = consent
        self.profile = profile if consent else None
        self.notice = notice or (lambda line: None)
        self.enrollment = Enrollment(enroll_seconds)
        self.remarks = settings.remarks

    @staticmethod
    def load(settings: TurnSettings, notice: Callable[[str], None] | None = None) -> TurnAwareness:
        """As the couple left it: their answer, and their profile if they said yes (a damaged one is learned again)."""
        consent = load_consent()
        profile = None
        if consent and profile_path().exists():
            try:
                profile = SpeakerProfile.load(profile_path())
            except ProfileError as exc:
                if notice is not None:
                    notice(f"{exc.message} It is learned again from your first turns.")
        return TurnAwareness(settings, consent, profile, notice)

    def ask_consent(self, asking: Asking, say: Callable[[str], None]) -> None:
        """May voicecoach learn their voices? Each partner by name; yes only when both say yes.

        Asked in `voicecoach check`, the moment the couple sets voicecoach up for their voices: a question
        inside a visit would stand between them and the exercise they came for."""
        texts = asking.texts
        say(texts.get("turns.consent_intro"))
        self.consent = asking.both_yes("turns.consent")
        save_consent(self.consent)
        say(texts.get("turns.consent_yes" if self.consent else "turns.consent_no"))

    def learning(self) -> bool:
        return bool(self.consent) and self.profile is None

    def learn(self) -> None:
        """Enough of both voices heard: make the profile and keep it (owner-only); the rest is forgotten."""
        if not self.learning() or not self.enrollment.ready():
            return
        try:
            profile = SpeakerProfile.fit(self.enrollment.clips())
        except ProfileError:
            return  # too little real voice in it yet: their next turns add more
        self._keep(profile)
        self.profile = profile
        self.enrollment = Enrollment(self.enrollment.seconds)
        log.info("voice profile learned")  # never anything of it

    def adopt(self, profile: SpeakerProfile) -> None:
        """A profile learned elsewhere (`voicecoach check`), with their consent: kept and used from now on."""
        if self.consent:
            self._keep(profile)
            self.profile = profile

    @staticmethod
    def _keep(profile: SpeakerProfile) -> None:
        try:
            profile.save(profile_path())
        except OSError as exc:
            raise StorageError(f"Your voice profile could not be saved in {profile_path().parent} "
                               f"({exc.strerror or exc}).", "Free some disk space; nothing else was lost.") from None

    def watch(self, speaker: int) -> _Observer | None:
        """An observer for one timed turn; a turn they take together is not watched."""
        return _Observer(self, speaker) if speaker in (1, 2) else None

    def quiet(self) -> None:
        """ "geen opmerkingen": no more remarks, now and in later sessions (config.toml [turns] remarks)."""
        from voicecoach.device.config_file import write_setting

        self.remarks = False
        try:
            write_setting("turns", "remarks", False)
        except UserError as exc:
            self.notice(f"{exc.message} No remarks for the rest of this visit.")

    def exercise(self) -> ExerciseTurns:
        return ExerciseTurns(self)


class ExerciseTurns:
    """The hooks one exercise's turns use (engine/stage.TurnHooks): at most one remark per exercise."""

    def __init__(self, awareness: TurnAwareness) -> None:
        self.awareness = awareness
        self.remarked = False

    def watch(self, speaker: int) -> _Observer | None:
        return self.awareness.watch(speaker)

    def after_turn(self, speaker: int, summary: object) -> bool:
        """Whether the listener gets the gentle word now: they talked over this turn, with a profile to tell
        them apart, remarks on, and none yet in this exercise."""
        if self.remarked or not self.awareness.remarks or not isinstance(summary, TurnSummary):
            return False
        if not summary.attributed or not summary.interruptions:
            return False
        self.remarked = True
        return True

    def quiet(self) -> None:
        self.awareness.quiet()


class VoiceCollector:
    """Shown the microphone's chunks during `voicecoach check` (audio/sources.Tap): keeps the voice of the
    partner being calibrated, in memory, never our own prompt's echo."""

    ECHO_SECONDS = 0.35  # as the listener's self-hearing guard

    def __init__(self, spoke_until: Callable[[], float | None]) -> None:
        self.spoke_until = spoke_until
        self.partner = 1
        self.enrollment = Enrollment(seconds=60.0)
        self._vad = energy_vad()

    def each(self, items: Sequence[str]) -> Iterator[tuple[int, str]]:
        """Partner 1's item, then partner 2's: what is heard meanwhile is that partner's voice."""
        for self.partner, item in enumerate(items, 1):
            yield self.partner, item

    def __call__(self, chunk: Chunk) -> None:
        until = self.spoke_until()
        if until is not None and chunk.t0 < until + self.ECHO_SECONDS:
            return
        if self._vad(chunk):
            self.enrollment.add(self.partner, chunk)


def learn_from_check(collector: VoiceCollector, asking: Asking, say: Callable[[str], None],
                     settings: TurnSettings) -> str:
    """After the calibration: with both partners' yes, their profile from what they just said. Returns a line
    for the screen (never anything of the voices)."""
    awareness = TurnAwareness.load(settings)
    if awareness.consent is not True:  # `check` is their own choice to be learned: asked (again) here
        awareness.ask_consent(asking, say)
    if not awareness.consent:
        return "No voice profile was kept (not both said yes)."
    try:
        profile = SpeakerProfile.fit(collector.enrollment.clips())
    except ProfileError:
        return "Too little of your voices to learn them here; voicecoach learns them in your first turns."
    awareness.adopt(profile)
    return f"Your voice profile was kept in {profile_path()} (owner-only; `voicecoach forget` removes it)."
