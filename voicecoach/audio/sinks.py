"""Speakers that are not a sound card: a WAV file, or nothing at all."""

from __future__ import annotations

import logging
import os
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from voicecoach.audio.pcm import RATE, Audio
from voicecoach.clock import Clock
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)


class Speaker(Protocol):
    def play(self, audio: Audio) -> float:
        """Play to the end; return the clock time at which our sound stopped."""

    def close(self) -> None: ...


class WavSpeaker:
    """Writes everything voicecoach would play to one WAV (--speaker-file).

    Pauses between sounds are kept (up to a second each) so the file sounds
    like the session did; time passes on the clock as if it played. The file
    holds their recorded voices (played back agreements): owner-only.
    """

    MAX_GAP = 1.0

    def __init__(self, path: Path, clock: Clock) -> None:
        self.clock = clock
        self.path = path
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
        except OSError as exc:
            raise DeviceError(f"The speaker file {path} cannot be written ({exc.strerror}).",
                              "Pick a folder you can write to.") from None
        self._file = os.fdopen(fd, "wb")
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RATE)
        self._last_end: float | None = None

    def play(self, audio: Audio) -> float:
        start = self.clock.now()
        if self._last_end is not None:
            gap = min(self.MAX_GAP, max(0.0, start - self._last_end))
            self._wav.writeframes(np.zeros(int(gap * RATE), np.int16).tobytes())
        self._wav.writeframes(audio.to_rate(RATE).samples.astype("<i2").tobytes())
        self.clock.sleep(audio.seconds)
        self._last_end = self.clock.now()
        return self._last_end

    def close(self) -> None:
        self._wav.close()
        self._file.close()


class SilentSpeaker:
    """No sound at all (text mode, or no speaker found): time still passes."""

    def __init__(self, clock: Clock, pass_time: bool = True) -> None:
        self.clock = clock
        self.pass_time = pass_time

    def play(self, audio: Audio) -> float:
        if self.pass_time:
            self.clock.sleep(audio.seconds)
        return self.clock.now()

    def close(self) -> None:
        return None
