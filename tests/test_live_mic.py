"""LiveMic with a stand-in sound card: capture-time stamps, sound cards at other rates, and a long
prompt that must not look like lost audio. (Real devices: tests/test_audio_devices.py.)"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from voicecoach.audio.live import LiveMic
from voicecoach.audio.pcm import RATE
from voicecoach.clock import SimClock
from voicecoach.errors import DeviceError


class Stream:
    def __init__(self, card: Card, callback: Any, samplerate: float, blocksize: int, **kw: Any) -> None:
        if samplerate not in card.rates:
            raise ValueError(f"Invalid sample rate {samplerate}")  # as PortAudio says it
        self.callback, self.rate, self.block, self.active = callback, int(samplerate), blocksize, False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        return None


class Card:
    """A sound card that runs only at `rates`; `own` is what it reports as its rate."""

    def __init__(self, rates: tuple[int, ...], own: int) -> None:
        self.rates, self.own = rates, own
        self.stream: Stream | None = None

    def query_devices(self, device: Any, kind: str) -> dict[str, Any]:
        return {"default_samplerate": float(self.own)}

    def RawInputStream(self, **kw: Any) -> Stream:  # noqa: N802 - sounddevice's name
        self.stream = Stream(self, **kw)
        return self.stream


@pytest.fixture
def card(monkeypatch):  # type: ignore[no-untyped-def]
    from voicecoach.audio import live

    made: list[Card] = []

    def make(rates: tuple[int, ...] = (RATE,), own: int = RATE) -> Card:
        made.append(Card(rates, own))
        monkeypatch.setattr(live, "_sounddevice", lambda: made[-1])
        return made[-1]

    return make


def feed(card: Card, clock: SimClock, seconds: float, every: int = 1, signal: np.ndarray | None = None,
         time_info: Any = None) -> None:
    """Deliver `seconds` of audio in blocks as the sound card captures it; `every` blocks arrive
    together (a driver that delivers in bursts)."""
    stream = card.stream
    assert stream is not None
    n = int(round(seconds / 0.02))
    pending = []
    for i in range(n):
        start = i * stream.block
        block = (signal[start: start + stream.block] if signal is not None
                 else np.full(stream.block, 1000, np.int16))
        pending.append(block.astype("<i2").tobytes())
        clock.sleep(0.02)
        if len(pending) == every:
            for data in pending:
                stream.callback(data, stream.block, time_info, None)
            pending = []


def read_all(mic: LiveMic) -> list:  # type: ignore[no-untyped-def]
    chunks = []
    while (chunk := mic.read(0.0)) is not None:
        chunks.append(chunk)
    return chunks


def test_chunks_carry_the_capture_time_not_the_reading_time(card):
    clock = SimClock()
    fake = card()
    mic = LiveMic(clock)
    mic.start()
    began = clock.now()
    feed(fake, clock, 2.0, every=4)  # bursts of 80 ms, all read 2 s late
    chunks = read_all(mic)
    assert len(chunks) == 100
    t0 = np.array([c.t0 for c in chunks])
    assert np.allclose(np.diff(t0), 0.02)  # the sound card's spacing, not the bursts'
    assert t0[-1] == pytest.approx(began + 1.98, abs=0.001)  # when the last block was captured
    assert clock.now() - chunks[-1].t1 < 0.001


def test_portaudio_capture_time_is_used_where_the_driver_gives_it(card):
    clock = SimClock()
    fake = card()
    mic = LiveMic(clock)
    mic.start()
    began = clock.now()
    # PortAudio's own clock says the first sample of each block was captured 150 ms before the callback.
    feed(fake, clock, 1.0, time_info=SimpleNamespace(inputBufferAdcTime=500.0, currentTime=500.15))
    chunks = read_all(mic)
    assert chunks[0].t0 == pytest.approx(began + 0.02 - 0.15, abs=1e-6)
    assert np.allclose(np.diff([c.t0 for c in chunks]), 0.02)


@pytest.mark.parametrize("rate", [48000, 44100])
def test_a_card_that_refuses_16_khz_is_resampled_in_continuous_20_ms_chunks(card, rate):
    clock = SimClock()
    fake = card(rates=(rate,), own=rate)
    mic = LiveMic(clock)
    mic.start()
    assert mic.native_rate == rate
    t = np.arange(int(2.0 * rate)) / rate
    feed(fake, clock, 2.0, signal=(8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16))
    chunks = read_all(mic)
    assert all(len(c.samples) == 320 and c.rate == RATE for c in chunks)
    assert len(chunks) >= 97  # all of it but the filter's delay
    assert np.allclose([b.t0 - a.t1 for a, b in zip(chunks, chunks[1:], strict=False)], 0.0, atol=1e-9)
    out = np.concatenate([c.samples for c in chunks]).astype(np.float64)
    expected = 8000 * np.sin(2 * np.pi * 440 * (np.arange(len(out)) / RATE))
    assert np.abs(out[800:-800] - expected[800:-800]).max() < 40  # the same sine, in time, at 16 kHz


def test_a_card_that_opens_at_no_rate_is_one_sentence(card):
    card(rates=(), own=48000)
    with pytest.raises(DeviceError) as caught:
        LiveMic(SimClock()).start()
    assert "could not be opened" in caught.value.message


def test_a_long_prompt_is_not_lost_audio(card, caplog):
    """While we speak nobody reads the microphone; what it heard then is our own voice."""
    clock = SimClock()
    fake = card()
    mic = LiveMic(clock)
    mic.start()
    feed(fake, clock, 1.0)
    read_all(mic)
    feed(fake, clock, 45.0)  # a long prompt, and its tail
    mic.begin_listening(ignore_until=clock.now() + 0.35)
    with caplog.at_level(logging.WARNING):
        feed(fake, clock, 2.0)
        chunks = read_all(mic)
    assert mic.overflows == 0 and mic.dropped == 0
    assert "lost" not in caplog.text
    assert chunks and chunks[0].t0 >= mic.ignore_until  # what they say now is heard
    assert len(chunks) == pytest.approx((2.0 - 0.35) / 0.02, abs=1)


def test_audio_lost_while_listening_is_still_counted(card, caplog):
    clock = SimClock()
    fake = card()
    mic = LiveMic(clock)
    mic.start()
    mic.begin_listening(ignore_until=clock.now())
    feed(fake, clock, 12.0)  # a reader that stalls while we listen: 2 s more than the queue holds
    with caplog.at_level(logging.WARNING):
        read_all(mic)
    assert mic.dropped == 100 and mic.overflows == 100
    assert "audio was lost 100 time(s)" in caplog.text


def test_an_overflow_reported_by_the_card_starts_a_new_stretch(card):
    clock = SimClock()
    fake = card(rates=(48000,), own=48000)
    mic = LiveMic(clock)
    mic.start()
    feed(fake, clock, 0.5)
    stream = fake.stream
    assert stream is not None
    clock.sleep(0.3)  # 300 ms the card could not deliver
    stream.callback(np.zeros(960, "<i2").tobytes(), 960, None, SimpleNamespace(input_overflow=True))
    feed(fake, clock, 0.5)
    chunks = read_all(mic)
    holes = [round(b.t0 - a.t1, 3) for a, b in zip(chunks, chunks[1:], strict=False) if abs(b.t0 - a.t1) > 1e-6]
    assert len(holes) == 1 and holes[0] >= 0.25  # the hole is where it was, not smeared over the stream
    assert mic.overflows == 1
