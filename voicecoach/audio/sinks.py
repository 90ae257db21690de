"""Speakers that are not a sound card: a WAV file, or nothing at all."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from voicecoach.audio.pcm import RATE, Audio
from voicecoach.clock import Clock
from voicecoach.errors import DeviceError, StorageError, UserError

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
        self._failed = False
        try:  # /dev/full or /proc/version open fine and fail at the first write: found now, before anything is said
            self._wav.writeframes(b"")
            self._file.flush()
        except OSError as exc:
            error = self._cannot_write(exc)
            self.close()
            raise error from None

    def play(self, audio: Audio) -> float:
        start = self.clock.now()
        try:
            if self._last_end is not None:
                gap = min(self.MAX_GAP, max(0.0, start - self._last_end))
                self._wav.writeframes(np.zeros(int(gap * RATE), np.int16).tobytes())
            self._wav.writeframes(audio.to_rate(RATE).samples.astype("<i2").tobytes())
        except OSError as exc:  # the disk filled up: the session stops here, with its progress kept
            raise self._cannot_write(exc) from None
        self.clock.sleep(audio.seconds)
        self._last_end = self.clock.now()
        return self._last_end

    def close(self) -> None:
        try:
            self._wav.close()  # writes the lengths into the header
            self._file.close()
        except OSError as exc:
            # Raising here would hide why the session stopped, and leave the other devices open.
            if not self._failed:
                log.warning("%s", self._cannot_write(exc))
            with contextlib.suppress(OSError):
                self._file.close()  # its descriptor is freed even when its last bytes cannot be written

    def _cannot_write(self, exc: OSError) -> UserError:
        self._failed = True  # said once
        problem = f"The speaker file {self.path} cannot be written ({exc.strerror or exc})."
        if exc.errno == errno.ENOSPC:
            return StorageError(problem, "Free some disk space, or give --speaker-file a file on another disk.")
        return DeviceError(problem, "Pick a folder you can write to.")


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
