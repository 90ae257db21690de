"""Turn awareness: how long each partner spoke in a turn, its pauses, and where the listener talked over it.

A TurnWatch is fed the 20 ms chunks of one timed turn whose speaker is known.
It never acts during the turn; `summary()` reports at the end. With a voice
profile each second of voice is given to a partner (or "not sure") and the
listener speaking for a while (not a "mm", a laugh, a cough or a word) is
noted as an interruption. Without one (consent refused) it measures the voice
in the turn and attributes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voicecoach.audio.pcm import RATE, resample, rms_dbfs
from voicecoach.audio.sources import Chunk
from voicecoach.speech.speakers import BOTH, CLASSES, MIN_PERIODICITY, SpeakerProfile
from voicecoach.speech.vad import EnergyVad
from voicecoach.speech.voice_features import FRAME, frame_features

# Is there voice in this chunk? The one seam for the voice-activity decision.
Vad = Callable[[Chunk], bool]


def energy_vad(margin_db: float = 10.0) -> Vad:
    """voicecoach's energy detector, its noise floor started at the first chunk's level.

    (A fresh detector starts from a silent room; in a noisy one it would call
    the noise voice for a long while. A first chunk that is already voice is
    forgotten at the first pause, because the floor falls at once.)
    """
    vad: EnergyVad | None = None

    def is_voice(chunk: Chunk) -> bool:
        nonlocal vad
        if vad is None:
            vad = EnergyVad(margin_db=margin_db, start_floor_db=rms_dbfs(chunk.samples))
        return vad.is_speech(chunk)

    return is_voice


@dataclass(frozen=True)
class WatchSettings:
    """Seconds, unless named otherwise."""

    hop: float = 0.2  # voice is labelled per 0.2 s...
    stretch_hops: int = 5  # ...from the one-second stretch around it (5 hops)
    min_pause: float = 1.0  # a silence this long within the turn is a pause
    # The listener heard (alone or over the speaker) this long in one episode is an interruption: talking
    # for 2 s gives about 1.6 s of it; a "mm", a word, a laugh or a cough gives 1 s at most.
    interruption_seconds: float = 1.6
    episode_gap: float = 1.2  # the listener heard again within this is the same episode


@dataclass(frozen=True)
class Pause:
    start: float  # stream time
    seconds: float


@dataclass(frozen=True)
class Interruption:
    start: float  # stream time of the listener's first labelled voice in it
    end: float
    voiced: float  # seconds of the listener's voice in it


@dataclass(frozen=True)
class TurnSummary:
    """What one turn sounded like. `voiced` maps partner (1, 2) to seconds of voice heard from them alone.

    Without a profile (`attributed` False) all voice is counted for the speaker
    and `interruptions` is empty.
    """

    speaker: int
    start: float
    seconds: float  # audio fed
    voiced: dict[int, float]
    overlap: float  # seconds in which both spoke at once
    unsure: float  # seconds of voice given to no one (not sure; a cough, a laugh, noise)
    pauses: tuple[Pause, ...]
    interruptions: tuple[Interruption, ...]
    attributed: bool

    @property
    def listener(self) -> int:
        return 3 - self.speaker

    @property
    def total_voiced(self) -> float:
        return sum(self.voiced.values()) + self.overlap + self.unsure

    def speaking(self, partner: int) -> float:
        """Seconds `partner` was heard speaking, alone or over the other."""
        return self.voiced[partner] + self.overlap

    def spoken(self) -> dict[int, float]:
        """Seconds each partner spoke in this turn, as the journal keeps them: the speaker also gets the voice
        nobody was sure of (mostly theirs: a soft stretch, a laugh), both get the seconds they spoke at once."""
        listener = self.listener
        return {self.speaker: self.voiced[self.speaker] + self.unsure + self.overlap,
                listener: self.voiced[listener] + self.overlap}

    @property
    def paused(self) -> float:
        return sum(p.seconds for p in self.pauses)


@dataclass
class _Hop:
    t0: float
    t1: float = 0.0
    voiced: float = 0.0  # seconds with voice
    scores: np.ndarray = field(default_factory=lambda: np.zeros(len(CLASSES)))  # summed, of its voiced frames
    frames: int = 0


@dataclass
class _Silence:
    since: float | None = None
    pauses: list[Pause] = field(default_factory=list)


class TurnWatch:
    """Feed a turn's chunks with `feed`; call `summary()` when the turn is over."""

    def __init__(self, speaker: int, profile: SpeakerProfile | None = None, vad: Vad | None = None,
                 settings: WatchSettings | None = None) -> None:
        if speaker not in (1, 2):
            raise ValueError("the speaker is partner 1 or 2")
        self.speaker = speaker
        self.profile = profile
        self.vad = vad or energy_vad()
        self.settings = settings or WatchSettings()
        self._hops: list[_Hop] = []
        self._pending: list[np.ndarray] = []  # samples not yet scored...
        self._pending_voice: list[np.ndarray] = []  # ...and, per sample, whether its chunk had voice
        self._previous: np.ndarray | None = None  # the last frame scored: the next window starts with it
        self._silence = _Silence()
        self._start: float | None = None
        self._end = 0.0

    def feed(self, chunk: Chunk, voice: bool | None = None) -> None:
        """One chunk of the turn; `voice` is the listener's own decision for it, if it has one (saves work)."""
        voice = bool(self.vad(chunk)) if voice is None else voice
        samples = chunk.samples if chunk.rate == RATE else resample(chunk.samples, chunk.rate, RATE)
        if self._start is None:
            self._start = chunk.t0
            self._silence.since = chunk.t0
        self._end = chunk.t1
        self._track_silence(chunk, voice)
        if not self._hops or self._hops[-1].t1 - self._hops[-1].t0 >= self.settings.hop - 1e-6:
            self._close_hop()
            self._hops.append(_Hop(chunk.t0))
        hop = self._hops[-1]
        hop.t1 = chunk.t1
        hop.voiced += len(chunk.samples) / chunk.rate if voice else 0.0
        self._pending.append(samples)
        self._pending_voice.append(np.full(len(samples), voice))

    def _track_silence(self, chunk: Chunk, voice: bool) -> None:
        s = self._silence
        if voice:
            if s.since is not None and chunk.t0 - s.since >= self.settings.min_pause:
                s.pauses.append(Pause(s.since, chunk.t0 - s.since))
            s.since = None
        elif s.since is None:
            s.since = chunk.t0

    def _close_hop(self) -> None:
        """Score the voiced frames of the hop just filled (in one batch: cheaper than per chunk).

        Samples that do not fill a whole 20 ms frame wait for the next hop.
        """
        if not self._pending or not self._hops:
            return
        samples, voice = np.concatenate(self._pending), np.concatenate(self._pending_voice)
        count = len(samples) // FRAME
        if self.profile is not None and count and voice[: count * FRAME].any():
            frames = frame_features(samples[: count * FRAME], self._previous)
            voiced = voice[: count * FRAME].reshape(count, FRAME).mean(axis=1) >= 0.5
            mask = voiced & (frames.periodicity >= MIN_PERIODICITY)
            if mask.any():
                scores = self.profile.frame_scores(frames.select(mask))
                self._hops[-1].scores = self._hops[-1].scores + scores.sum(axis=0)
                self._hops[-1].frames += len(scores)
        if count:
            self._previous = samples[(count - 1) * FRAME : count * FRAME]
        self._pending, self._pending_voice = [samples[count * FRAME :]], [voice[count * FRAME :]]

    def summary(self) -> TurnSummary:
        """The turn so far: voice per partner, pauses and interruptions."""
        self._close_hop()
        start = self._start if self._start is not None else 0.0
        pauses = list(self._silence.pauses)
        if self._silence.since is not None and self._end - self._silence.since >= self.settings.min_pause:
            pauses.append(Pause(self._silence.since, self._end - self._silence.since))
        seconds = self._end - start
        if self.profile is None:
            voiced_total = sum(h.voiced for h in self._hops)
            return TurnSummary(self.speaker, start, seconds, {self.speaker: voiced_total, 3 - self.speaker: 0.0},
                               overlap=0.0, unsure=0.0, pauses=tuple(pauses), interruptions=(), attributed=False)
        labels = self._labels()
        by_label: dict[int | None, float] = {1: 0.0, 2: 0.0, BOTH: 0.0, None: 0.0}
        for hop, label in zip(self._hops, labels, strict=True):
            by_label[label] += hop.voiced
        return TurnSummary(self.speaker, start, seconds, {1: by_label[1], 2: by_label[2]}, overlap=by_label[BOTH],
                           unsure=by_label[None], pauses=tuple(pauses), interruptions=self._interruptions(labels),
                           attributed=True)

    def _labels(self) -> list[int | None]:
        """Each hop's partner, decided on the one-second stretch around it (None: no voice, or not sure)."""
        assert self.profile is not None
        if not self._hops:
            return []
        scores = np.array([h.scores for h in self._hops])
        frames = np.array([h.frames for h in self._hops])
        half = self.settings.stretch_hops // 2
        kernel = np.ones(2 * half + 1)
        score_sum = np.column_stack([np.convolve(scores[:, c], kernel, mode="same") for c in range(scores.shape[1])])
        frame_sum = np.convolve(frames, kernel, mode="same")
        return [self.profile.decide_scores(total, int(count)).label if hop.voiced else None
                for hop, total, count in zip(self._hops, score_sum, frame_sum, strict=True)]

    def _interruptions(self, labels: list[int | None]) -> tuple[Interruption, ...]:
        """Runs of the listener's voice (alone or over the speaker), joined across short gaps, long enough."""
        s, listener = self.settings, (3 - self.speaker, BOTH)
        found: list[Interruption] = []
        run: list[_Hop] = []

        def close() -> None:
            heard = sum(h.t1 - h.t0 for h in run)
            if run and heard >= s.interruption_seconds - 1e-6:
                found.append(Interruption(run[0].t0, run[-1].t1, sum(h.voiced for h in run)))

        for hop, label in zip(self._hops, labels, strict=True):
            if label not in listener:
                continue
            if run and hop.t0 - run[-1].t1 > s.episode_gap:
                close()
                run = []
            run.append(hop)
        close()
        return tuple(found)
