"""A microphone a device may start without: missing at start, it is waited for like a lost one."""

from __future__ import annotations

import logging

from voicecoach.audio.live import DeviceLost
from voicecoach.audio.sources import AudioSource, Chunk
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)


class PatientMic:
    """Wraps a source: a failed start is remembered, and reading then reports the microphone lost,
    so the listener's outage handling (speech/steady.py) tries it again every few seconds."""

    def __init__(self, source: AudioSource) -> None:
        self.source = source
        self.missing: DeviceError | None = None
        self._started = False

    @property
    def rate(self) -> int:
        return self.source.rate

    @property
    def overflows(self) -> int:
        return self.source.overflows

    def __getattr__(self, name: str) -> object:  # finished, remaining, ...: the source's own
        return getattr(self.source, name)

    def start(self) -> None:
        """The first start never fails; a later one (a retry) says whether the microphone is back."""
        first, self._started = not self._started, True
        try:
            self.source.start()
        except DeviceError as exc:
            self.missing = exc
            if not first:
                raise
            log.warning("No microphone yet (%s); voicecoach listens as soon as there is one.", exc.message)
        else:
            self.missing = None

    def read(self, timeout: float) -> Chunk | None:
        if self.missing is not None:
            raise DeviceLost(self.missing.message, self.missing.fix)
        return self.source.read(timeout)

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        self.source.begin_listening(ignore_until, new_phase)

    def close(self) -> None:
        self.source.close()
