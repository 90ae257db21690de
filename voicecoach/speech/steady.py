"""A microphone that rides out outages: waits for the device to come back, trying it every few seconds."""

from __future__ import annotations

import logging
from collections.abc import Callable

from voicecoach.audio.live import DeviceLost
from voicecoach.audio.sources import AudioSource, Chunk
from voicecoach.clock import Clock
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)


class SteadySource:
    """Reads chunks; when the device is lost, retries it, tells the couple, and keeps time standing still.

    `lost` is the time the microphone was gone since `begin`; `broke` says an
    outage cut the stream (what was being said is gone). `notify("lost" /
    "back")` tells the couple and returns when our own notice ended.
    """

    def __init__(self, source: AudioSource, clock: Clock, retry_seconds: float, max_outage: float,
                 self_tail: float, notify: Callable[[str], float | None]) -> None:
        self.source = source
        self.clock = clock
        self.retry_seconds = retry_seconds
        self.max_outage = max_outage
        self.self_tail = self_tail
        self.notify = notify
        self.outages = 0
        # Since when the device is gone, across ride-outs that gave up (serve waits a few seconds at a
        # time, for hours): a device still gone is not news, so it is logged when lost and when back.
        self.gone_since: float | None = None
        self.lost = 0.0
        self.broke = False

    @property
    def glitches(self) -> int:
        """Blocks of audio the source dropped so far (a busy computer)."""
        return int(getattr(self.source, "overflows", 0))

    def begin(self, ignore_until: float, new_phase: bool) -> None:
        self.lost, self.broke = 0.0, False
        self.source.begin_listening(ignore_until, new_phase)

    def read(self, timeout: float) -> Chunk | None:
        """The next chunk; None on a timeout, or after riding out a lost microphone."""
        try:
            chunk = self.source.read(timeout)
        except DeviceLost as exc:
            self._ride_out(exc)
            return None
        self.gone_since = None  # it works: brought back by another reader's retry
        return chunk

    def _ride_out(self, exc: DeviceLost) -> None:
        start = self.clock.now()
        self.outages += 1
        if self.gone_since is None:
            self.gone_since = start
            log.warning("the microphone was lost (%s); trying it again every %.0f s", exc.message, self.retry_seconds)
        self.notify("lost")
        tries = 0
        while True:
            if self.clock.now() - start >= self.max_outage:
                raise DeviceError(
                    f"The microphone did not come back for {self.max_outage / 60:.0f} minutes.",
                    "Check its cable or USB plug, then run `voicecoach resume` to go on where you were.",
                )
            self.clock.sleep(self.retry_seconds)
            tries += 1
            try:
                self.source.close()
                self.source.start()
            except DeviceError as again:
                log.info("microphone still gone (try %d): %s", tries, again.message)
                continue
            break
        log.warning("the microphone is back after %.1f s", self.clock.now() - self.gone_since)
        self.gone_since = None
        spoke_until = self.notify("back")
        self.lost += self.clock.now() - start
        self.broke = True
        guard = spoke_until + self.self_tail if spoke_until is not None else self.clock.now()
        # Our own "it works again" is not an answer; the couple goes on where they were.
        self.source.begin_listening(guard, new_phase=False)
