"""The sound card, through sounddevice (PortAudio): imported only here."""

from __future__ import annotations

import logging
import queue
from typing import Any

import numpy as np

from voicecoach.audio.pcm import RATE, Audio, resample
from voicecoach.audio.sources import CHUNK_SECONDS, Chunk
from voicecoach.clock import Clock
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError:
        raise DeviceError(
            "The sound library PortAudio is missing.",
            "Install it with: sudo apt-get install libportaudio2 (or use --text).",
        ) from None
    return sounddevice


def parse_device(spec: str | None) -> int | str | None:
    """`--device` takes an index or part of a name, as sounddevice does."""
    if spec is None or spec == "":
        return None
    return int(spec) if spec.isdigit() else spec


def list_devices() -> str:
    return str(_sounddevice().query_devices())


class DeviceLost(DeviceError):
    """The microphone stopped delivering audio mid-session."""


class LiveMic:
    """The microphone: the callback only copies into a queue; the reader does the rest.

    `overflows` counts every time audio was lost before we read it (the sound
    card's buffer overflowed, or a busy computer let our queue fill up): the
    listener decides nothing on an utterance that lost audio.
    """

    STALL_SECONDS = 5.0  # no audio for this long from an "active" stream: the device is gone
    FIRST_AUDIO_SECONDS = 10.0  # a sound server just started may take seconds to deliver (measured: 2.1 s)
    REPORT_EVERY = 10.0  # seconds between log lines about lost audio

    def __init__(self, clock: Clock, device: int | str | None = None) -> None:
        self.clock = clock
        self.device = device
        self.rate = RATE
        self.native_rate = RATE
        self.overflows = 0
        self.dropped = 0  # blocks lost to a full queue (part of `overflows`)
        self.ignore_until = float("-inf")
        self._queue: queue.Queue[tuple[bytes, float]] = queue.Queue(maxsize=500)
        self._stream: Any = None
        self._last_audio = clock.now()
        self._flowing = False  # audio has arrived since start()
        self._reported = 0
        self._reported_at = float("-inf")

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # An exception here would silently stop the stream: guard everything.
        # No logging here either: it takes locks, and this is PortAudio's thread.
        try:
            if status and status.input_overflow:
                self.overflows += 1
            self._queue.put_nowait((bytes(indata), self.clock.now()))
        except queue.Full:
            self.dropped += 1
            self.overflows += 1
        except Exception:  # noqa: BLE001 - must never escape into PortAudio
            self.dropped += 1
            self.overflows += 1

    def start(self) -> None:
        sd = _sounddevice()
        # On a restart after a lost device, audio from before the loss is stale.
        while not self._queue.empty():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        last_error: Exception | None = None
        # Many hw: devices (a Raspberry Pi's) refuse 16 kHz: fall back to their own rate.
        rates = [RATE]
        try:
            native = int(sd.query_devices(self.device, "input")["default_samplerate"])
            if native != RATE:
                rates.append(native)
        except Exception as exc:  # noqa: BLE001
            raise DeviceError(
                f"No microphone found ({exc}).",
                "Plug one in, pick one with --device (see --list-devices), or use --text to type instead.",
            ) from None
        for rate in rates:
            try:
                stream = sd.RawInputStream(
                    samplerate=rate, blocksize=int(rate * CHUNK_SECONDS), device=self.device,
                    channels=1, dtype="int16", callback=self._callback,
                )
                stream.start()
            except Exception as exc:  # noqa: BLE001 - PortAudioError and friends
                last_error = exc
                continue
            self._stream, self.native_rate = stream, rate
            self._last_audio, self._flowing = self.clock.now(), False
            log.info("microphone open at %d Hz", rate)
            return
        raise DeviceError(
            f"The microphone could not be opened ({last_error}).",
            "Check that it is plugged in and not used by another program, or use --text to type instead.",
        )

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        # What was heard while we spoke is not an answer: read() drops it.
        self.ignore_until = ignore_until

    def read(self, timeout: float) -> Chunk | None:
        while True:
            try:
                data, t_end = self._queue.get(timeout=timeout)
            except queue.Empty:
                if self._stream is not None and not self._stream.active:
                    raise DeviceLost("The microphone stopped working.", "Check its cable or USB plug.") from None
                patience = self.STALL_SECONDS if self._flowing else self.FIRST_AUDIO_SECONDS
                if self._stream is not None and self.clock.now() - self._last_audio > patience:
                    # An unplugged USB microphone often leaves the stream "active" but silent forever.
                    raise DeviceLost("The microphone stopped sending sound.", "Check its cable or USB plug.") from None
                return None
            self._last_audio, self._flowing = self.clock.now(), True
            self._report_losses()
            samples = np.frombuffer(data, dtype="<i2")
            t0 = t_end - len(samples) / self.native_rate
            if t0 < self.ignore_until:
                continue
            if self.native_rate != RATE:
                samples = resample(_smooth(samples, self.native_rate // RATE), self.native_rate, RATE)
            return Chunk(samples.astype(np.int16, copy=False), t0, RATE)

    def _report_losses(self) -> None:
        if self.overflows == self._reported or self.clock.now() - self._reported_at < self.REPORT_EVERY:
            return
        log.warning("microphone: audio was lost %d time(s) so far (%d block(s) to a busy computer); "
                    "what was said then is not decided on", self.overflows, self.dropped)
        self._reported, self._reported_at = self.overflows, self.clock.now()

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - a lost device may refuse to close
                log.debug("microphone close failed", exc_info=True)
            self._stream = None


def _smooth(samples: np.ndarray, width: int) -> np.ndarray:
    """A crude low-pass before decimation, so high frequencies do not fold into speech."""
    if width <= 1:
        return samples
    kernel = np.ones(width, np.float32) / width
    return np.convolve(samples.astype(np.float32), kernel, mode="same").astype(np.int16)


class LiveSpeaker:
    """The loudspeaker: one open stream, so a cached prompt starts at once."""

    def __init__(self, clock: Clock, device: int | str | None = None) -> None:
        self.clock = clock
        self.device = device
        sd = _sounddevice()
        try:
            info = sd.query_devices(device, "output")
            self.rate = int(info["default_samplerate"])
            self._stream = sd.RawOutputStream(samplerate=self.rate, device=device, channels=1, dtype="int16")
            self._stream.start()
        except Exception as exc:  # noqa: BLE001
            raise DeviceError(
                f"No speaker could be opened ({exc}).", "Plug one in or pick one with --output-device."
            ) from None

    def play(self, audio: Audio) -> float:
        data = audio.to_rate(self.rate).samples.astype("<i2").tobytes()
        try:
            self._stream.write(data)
        except Exception as exc:  # noqa: BLE001
            raise DeviceError(f"The speaker stopped working ({exc}).", "Check its cable or USB plug.") from None
        # write() returns once buffered; the voice ends after the output latency.
        self.clock.sleep(float(self._stream.latency))
        return self.clock.now()

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:  # noqa: BLE001
            log.debug("speaker close failed", exc_info=True)
