"""The sound card adapters on the PulseAudio test devices: a stop while speaking is heard to stop at
once, and a microphone that only runs at 48 kHz is heard through the resampler."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import KO_VOCAB, ROOT
from voicecoach.audio.pcm import RATE, Audio, read_wav, write_wav
from voicecoach.clock import RealClock
from voicecoach.journal import Journal

pytestmark = pytest.mark.audio

STOP_SECONDS = 0.2  # a stop must silence the voice within this


def _recording_streams() -> int:
    """How many streams record from the sound server now (parecord's shows up once it records)."""
    out = subprocess.run(["pactl", "list", "short", "source-outputs"], capture_output=True, text=True, timeout=10,
                         check=True)
    return len(out.stdout.splitlines())


class Recorder:
    """Records a PulseAudio source (e.g. the speaker's monitor) and tells, on the caller's
    clock, when the sound in it ended (timed from the end of the recording: it stops at `stop()`)."""

    def __init__(self, source: str, path: Path) -> None:
        self.path = path
        before = _recording_streams()
        self.proc = subprocess.Popen(["parecord", f"--device={source}", "--rate=16000", "--channels=1",
                                      "--format=s16le", "--latency-msec=10", str(path)])
        deadline = time.monotonic() + 10
        while _recording_streams() <= before:  # connected and recording
            assert self.proc.poll() is None and time.monotonic() < deadline, "parecord did not start recording"
            time.sleep(0.01)

    def stop(self) -> float:
        self.stopped = time.monotonic()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        return self.stopped

    def sound_ends(self, threshold: float = 300.0) -> float | None:
        """Clock time at which the last 10 ms with sound in the recording ended, or None."""
        samples = read_wav(self.path).samples.astype(np.float64)
        frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
        loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > threshold)
        if len(loud) == 0:
            return None
        return self.stopped - (len(frames) - loud[-1] - 1) * 0.01


@pytest.fixture
def terminate_as_cli() -> Iterator[None]:
    """SIGTERM becomes a KeyboardInterrupt, as `voicecoach` sets it up."""

    def raise_interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, raise_interrupt)
    yield
    signal.signal(signal.SIGTERM, old)


def _signal_delay(tries: int = 3) -> float:
    """How long this machine, now, takes from a SIGTERM to the KeyboardInterrupt in a main thread that
    waits in 50 ms steps (what any speaker loop could do at best): the baseline a busy computer adds."""
    worst = 0.0
    for _ in range(tries):
        sent: list[float] = []

        def stop(sent: list[float] = sent) -> None:
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGTERM)

        timer = threading.Timer(0.2, stop)
        timer.start()
        try:
            for _ in range(100):
                time.sleep(0.05)
        except KeyboardInterrupt:
            worst = max(worst, time.monotonic() - sent[0])
        finally:
            timer.cancel()
    return worst


def _one_stop(tmp_path: Path, n: int) -> tuple[float, float | None]:
    """Speak 8 s of voice, SIGTERM after 3 s: (signal to play() returning, signal to silence)."""
    from voicecoach.audio.live import LiveSpeaker

    recorder = Recorder("table.monitor", tmp_path / f"heard-{n}.wav")
    speaker = LiveSpeaker(RealClock())
    t = np.arange(8 * speaker.rate) / speaker.rate
    prompt = Audio((8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), speaker.rate)
    sent: list[float] = []

    def stop() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGTERM)

    timer = threading.Timer(3.0, stop)  # well after the sound server has started playing
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            speaker.play(prompt)
        stopped = time.monotonic()
        time.sleep(0.5)  # the app saves the step and closes the journal before it closes the speaker
    finally:
        timer.cancel()
        speaker.close()
    recorder.stop()
    ends = recorder.sound_ends(threshold=1000)
    return stopped - sent[0], None if ends is None else ends - sent[0]


def _write_granularity() -> float:
    """The longest a 50 ms block's write to this sound server blocks, now, once its buffer is full: a stop
    lands between two writes, so no speaker written in blocks can be quicker than this. On a quiet
    machine ~50 ms; on this one after hours of test runs the PulseAudio null sink took 0.4-0.5 s."""
    import sounddevice as sd

    rate = int(sd.query_devices(None, "output")["default_samplerate"])
    stream = sd.RawOutputStream(samplerate=rate, channels=1, dtype="int16", latency=0.2)
    stream.start()
    block = np.zeros(int(rate * 0.05), np.int16).tobytes()
    worst = 0.0
    try:
        for n in range(60):
            began = time.monotonic()
            stream.write(block)
            if n >= 10:  # the buffer is full: each write now waits for the card
                worst = max(worst, time.monotonic() - began)
    finally:
        stream.abort()
        stream.close()
    return worst


def test_a_stop_while_speaking_silences_the_speaker_at_once(pulse, tmp_path, terminate_as_cli):
    """Within 200 ms, plus what this computer and sound server add now (measured in the same test: the
    signal's delay to an idle loop, and how long one block's write blocks). The median of three stops;
    a speaker that wrote the prompt in one go takes seconds and fails."""
    stops = [_one_stop(tmp_path, n) for n in range(3)]
    budget = STOP_SECONDS + _signal_delay() + _write_granularity()
    returned = sorted(s[0] for s in stops)
    assert all(s[1] is not None for s in stops), f"the speaker played nothing: {stops}"
    silent = sorted(s[1] for s in stops if s[1] is not None)
    assert returned[1] < budget, f"play() let the stop through after {returned} s (budget {budget:.2f})"
    assert silent[1] < budget, f"the voice went on {silent} s after the stop (budget {budget:.2f})"


def _voicecoach(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "voicecoach", *args], env=env, cwd=ROOT, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigterm_during_the_safety_note_stops_the_voice_and_keeps_the_session(pulse, ko_model_path, tmp_path):
    home = tmp_path / "home"
    events = tmp_path / "events.jsonl"
    env = {**pulse, "VOICECOACH_HOME": str(home)}
    # Not the first use (that starts with the safety note, before any step): a typed session came before.
    subprocess.run([sys.executable, "-m", "voicecoach", "run", "herstelgesprek", "--text", "--fast", "--vocab",
                    str(KO_VOCAB), "--names", "Sanne,Joris"], env=env, cwd=ROOT, input="", capture_output=True,
                   text=True, timeout=60, check=False)
    recorder = Recorder("table.monitor", tmp_path / "heard.wav")
    proc = _voicecoach(["run", "herstelgesprek", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                        "--names", "Sanne,Joris", "--events", str(events)], env)
    try:
        deadline = time.monotonic() + 60
        while not events.exists() or '"prompt"' not in events.read_text(encoding="utf-8"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.01)
        time.sleep(2.0)  # well into the welcome (about 20 s long)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        exited = time.monotonic()
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.5)
    recorder.stop()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "bewaard" in err
    ends = recorder.sound_ends()
    assert ends is not None, "nothing was heard from the speaker"
    assert ends - sent < STOP_SECONDS + 0.05, f"the voice went on {ends - sent:.2f} s after SIGTERM"
    assert exited - sent < 5.0
    prompts = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in prompts].count("prompt") == 1  # stopped in the first prompt
    [entered] = [e["state"] for e in prompts if e["event"] == "state"]
    db = home / "data" / "journal.sqlite3"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with Journal(db) as journal:
        progress = journal.load_progress()
    assert progress is not None and progress.state == entered  # `voicecoach resume` starts where it stopped


# -- the benchmark's "decision to first sound at the sound device" ------------------------------


def _bench_device():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_device", ROOT / "scripts" / "bench_device.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_finds_a_prompts_first_sound_at_the_sound_device(pulse):
    """scripts/bench.py times the next prompt to where the sound server passed it on: a prompt that
    starts with 0.3 s of silence is found 0.3 s later than the same one without, and neither before
    play() was called (a timing of the render or the cache would find both at once)."""
    from voicecoach.audio.live import LiveSpeaker

    bd = _bench_device()
    tap = bd.MonitorTap()
    speaker = LiveSpeaker(RealClock())
    try:
        sound = tone(440, 0.3, speaker.rate)
        late = Audio.concat([Audio.silence(0.3, speaker.rate), sound], speaker.rate)
        prompt = sorted(bd.to_first_sound(lambda: None, lambda: speaker.play(sound), tap) for _ in range(3))
        delayed = sorted(bd.to_first_sound(lambda: None, lambda: speaker.play(late), tap) for _ in range(3))
    finally:
        speaker.close()
        tap.close()
    assert 0.0 <= prompt[1] < 0.25, prompt
    assert abs(delayed[1] - prompt[1] - 0.3) < 0.08, (prompt, delayed)


# -- a microphone at 48 kHz --------------------------------------------------------------------


@pytest.fixture
def mic48(pulse, monkeypatch):  # type: ignore[no-untyped-def]
    """The monitor of the 48 kHz-only sink "micfeed48" as the default microphone."""
    sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True, env=pulse,
                           check=True).stdout
    if "micfeed48" not in sinks:  # a server started by an older scripts/pulse
        subprocess.run(["pactl", "load-module", "module-null-sink", "sink_name=micfeed48", "rate=48000"],
                       env=pulse, check=True, capture_output=True)
    monkeypatch.setenv("PULSE_SOURCE", "micfeed48.monitor")
    return pulse


def play48(pulse: dict[str, str], audio: Audio, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.wav"
    write_wav(path, audio.to_rate(48000))
    subprocess.run(["paplay", "--device=micfeed48", str(path)], env=pulse, check=True, timeout=30)


def tone(freq: float, seconds: float, rate: int = 48000) -> Audio:
    """A steady tone with soft edges (a hard start is a click, heard at every frequency)."""
    t = np.arange(int(seconds * rate)) / rate
    edges = np.minimum(1.0, np.minimum(t, seconds - t) / 0.1)
    return Audio((0.3 * 32767 * edges * np.sin(2 * np.pi * freq * t)).astype(np.int16), rate)


def band_db(samples: np.ndarray, freq: float, rate: int = RATE) -> float:
    """Power within 50 Hz of `freq` (dB), averaged over 100 ms windows."""
    x = samples.astype(np.float64)
    windows = x[: len(x) // 1600 * 1600].reshape(-1, 1600) * np.hanning(1600)
    power = (np.abs(np.fft.rfft(windows, axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(1600, 1 / rate)
    return float(10 * np.log10(power[np.abs(freqs - freq) <= 50].sum() + 1e-9))


def _read(mic, seconds: float) -> list:  # type: ignore[no-untyped-def]
    chunks, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        chunk = mic.read(0.1)
        if chunk is not None:
            chunks.append(chunk)
    return chunks


def test_a_48_khz_microphone_is_resampled_without_aliasing_and_timed_by_capture(mic48, tmp_path):
    from voicecoach.audio.live import LiveMic

    clock = RealClock()
    mic = LiveMic(clock, rates=[48000])  # as a speakerphone that refuses 16 kHz is opened
    mic.start()
    try:
        assert mic.native_rate == 48000
        levels = {}
        # 12 kHz cannot exist at 16 kHz: unfiltered, it folds down to 4 kHz.
        for freq, heard_at in ((1000.0, 1000.0), (12000.0, 4000.0)):
            player = threading.Thread(target=play48, args=(mic48, tone(freq, 1.5), tmp_path, f"t{freq:.0f}"))
            player.start()
            chunks = _read(mic, 2.5)
            player.join()
            levels[freq] = band_db(np.concatenate([c.samples for c in chunks]), heard_at)
            assert all(c.rate == RATE and len(c.samples) == 320 for c in chunks)  # 20 ms chunks, as every source
            starts = np.array([c.t0 for c in chunks])
            ends = np.array([c.t1 for c in chunks])
            gaps = starts[1:] - ends[:-1]
            # One continuous stream: no holes, and the clock only ever moved back a little (the first
            # blocks' capture time is learned as they come: on a loaded machine the first callback came
            # 20 ms late, and the next ones moved the anchor back by that much).
            assert gaps.max() < 0.002 and gaps.min() > -0.05, (gaps.min(), gaps.max())
        # Chunks read late carry the time they were captured, not the time they were read.
        time.sleep(1.0)
        late = mic.read(1.0)
        assert late is not None and clock.now() - late.t1 > 0.9
    finally:
        mic.close()
    assert levels[1000.0] - levels[12000.0] > 60, levels  # measured before soxr: 12 kHz came in at 4 kHz, -10 dB


def test_a_48_khz_microphone_hears_the_answers(mic48, ko_model, ko_vocab, say, tmp_path):
    from voicecoach.audio.live import LiveMic
    from voicecoach.speech.listener import Listener

    clock = RealClock()
    mic = LiveMic(clock, rates=[48000])
    mic.start()
    listener = Listener(mic, ko_model.recognizer(RATE), ko_vocab, clock)
    try:
        for intent, word in (("confirm", "네"), ("deny", "아니요")):
            answer = read_wav(say(word))
            player = threading.Timer(0.5, play48, args=(mic48, answer, tmp_path, intent))
            player.start()
            heard = listener.listen(["confirm", "deny"], until=clock.now() + 8)
            player.join()
            assert (heard.kind, heard.intent) == ("intent", intent), heard
    finally:
        mic.close()
