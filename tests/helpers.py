"""Small helpers for tests: scripted couples and listeners on the real engine."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from types import ModuleType

from voicecoach.audio.pcm import Audio, read_wav
from voicecoach.audio.sources import ScriptedCouple
from voicecoach.clock import SimClock
from voicecoach.speech.listener import Listener
from voicecoach.speech.own_answers import OwnAnswers


def couple_listener(model, vocab, items: list[Path | float], lead_in: float = 0.4,  # type: ignore[no-untyped-def]
                    settings=None):
    clock = SimClock()
    audio: list[Audio | float] = [i if isinstance(i, float) else read_wav(i).to_rate(16000) for i in items]
    couple = ScriptedCouple(audio, clock, lead_in=lead_in)
    return clock, couple, Listener(couple, model.recognizer(16000), vocab, clock, settings)


def mix(a: Path, b: Path, out: Path, gain_b: float = 1.0, offset: float = 0.0) -> Path:
    """Both talking at once: b laid over a, `offset` seconds in."""
    import numpy as np

    from voicecoach.audio.pcm import write_wav

    x = read_wav(a).to_rate(16000).samples.astype(np.float32)
    y = read_wav(b).to_rate(16000).samples.astype(np.float32) * gain_b
    start = int(offset * 16000)
    n = max(len(x), start + len(y))
    z = np.zeros(n, np.float32)
    z[: len(x)] += x
    z[start : start + len(y)] += y
    write_wav(out, Audio(np.clip(z, -32768, 32767).astype(np.int16)))
    return out


def trimmed(path: Path, below_peak_db: float = 45.0) -> Audio:
    """The recording from its first to its last sample within `below_peak_db` of its peak (no silence around it)."""
    import numpy as np

    audio = read_wav(path).to_rate(16000)
    x = np.abs(audio.samples.astype(np.float32))
    loud = np.nonzero(x > float(x.max()) * 10 ** (-below_peak_db / 20))[0]
    return Audio(audio.samples[loud[0] : loud[-1] + 1])


class FullDiskWrites:
    """The os module as seen by one of ours (monkeypatched in as its `os`), on a disk that is full: what is
    written through os.fdopen fails as /dev/full does."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(os, name)

    def fdopen(self, fd: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        os.close(fd)
        return open("/dev/full", *args, **kwargs)  # noqa: SIM115 - closed by its caller's with


class FullDiskFsync:
    """The same, where the disk says it is full when asked to keep what was written (fsync)."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(os, name)

    def fsync(self, fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def corpus() -> ModuleType:
    """scripts/corpus.py: voices rendered as the evaluation corpus renders them (trimmed, at its level)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import corpus as module

    return module


def their_answers(voice: str, speed: int) -> OwnAnswers:
    """What `voicecoach check` learns of a corpus voice: the confirm and deny phrases three times each, said at
    other speeds than `speed`, at the same pitch."""
    c = corpus()
    own = OwnAnswers()
    for other in [s for s in c.SPEEDS if s != speed][:3]:
        assert own.add("confirm", "네", c.speak("네", "ko", voice, other, 50))
        assert own.add("deny", "아니요", c.speak("아니요", "ko", voice, other, 50))
    return own
