#!/usr/bin/env python3
"""How well `voicecoach serve` wakes, against the naive loop, measured in the same run.

    python scripts/bench_wake.py [--hours H] [--trials N] [--out FILE.json]

- False wakes per hour: conversation at the table and a television (synthesized speech of several
  voices, room noise under it), with sentences that hold each word of the wake phrase but not the
  phrase, run through serve's own waiting (`Server.wait`, the answers' listener with the wake
  grammar and the garbage words) on a simulated clock (`--fast`). Any decision counts: a wake, a
  "niet luisteren" or a reminder command heard where nobody said one.
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
from voicecoach.speech.listener import build_listener
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


SYSTEMS = ("shipped", "one grammar")
"""shipped: serve's waiting listener (`waiting_listener`: the two-grammar decision); one grammar: the
session's own listener as it decides answers."""


def server_on(samples: np.ndarray, model: VoskModel, words: DeviceWords, system: str = "shipped",
              ) -> tuple[Server, Any]:
    from hearing import TrackSource

    clock = SimClock()
    source = TrackSource(samples, clock)
    source.start()
    listener = build_listener(source, model, words.vocab, clock)
    conv = VoiceConversation(Silent(), SilentSpeaker(clock), listener, clock, EventLog(clock, None))  # type: ignore[arg-type]
    waiting = waiting_listener(listener, model) if system == "shipped" else None
    return Server(conv, words, lambda: "left", clock, lambda line: None, waiting=waiting), source


def decisions(samples: np.ndarray, model: VoskModel, words: DeviceWords, system: str = "shipped") -> dict[str, int]:
    """What serve's waiting decided on a recording (every decision, by kind)."""
    server, source = server_on(samples, model, words, system)
    out: dict[str, int] = {}
    while not source.finished:
        kind = server.wait().kind
        if kind != "nothing":
            out[kind] = out.get(kind, 0) + 1
    return out


def naive(samples: np.ndarray, model: VoskModel, wake: str) -> int:
    import vosk

    grammar = [wake] + (["[unk]"] if model.has_unk else [])
    rec = vosk.KaldiRecognizer(model.model, RATE, json.dumps(grammar, ensure_ascii=False))
    n = 0
    for start in range(0, len(samples), bb.BASELINE_BLOCK):
        if rec.AcceptWaveform(samples[start:start + bb.BASELINE_BLOCK].tobytes()):
            n += bb.normalize(json.loads(rec.Result()).get("text", "")) == wake
    return n + (bb.normalize(json.loads(rec.FinalResult()).get("text", "")) == wake)


def talk(mat: cp.Material, seconds: float, seed: int) -> np.ndarray:
    """Conversation and a television, near misses among it, over light room noise (int16)."""
    rng = np.random.default_rng(seed)
    pool = cp.voices("tuning") + cp.voices("held_out")
    near = NEAR_MISSES[mat.code]
    parts: list[np.ndarray] = []
    total = 0
    while total < seconds * RATE:
        text = near[int(rng.integers(len(near)))] if rng.random() < 0.25 else mat.others[int(rng.integers(len(mat.others)))]
        s = cp.speak(text, mat.code, pool[int(rng.integers(len(pool)))], int(rng.choice(cp.SPEEDS)),
                     int(rng.choice(cp.PITCHES))).astype(np.float64)
        s *= 10 ** (rng.uniform(-10, 0) / 20)  # the television quieter than the couple, the couple as loud
        gap = np.zeros(int(rng.uniform(0.1, 1.5) * RATE))
        parts += [s, gap]
        total += len(s) + len(gap)
    x = np.concatenate(parts)[: int(seconds * RATE)]
    x += cp.colored("pink", seconds, seed + 1)[: len(x)] * 32768 * 10 ** ((bb.SPEECH_DBFS - 30) / 20)
    return np.clip(x, -32768, 32767).astype(np.int16)


def false_wakes(mat: cp.Material, model: VoskModel, words: DeviceWords, hours: float) -> dict[str, Any]:
    chunk = 600.0  # ten minutes of talk at a time: memory stays small
    n = max(1, int(round(hours * 3600 / chunk)))
    got: dict[str, dict[str, int]] = {system: {} for system in SYSTEMS}
    base = 0
    for i in range(n):
        samples = talk(mat, chunk, seed=1000 + i)
        for system in SYSTEMS:
            for kind, k in decisions(samples, model, words, system).items():
                got[system][kind] = got[system].get(kind, 0) + k
        base += naive(samples, model, words.wake_phrase)
        log.info("talk %d/%d: %s, naive %d", i + 1, n, got, base)
    hours_done = n * chunk / 3600
    out: dict[str, Any] = {"hours": hours_done, "naive": base, "naive_per_hour": base / hours_done}
    for system in SYSTEMS:
        total = sum(got[system].values())
        out[system] = {"decisions": got[system], "per_hour": total / hours_done,
                       "per_hour_upper95": _poisson_upper(total) / hours_done}
    return out


def _poisson_upper(k: int) -> float:
    from hearing import poisson_upper

    return float(poisson_upper(k))


def recall(mat: cp.Material, model: VoskModel, words: DeviceWords, trials: int) -> dict[str, Any]:
    from hearing import wilson

    rng = np.random.default_rng(5)
    pool = cp.voices("held_out")
    out: dict[str, Any] = {}
    for name, snr in (("clean", None), ("cooker hood (brown noise 10 dB under the speech)", 10.0)):
        vc = {system: 0 for system in SYSTEMS}
        base = 0
        for t in range(trials):
            voice = pool[t % len(pool)]
            s = cp.speak(words.wake_phrase, mat.code, voice, int(rng.choice(cp.SPEEDS)), int(rng.choice(cp.PITCHES)))
            x = np.concatenate([np.zeros(int(3.0 * RATE)), s.astype(np.float64), np.zeros(int(3.0 * RATE))])
            if snr is not None:
                x += cp.colored("brown", len(x) / RATE, seed=t)[: len(x)] * 32768 * 10 ** ((bb.SPEECH_DBFS - snr) / 20)
            samples = np.clip(x, -32768, 32767).astype(np.int16)
            for system in SYSTEMS:
                vc[system] += decisions(samples, model, words, system).get("wake", 0) >= 1
            base += naive(samples, model, words.wake_phrase) >= 1
        out[name] = {"trials": trials, "naive": base / trials, "naive_ci95": wilson(base, trials)}
        for system in SYSTEMS:
            out[name][system] = vc[system] / trials
            out[name][f"{system}_ci95"] = wilson(vc[system], trials)
        log.info("%s: %s, naive %d/%d", name, vc, base, trials)
    return out


def cost(mat: cp.Material, model: VoskModel, words: DeviceWords, minutes: float) -> dict[str, Any]:
    """CPU per second of audio while waiting: a quiet room, a television a quarter of the time."""
    seconds = minutes * 60
    quiet = cp.colored("pink", seconds, seed=9) * 32768 * 10 ** ((bb.SPEECH_DBFS - 40) / 20)
    tv = talk(mat, seconds / 4, seed=11).astype(np.float64) * 10 ** (-12 / 20)
    quiet[: len(tv)] += tv
    samples = np.clip(quiet, -32768, 32767).astype(np.int16)
    out: dict[str, Any] = {"audio_minutes": minutes, "pi4_slowdown_assumed": PI4_SLOWDOWN}
    for system in SYSTEMS:
        rss0 = bb.rss_mb()
        t0 = time.process_time()
        decisions(samples, model, words, system)
        share = (time.process_time() - t0) / seconds
        out[system] = {"core_share": share, "core_share_pi4_estimate": share * PI4_SLOWDOWN,
                       "rss_mb_before": rss0, "rss_mb_after": bb.rss_mb()}
    t0 = time.process_time()
    naive(samples, model, words.wake_phrase)
    out["naive_core_share"] = (time.process_time() - t0) / seconds
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=10.0, help="hours of talk for the false wakes (default 10)")
    ap.add_argument("--trials", type=int, default=60, help="wake phrases per condition (default 60)")
    ap.add_argument("--cost-minutes", type=float, default=20.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("voicecoach").setLevel(logging.WARNING)
    code = cp.language()
    mat = cp.material(code)
    model = VoskModel(_model_path())
    words = load_device_words(load_vocabulary(mat.vocab), model.has_word)
    log.info("wake phrase: %s (%s)", words.wake_phrase, code)
    result = {"language": code, "wake": words.wake_phrase,
              "recall": recall(mat, model, words, args.trials),
              "cost": cost(mat, model, words, args.cost_minutes),
              "false_wakes": false_wakes(mat, model, words, args.hours)}
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
