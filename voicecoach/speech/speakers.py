"""A couple's voice profile: which partner a stretch of voice is, both at once, or "not sure".

Each partner's voice is a small Gaussian mixture over per-frame cepstra and
pitch, fitted from a few seconds of enrollment audio (their name, their
answers, the start of their first turns); a third mixture learns the two
voices mixed. A stretch goes to the model its periodic (voiced) frames fit
best on average; too small a lead, or too few voiced frames, is "not sure".

The profile is biometric data: it is written owner-only and atomically, and
nothing in it (nor anything derived from it) is logged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.audio.pcm import RATE, Audio
from voicecoach.errors import UserError
from voicecoach.paths import data_dir, write_atomically
from voicecoach.speech.voice_features import FRAME, Frames, frame_features
from voicecoach.tomlfile import TextFileMissing, TextFileProblem, read_text

FORMAT = "voicecoach-voice-profile"
VERSION = 1
MIN_PERIODICITY = 0.5  # frames this periodic are voiced speech; coughs, breath and noise are not
MIN_ENROLL_FRAMES = 100  # two seconds of voiced frames per partner, at the least
LLR_CLIP = 8.0  # one odd frame must not decide a whole stretch


def profile_path() -> Path:
    """Where the couple's voice profile lives: beside the journal, so `forget` can find it."""
    return data_dir() / "voice-profile.json"


class ProfileError(UserError):
    """A voice profile that cannot be made or read."""


@dataclass(frozen=True)
class ScoringSettings:
    """How sure a stretch must be before it is given to a partner."""

    margin: float = 0.5  # how much better the best model must fit, mean nats per voiced frame
    both_margin: float = 1.25  # the same for "both at once": a stricter call, as it can start a remark
    min_frames: int = 10  # voiced frames (20 ms each) a stretch needs before it is decided at all


class DiagGmm:
    """A Gaussian mixture with diagonal covariances (weights (k,), means and variances (k, d))."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> None:
        self.weights = np.asarray(weights, np.float64)
        self.means = np.asarray(means, np.float64)
        self.variances = np.asarray(variances, np.float64)
        self._const = np.log(self.weights) - 0.5 * np.sum(np.log(2 * np.pi * self.variances), axis=1)
        self._precision = 1.0 / self.variances

    def component_log_likelihood(self, x: np.ndarray) -> np.ndarray:
        # (n, k): expanded square so no (n, k, d) array is made
        quad = (x**2) @ self._precision.T - 2.0 * x @ (self.means * self._precision).T \
            + np.sum(self.means**2 * self._precision, axis=1)
        return np.asarray(self._const - 0.5 * quad)

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        comp = self.component_log_likelihood(x)
        top = comp.max(axis=1, keepdims=True)
        return np.asarray((top + np.log(np.exp(comp - top).sum(axis=1, keepdims=True)))[:, 0])

    @staticmethod
    def fit(x: np.ndarray, components: int, iterations: int = 40, seed: int = 0, var_floor: float = 1e-2) -> DiagGmm:
        """Expectation-maximization from a k-means++ start; deterministic for a given seed."""
        n = len(x)
        k = max(1, min(components, n // 20))
        rng = np.random.default_rng(seed)
        centres = [x[rng.integers(n)]]
        for _ in range(1, k):
            dist = np.min([np.sum((x - c) ** 2, axis=1) for c in centres], axis=0)
            centres.append(x[rng.choice(n, p=dist / dist.sum()) if dist.sum() > 0 else rng.integers(n)])
        gmm = DiagGmm(np.full(k, 1.0 / k), np.array(centres), np.tile(np.maximum(x.var(axis=0), var_floor), (k, 1)))
        for _ in range(iterations):
            comp = gmm.component_log_likelihood(x)
            comp -= comp.max(axis=1, keepdims=True)
            resp = np.exp(comp)
            resp /= resp.sum(axis=1, keepdims=True)
            mass = resp.sum(axis=0) + 1e-9
            means = (resp.T @ x) / mass[:, None]
            variances = np.maximum((resp.T @ x**2) / mass[:, None] - means**2, var_floor)
            gmm = DiagGmm(mass / n, means, variances)
        return gmm

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights.tolist(), "means": self.means.tolist(), "variances": self.variances.tolist()}

    @staticmethod
    def from_dict(data: dict[str, Any], dims: int) -> DiagGmm:
        weights = np.asarray(data["weights"], np.float64)
        means = np.asarray(data["means"], np.float64)
        variances = np.asarray(data["variances"], np.float64)
        k = len(weights)
        if k < 1 or means.shape != (k, dims) or variances.shape != (k, dims):
            raise ValueError("mixture shapes do not match")
        if not (np.all(np.isfinite(means)) and np.all(variances > 0) and np.all(weights > 0)
                and np.all(np.isfinite(variances)) and abs(weights.sum() - 1.0) < 1e-6):
            raise ValueError("mixture values out of range")
        return DiagGmm(weights, means, variances)


def voiced_frames(frames: Frames) -> Frames:
    """The frames that carry a voice: periodic, and not far below the loudest of them."""
    keep = frames.periodicity >= MIN_PERIODICITY
    if keep.any():
        keep &= frames.level_db >= np.max(frames.level_db[keep]) - 40.0
    return frames.select(keep)


BOTH = 0  # a stretch in which both partners speak at once (compare labels with `is None`, not truthiness)
CLASSES = (1, 2, BOTH)  # the order of the models in a profile


@dataclass(frozen=True)
class Decision:
    """Who a stretch of voice is: partner 1 or 2, BOTH at once, or None for "not sure"."""

    label: int | None
    margin: float  # how much better (mean nats per voiced frame) the label fits than the next best
    frames: int  # voiced frames it was decided on

    @property
    def partner(self) -> int | None:
        """1 or 2 when one partner alone was heard; None otherwise."""
        return self.label if self.label in (1, 2) else None


class SpeakerProfile:
    """Voice models of partner 1, partner 2 and both at once, and the scaling their features share."""

    def __init__(self, models: tuple[DiagGmm, DiagGmm, DiagGmm], mean: np.ndarray, scale: np.ndarray,
                 settings: ScoringSettings | None = None) -> None:
        self.models = models
        self.mean = np.asarray(mean, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.settings = settings or ScoringSettings()

    def __repr__(self) -> str:  # never the numbers: they are biometric
        return "SpeakerProfile(<voice models of two partners>)"

    @staticmethod
    def fit(enrollment: Sequence[Sequence[Audio]], components: int = 16,
            settings: ScoringSettings | None = None) -> SpeakerProfile:
        """Fit from each partner's enrollment audio: `enrollment[0]` is partner 1's clips, `[1]` partner 2's.

        The "both at once" model learns from the two enrollments mixed at random offsets and loudness, so
        the listener talking over the speaker is told apart from the speaker alone.
        """
        if len(enrollment) != 2:
            raise ProfileError("A voice profile needs the voices of exactly two partners.")
        signals = []
        for number, clips in enumerate(enrollment, 1):
            signal = np.concatenate([c.to_rate(RATE).samples for c in clips]) if clips else np.zeros(0, np.int16)
            voiced = len(voiced_frames(frame_features(signal)))
            if voiced < MIN_ENROLL_FRAMES:
                raise ProfileError(
                    f"There was too little of partner {number}'s voice to learn it "
                    f"({voiced * FRAME / RATE:.1f} s of voice, {MIN_ENROLL_FRAMES * FRAME / RATE:.0f} s needed).",
                    "Speak a little longer, close to the microphone.")
            signals.append(signal)
        per_class = [voiced_frames(frame_features(x)).vectors() for x in (*signals, _overlap(signals[0], signals[1]))]
        pooled = np.concatenate(per_class)
        mean, scale = pooled.mean(axis=0), np.maximum(pooled.std(axis=0), 1e-6)
        models = [DiagGmm.fit((x - mean) / scale, components) for x in per_class]
        return SpeakerProfile((models[0], models[1], models[2]), mean, scale, settings)

    def frame_scores(self, frames: Frames) -> np.ndarray:
        """(n, 3): each voiced frame's log-likelihood under partner 1, 2 and both, less the best of the three.

        Clipped, so one odd frame cannot decide a stretch.
        """
        if len(frames) == 0:
            return np.zeros((0, len(CLASSES)))
        x = (frames.vectors() - self.mean) / self.scale
        ll = np.column_stack([m.log_likelihood(x) for m in self.models])
        return np.asarray(np.maximum(ll - ll.max(axis=1, keepdims=True), -LLR_CLIP))

    def decide_scores(self, totals: np.ndarray, count: int) -> Decision:
        """The decision for a stretch whose `count` voiced frames' scores sum to `totals` (3,)."""
        s = self.settings
        if count < s.min_frames:
            return Decision(None, 0.0, count)
        mean = np.asarray(totals, np.float64) / count
        order = np.argsort(mean)[::-1]
        label = CLASSES[order[0]]
        margin = float(mean[order[0]] - mean[order[1]])
        return Decision(label if margin >= (s.both_margin if label == BOTH else s.margin) else None, margin, count)

    def decide(self, audio: Audio) -> Decision:
        """Who a stretch (about a second) of voice is, or "not sure"."""
        scores = self.frame_scores(voiced_frames(frame_features(audio.to_rate(RATE).samples)))
        return self.decide_scores(scores.sum(axis=0), len(scores))

    # --- on disk -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "models": [m.to_dict() for m in self.models]}

    def save(self, path: Path) -> None:
        """Write owner-only (0600 from the first byte) and atomically: never a half profile."""
        write_atomically(path, json.dumps(self.to_dict()))

    @staticmethod
    def load(path: Path, settings: ScoringSettings | None = None) -> SpeakerProfile:
        """Read a saved profile; a missing or damaged file is a ProfileError (never its contents in the message)."""
        try:
            data = json.loads(read_text(path))
        except TextFileMissing:
            raise ProfileError(f"There is no voice profile at {path}.", "Make one with both partners' consent.") from None
        except (TextFileProblem, ValueError) as exc:
            raise _damaged(path, type(exc).__name__) from None
        try:
            if data.get("format") != FORMAT or data.get("version") != VERSION:
                raise ValueError("not a voice profile of this version")
            mean = np.asarray(data["mean"], np.float64)
            scale = np.asarray(data["scale"], np.float64)
            dims = len(mean)
            if mean.shape != (dims,) or scale.shape != (dims,) or not np.all(np.isfinite(mean)) \
                    or not np.all(scale > 0) or not np.all(np.isfinite(scale)) or len(data["models"]) != len(CLASSES):
                raise ValueError("scaling out of range")
            models = tuple(DiagGmm.from_dict(p, dims) for p in data["models"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _damaged(path, type(exc).__name__) from None
        return SpeakerProfile((models[0], models[1], models[2]), mean, scale, settings)


def _damaged(path: Path, why: str) -> ProfileError:
    return ProfileError(f"The voice profile at {path} is damaged ({why}) and was not used.",
                        "Delete it, or let voicecoach learn your voices again.")


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One-second pieces of `a` with a random piece of `b` on top, `b` 6 dB softer to 6 dB louder."""
    rng = np.random.default_rng(0)
    n = min(len(a), len(b)) // RATE * RATE
    out = np.zeros(n, np.float64)
    for start in range(0, n, RATE):
        offset = int(rng.integers(0, len(b) - RATE + 1))
        gain = 10 ** (rng.uniform(-6.0, 6.0) / 20)
        out[start : start + RATE] = a[start : start + RATE] + gain * b[offset : offset + RATE]
    return np.clip(out, -32768, 32767).astype(np.int16)
