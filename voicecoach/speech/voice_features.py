"""What a voice sounds like, per 20 ms: spectral envelope (cepstra), pitch and how periodic it is."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voicecoach.audio.pcm import RATE

FRAME = 320  # samples per 20 ms chunk at 16 kHz: one feature frame per chunk
WINDOW = 2 * FRAME  # 40 ms analysis window (the chunk and the one before): two periods of a low voice
NFFT = 1024
MEL_BANDS = 30
CEPSTRA = 16  # c1..c16; c0 (loudness) is left out so distance from the microphone does not matter
MIN_F0, MAX_F0 = 60.0, 400.0  # hertz: the range of adult voices


@dataclass(frozen=True)
class Frames:
    """Features of consecutive 20 ms frames.

    `cepstra` (n, CEPSTRA), `f0` in hertz (n,), `periodicity` 0..1 (n,), `level_db` (n,).
    """

    cepstra: np.ndarray
    f0: np.ndarray
    periodicity: np.ndarray
    level_db: np.ndarray

    def __len__(self) -> int:
        return len(self.f0)

    def vectors(self) -> np.ndarray:
        """One row per frame: cepstra and pitch in semitones, the input of the speaker model."""
        semitones = 12.0 * np.log2(np.maximum(self.f0, 1.0) / 100.0)
        return np.column_stack([self.cepstra, semitones]).astype(np.float64)

    @staticmethod
    def concat(parts: list[Frames]) -> Frames:
        if not parts:
            return Frames(np.zeros((0, CEPSTRA)), np.zeros(0), np.zeros(0), np.zeros(0))
        return Frames(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("cepstra", "f0", "periodicity", "level_db")))

    def select(self, mask: np.ndarray) -> Frames:
        return Frames(self.cepstra[mask], self.f0[mask], self.periodicity[mask], self.level_db[mask])


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window, mel filterbank, DCT matrix and the window's own autocorrelation (computed once)."""
    window = np.hanning(WINDOW).astype(np.float64)
    freqs = np.fft.rfftfreq(NFFT, 1.0 / RATE)

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(60.0), mel(7600.0), MEL_BANDS + 2) / 2595.0) - 1.0)
    bank = np.zeros((len(freqs), MEL_BANDS))
    for b in range(MEL_BANDS):
        lo, mid, hi = edges[b : b + 3]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        bank[:, b] = np.maximum(0.0, np.minimum(rising, falling))
    n = np.arange(MEL_BANDS)
    dct = np.cos(np.pi / MEL_BANDS * (n[:, None] + 0.5) * np.arange(1, CEPSTRA + 1)[None, :]) * np.sqrt(2.0 / MEL_BANDS)
    # The Hann window tapers the autocorrelation; dividing by the window's own undoes that.
    wac = np.fft.irfft(np.abs(np.fft.rfft(window, NFFT)) ** 2)[: WINDOW]
    return window, bank, dct, wac / wac[0]


def _spectra(samples: np.ndarray, previous: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Power spectra of each whole 20 ms frame (over its 40 ms window), and its level in dBFS."""
    count = len(samples) // FRAME
    head = np.zeros(FRAME) if previous is None or len(previous) < FRAME else previous[-FRAME:]
    signal = np.concatenate([np.asarray(head, np.float64), samples[: count * FRAME].astype(np.float64)]) / 32768.0
    idx = np.arange(count)[:, None] * FRAME + np.arange(WINDOW)[None, :]
    frames = signal[idx]
    frames = frames - frames.mean(axis=1, keepdims=True)
    window = _tables()[0]
    power = np.abs(np.fft.rfft(frames * window, NFFT, axis=1)) ** 2
    current = signal[FRAME:][: count * FRAME].reshape(count, FRAME)
    return power, 10.0 * np.log10(np.mean(current**2, axis=1) + 1e-12)


def log_mel(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log mel energies (n, MEL_BANDS) and level in dBFS (n,) of each whole 20 ms frame of `samples`."""
    if len(samples) < FRAME:
        return np.zeros((0, MEL_BANDS)), np.zeros(0)
    power, level_db = _spectra(samples, None)
    return np.log(power @ _tables()[1] + 1e-10), level_db


def cepstra_of(log_mel_frames: np.ndarray) -> np.ndarray:
    """c1..CEPSTRA of log mel energies: the spectral envelope, without the loudness (c0)."""
    return np.asarray(log_mel_frames @ _tables()[2], np.float64)


def frame_features(samples: np.ndarray, previous: np.ndarray | None = None) -> Frames:
    """Features of each whole 20 ms frame of `samples` (int16 at 16 kHz).

    `previous` is the frame before the first one (zeros if None), so a stream
    fed chunk by chunk gives the same features as the whole recording at once.
    """
    count = len(samples) // FRAME
    if count == 0:
        return Frames.concat([])
    power, level_db = _spectra(samples, previous)
    _, bank, dct, wac = _tables()
    cepstra = np.log(power @ bank + 1e-10) @ dct
    ac = np.fft.irfft(power, NFFT, axis=1)[:, :WINDOW]
    lo, hi = int(RATE / MAX_F0), int(RATE / MIN_F0)
    norm = ac[:, lo : hi + 1] / (wac[lo : hi + 1] * np.maximum(ac[:, :1], 1e-12))
    best = np.argmax(norm, axis=1)
    periodicity = np.clip(norm[np.arange(count), best], 0.0, 1.0)
    f0 = RATE / (lo + best).astype(np.float64)
    return Frames(cepstra, f0, periodicity, level_db)
