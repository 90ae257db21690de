"""From a decision to the first sound of the next prompt at the sound device, timed through a real sound
server: the private PulseAudio of scripts/pulse, whose null sink "table" is the speaker. Its monitor is
recorded in this process, so the prompt's first sound is found where the sound server passed it on,
not where voicecoach handed it over.

Never the user's own sound server: the prompt would sound in their room, and their device's latency would
change the number from machine to machine. A real USB speakerphone adds its own buffer (typically tens of
milliseconds) to what is measured here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from voicecoach.audio.pcm import Audio

REPO = Path(__file__).resolve().parent.parent
SPEAKER_MONITOR = "table.monitor"
TAP_RATE = 16000
BLOCK = 160  # 10 ms blocks: each found sound is placed within one block
SOUND = 300  # |sample| above this (-41 dBFS) is sound, not the null sink's silence


class NoSoundServer(Exception):
    """Why the device could not be measured, in one sentence."""


@contextmanager
def private_sound_server() -> Iterator[None]:
    """The private PulseAudio test server, in this process's environment while inside: the test suite's
    (scripts/test) when it runs, or one started here and stopped again at the end."""
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            raise NoSoundServer(f"{tool} is not installed (scripts/system-packages --test)")
    suite = os.environ.get("VOICECOACH_PULSE") and os.environ.get("XDG_RUNTIME_DIR")
    runtime = os.environ["XDG_RUNTIME_DIR"] if suite else "/tmp/voicecoach-bench-pulse"
    env = {**os.environ, "VOICECOACH_PULSE_DIR": runtime, "XDG_RUNTIME_DIR": runtime,
           "PULSE_RUNTIME_PATH": f"{runtime}/pulse"}
    try:
        started = subprocess.run(["pactl", "info"], capture_output=True, env=env, check=False,
                                 timeout=30).returncode != 0
        out = subprocess.run([str(REPO / "scripts" / "pulse"), "start"], capture_output=True, text=True, env=env,
                             check=False, timeout=60)
    except subprocess.TimeoutExpired as exc:  # a sound server that hangs is no sound server to time with
        raise NoSoundServer(f"the test sound server did not answer ({exc})") from None
    if out.returncode != 0:
        raise NoSoundServer(f"the test sound server did not start ({out.stderr.strip() or out.returncode})")
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")}
    os.environ.update({k: env[k] for k in saved})
    _rescan_devices()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if started:
            subprocess.run([str(REPO / "scripts" / "pulse"), "stop"], env=env, check=False, timeout=60)
        _rescan_devices()


def pulse_device() -> str | None:
    """ALSA's "pulse" device when there is one: on a desktop whose default device is PipeWire's, the
    default would play the prompt in the room and record something else."""
    import sounddevice as sd

    return "pulse" if any(d["name"] == "pulse" for d in sd.query_devices()) else None


def _rescan_devices() -> None:
    """PortAudio lists its devices once: again, now that another sound server is the one to use."""
    import sounddevice as sd

    sd._terminate()  # noqa: SLF001 - sounddevice's own way to re-read the device list
    sd._initialize()  # noqa: SLF001


class MonitorTap:
    """Records the speaker's monitor and places each sample on time.monotonic().

    A sample is placed at its block's arrival minus the samples after it: the latest it can have passed
    the sound server, so a delay measured to it is never too short.
    """

    def __init__(self, source: str = SPEAKER_MONITOR) -> None:
        import sounddevice as sd

        self.blocks: list[tuple[float, bytes]] = []
        os.environ["PULSE_SOURCE"] = source  # read when the stream connects: this stream only
        try:
            self._stream = sd.RawInputStream(samplerate=TAP_RATE, device=pulse_device(), channels=1, dtype="int16",
                                             blocksize=BLOCK, latency="low", callback=self._block)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:  # no ALSA pulse plugin, no capture device
            raise NoSoundServer(f"the speaker's monitor cannot be recorded ({exc})") from None
        finally:
            os.environ.pop("PULSE_SOURCE", None)

    def _block(self, data: object, frames: int, _time: object, _status: object) -> None:
        self.blocks.append((time.monotonic(), bytes(data)))  # type: ignore[arg-type]

    def first_sound(self, after: float) -> float | None:
        """When the first sound arrived that was recorded after `after` (monotonic), or None."""
        for arrived, data in list(self.blocks):
            if arrived <= after:
                continue
            loud = np.flatnonzero(np.abs(np.frombuffer(data, np.int16).astype(np.int32)) > SOUND)
            if len(loud):
                frames = len(data) // 2
                return arrived - (frames - int(loud[0])) / TAP_RATE
        return None

    def quiet_for(self, seconds: float, limit: float = 10.0) -> None:
        """Wait until the monitor has carried no sound for `seconds` (the last prompt has passed)."""
        began = time.monotonic()
        while time.monotonic() - began < limit:
            time.sleep(seconds)
            recent = [d for t, d in self.blocks if t > time.monotonic() - seconds]
            if recent and all(np.abs(np.frombuffer(d, np.int16).astype(np.int32)).max() <= SOUND for d in recent):
                return

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


def lead_in(audio: Audio) -> float:
    """Seconds of near-silence at the start of a rendered prompt (part of what a person waits)."""
    loud = np.flatnonzero(np.abs(audio.samples.astype(np.int32)) > SOUND)
    return float(loud[0]) / audio.rate if len(loud) else audio.seconds


def to_first_sound(decide: Callable[[], object], speak: Callable[[], object], tap: MonitorTap) -> float:
    """Seconds from the moment `decide()` returned to the first sound `speak()` put through the device."""
    tap.quiet_for(0.1)
    decide()
    decided = time.monotonic()
    speak()
    heard = tap.first_sound(decided)
    if heard is None:
        raise NoSoundServer("the prompt never reached the speaker's monitor")
    return heard - decided
