"""Microphone stand-ins that yield the same chunks as the live microphone."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicecoach.audio.pcm import RATE, Audio, read_wav
from voicecoach.clock import Clock
from voicecoach.errors import UserError
from voicecoach.tomlfile import TextFileProblem, read_text

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.02  # 20 ms: fine-grained endpointing, cheap per chunk
MAX_SILENCE = 24 * 3600.0  # seconds of one scripted silence: far longer than any session


@dataclass(frozen=True)
class Chunk:
    """A block of mono int16 samples at `rate`, first sample at stream time `t0`."""

    samples: np.ndarray
    t0: float
    rate: int = RATE

    @property
    def t1(self) -> float:
        return self.t0 + len(self.samples) / self.rate


class AudioSource(Protocol):
    @property
    def rate(self) -> int:
        """Samples per second of its chunks."""

    @property
    def overflows(self) -> int:
        """Blocks of audio lost so far (the computer was too busy to take them)."""

    def start(self) -> None: ...

    def read(self, timeout: float) -> Chunk | None:
        """The next chunk, or None if none came within `timeout` seconds."""

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        """Drop everything heard before `ignore_until` (our own voice and its tail).

        `new_phase` is False when a turn goes on after a short remark of ours
        (a time warning): a scripted couple then keeps talking where it was.
        """

    def close(self) -> None: ...


class _Timeline:
    """Pacing for sources that make their audio: as fast as read on a simulated
    clock (--fast), at real-time pace on the real one."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.rate = RATE
        self.overflows = 0
        self.cursor = clock.now()
        self.ignore_until = float("-inf")

    def _emit(self, samples: np.ndarray) -> Chunk:
        chunk = Chunk(samples, self.cursor, self.rate)
        self.cursor = chunk.t1
        if self.clock.simulated:
            self.clock.advance_to(chunk.t1)
        else:
            self.clock.sleep(chunk.t1 - self.clock.now())
        return chunk

    def _catch_up(self) -> None:
        # Time spent speaking passed for the microphone too; start from now.
        # (Small lags from sleep jitter are not skipped: no sample is lost.)
        late = self.clock.now() - self.cursor
        if late > 2 * CHUNK_SECONDS:
            self.cursor += late
        self.cursor = max(self.cursor, self.ignore_until)

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        self.ignore_until = ignore_until

    def start(self) -> None:
        self.cursor = self.clock.now()

    def close(self) -> None:
        return None


class FileSource(_Timeline):
    """A recording played as the microphone (--mic-file); silence after its end."""

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(clock)
        self.audio = read_wav(path).to_rate(RATE)
        self._origin = clock.now()
        self.finished = False

    def start(self) -> None:
        super().start()
        self._origin = self.cursor

    def read(self, timeout: float) -> Chunk | None:
        self._catch_up()
        n = int(CHUNK_SECONDS * self.rate)
        pos = int(round((self.cursor - self._origin) * self.rate))
        samples = self.audio.samples[pos : pos + n]
        if len(samples) < n:
            self.finished = pos >= len(self.audio.samples)
            samples = np.concatenate([samples, np.zeros(n - len(samples), np.int16)])
        return self._emit(samples)


class ScriptError(UserError):
    pass


def parse_script(path: Path) -> list[Audio | float]:
    """Lines: a WAV path (relative to the script) or `silence SECONDS`; # comments."""
    try:
        lines = read_text(path).splitlines()
    except TextFileProblem as exc:
        if exc.line:
            raise ScriptError(f"{path}, line {exc.line}: this is not UTF-8 text.", "Save the script as UTF-8.") from None
        raise ScriptError(f"Cannot use the answers script {path}: {exc.reason}.",
                          "Check the path; a script is a short UTF-8 text file.") from None
    items: list[Audio | float] = []
    loaded: dict[Path, Audio] = {}  # a file named on many lines is read once: a simulated day names one 20 s
    # recording of room noise 2880 times, which held 1.8 GB (scripts/bench_wake.py --only memory)
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.split()[0].lower() == "silence":
            try:
                seconds = float(line.split()[1])
                if not 0 <= seconds <= MAX_SILENCE:  # also NaN and infinity
                    raise ValueError
            except (IndexError, ValueError):
                raise ScriptError(
                    f"{path}, line {number}: 'silence' needs a number of seconds from 0 to {MAX_SILENCE:.0f}.",
                    "Write e.g. 'silence 2.5'.",
                ) from None
            items.append(seconds)
        else:
            wav = Path(line) if Path(line).is_absolute() else path.parent / line
            try:
                if wav not in loaded:
                    loaded[wav] = read_wav(wav).to_rate(RATE)
                items.append(loaded[wav])
            except UserError as exc:
                raise ScriptError(f"{path}, line {number}: {exc.message}", exc.fix) from None
    return items


class ScriptedCouple(_Timeline):
    """A couple that answers from a script: each listening phase takes the next line.

    The answer starts `lead_in` seconds after listening begins, as a person
    would; once the script is used up the microphone stays silent.
    """

    def __init__(self, items: list[Audio | float], clock: Clock, lead_in: float = 0.4) -> None:
        super().__init__(clock)
        self.items = deque(items)
        self.lead_in = lead_in
        self.used = 0
        self._pending: np.ndarray = np.zeros(0, np.int16)
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self.items)

    @property
    def finished(self) -> bool:
        """Every line was said to its end: only silence follows."""
        return not self.items and self._pos >= len(self._pending)

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        super().begin_listening(ignore_until)
        self._catch_up()
        if not new_phase:
            return
        lead = np.zeros(int(self.lead_in * self.rate), np.int16)
        if self.items:
            item = self.items.popleft()
            self.used += 1
            # A silence needs no samples: after its line the microphone is quiet anyway.
            body = np.zeros(0, np.int16) if isinstance(item, float) else item.samples
            self._pending = np.concatenate([lead, body])
        else:
            self._pending = np.zeros(0, np.int16)
        self._pos = 0

    def read(self, timeout: float) -> Chunk | None:
        self._catch_up()
        n = int(CHUNK_SECONDS * self.rate)
        samples = self._pending[self._pos : self._pos + n]
        self._pos += n
        if len(samples) < n:
            samples = np.concatenate([samples, np.zeros(n - len(samples), np.int16)])
        return self._emit(samples)


class SourceWrapper:
    """A source around another: everything not its own is the inner source's (rate, finished, ...)."""

    def __init__(self, source: AudioSource) -> None:
        self.source = source

    @property
    def rate(self) -> int:
        return self.source.rate

    @property
    def overflows(self) -> int:
        return self.source.overflows

    def __getattr__(self, name: str) -> Any:  # finished, remaining, ...: the source's own
        return getattr(self.source, name)

    def start(self) -> None:
        self.source.start()

    def read(self, timeout: float) -> Chunk | None:
        return self.source.read(timeout)

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        self.source.begin_listening(ignore_until, new_phase)

    def close(self) -> None:
        self.source.close()


class Tap(SourceWrapper):
    """A source whose chunks are also shown, with their stream times, to an observer while one is set
    (a timed turn being watched: speech/turn_watch.TurnWatch)."""

    def __init__(self, source: AudioSource) -> None:
        super().__init__(source)
        self.observer: Callable[[Chunk], None] | None = None

    def read(self, timeout: float) -> Chunk | None:
        chunk = self.source.read(timeout)
        if chunk is not None and self.observer is not None:
            self.observer(chunk)
        return chunk
