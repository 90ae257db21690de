"""The couple's own answers, as `voicecoach check` heard them: a second opinion the recognizer cannot give.

A small model can be sure and wrong: on the Korean test model "네" and "아 네" are read as "아니요" at
confidence 1.0, and no measure of the recognizer's sureness sees it (README, "What was tried"). The
check asks each partner for the confirm and deny phrases three times. Their shapes (the spectral
envelope per 20 ms above a common noise floor, loudness and microphone taken out) are compared with an
answer decided later by dynamic time warping: one of those phrases that sounds more like their *other*
answer than like the one decided is asked back ("Ik hoorde: nee. Is dat goed?"), never decided. It only ever turns a decision into a
question, so a voice it does not know costs a question, not a wrong answer.

Kept: the shapes only (log mel energies per 20 ms: no recording, though a rough sound could be made of them),
never audio; in the calibration file (owner-only, removed by `voicecoach forget`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecoach.speech.vocab import normalize
from voicecoach.speech.voice_features import MEL_BANDS, cepstra_of, log_mel

CEPSTRA = 12  # c1..c12: the spectral envelope; the finer cepstra are mostly the speaker's pitch
MIN_FRAMES = 4  # 80 ms: shorter than any answer, too little to compare
MAX_FRAMES = 300  # 6 s: far longer than any answer; a file with more is not theirs (each costs time at every answer)
MAX_SHAPES = 12  # of one answer: the check keeps three from each partner
VOICED_DB = 30.0  # the answer: frames this close to its loudest (not the quiet before and after it)
# Two shapes are compared above a common floor: every mel band raised to the depth (loudest frame over the
# quietest tenth, in dB) of the answer heard now, within these bounds (the check's answers are said in a quiet
# moment, one by one). Noise under the floor (a cooker hood, the room) no longer shapes the comparison. On the
# tuning voices, without it, 16 right answers were asked back for 11 wrong ones caught, most in white and pink
# noise; with it, 1 for 10 (README, "What was tried").
DEPTH_DB = (20.0, 60.0)
# Doubted when nearer to their other answer than to the one decided.
DOUBT_RATIO = 1.0
# An utterance this many times longer or shorter than every one of their sayings of a phrase is not that phrase
# (their wake phrase said slowly and quickly: 0.65 to 2.3 times as long, on the tuning voices).
LENGTH_APART = 3.0


@dataclass(frozen=True)
class Shape:
    """Log mel energies of an utterance's voiced part (n, bands), and its depth in dB."""

    bands: np.ndarray
    depth: float


def shape(samples: np.ndarray) -> Shape | None:
    """The voiced part of an utterance, as compared (None: too short to compare)."""
    bands, level = log_mel(np.asarray(samples, np.int16))
    if len(level) < MIN_FRAMES:
        return None
    idx = np.flatnonzero(level >= level.max() - VOICED_DB)
    if len(idx) < MIN_FRAMES:
        return None
    depth = float(np.clip(level.max() - np.percentile(level, 10), *DEPTH_DB))
    return Shape(np.asarray(bands[idx[0]: idx[-1] + 1], np.float64), depth)


def _cepstra(s: Shape, depth: float) -> np.ndarray:
    """The envelope above the floor, its mean taken out (the microphone and the room)."""
    bands = np.maximum(s.bands, s.bands.max() - depth * math.log(10.0) / 10.0)
    c = cepstra_of(bands)[:, :CEPSTRA]
    return np.asarray(c - c.mean(axis=0), np.float64)


def unlike(heard: Shape, theirs: Shape) -> float:
    """How unlike an answer heard now is to one of theirs, at any speed, above the floor of the one heard."""
    return distance(_cepstra(heard, heard.depth), _cepstra(theirs, heard.depth))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Dynamic time warping (symmetric steps), per step of the path."""
    local: list[list[float]] = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)).tolist()
    n, m = len(local), len(local[0])
    prev = [0.0] + [math.inf] * m  # Python floats: a tenth of the time of indexing numpy arrays, the same sums
    for row in local:
        cur = [math.inf] * (m + 1)
        for j in range(m):
            cur[j + 1] = row[j] + min(prev[j + 1], cur[j], prev[j])
        prev = cur
    return float(prev[m] / (n + m))


@dataclass
class OwnAnswers:
    """Per intent: the phrase they were asked to say, and the shapes of how they said it."""

    phrases: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, list[Shape]] = field(default_factory=dict)
    # Per (intent, floor): their sayings' cepstra above that floor, and the unit (`apart`), for talk all the time.
    _units: dict[tuple[str, float], tuple[list[np.ndarray], float]] = field(default_factory=dict, repr=False,
                                                                            compare=False)

    def add(self, intent: str, phrase: str, samples: np.ndarray) -> bool:
        s = shape(samples)
        if s is None:
            return False
        self.phrases[intent] = normalize(phrase)
        self.shapes.setdefault(intent, []).append(s)
        self._units.clear()
        return True

    @property
    def usable(self) -> bool:
        """Two answers or more, each said at least once: something to tell apart."""
        return sum(1 for v in self.shapes.values() if v) >= 2

    def doubts(self, samples: np.ndarray, intent: str | None, phrase: str) -> bool:
        """True if `phrase`, decided as `intent`, sounds more like another of their own answers."""
        if not self.usable or intent not in self.shapes or self.phrases.get(intent) != normalize(phrase):
            return False  # only the phrases they said in the check: another phrase has nothing to compare with
        s = shape(samples)
        if s is None:
            return False
        near = {i: min(unlike(s, t) for t in ts) for i, ts in self.shapes.items() if ts}
        other = min(d for i, d in near.items() if i != intent)
        return other * DOUBT_RATIO < near[intent]

    def knows(self, intent: str, phrase: str) -> bool:
        """Whether they said `phrase` for `intent` often enough (twice) to say how alike their sayings are."""
        return len(self.shapes.get(intent, ())) >= 2 and self.phrases.get(intent) == normalize(phrase)

    def apart(self, samples: np.ndarray, intent: str) -> float:
        """How far an utterance is from their own sayings of `intent`'s phrase, in units of how far those are
        from each other (about 1: as alike as their own; inf: too short, or far longer or shorter than any).

        The unit is the mean distance of each saying to its nearest other one, all above the floor of the
        utterance heard: noise that flattens the comparison flattens the unit as much, and a couple whose
        sayings differ more gets a wider unit. Call only when `knows` the intent."""
        s = shape(samples)
        theirs = self.shapes[intent]
        if s is None or not any(1 / LENGTH_APART <= len(s.bands) / len(t.bands) <= LENGTH_APART for t in theirs):
            return math.inf
        depth = float(round(s.depth))  # whole dB: the same few floors come back while waiting
        key = (intent, depth)
        if key not in self._units:
            ceps = [_cepstra(t, depth) for t in theirs]
            between = np.full((len(ceps), len(ceps)), math.inf)
            for i in range(len(ceps)):
                for k in range(i + 1, len(ceps)):
                    between[i, k] = between[k, i] = distance(ceps[i], ceps[k])  # the same both ways
            self._units[key] = ceps, float(between.min(axis=1).mean())
        ceps, unit = self._units[key]
        heard = _cepstra(s, depth)
        return min(distance(heard, c) for c in ceps) / max(unit, 1e-6)

    def to_json(self) -> dict[str, Any]:
        return {"phrases": self.phrases,
                "shapes": {i: [{"bands": np.round(s.bands, 3).tolist(), "depth": round(s.depth, 2)} for s in ss]
                           for i, ss in self.shapes.items()}}

    @staticmethod
    def from_json(data: Any) -> OwnAnswers:
        """Raises ValueError, TypeError or KeyError on a damaged file."""
        phrases = {str(k): str(v) for k, v in dict(data["phrases"]).items()}
        shapes: dict[str, list[Shape]] = {}
        for intent, ss in dict(data["shapes"]).items():
            read = [Shape(np.asarray(s["bands"], np.float64), float(s["depth"])) for s in ss]
            if len(read) > MAX_SHAPES or any(
                    s.bands.ndim != 2 or s.bands.shape[1] != MEL_BANDS or not MIN_FRAMES <= len(s.bands) <= MAX_FRAMES
                    or not np.isfinite(s.bands).all() or not DEPTH_DB[0] <= s.depth <= DEPTH_DB[1] for s in read):
                raise ValueError(f"a shape of {intent!r} is damaged")
            shapes[str(intent)] = read
        if set(shapes) - set(phrases):
            raise ValueError("a shape without its phrase")
        return OwnAnswers(phrases, shapes)
