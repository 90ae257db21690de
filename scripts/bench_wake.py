#!/usr/bin/env python3
"""How well `voicecoach serve` wakes, against the naive loop, measured in the same run.

    python scripts/bench_wake.py [--hours H] [--trials N] [--out FILE.json]

- False wakes per hour: conversation at the table and a television (synthesized speech of several
  voices, room noise under it), with sentences that hold each word of the wake phrase but not the
  phrase, run through serve's own waiting (`Server.wait`, the answers' listener with the wake
  grammar and the garbage words) on a simulated clock (`--fast`). Any decision counts: a wake, a
  "niet luisteren" or a reminder command heard where nobody said one. A "niet luisteren" is asked
  back as serve does, in the talk that goes on; "quiet, closed" counts the times the talk answered
  "ja" and the microphone would have closed. A "herinnering" is asked ("Hoe laat?") as serve does;
  "reminder, more said" counts the times the talk then made it say more (not understood, or a time).
- Wakes heard: the wake phrase said by the held-out voices (never used to choose the test words),
  at several speeds and pitches, in a quiet room and under a cooker hood (brown noise 10 dB under
  the speech); what serve did not decide counts as a miss.
- Waiting's cost: CPU seconds per second of audio while waiting (a quiet room with a television
  on part of the time), as a share of one core, here and, by the ratio of speeds, on a Raspberry Pi 4;
  the resident memory before and after.

The baseline is Vosk's microphone example (blocks of 8000 samples, the first result that is the
wake phrase, a grammar of just that phrase), on the same audio, in the same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import bench_baseline as bb
import corpus as cp
import numpy as np

from voicecoach.audio.pcm import RATE
from voicecoach.audio.sinks import SilentSpeaker
from voicecoach.clock import SimClock
from voicecoach.device.server import Server, waiting_listener
from voicecoach.device.words import DeviceWords, load_device_words
from voicecoach.events import EventLog
from voicecoach.speech.listener import TWO_GRAMMARS, Listener, ListenSettings, build_listener
from voicecoach.speech.own_answers import OwnAnswers
from voicecoach.speech.recognizer import VoskModel
from voicecoach.speech.vocab import load_vocabulary
from voicecoach.voice import VoiceConversation

log = logging.getLogger("bench_wake")
# Sentences with a word of the wake phrase in them, not the phrase (per language of the corpus).
NEAR_MISSES = {
    "ko": ["계속 이야기해요", "다시 기다려요", "우리 계속 가요", "다시 여기 와요", "계속 비가 와요 오늘",
           "다시 시간 있어요", "그래서 계속 했어요", "다시 생각해 봐요"],
    "nl": ["hallo hoe gaat het met je", "de coach van het team zei het al", "hallo schat ik ben thuis",
           "die coach is heel goed", "zeg eens hallo tegen oma", "een coach voor de kinderen"],
}
PI4_SLOWDOWN = 4.0
"""How much slower one core of a Raspberry Pi 4 (Cortex-A72, 1.8 GHz) runs this kind of work than one
core of a current x86 machine: an assumption from public single-core benchmarks, not measured here."""


class Silent:
    """A synthesizer that makes nothing: the benchmark never speaks."""

    def render(self, text: str) -> Any:
        from voicecoach.audio.pcm import Audio

        return Audio(np.zeros(1, np.int16))

    def close(self) -> None:
        return None


SYSTEMS = ["their own", "shipped", "answers' rule", "one grammar"]
"""their own: serve as shipped after `voicecoach check` learned the couple's own wake phrase (each says it three
times: `their_wake`); shipped: serve's waiting listener (`waiting_listener`: the wake phrase's own rule, device/wake.py, and the
gated voice detector); answers' rule: the same two-grammar listener deciding the wake phrase with the
answers' rule and the voice detector on every frame (what was shipped before); one grammar: the
session's own listener as it decides answers. In a run of "their own", "wake, by the words alone" counts what
the wake rule of the words said on the same utterances (the shipped rule without a check)."""


def their_wake(mat: cp.Material, words: DeviceWords, voices: list[str], not_speed: int | None = None) -> OwnAnswers:
    """What `voicecoach check` learns of each voice's wake phrase: said three times in a quiet moment, at the
    voice's usual pitch, at speeds other than `not_speed` (the one tested)."""
    theirs = OwnAnswers()
    for voice in voices:
        rng = np.random.default_rng(zlib.crc32(voice.encode()))
        for speed in rng.choice([s for s in cp.SPEEDS if s != not_speed], 3, replace=False):
            theirs.add("wake", words.wake_phrase, cp.speak(words.wake_phrase, mat.code, voice, int(speed), 50))
    return theirs


def server_on(samples: np.ndarray, model: VoskModel, words: DeviceWords, system: str = "shipped",
              theirs: OwnAnswers | None = None) -> tuple[Server, Any]:
    from hearing import TrackSource

    clock = SimClock()
    source = TrackSource(samples, clock)
    source.start()
    listener = build_listener(source, model, words.vocab, clock)
    conv = VoiceConversation(Silent(), SilentSpeaker(clock), listener, clock, EventLog(clock, None))  # type: ignore[arg-type]
    waiting: Listener | None = None
    if system in ("shipped", "their own"):
        listener.their_wake = theirs if system == "their own" else None
        waiting = waiting_listener(listener, model, words.wake_phrase)
    elif system == "answers' rule":
        waiting = Listener(source, model.recognizer(RATE), words.vocab, clock, ListenSettings(**TWO_GRAMMARS))  # type: ignore[arg-type]
    return Server(conv, words, lambda: "left", clock, lambda line: None, waiting=waiting), source


def decisions(samples: np.ndarray, model: VoskModel, words: DeviceWords, system: str = "shipped",
              why: list[str] | None = None, theirs: OwnAnswers | None = None) -> dict[str, int]:
    """What serve's waiting decided on a recording (every decision, by kind); `why` gets the answers'
    rule's outcome of each utterance (kind/reason) and, when shipped, the wake rule's verdict."""
    server, source = server_on(samples, model, words, system, theirs)
    out: dict[str, int] = {}
    if why is not None:
        _explain(server, why)
    elif system == "their own":
        _words_alone(server, out)
    while not source.finished:
        happening = server.wait()
        kind = happening.kind
        if kind != "nothing":
            out[kind] = out.get(kind, 0) + 1
        if kind == "quiet":
            # Serve asks it back ("Zal ik niet meer luisteren?") and listens on in the same talk: count the
            # times the talk then answered "ja" and closed the microphone, and open it again to go on.
            server.handle(happening)
            if not server.listening:
                out["quiet, closed"] = out.get("quiet, closed", 0) + 1
                server.listening = True
                source.start()
        elif kind == "reminder_question":
            # Serve asks "Hoe laat?" and listens on in the same talk: count the times it then said more
            # ("Dat verstond ik niet ...": something was said) or set the reminder (talk read as a time).
            said = len(server.conv.events.of("prompt"))
            server.handle(happening)
            more = len(server.conv.events.of("prompt")) - said - 1
            if more > 0:
                out["reminder, more said"] = out.get("reminder, more said", 0) + 1
    return out


def _explain(server: Server, why: list[str]) -> None:
    from voicecoach.device.wake import WakeEar

    listener = server.listener
    listen = listener.listen

    def noted(*args: Any, **kwargs: Any) -> Any:
        heard = listen(*args, **kwargs)
        if heard.kind != "silence":
            why.append(f"{heard.kind}/{heard.reason or heard.intent}")
        return heard

    listener.listen = noted  # type: ignore[method-assign]
    ear = listener.recognizer
    if isinstance(ear, WakeEar):
        check = ear.check

        def verdict(heard: Any, said: Any = None) -> Any:
            v = check(heard, said)
            if heard.kind != "silence":
                why[-1] += f" -> wake rule: {'wake' if v.wake else v.reason}"
            return v

        ear.check = verdict  # type: ignore[method-assign]


def _words_alone(server: Server, out: dict[str, int]) -> None:
    from voicecoach.device.wake import WakeEar

    ear = server.listener.recognizer
    assert isinstance(ear, WakeEar)
    check = ear.check

    def verdict(heard: Any, said: Any = None) -> Any:
        v = check(heard, said)
        if v.words:
            out["wake, by the words alone"] = out.get("wake, by the words alone", 0) + 1
        return v

    ear.check = verdict  # type: ignore[method-assign]


def naive(samples: np.ndarray, model: VoskModel, wake: str) -> int:
    rec = bb.example_recognizer(model.model, bb.example_grammar(model, [wake]))
    n = 0
    for start in range(0, len(samples), bb.BASELINE_BLOCK):
        if rec.AcceptWaveform(samples[start:start + bb.BASELINE_BLOCK].tobytes()):
            n += bb.normalize(json.loads(rec.Result()).get("text", "")) == wake
    return n + (bb.normalize(json.loads(rec.FinalResult()).get("text", "")) == wake)


def talk(mat: cp.Material, seconds: float, seed: int, split: str = "held_out", couple: list[str] | None = None,
         ) -> np.ndarray:
    """Conversation and a television, near misses among it, over light room noise (int16), in the voices
    of one split (until 27 November both splits' voices talked: the rule was chosen on talk of the
    tuning voices, so the false wakes counted were partly on voices it was tuned on). With a `couple`,
    they say half of it (their own wake phrase must not wake on their own talk)."""
    rng = np.random.default_rng(seed)
    pool = cp.voices(split)
    near = NEAR_MISSES[mat.code]
    parts: list[np.ndarray] = []
    total = 0
    while total < seconds * RATE:
        text = near[int(rng.integers(len(near)))] if rng.random() < 0.25 else mat.others[int(rng.integers(len(mat.others)))]
        voice = pool[int(rng.integers(len(pool)))]
        if couple and rng.random() < 0.5:
            voice = couple[int(rng.integers(len(couple)))]
        s = cp.speak(text, mat.code, voice, int(rng.choice(cp.SPEEDS)), int(rng.choice(cp.PITCHES))).astype(np.float64)
        s *= 10 ** (rng.uniform(-10, 0) / 20)  # the television quieter than the couple, the couple as loud
        gap = np.zeros(int(rng.uniform(0.1, 1.5) * RATE))
        parts += [s, gap]
        total += len(s) + len(gap)
    x = np.concatenate(parts)[: int(seconds * RATE)]
    x += cp.colored("pink", seconds, seed + 1)[: len(x)] * 32768 * 10 ** ((bb.SPEECH_DBFS - 30) / 20)
    return np.clip(x, -32768, 32767).astype(np.int16)


def false_wakes(mat: cp.Material, model: VoskModel, words: DeviceWords, hours: float, split: str = "held_out",
                first: int = 0) -> dict[str, Any]:
    """`first`: the number of the first ten-minute stretch (each has its own talk), so that one long run
    can be shared by several processes (--from-stretch) and added up."""
    chunk = 600.0  # ten minutes of talk at a time: memory stays small
    n = max(1, int(round(hours * 3600 / chunk)))
    got: dict[str, dict[str, int]] = {system: {} for system in SYSTEMS}
    base = 0
    for i in range(first, first + n):
        # Each stretch has its couple, who did the check (their own wake phrase) and say half of the talk.
        couple = [str(v) for v in np.random.default_rng(2000 + i).choice(cp.voices(split), 2, replace=False)]
        samples = talk(mat, chunk, seed=1000 + i, split=split, couple=couple)
        theirs = their_wake(mat, words, couple)
        for system in SYSTEMS:
            for kind, k in decisions(samples, model, words, system, theirs=theirs).items():
                got[system][kind] = got[system].get(kind, 0) + k
        base += naive(samples, model, words.wake_phrase)
        log.info("talk %d/%d: %s, naive %d", i + 1 - first, n, got, base)
    hours_done = n * chunk / 3600
    out: dict[str, Any] = {"hours": hours_done, "stretches": [first, first + n], "voices": split, "naive": base,
                           "naive_per_hour": base / hours_done}
    for system in SYSTEMS:
        total = sum(k for kind, k in got[system].items()
                    if kind not in ("quiet, closed", "wake, by the words alone", "reminder, more said"))
        out[system] = {"decisions": got[system], "per_hour": total / hours_done,
                       "per_hour_upper95": _poisson_upper(total) / hours_done}
    return out


def _poisson_upper(k: int) -> float:
    from hearing import poisson_upper

    return float(poisson_upper(k))


def recall(mat: cp.Material, model: VoskModel, words: DeviceWords, trials: int, split: str = "held_out",
           ) -> dict[str, Any]:
    from hearing import wilson

    rng = np.random.default_rng(5)
    pool = cp.voices(split)
    out: dict[str, Any] = {}
    for name, snr in (("clean", None), ("cooker hood (brown noise 10 dB under the speech)", 10.0)):
        vc = {system: 0 for system in SYSTEMS}
        missed: dict[str, dict[str, int]] = {system: {} for system in SYSTEMS}
        base = 0
        for t in range(trials):
            voice = pool[t % len(pool)]
            speed = int(rng.choice(cp.SPEEDS))
            s = cp.speak(words.wake_phrase, mat.code, voice, speed, int(rng.choice(cp.PITCHES)))
            x = np.concatenate([np.zeros(int(3.0 * RATE)), s.astype(np.float64), np.zeros(int(3.0 * RATE))])
            if snr is not None:
                x += cp.colored("brown", len(x) / RATE, seed=t)[: len(x)] * 32768 * 10 ** ((bb.SPEECH_DBFS - snr) / 20)
            samples = np.clip(x, -32768, 32767).astype(np.int16)
            for system in SYSTEMS:
                why: list[str] = []
                theirs = their_wake(mat, words, [voice], not_speed=speed) if system == "their own" else None
                woke = decisions(samples, model, words, system, why, theirs).get("wake", 0) >= 1
                vc[system] += woke
                if not woke:  # what was decided instead (the answers' rule's outcome; the wake rule's verdict)
                    missed[system][" | ".join(why) or "no utterance"] = missed[system].get(" | ".join(why) or "no utterance", 0) + 1
            base += naive(samples, model, words.wake_phrase) >= 1
        out[name] = {"trials": trials, "voices": split, "naive": base / trials, "naive_ci95": wilson(base, trials)}
        out[name]["missed_because"] = missed
        for system in SYSTEMS:
            out[name][system] = vc[system] / trials
            out[name][f"{system}_ci95"] = wilson(vc[system], trials)
        log.info("%s: %s, naive %d/%d", name, vc, base, trials)
    return out


def cost(mat: cp.Material, model: VoskModel, words: DeviceWords, minutes: float) -> dict[str, Any]:
    """CPU per second of audio while waiting, in a quiet room and in a room with talk all the time."""
    seconds = minutes * 60
    quiet = cp.colored("pink", seconds, seed=9) * 32768 * 10 ** ((bb.SPEECH_DBFS - 40) / 20)
    talking = quiet + talk(mat, seconds, seed=11).astype(np.float64) * 10 ** (-12 / 20)
    out: dict[str, Any] = {"audio_minutes": minutes, "pi4_slowdown_assumed": PI4_SLOWDOWN}
    for room, x in (("quiet room", quiet), ("talk all the time", talking)):
        samples = np.clip(x, -32768, 32767).astype(np.int16)
        out[room] = {}
        for system in SYSTEMS:
            rss0 = bb.rss_mb()
            t0 = time.process_time()
            decisions(samples, model, words, system)
            share = (time.process_time() - t0) / seconds
            out[room][system] = {"core_share": share, "core_share_pi4_estimate": share * PI4_SLOWDOWN,
                                 "rss_mb_before": rss0, "rss_mb_after": bb.rss_mb()}
        t0 = time.process_time()
        naive(samples, model, words.wake_phrase)
        out[room]["naive_core_share"] = (time.process_time() - t0) / seconds
        log.info("cost, %s: %s", room, out[room])
    return out


class _Greeted(Exception):
    """The greeting reached the speaker: the latency is known."""


class _FirstSound:
    """A speaker that notes when it is handed its first sound (simulated and wall time), then stops serve."""

    def __init__(self, clock: SimClock, heard: list[tuple[float, float]]) -> None:
        self.clock = clock
        self.heard = heard

    def play(self, audio: Any) -> float:
        self.heard.append((self.clock.now(), time.perf_counter()))
        raise _Greeted

    def close(self) -> None:
        return None


def latency(mat: cp.Material, model: VoskModel, words: DeviceWords, trials: int) -> dict[str, Any]:
    """From the end of the wake phrase in the audio to the first sound of the greeting handed to the speaker.

    Serve on a simulated clock: the time it waits for the end of speech is simulated, the time it
    computes (both decodes, the wake rule) is measured on the wall clock and added; the greeting is
    espeak-ng's rendering ready ahead (as `voicecoach serve` renders it at start), its leading silence
    counted. Baseline in the same run: Vosk's example loop, from the end of the phrase to the end of
    the block whose result is the wake phrase, plus its compute time for that block.
    """
    greeting = bb.espeak(words.speech["greeting"], mat.code, 175, 50)
    lead = int(np.argmax(np.abs(greeting) > 32768 * 10 ** (bb.TRIM_DB / 20))) / RATE
    rng = np.random.default_rng(8)
    pool = cp.voices("held_out")
    timed = [x for x in ("shipped", "their own") if x in SYSTEMS]
    took: dict[str, list[tuple[float, float]]] = {x: [] for x in timed}  # (end to greeting, compute)
    base: list[float] = []
    for t in range(trials):
        voice, speed = pool[t % len(pool)], int(rng.choice(cp.SPEEDS))
        s = cp.speak(words.wake_phrase, mat.code, voice, speed, int(rng.choice(cp.PITCHES)))
        samples = np.concatenate([np.zeros(int(3.0 * RATE), np.int16), s, np.zeros(int(3.0 * RATE), np.int16)])
        end = 3.0 + len(s) / RATE
        for system in timed:
            theirs = their_wake(mat, words, [voice], not_speed=speed) if system == "their own" else None
            got = _serve_latency(samples, model, words, system, theirs, greeting)
            if got is not None:
                took[system].append((got[0] - end + lead, got[1]))
        base_t = _naive_latency(samples, model, words.wake_phrase, end)
        if base_t is not None:
            base.append(base_t + lead)
    out: dict[str, Any] = {"trials": trials, "greeting_leading_silence_s": lead, "pi4_slowdown_assumed": PI4_SLOWDOWN,
                           "naive_woke": len(base)}
    for system, pairs in took.items():
        key = system.replace(" ", "_")
        out[f"{key}_woke"] = len(pairs)
        if pairs:
            total, compute = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
            out[f"{key}_s"] = {"median": float(np.median(total)), "p90": float(np.percentile(total, 90)),
                               "max": float(np.max(total))}
            out[f"{key}_compute_s"] = {"median": float(np.median(compute)), "max": float(np.max(compute))}
            out[f"{key}_pi4_estimate_max_s"] = float(np.max(total + (PI4_SLOWDOWN - 1) * compute))
    if base:
        out["naive_s"] = {"median": float(np.median(base)), "p90": float(np.percentile(base, 90)), "max": float(np.max(base))}
    log.info("latency: %s", out)
    return out


def _serve_latency(samples: np.ndarray, model: VoskModel, words: DeviceWords, system: str, theirs: OwnAnswers | None,
                   greeting: np.ndarray) -> tuple[float, float] | None:
    """When (simulated time plus the wall-clock compute after the last chunk) the greeting reached the speaker,
    and that compute; None: it did not wake."""
    from voicecoach.audio.pcm import Audio

    server, source = server_on(samples, model, words, system, theirs)
    last_read = [0.0]
    inner_read = source.read

    def read(timeout: float) -> Any:
        last_read[0] = time.perf_counter()
        return inner_read(timeout)

    source.read = read
    heard: list[tuple[float, float]] = []
    server.conv.speaker = _FirstSound(server.clock, heard)  # type: ignore[assignment]
    server.conv.synth = type("Ready", (), {"render": lambda self, text: Audio(greeting), "close": lambda self: None})()
    try:
        while not source.finished:
            server.step()
    except _Greeted:
        sim, wall = heard[0]
        return sim + (wall - last_read[0]), wall - last_read[0]
    return None


def _naive_latency(samples: np.ndarray, model: VoskModel, wake: str, end: float) -> float | None:
    rec = bb.example_recognizer(model.model, bb.example_grammar(model, [wake]))
    for start in range(0, len(samples), bb.BASELINE_BLOCK):
        t0 = time.perf_counter()
        done = rec.AcceptWaveform(samples[start:start + bb.BASELINE_BLOCK].tobytes())
        if done and bb.normalize(json.loads(rec.Result()).get("text", "")) == wake:
            return (start + bb.BASELINE_BLOCK) / RATE - end + time.perf_counter() - t0
    return None


def memory(mat: cp.Material, model_path: Path, words: DeviceWords, hours: float) -> dict[str, Any]:
    """Resident memory of `voicecoach serve --fast` over a simulated day: room noise, a television now and
    then, two sessions woken by voice (the menu's stop ends each) and the daily reminder at 20:00, each
    listening window one line of a scripted couple (--answers). RSS is sampled every second of wall time;
    flat means no growth between the first and the last quarter of the run."""
    import os
    import subprocess
    import tempfile

    from voicecoach.audio.pcm import Audio, write_wav

    room = cp.colored("pink", 20.0, seed=21) * 32768 * 10 ** ((bb.SPEECH_DBFS - 40) / 20)
    tv = talk(mat, 20.0, seed=22).astype(np.float64) * 10 ** (-12 / 20) + room
    voice = cp.voices("held_out")[0]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, x in (("room", room), ("tv", tv), ("wake", cp.speak(words.wake_phrase, mat.code, voice, 175, 50)),
                        ("stop", cp.speak(words.vocab.first("stop"), mat.code, voice, 175, 50))):
            write_wav(d / f"{name}.wav", Audio(np.clip(x, -32768, 32767).astype(np.int16)))
        windows = int(hours * 3600 / 30)
        lines = []
        for i in range(windows):
            lines.append("tv.wav" if i % 120 == 60 else "room.wav")
            if i in (240, 960):  # about 10:00 and 16:00
                lines += ["wake.wav", "stop.wav"]
        (d / "day.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**os.environ, "VOICECOACH_HOME": str(d / "home"), "PULSE_SERVER": str(d / "no-sound-server")}
        subprocess.run([sys.executable, "-c", "from voicecoach.device.config_file import write_setting; "
                        "write_setting('reminder', 'time', '20:00')"], env=env, check=True)
        cmd = [sys.executable, "-m", "voicecoach", "serve", "--fast", "--no-button", "--model", str(model_path),
               "--vocab", str(mat.vocab), "--answers", str(d / "day.txt"), "--wall-start", "2026-03-10T08:00",
               "--for", str(hours * 3600)]
        started = time.monotonic()
        with open(d / "out.txt", "w", encoding="utf-8") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            rss: list[float] = []
            while proc.poll() is None:
                try:
                    status = Path(f"/proc/{proc.pid}/status").read_text()
                    rss.append(float(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1]) / 1024)
                except (OSError, StopIteration):
                    pass
                time.sleep(1.0)
        text = (d / "out.txt").read_text(encoding="utf-8")
    q = max(1, len(rss) // 4)
    result = {"simulated_hours": hours, "wall_minutes": (time.monotonic() - started) / 60, "exit": proc.returncode,
              "samples": len(rss), "rss_mb_first": rss[0] if rss else None, "rss_mb_max": max(rss) if rss else None,
              "rss_mb_last": rss[-1] if rss else None,
              "rss_mb_first_quarter_median": float(np.median(rss[q:2 * q])) if len(rss) >= 4 else None,
              "rss_mb_last_quarter_median": float(np.median(rss[-q:])) if len(rss) >= 4 else None,
              "woken_by_voice": text.count("Woken by voice"), "reminders": text.count("Daily reminder ("),
              "sessions_ended": text.count("The session ended")}
    log.info("memory: %s", result)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=10.0, help="hours of talk for the false wakes (default 10)")
    ap.add_argument("--trials", type=int, default=60, help="wake phrases per condition (default 60)")
    ap.add_argument("--cost-minutes", type=float, default=20.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--only", default="recall,latency,cost,false",
                    help="parts to run, comma-separated: recall, latency, cost, memory, false (default: all but memory)")
    ap.add_argument("--day-hours", type=float, default=24.0, help="simulated hours of the memory run (default 24)")
    ap.add_argument("--from-stretch", type=int, default=0, metavar="N",
                    help="false wakes: start at ten-minute stretch N (to share one long run between processes)")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="systems compared (default: all three)")
    ap.add_argument("--split", default="held_out", choices=("held_out", "tuning"),
                    help="voices of the wake phrases and the talk (tuning: only to diagnose; report held_out)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("voicecoach").setLevel(logging.WARNING)
    code = cp.language()
    mat = cp.material(code)
    model = VoskModel(_model_path())
    words = load_device_words(load_vocabulary(mat.vocab), model.has_word)
    log.info("wake phrase: %s (%s)", words.wake_phrase, code)
    parts = set(args.only.split(","))
    SYSTEMS[:] = [x for x in SYSTEMS if x in args.systems.split(",")]
    result: dict[str, Any] = {"language": code, "wake": words.wake_phrase}
    started = time.monotonic()
    if "recall" in parts:
        result["recall"] = recall(mat, model, words, args.trials, args.split)
    if "latency" in parts:
        result["latency"] = latency(mat, model, words, min(args.trials, 24))
    if "cost" in parts:
        result["cost"] = cost(mat, model, words, args.cost_minutes)
    if "memory" in parts:
        result["memory"] = memory(mat, _model_path(), words, args.day_hours)
    if "false" in parts:
        result["false_wakes"] = false_wakes(mat, model, words, args.hours, args.split, args.from_stretch)
    result["wall_minutes"] = (time.monotonic() - started) / 60
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


def _model_path() -> Path:
    from hearing import model_path

    return model_path()


if __name__ == "__main__":
    sys.exit(main())
