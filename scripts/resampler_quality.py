"""Measures the resampling on voicecoach's two audio paths: the microphone (a 44.1 or 48 kHz device
heard at 16 kHz, through LiveMic with a stand-in sound card) and whole sounds (`Audio.to_rate`:
prompts to the speaker's rate).

For each path: artefacts (everything but a 1 kHz tone, relative to it, in dB), aliasing (going down: a
tone above the new Nyquist frequency that folds into the band; going up: the mirror image of a 7 kHz
tone; relative to the input tone, in dB) and the level of a 7 kHz tone that must pass (dB). Lower artefacts
and aliasing are better; passband near 0 dB.

    .venv/bin/python scripts/resampler_quality.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voicecoach.audio import live  # noqa: E402
from voicecoach.audio.pcm import RATE, Audio  # noqa: E402
from voicecoach.clock import SimClock  # noqa: E402

SECONDS = 2.0


def tone(freq: float, rate: int, seconds: float = SECONDS, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.round(level * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _spectrum(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    x = x.astype(np.float64)
    x = x[len(x) // 4: len(x) // 4 + rate]  # one steady second, away from both ends
    window = np.blackman(len(x))
    power = np.abs(np.fft.rfft(x * window)) ** 2
    return np.fft.rfftfreq(len(x), 1 / rate), power


def _band(freqs: np.ndarray, power: np.ndarray, f: float, width: float = 30.0) -> float:
    return float(power[np.abs(freqs - f) <= width].sum())


def db(ratio: float) -> float:
    return 10 * np.log10(max(ratio, 1e-30))


def artefacts_db(out: np.ndarray, rate: int, f: float = 1000.0) -> float:
    freqs, power = _spectrum(out, rate)
    wanted = _band(freqs, power, f)
    return db((power.sum() - wanted) / wanted)


def level_db(x_in: np.ndarray, rate_in: int, out: np.ndarray, rate_out: int, f_in: float, f_out: float) -> float:
    """Power of `out` at f_out (the tone, or where it folds to) relative to the input tone."""
    fi, pi = _spectrum(x_in, rate_in)
    fo, po = _spectrum(out, rate_out)
    # The same window and one second each: band powers compare after scaling by length.
    return db(_band(fo, po, f_out) / rate_out**2 / (_band(fi, pi, f_in) / rate_in**2))


def folded(f: float, rate: int) -> float:
    f = f % rate
    return rate - f if f > rate / 2 else f


class _Stream:
    def __init__(self, callback: Any, samplerate: float, **kw: Any) -> None:
        if samplerate != _Card.rate:
            raise ValueError("Invalid sample rate")  # like a USB speakerphone that only runs at its own rate
        self.callback, self.active = callback, False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        return None


class _Card:
    rate = 48000

    def query_devices(self, device: Any, kind: str) -> dict[str, Any]:
        return {"default_samplerate": float(self.rate)}

    def RawInputStream(self, **kw: Any) -> _Stream:  # noqa: N802 - sounddevice's name
        self.stream = _Stream(**kw)
        return self.stream


def through_live_mic(x: np.ndarray, rate: int) -> np.ndarray:
    """What LiveMic hands the recognizer when its sound card runs at `rate`."""
    card = _Card()
    _Card.rate = rate
    live._sounddevice = lambda: card  # type: ignore[assignment]
    clock = SimClock()
    mic = live.LiveMic(clock)
    mic.start()
    block = int(rate * 0.02)
    out: list[np.ndarray] = []
    for i in range(0, len(x) - block + 1, block):
        clock.sleep(0.02)
        card.stream.callback(x[i: i + block].tobytes(), block, None, None)
        while True:
            chunk = mic.read(0.0)
            if chunk is None:
                break
            out.append(chunk.samples)
    mic.close()
    return np.concatenate(out)


def measure(name: str, convert: Any, src: int, dst: int) -> dict[str, float]:
    nyquist = min(src, dst) / 2
    above = nyquist * 1.25  # folds to 0.75 of the Nyquist frequency when it is not filtered out
    low = tone(1000, src)
    alias_in = tone(above, src) if above < src / 2 else None
    passing = tone(min(7000.0, nyquist * 0.85), src)
    result = {"artefacts_db": artefacts_db(convert(low), dst)}
    f_pass = min(7000.0, nyquist * 0.85)
    if alias_in is not None:  # going down: a tone above the new Nyquist frequency must not fold in
        result["aliasing_db"] = level_db(alias_in, src, convert(alias_in), dst, above, folded(above, dst))
    else:  # going up: the tone's mirror image above the old Nyquist frequency must not appear
        result["aliasing_db"] = level_db(passing, src, convert(passing), dst, f_pass, src - f_pass)
    result["passband_db"] = level_db(passing, src, convert(passing), dst, f_pass, f_pass)
    print(f"{name:<34} {src:>6} -> {dst:<6} artefacts {result['artefacts_db']:7.1f} dB   "
          f"aliasing {result['aliasing_db']:7.1f} dB   {f_pass / 1000:.1f} kHz passes at {result['passband_db']:6.2f} dB")
    return result


def main() -> None:
    for rate in (48000, 44100):
        measure("microphone (LiveMic, 20 ms blocks)", lambda x, r=rate: through_live_mic(x, r), rate, RATE)
    for src, dst in ((22050, RATE), (22050, 48000), (RATE, 44100)):
        measure("whole sound (Audio.to_rate)", lambda x, s=src, d=dst: Audio(x, s).to_rate(d).samples, src, dst)


if __name__ == "__main__":
    main()
