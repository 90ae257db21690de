"""The sound card, through sounddevice (PortAudio): imported only here."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import queue
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from voicecoach.audio.pcm import RATE, Audio, StreamResampler
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
    _alsa_messages_to_log()
    return sounddevice


# alsa-lib writes its own messages ("underrun occurred" on a busy computer) straight to the
# terminal, beside our one-sentence errors. Its error handler is replaceable: send them to the log.
# The handler is variadic in C; declaring only its fixed arguments is safe on every ABI we run on.
_ALSA_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                      ctypes.c_char_p)
_alsa_handler: Any = None  # kept alive: alsa-lib holds a pointer to it


def _log_alsa(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
    log.debug("alsa-lib (%s:%d, %s): %s", (file or b"").decode(errors="replace"), line,
              (function or b"").decode(errors="replace"), (fmt or b"").decode(errors="replace"))


def _alsa_messages_to_log() -> None:
    global _alsa_handler
    if _alsa_handler is not None:
        return
    name = ctypes.util.find_library("asound")
    if name is None:  # not Linux, or no alsa-lib: nothing prints
        _alsa_handler = False
        return
    try:
        lib = ctypes.CDLL(name)
        handler = _ALSA_HANDLER_TYPE(_log_alsa)
        lib.snd_lib_error_set_handler(handler)
    except (OSError, AttributeError):
        log.debug("alsa-lib's messages could not be sent to the log", exc_info=True)
        _alsa_handler = False
        return
    _alsa_handler = handler


def parse_device(spec: str | None) -> int | str | None:
    """`--device` takes an index or part of a name, as sounddevice does."""
    if spec is None or spec == "":
        return None
    return int(spec) if spec.isdigit() else spec


def list_devices() -> str:
    devices = _sounddevice().query_devices()
    if not len(devices):  # PortAudio found no sound card and no sound server: an empty table says nothing
        raise DeviceError("No microphone or speaker was found.",
                          "Plug one in, or check that the sound server (PipeWire or PulseAudio) runs for your user.")
    return str(devices)


class DeviceLost(DeviceError):
    """The microphone stopped delivering audio mid-session."""


class LiveMic:
    """The microphone: the callback only timestamps and enqueues; the reader does the rest.

    Each block's time is its capture time: a running count of samples, anchored once to when
    the first block was captured (PortAudio's ADC time where the driver gives it), so the
    chunks' spacing is the sound card's, not the scheduler's. A device that only runs at 44.1
    or 48 kHz is resampled to 16 kHz by a streaming band-limited resampler (soxr).

    The queue holds the last QUEUE_SECONDS; while nobody reads (we are speaking) the oldest
    blocks make room. `overflows` counts audio lost where it mattered: the sound card's buffer
    overflowed, or a block we would have listened to was pushed out. Blocks from while we spoke
    (before `ignore_until`) are not listened to anyway, so losing them is not counted. The
    listener decides nothing on an utterance that lost audio.
    """

    STALL_SECONDS = 5.0  # no audio for this long from an "active" stream: the device is gone
    FIRST_AUDIO_SECONDS = 10.0  # a sound server just started may take seconds to deliver (measured: 2.1 s)
    REPORT_EVERY = 10.0  # seconds between log lines about lost audio
    QUEUE_SECONDS = 10.0
    LATE_SECONDS = 1.0  # a block this much later than its sample count says: samples were lost, re-anchor

    def __init__(self, clock: Clock, device: int | str | None = None, rates: Sequence[int] | None = None) -> None:
        self.clock = clock
        self.device = device
        self.rates = list(rates) if rates else None  # None: 16 kHz, else the device's own rate
        self.rate = RATE
        self.native_rate = RATE
        self.overflows = 0
        self.dropped = 0  # blocks lost to a full queue (part of `overflows`)
        self.ignore_until = float("-inf")
        self._queue: queue.Queue[tuple[bytes, float, int, int]] = queue.Queue(maxsize=int(self.QUEUE_SECONDS / CHUNK_SECONDS))
        self._losses: deque[tuple[float, bool]] = deque()  # (time, pushed out of the queue), from the callback
        self._stream: Any = None
        self._last_audio = clock.now()
        self._flowing = False  # audio has arrived since start()
        self._reported = 0
        self._reported_at = float("-inf")
        # Capture time: set by the callback thread only.
        self._anchor = 0.0
        self._count = 0  # samples since the anchor
        self._epoch = 0  # a new anchor starts a new epoch: the stream has a gap there
        self._timeline = (0, 0.0)  # the latest (epoch, anchor), for the reader
        # Resampling: used by the reader thread only.
        self._resampler: StreamResampler | None = None
        self._next: tuple[int, int] | None = None  # (epoch, sample index) the resampler expects next
        self._first_index = 0  # sample index of the first block since the last gap
        self._out_count = 0  # samples out of the resampler since the last gap, in chunks
        self._pending = np.zeros(0, np.int16)  # resampled, not yet a whole chunk
        self._ready: deque[Chunk] = deque()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # An exception here would silently stop the stream: guard everything.
        # No logging here either: it takes locks, and this is PortAudio's thread.
        try:
            now = self.clock.now()
            self._last_audio, self._flowing = now, True
            overflow = bool(status and status.input_overflow)
            t0 = self._capture_time(now, frames, time_info, overflow)
            if overflow:
                self._losses.append((t0, False))
            if t0 + frames / self.native_rate < self.ignore_until:
                return  # our own voice: not listened to, not kept
            item = (bytes(indata), t0, self._epoch, self._count - frames)
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    _, old_t0, _, _ = self._queue.get_nowait()
                    self._losses.append((old_t0 + CHUNK_SECONDS, True))
                self._queue.put_nowait(item)
        except Exception:  # noqa: BLE001 - must never escape into PortAudio
            self._losses.append((self.clock.now(), True))

    def _capture_time(self, now: float, frames: int, time_info: Any, gap: bool) -> float:
        """When this block's first sample was captured, on our clock."""
        adc = float(getattr(time_info, "inputBufferAdcTime", 0.0) or 0.0)
        current = float(getattr(time_info, "currentTime", 0.0) or 0.0)
        age = current - adc if adc > 0 and 0 <= current - adc < 1.0 else frames / self.native_rate
        captured = now - age  # a late callback makes this later than the truth, never earlier
        counted = self._anchor + self._count / self.native_rate
        if self._epoch == 0 or gap or captured - counted > self.LATE_SECONDS:
            # The first block, or samples were lost: a new anchor, and a gap in the stream.
            self._anchor, self._count, self._epoch = captured, 0, self._epoch + 1
            counted = captured
        elif counted > captured:
            # The anchor came from a late callback (or the sound card's clock runs fast):
            # move it back, keeping the stream continuous.
            self._anchor -= counted - captured
            counted = captured
        self._count += frames
        self._timeline = (self._epoch, self._anchor)  # one assignment: the reader sees both or neither
        return counted

    def start(self) -> None:
        sd = _sounddevice()
        # On a restart after a lost device, audio from before the loss is stale.
        while not self._queue.empty():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._losses.clear()
        self._ready.clear()
        last_error: Exception | None = None
        try:
            native = int(sd.query_devices(self.device, "input")["default_samplerate"])
        except Exception as exc:  # noqa: BLE001
            raise DeviceError(
                f"No microphone found ({exc}).",
                "Plug one in, pick one with --device (see --list-devices), or use --text to type instead.",
            ) from None
        # Many hw: devices (a Raspberry Pi's, USB speakerphones) refuse 16 kHz: then their own rate.
        rates = self.rates or list(dict.fromkeys([RATE, native]))
        for rate in rates:
            try:
                self.native_rate = rate
                stream = sd.RawInputStream(
                    samplerate=rate, blocksize=int(rate * CHUNK_SECONDS), device=self.device,
                    channels=1, dtype="int16", callback=self._callback,
                )
                self._last_audio, self._flowing, self._epoch = self.clock.now(), False, 0
                stream.start()
            except Exception as exc:  # noqa: BLE001 - PortAudioError and friends
                last_error = exc
                continue
            self._stream = stream
            self._resampler = StreamResampler(rate, RATE) if rate != RATE else None
            self._next = None
            log.info("microphone open at %d Hz", rate)
            return
        raise DeviceError(
            f"The microphone could not be opened ({last_error}).",
            "Check that it is plugged in and not used by another program, or use --text to type instead.",
        )

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        # What was heard while we spoke is not an answer: dropped here and in the callback.
        self.ignore_until = ignore_until

    def read(self, timeout: float) -> Chunk | None:
        while True:
            if self._ready:
                chunk = self._ready.popleft()
                if chunk.t0 < self.ignore_until:
                    continue
                return chunk
            try:
                data, t0, epoch, index = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._count_losses()
                if self._stream is not None and not self._stream.active:
                    raise DeviceLost("The microphone stopped working.", "Check its cable or USB plug.") from None
                patience = self.STALL_SECONDS if self._flowing else self.FIRST_AUDIO_SECONDS
                if self._stream is not None and self.clock.now() - self._last_audio > patience:
                    # An unplugged USB microphone often leaves the stream "active" but silent forever.
                    raise DeviceLost("The microphone stopped sending sound.", "Check its cable or USB plug.") from None
                return None
            self._count_losses()
            self._to_rate(np.frombuffer(data, dtype="<i2"), t0, epoch, index)

    def _to_rate(self, samples: np.ndarray, t0: float, epoch: int, index: int) -> None:
        """The block at 16 kHz, in 20 ms chunks like every other source, timed by its place in the
        stream: the anchor as the callback knows it now (it corrects it as blocks come), plus the
        samples before it. The resampler's output lags its input: its chunks are timed by the
        samples that came out since the last gap."""
        latest_epoch, anchor = self._timeline
        if epoch == latest_epoch:
            t0 = anchor + index / self.native_rate
        if self._resampler is None:
            self._ready.append(Chunk(samples.astype(np.int16, copy=False), t0, RATE))
            return
        if self._next is None or self._next[0] != epoch or self._next[1] != index:
            self._resampler.reset()  # a gap (lost or skipped blocks): the filter starts afresh
            self._first_index, self._out_count, self._pending = index, 0, np.zeros(0, np.int16)
        self._next = (epoch, index + len(samples))
        start = t0 - (index - self._first_index) / self.native_rate  # capture time of the first sample since the gap
        self._pending = np.concatenate([self._pending, self._resampler(samples)])
        size = int(RATE * CHUNK_SECONDS)
        while len(self._pending) >= size:
            self._ready.append(Chunk(self._pending[:size], start + self._out_count / RATE, RATE))
            self._pending, self._out_count = self._pending[size:], self._out_count + size

    def _count_losses(self) -> None:
        while self._losses:
            when, pushed_out = self._losses.popleft()
            if when > self.ignore_until:
                self.overflows += 1
                self.dropped += pushed_out
        self._report_losses()

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


class LiveSpeaker:
    """The loudspeaker: one open stream, so a cached prompt starts at once.

    Sound is written in blocks of BLOCK_SECONDS: Ctrl-C or SIGTERM (a KeyboardInterrupt between two
    blocks) stops the voice within one block, and what the sound card still holds is dropped.
    """

    BLOCK_SECONDS = 0.05
    # The sound card's buffer: room for a busy computer to be late without a gap in the voice
    # (a stop drops it, so it does not delay one).
    BUFFER_SECONDS = 0.2

    def __init__(self, clock: Clock, device: int | str | None = None) -> None:
        self.clock = clock
        self.device = device
        sd = _sounddevice()
        try:
            info = sd.query_devices(device, "output")
            self.rate = int(info["default_samplerate"])
            self._stream = sd.RawOutputStream(samplerate=self.rate, device=device, channels=1, dtype="int16",
                                              latency=self.BUFFER_SECONDS)
            self._stream.start()
        except Exception as exc:  # noqa: BLE001
            raise DeviceError(
                f"No speaker could be opened ({exc}).", "Plug one in or pick one with --output-device."
            ) from None

    def play(self, audio: Audio) -> float:
        samples = audio.to_rate(self.rate).samples.astype("<i2")
        block = max(1, int(self.rate * self.BLOCK_SECONDS))
        try:
            if self._stream.stopped:  # stopped by an interruption earlier
                self._stream.start()
            for i in range(0, len(samples), block):
                self._stream.write(samples[i: i + block].tobytes())
            # write() returns once buffered; the voice ends after the output latency.
            self.clock.sleep(float(self._stream.latency))
        except KeyboardInterrupt:
            self.silence()
            raise
        except Exception as exc:  # noqa: BLE001
            raise DeviceError(f"The speaker stopped working ({exc}).", "Check its cable or USB plug.") from None
        return self.clock.now()

    def silence(self) -> None:
        """Stop at once: what is buffered is dropped, not played to the end."""
        try:
            self._stream.abort()
        except Exception:  # noqa: BLE001 - a lost device may refuse
            log.debug("speaker abort failed", exc_info=True)

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:  # noqa: BLE001
            log.debug("speaker close failed", exc_info=True)
