"""Mono 16-bit PCM audio as a small value, plus WAV I/O, resampling and the chime."""

from __future__ import annotations

import io
import os
import stat
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.errors import UserError

RATE = 16000  # hertz; what the recognizer and every source work at
MIN_RATE, MAX_RATE = 4000, 384000  # hertz: what a WAV may say it is, from telephone to studio


@dataclass(frozen=True)
class Audio:
    """Mono int16 samples at `rate` hertz."""

    samples: np.ndarray
    rate: int = RATE

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def to_rate(self, rate: int) -> Audio:
        return self if rate == self.rate else Audio(resample(self.samples, self.rate, rate), rate)

    def to_wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.samples.astype("<i2").tobytes())
        return buf.getvalue()

    @staticmethod
    def silence(seconds: float, rate: int = RATE) -> Audio:
        return Audio(np.zeros(int(round(seconds * rate)), dtype=np.int16), rate)

    @staticmethod
    def concat(parts: list[Audio], rate: int = RATE) -> Audio:
        arrays = [p.to_rate(rate).samples for p in parts]
        return Audio(np.concatenate(arrays) if arrays else np.zeros(0, np.int16), rate)


def resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """A whole sound to another rate, band-limited (libsoxr, high quality): nothing above the
    lower Nyquist frequency folds back into speech (see scripts/resampler_quality.py)."""
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    if src == dst or len(samples) == 0:
        return samples
    import soxr

    return np.asarray(soxr.resample(samples, src, dst, quality="HQ"), dtype=np.int16)


class StreamResampler:
    """Resamples a stream block by block (the microphone): the filter's state carries across
    blocks, so block edges add nothing. Its output lags its input by the filter's delay; output
    sample n is input time n / dst, counted from the first block after `reset()`."""

    def __init__(self, src: int, dst: int) -> None:
        import soxr

        self.src, self.dst = src, dst
        self._stream = soxr.ResampleStream(src, dst, 1, dtype="int16", quality="HQ")

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.src == self.dst:
            return block
        return np.asarray(self._stream.resample_chunk(np.ascontiguousarray(block, dtype=np.int16)), dtype=np.int16)

    def reset(self) -> None:
        """Forget the past: the next block does not continue the last one (audio was skipped)."""
        if self.src != self.dst:
            self._stream.clear()


def read_wav(source: Path | bytes) -> Audio:
    """Read a PCM WAV (any rate, mono or stereo, 8/16/24/32-bit) as mono int16."""
    name = "audio data" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        _refuse_unless_file(source)
    try:
        with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise UserError(f"The audio file {name} does not exist.", "Check the path.") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise UserError(
            f"{name} is not a readable WAV file ({_wav_problem(exc)}).",
            "Convert it with: sox IN -r 16000 -c 1 -b 16 OUT.wav",
        ) from None
    if not MIN_RATE <= rate <= MAX_RATE:
        # Rate 0 divides by zero, rate 1 would resample a second of audio into 16,000 seconds.
        raise UserError(f"{name} says its sample rate is {rate} Hz, which is not a real recording's.",
                        f"Use a WAV of {MIN_RATE:,} to {MAX_RATE:,} Hz: sox IN -r 16000 -c 1 -b 16 OUT.wav")
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw, "<i2")
    elif width == 3:  # 24-bit: the upper two bytes of each little-endian sample are its 16-bit value
        data = np.frombuffer(raw[: len(raw) - len(raw) % 3], np.uint8).reshape(-1, 3)[:, 1:].copy().view("<i2").ravel()
    elif width == 4:
        data = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    else:
        raise UserError(f"{name} uses {width * 8}-bit samples.", "Convert it to 16-bit with sox.")
    if channels > 1:
        data = data[: len(data) - len(data) % channels].reshape(-1, channels).mean(axis=1).astype(np.int16)
    return Audio(np.ascontiguousarray(data, dtype=np.int16), rate)


def _refuse_unless_file(path: Path) -> None:
    """A named pipe or a terminal would be waited on forever, with nothing said: refused before it is opened."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # opening it says what is wrong (it does not exist, it cannot be read)
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
        raise UserError(f"{path} is {kind}, not a WAV file.", "Give the path of a recorded WAV file.")


# What Python's wave module means by the format numbers it cannot read, in words a person can act on.
_WAV_FORMATS = {"3": "its samples are floating point", "65534": "it has an extended header, WAVE_FORMAT_EXTENSIBLE",
                "85": "it holds MP3 audio", "6": "it holds A-law audio", "7": "it holds mu-law audio"}


def _wav_problem(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("unknown format: "):
        return _WAV_FORMATS.get(text.rsplit(" ", 1)[-1], text)
    return text or "the file is empty or cut short"


def write_wav(path: Path, audio: Audio) -> None:
    path.write_bytes(audio.to_wav_bytes())


def chime(kind: str = "turn", rate: int = RATE) -> Audio:
    """A soft chime made in code: "turn" rises, "end" falls, "break" is long, and "notice"
    (three rising notes) says: read the screen, the voice could not be made."""
    tones = {"turn": (660.0, 880.0), "end": (880.0, 660.0), "break": (523.25, 392.0),
             "notice": (523.25, 659.25, 783.99)}[kind]
    length = 0.5 if kind == "break" else 0.18
    parts = []
    for freq in tones:
        t = np.arange(int(length * rate)) / rate
        envelope = np.exp(-5.0 * t / length) * np.minimum(1.0, t * 200)  # soft attack, no click
        parts.append((0.25 * 32767 * envelope * np.sin(2 * np.pi * freq * t)).astype(np.int16))
    return Audio(np.concatenate(parts), rate)


def rms_dbfs(samples: np.ndarray) -> float:
    if len(samples) == 0:
        return -120.0
    power = float(np.mean(samples.astype(np.float32) ** 2))
    return float(10.0 * np.log10(power / (32768.0**2) + 1e-12))
