"""A microphone a device may start without: missing at start, it is waited for like a lost one."""

from __future__ import annotations

import logging

from voicecoach.audio.live import DeviceLost
from voicecoach.audio.sources import AudioSource, Chunk, SourceWrapper
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)


class PatientMic(SourceWrapper):
    """Wraps a source: a failed start is remembered, and reading then reports the microphone lost,
    so the listener's outage handling (speech/steady.py) tries it again every few seconds."""

    def __init__(self, source: AudioSource) -> None:
        super().__init__(source)
        self.missing: DeviceError | None = None
        self._started = False

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
