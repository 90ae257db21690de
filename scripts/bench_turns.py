#!/usr/bin/env python3
"""Benchmark of turn awareness (voicecoach/speech/speakers.py, turn_watch.py), in one run:

1. attribution of one-second stretches between two different voices, and between hard pairs (one voice,
   its pitch moved about 4 semitones), "not sure" counted apart and as a miss;
2. false interruption notes in 20 turns where only the speaker talks (with the listener's "mm"s, a word,
   a laugh, coughs and room noise), and how many of 40 real interruptions (the listener talking 2-4 s
   over the speaker or in their pause) are noticed;
3. CPU per second of audio, against the energy voice detector the listener already runs (same run).

    python scripts/bench_turns.py [--quick] [--split held_out|tuning] [--compare] [--out DIR]

Voices are espeak-ng variants speaking Dutch or Korean; which voice is for tuning and which is held out is
fixed in scripts/bench_turns_split.toml. `--compare` also scores other model sizes (and a neural speaker
embedding, Resemblyzer, when it is importable). Writes bench_turns.json and bench_turns.md to DIR
(default artifacts/bench_turns/).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from voicecoach.audio.pcm import RATE, Audio, read_wav, rms_dbfs  # noqa: E402 - after the path above
from voicecoach.audio.sources import Chunk  # noqa: E402
from voicecoach.speech.speakers import BOTH, ProfileError, SpeakerProfile  # noqa: E402
from voicecoach.speech.turn_watch import TurnWatch, energy_vad  # noqa: E402
from voicecoach.speech.vad import EnergyVad  # noqa: E402

SPLIT = Path(__file__).resolve().parent / "bench_turns_split.toml"
# Rendered speech, outside the repository (a test run must write nothing into the checkout).
CACHE = Path(os.environ.get("VOICECOACH_BENCH_TURNS_CACHE", Path.home() / ".cache" / "voicecoach-bench-turns")) / "speech"
CHUNK = 320

KO_SENTENCES = [
    "오늘 저녁에 우리는 조용히 이야기를 나누었어요.", "나는 당신이 바쁠 때 조금 외로움을 느껴요.",
    "우리가 함께 산책을 하면 마음이 편해져요.", "지난주에 당신이 도와줘서 정말 고마웠어요.",
    "가끔 내 말을 끝까지 들어주면 좋겠어요.", "주말에는 휴대폰 없이 시간을 보내고 싶어요.",
    "우리 둘 다 피곤할 때는 쉽게 화가 나요.", "앞으로 이 년 뒤에는 작은 집에서 살고 싶어요.",
    "나는 아침마다 커피를 마시면서 하루를 계획해요.", "당신의 웃음소리를 들으면 기분이 좋아져요.",
    "우리가 처음 만났던 날을 아직도 기억해요.", "매일 십 분씩 서로의 하루에 대해 이야기해요.",
    "솔직하게 말해 줘서 고마워요.", "나는 존중과 신뢰가 가장 중요하다고 생각해요.",
    "다음 주에는 같이 요리를 해 보고 싶어요.", "힘든 날에는 그냥 안아 주면 좋겠어요.",
    "우리는 서로 다른 점도 많지만 잘 맞춰 가고 있어요.", "내일은 부모님 댁에 같이 가기로 했어요.",
]
LANG = {
    "nl": {"names": ("Sanne", "Joris"), "yes": "klopt", "no": "klopt niet",
           "backchannel": ["mm", "hm", "ja", "oké", "echt"], "laugh": "hahaha",
           "interrupt": ["Nee, dat is echt niet waar wat je nu zegt.", "Wacht even, zo is het helemaal niet gegaan.",
                         "Maar jij was toch degene die te laat thuiskwam?", "Dat zeg je altijd, maar het klopt gewoon niet.",
                         "Mag ik daar even iets over zeggen, want ik zie het anders."]},
    "ko": {"names": ("민지", "준호"), "yes": "네", "no": "아니요",
           "backchannel": ["음", "네", "아", "응", "그래"], "laugh": "하하하",
           "interrupt": ["아니요, 그건 정말 사실이 아니에요.", "잠깐만요, 그렇게 된 게 전혀 아니에요.",
                         "그런데 늦게 들어온 사람은 당신이었잖아요?", "당신은 항상 그렇게 말하지만 그건 틀렸어요.",
                         "나도 그것에 대해서 잠깐 말해도 될까요?"]},
}


def dutch_sentences() -> list[str]:
    text = (Path("/work/shared/seed-article.txt") if Path("/work/shared/seed-article.txt").exists() else REPO / "README.md")
    body = text.read_text(encoding="utf-8")
    found = [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if 6 <= len(s.split()) <= 30]
    return found or ["Ik voel me bezorgd als we elkaar niet lijken te begrijpen."] * 10


@dataclass(frozen=True)
class Voice:
    lang: str
    variant: str
    pitch: int = 50

    @property
    def espeak(self) -> str:
        return f"{self.lang}+{self.variant}"

    def __str__(self) -> str:
        return f"{self.espeak}@{self.pitch}"


def say(voice: Voice, text: str, speed: int = 170) -> np.ndarray:
    """espeak-ng speech, 16 kHz int16, leading and trailing silence trimmed (cached on disk)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:20]
    out = CACHE / f"{key}.wav"
    if not out.exists():
        raw = CACHE / f"{key}.raw.wav"
        subprocess.run(["espeak-ng", "-v", voice.espeak, "-p", str(voice.pitch), "-s", str(speed), "-w", str(raw), text],
                       check=True, timeout=60)
        audio = read_wav(raw).to_rate(RATE)
        raw.unlink()
        loud = np.flatnonzero(np.abs(audio.samples.astype(np.int32)) > 300)
        samples = audio.samples[loud[0] : loud[-1] + 1] if len(loud) else audio.samples
        out.write_bytes(Audio(samples).to_wav_bytes())
    return read_wav(out).samples.astype(np.float32)


def cough(rng: random.Random) -> np.ndarray:
    """One or two bursts of shaped noise: sharp onset, fast decay, no pitch."""
    parts = []
    for _ in range(rng.choice([1, 1, 2])):
        n = int(rng.uniform(0.18, 0.35) * RATE)
        t = np.arange(n) / RATE
        noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 1, n)
        spec = np.fft.rfft(noise)
        f = np.fft.rfftfreq(n, 1 / RATE)
        spec *= np.exp(-(((np.log(f + 1) - np.log(900)) / 0.9) ** 2))
        burst = np.fft.irfft(spec, n) * np.minimum(1, t / 0.01) * np.exp(-t / 0.09)
        parts += [burst / (np.abs(burst).max() + 1e-9) * 9000, np.zeros(int(0.12 * RATE))]
    return np.concatenate(parts).astype(np.float32)


class Room:
    """Reverberation (sox) and steady noise at a signal-to-noise ratio over the voices."""

    def __init__(self, name: str, reverb: int, noise: str | None, snr_db: float) -> None:
        self.name, self.reverb, self.noise, self.snr_db = name, reverb, noise, snr_db

    def apply(self, signal: np.ndarray, seed: int) -> np.ndarray:
        out = signal
        if self.reverb:
            out = _sox(out, ["reverb", str(self.reverb), "50", "70"])[: len(signal)]
        if self.noise:
            voiced = np.abs(signal) > 300
            speech_rms = float(np.sqrt(np.mean(signal[voiced] ** 2))) if voiced.any() else 3000.0
            noise = _noise(self.noise, len(out), seed)
            noise *= speech_rms / (np.sqrt(np.mean(noise**2)) + 1e-9) / 10 ** (self.snr_db / 20)
            out = out + noise
        return out


def _sox(signal: np.ndarray, effects: list[str]) -> np.ndarray:
    raw = np.clip(signal, -32768, 32767).astype("<i2").tobytes()
    fmt = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1"]
    out = subprocess.run(["sox", "-R", *fmt, "-", *fmt, "-", *effects], input=raw, capture_output=True, check=True, timeout=120)
    return np.frombuffer(out.stdout, "<i2").astype(np.float32)


def _noise(kind: str, n: int, seed: int) -> np.ndarray:
    seconds = n / RATE + 0.1
    proc = subprocess.run(["sox", "-R", "-n", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-",
                           "synth", f"{seconds:.2f}", kind, "vol", "0.3", "dither", "-s"],
                          capture_output=True, check=True, timeout=120, env={"PATH": "/usr/bin:/bin", "SOX_OPTS": ""})
    noise = np.frombuffer(proc.stdout, "<i2").astype(np.float32)[:n]
    shift = seed % max(1, len(noise))
    return np.roll(noise, shift)


ROOMS = [Room("clean", 0, None, 99.0), Room("kitchen", 40, "pinknoise", 25.0), Room("fan", 25, "brownnoise", 20.0)]


# --- enrollment and the attribution of one-second stretches -----------------------------------------------


def sentences(lang: str) -> list[str]:
    return dutch_sentences() if lang == "nl" else KO_SENTENCES


def enrollment(voice: Voice, partner: int, room: Room, seed: int, turn_seconds: float = 8.0) -> list[Audio]:
    """What voicecoach has of a partner's voice: their name, the answer words, the start of their first turn."""
    lang = LANG[voice.lang]
    words = [lang["names"][partner - 1]] + [lang["yes"]] * 3 + [lang["no"]] * 2
    clips = [say(voice, w) for w in words]
    if turn_seconds:
        clips.append(np.concatenate([say(voice, s) for s in sentences(voice.lang)[:2]])[: int(turn_seconds * RATE)])
    return [Audio(room.apply(np.concatenate([np.zeros(RATE // 5), c, np.zeros(RATE // 5)]), seed + i)
                  .clip(-32768, 32767).astype(np.int16)) for i, c in enumerate(clips)]


def test_speech(voice: Voice, rng: random.Random, seconds: float) -> np.ndarray:
    pool = sentences(voice.lang)[2:]
    parts, total = [], 0.0
    for text in rng.sample(pool, len(pool)):
        s = say(voice, text, speed=rng.choice([150, 170, 190]))
        parts += [s, np.zeros(int(rng.uniform(0.2, 0.6) * RATE), np.float32)]
        total += len(s) / RATE
        if total >= seconds:
            break
    return np.concatenate(parts)


Decider = Callable[[Audio], int | None]


def attribution(pairs: list[tuple[Voice, Voice]], room: Room, fit: Callable[[list[list[Audio]]], Decider],
                seconds: float, seed: int, enroll_turn: float = 8.0) -> dict[str, float]:
    """Right / wrong / not sure over one-second stretches (at least half voiced) of each partner's speech."""
    right = wrong = unsure = both = no_profile = 0
    spent = 0.0
    for i, (a, b) in enumerate(pairs):
        rng = random.Random(seed + i)
        try:
            decide = fit([enrollment(a, 1, room, seed + 100 * i, enroll_turn),
                          enrollment(b, 2, room, seed + 100 * i + 50, enroll_turn)])
        except ProfileError:  # too little voice to learn: every stretch of this pair is a miss
            no_profile += 1
            def decide(audio: Any) -> None:
                return None
        for partner, voice in ((1, a), (2, b)):
            speech = room.apply(test_speech(voice, rng, seconds), seed + 7 * i + partner)
            for start in range(0, len(speech) - RATE, RATE):
                piece = speech[start : start + RATE]
                if np.mean(np.abs(piece) > 600) < 0.5:
                    continue
                cpu = time.process_time()
                got = decide(Audio(piece.clip(-32768, 32767).astype(np.int16)))
                spent += time.process_time() - cpu
                right += got == partner
                wrong += got in (1, 2) and got != partner
                unsure += got not in (1, 2)
                both += got == BOTH
    n = max(1, right + wrong + unsure)
    return {"stretches": right + wrong + unsure, "right_pct": 100 * right / n, "wrong_pct": 100 * wrong / n,
            "unsure_pct": 100 * unsure / n, "of_which_both_pct": 100 * both / n, "decide_cpu_ms": 1000 * spent / n,
            "pairs_without_profile": no_profile}


def gmm_fitter(components: int) -> Callable[[list[list[Audio]]], Decider]:
    def fit(enroll: list[list[Audio]]) -> Decider:
        profile = SpeakerProfile.fit(enroll, components)
        return lambda audio: profile.decide(audio).label
    return fit


def embedding_fitter(margin: float = 0.05) -> Callable[[list[list[Audio]]], Decider] | None:
    """Resemblyzer's d-vectors (weights inside its wheel; needs torch): cosine to each partner's mean."""
    try:
        from resemblyzer import VoiceEncoder  # type: ignore[import-not-found]
    except ImportError:
        return None
    encoder = VoiceEncoder("cpu", verbose=False)

    def embed(audio: Audio) -> np.ndarray:
        return encoder.embed_utterance(audio.samples.astype(np.float32) / 32768.0)

    def fit(enroll: list[list[Audio]]) -> Decider:
        centres = []
        for clips in enroll:
            e = np.mean([embed(Audio(np.concatenate([c.samples for c in clips])))], axis=0)
            centres.append(e / np.linalg.norm(e))

        def decide(audio: Audio) -> int | None:
            e = embed(audio)
            d = float(e @ centres[0] - e @ centres[1])
            return None if abs(d) < margin else (1 if d > 0 else 2)
        return decide
    return fit


# --- simulated turns --------------------------------------------------------------------------------------


@dataclass
class Turn:
    audio: np.ndarray
    interruptions: list[tuple[float, float, str]]  # start, end (s), how: "pause" or "overlap"
    events: list[str]


def make_turn(speaker: Voice, listener: Voice, rng: random.Random, interrupts: int, seconds: float = 45.0) -> Turn:
    """The speaker talks with pauses; the listener goes "mm", says a word, laughs, coughs; maybe interrupts.

    Interruptions alternate: the listener talking in the speaker's pause (the speaker waits, then goes on)
    and the listener talking over the speaker, who does not stop.
    """
    lang = LANG[speaker.lang]
    total = int((seconds + 12) * RATE)
    talk, track = np.zeros(total, np.float32), np.zeros(total, np.float32)
    listener_gain = 10 ** (rng.uniform(-4, 2) / 20)
    busy: list[tuple[float, float]] = []
    real: list[tuple[float, float, str]] = []

    def place(sound: np.ndarray, at: float, gain: float) -> None:
        i = int(at * RATE)
        track[i : i + len(sound)] += gain * sound[: total - i]
        busy.append((at - 1.5, at + len(sound) / RATE + 1.5))

    def interruption() -> np.ndarray:
        while True:
            sound = say(listener, rng.choice(lang["interrupt"]), speed=rng.choice([170, 190]))
            if len(sound) >= 2.0 * RATE:
                return sound

    in_pause = (interrupts + 1) // 2
    pause_after = set(rng.sample(range(1, 6), in_pause)) if in_pause else set()
    t, k = rng.uniform(0.5, 1.5), 0
    pool = sentences(speaker.lang)[2:]
    while t < seconds:
        s = say(speaker, rng.choice(pool), speed=rng.choice([150, 170, 190]))
        i = int(t * RATE)
        talk[i : i + len(s)] += s[: total - i]
        t += len(s) / RATE
        k += 1
        if k in pause_after:
            sound = interruption()
            place(sound, t + 0.3, listener_gain)
            real.append((t + 0.3, t + 0.3 + len(sound) / RATE, "pause"))
            t += 0.3 + len(sound) / RATE + 0.5
        t += rng.choice([0.3, 0.5, 0.8, 1.2, 2.0, 3.0])
    length = int(min(t, seconds + 10) * RATE)

    def free(at: float, dur: float) -> bool:
        return at + dur < length / RATE - 1 and all(at + dur < a or at > b for a, b in busy)

    for _ in range(interrupts - in_pause):
        sound = interruption()
        for _ in range(500):
            at = rng.uniform(2, length / RATE - 3)
            voiced = np.mean(np.abs(talk[int(at * RATE) : int(at * RATE) + len(sound)]) > 300)
            if voiced > 0.4 and free(at, len(sound) / RATE):  # really over the speaker's voice
                place(sound, at, listener_gain)
                real.append((at, at + len(sound) / RATE, "overlap"))
                break
    events: list[str] = []
    others = ["backchannel"] * rng.randint(3, 6) + ["word"] + ["laugh"] * rng.randint(0, 1) + ["cough"] * rng.randint(1, 3)
    for kind in others:
        for _ in range(200):
            at = rng.uniform(1, length / RATE - 2)
            if kind == "cough":
                sound, gain = cough(rng), rng.uniform(0.5, 1.5)
            elif kind == "laugh":
                sound, gain = say(listener, lang["laugh"]), listener_gain
            elif kind == "word":
                sound, gain = say(listener, rng.choice(lang["backchannel"][2:]) + "?"), listener_gain
            else:
                sound, gain = say(listener, rng.choice(lang["backchannel"][:2])), listener_gain
            if free(at, len(sound) / RATE):
                place(sound, at, gain)
                events.append(kind)
                break
    return Turn((talk + track)[:length], real, events)


def watch(turn_audio: np.ndarray, speaker: int, profile: SpeakerProfile | None) -> tuple[Any, float]:
    pcm = turn_audio.clip(-32768, 32767).astype(np.int16)
    w = TurnWatch(speaker, profile, energy_vad())
    cpu = time.process_time()
    for k in range(0, len(pcm) - CHUNK + 1, CHUNK):
        w.feed(Chunk(pcm[k : k + CHUNK], k / RATE))
    summary = w.summary()
    return summary, time.process_time() - cpu


def sessions(pairs: list[tuple[Voice, Voice]], count: int, interrupts: int, seed: int) -> dict[str, Any]:
    """`count` turns, each in one of the rooms, with a profile from the pair's enrollment in that room."""
    noted = false = total_real = 0
    by_how: dict[str, list[int]] = {"pause": [0, 0], "overlap": [0, 0]}
    cpu = audio_s = vad_cpu = 0.0
    false_where: list[str] = []
    for i in range(count):
        rng = random.Random(seed + i)
        a, b = pairs[i % len(pairs)]
        room = ROOMS[i % len(ROOMS)]
        profile = SpeakerProfile.fit([enrollment(a, 1, room, seed + i), enrollment(b, 2, room, seed + i + 50)])
        speaker = 1 + (i % 2)
        sv, lv = (a, b) if speaker == 1 else (b, a)
        turn = make_turn(sv, lv, rng, interrupts)
        heard = room.apply(turn.audio, seed + i)
        summary, spent = watch(heard, speaker, profile)
        cpu += spent
        audio_s += len(heard) / RATE
        vad_cpu += vad_only(heard)
        matched = set()
        for note in summary.interruptions:
            hit = [j for j, (s, e, _) in enumerate(turn.interruptions) if note.start <= e + 1.0 and note.end >= s - 1.0]
            if hit:
                matched.update(hit)
            else:
                false += 1
                false_where.append(f"{room.name} {sv}/{lv} at {note.start:.1f}s ({note.voiced:.1f}s voiced)")
        for j, (_, _, how) in enumerate(turn.interruptions):
            by_how[how][1] += 1
            by_how[how][0] += j in matched
        noted += len(matched)
        total_real += len(turn.interruptions)
    return {"turns": count, "real": total_real, "noticed": noted, "false_notes": false, "false_where": false_where,
            "by_how": by_how, "cpu_s": cpu, "audio_s": audio_s, "vad_cpu_s": vad_cpu}


def vad_only(signal: np.ndarray) -> float:
    """The listener's own per-chunk work that TurnWatch adds to: the energy detector (the baseline)."""
    pcm = signal.clip(-32768, 32767).astype(np.int16)
    vad = EnergyVad()
    cpu = time.process_time()
    for k in range(0, len(pcm) - CHUNK + 1, CHUNK):
        vad.is_speech(Chunk(pcm[k : k + CHUNK], k / RATE))
    return time.process_time() - cpu


def no_profile_check(pairs: list[tuple[Voice, Voice]], seed: int) -> dict[str, float]:
    """Consent refused: voice time is still measured (all of it, given to the speaker) and nothing is noted.

    Measured against the frames of the dry mix (speaker, "mm"s, coughs) louder than -45 dBFS, per room.
    """
    out: dict[str, float] = {}
    for room in ROOMS[:2]:
        ratios = []
        for i in range(4):
            a, b = pairs[i % len(pairs)]
            turn = make_turn(a, b, random.Random(seed + i), 0)
            summary, _ = watch(room.apply(turn.audio, seed + i), 1, None)
            frames = turn.audio[: len(turn.audio) // CHUNK * CHUNK].reshape(-1, CHUNK)
            truth = float(np.sum([rms_dbfs(f.astype(np.int16)) > -45 for f in frames])) * CHUNK / RATE
            ratios.append(summary.voiced[1] / max(truth, 1e-9))
            if summary.interruptions or summary.attributed:
                raise AssertionError("a turn without a profile noted or attributed something")
        out[f"{room.name}_measured_over_true_pct"] = 100 * float(np.mean(ratios))
    return out


# --- the run ----------------------------------------------------------------------------------------------


def make_pairs(variants: list[str], rng: random.Random, count: int, hard: bool, split: dict[str, Any]) -> list[tuple[Voice, Voice]]:
    pairs = []
    for i in range(count):
        lang = "nl" if i % 2 == 0 else "ko"
        if hard:
            v = variants[i % len(variants)]
            pairs.append((Voice(lang, v, split["hard"]["pitch_low"]), Voice(lang, v, split["hard"]["pitch_high"])))
        else:
            a, b = rng.sample(variants, 2)
            pairs.append((Voice(lang, a), Voice(lang, b)))
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer pairs and turns (a smoke run)")
    ap.add_argument("--split", choices=["held_out", "tuning"], default="held_out")
    ap.add_argument("--compare", action="store_true", help="also score other model sizes and a neural embedding")
    ap.add_argument("--out", type=Path, default=REPO / "artifacts" / "bench_turns")
    ap.add_argument("--docs", action="store_true",
                    help="also write docs/bench/bench_turns.* and the README's table (full held-out runs only)")
    args = ap.parse_args(argv)
    result = measure(args.split, args.quick, args.compare)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_turns.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    table = report(result)
    (args.out / "bench_turns.md").write_text(table, encoding="utf-8")
    if args.docs and not args.quick and args.split == "held_out" and not args.compare:
        write_docs(result, table)
    print(table)
    return 0


def measure(split_name: str = "held_out", quick: bool = False, compare: bool = False) -> dict[str, Any]:
    """Every section on the voices of `split_name`; scripts/bench.py runs it as its "turns" section."""
    split = tomllib.loads(SPLIT.read_text(encoding="utf-8"))
    overlap = set(split["tuning"]["variants"]) & set(split["held_out"]["variants"])
    if overlap:
        raise SystemExit(f"{SPLIT}: voices on both sides of the split: {sorted(overlap)}")
    variants = split[split_name]["variants"]
    installed = {line.split()[4].removeprefix("!v/") for line in subprocess.run(
        ["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout.splitlines()[1:]}
    if set(variants) - installed:  # espeak-ng would quietly speak with its default voice instead
        raise SystemExit(f"espeak-ng has no variant {sorted(set(variants) - installed)}")
    rng = random.Random(13)
    n_pairs, n_turns, stretch_s = (4, 4, 10.0) if quick else (24, 20, 25.0)
    different = make_pairs(variants, rng, n_pairs, False, split)
    hard = make_pairs(variants, rng, n_pairs // 2, True, split)
    began = time.monotonic()
    result: dict[str, Any] = {"split": split_name, "voices": variants, "quick": quick}

    approaches: dict[str, Callable[[list[list[Audio]]], Decider] | None] = {"gmm16 (chosen)": gmm_fitter(16)}
    if compare:
        approaches = {"stats (1 Gaussian)": gmm_fitter(1), "gmm4": gmm_fitter(4), "gmm8": gmm_fitter(8), **approaches,
                      "resemblyzer d-vector": embedding_fitter()}
    result["attribution"] = {}
    for name, fit in approaches.items():
        if fit is None:
            result["attribution"][name] = "not installed"
            continue
        for kind, pairs in (("different", different), ("hard", hard)):
            for room in ROOMS[:2]:
                r = attribution(pairs, room, fit, stretch_s, seed=1000)
                result["attribution"][f"{name}, {kind}, {room.name}"] = r
                print(f"{name:22} {kind:9} {room.name:8} right {r['right_pct']:5.1f}%  wrong {r['wrong_pct']:4.1f}%  "
                      f"not sure {r['unsure_pct']:4.1f}%  ({r['stretches']} stretches, {r['decide_cpu_ms']:.2f} ms each)",
                      flush=True)
    short = attribution(different, ROOMS[0], gmm_fitter(16), stretch_s, seed=1000, enroll_turn=0.0)
    result["attribution"]["gmm16 (chosen), different, clean, enrolled on name and answer words only"] = short
    quiet = sessions(different, n_turns, 0, seed=2000)
    loud = sessions(different, n_turns, 2, seed=3000)
    hard_turns = sessions(hard, max(2, n_turns // 2), 2, seed=4000)
    result["sessions"] = {"listener_quiet": quiet, "listener_interrupts": loud, "hard_pairs_interrupt": hard_turns}
    result["no_profile"] = no_profile_check(different, seed=5000)
    cpu = quiet["cpu_s"] + loud["cpu_s"]
    audio = quiet["audio_s"] + loud["audio_s"]
    result["cpu"] = {"turnwatch_pct_core": 100 * cpu / audio, "energy_vad_baseline_pct_core":
                     100 * (quiet["vad_cpu_s"] + loud["vad_cpu_s"]) / audio}
    result["seconds"] = time.monotonic() - began
    return result


DOCS_START = "<!-- turns table: written by scripts/bench_turns.py --docs; do not edit by hand -->"
DOCS_END = "<!-- end of turns table -->"


def write_docs(result: dict[str, Any], table: str) -> None:
    """docs/bench/bench_turns.json and .md, and the README's held-out table between its markers."""
    docs = REPO / "docs" / "bench"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "bench_turns.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (docs / "bench_turns.md").write_text(table, encoding="utf-8")
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if DOCS_START in text and DOCS_END in text:
        before, rest = text.split(DOCS_START, 1)
        readme.write_text(f"{before}{DOCS_START}\n\n{table.strip()}\n\n{DOCS_END}{rest.split(DOCS_END, 1)[1]}",
                          encoding="utf-8")


def report(r: dict[str, Any]) -> str:
    def row(measure: str, value: str, target: str = "", ok: bool | None = None) -> str:
        return f"| {measure} | {value} | {target} | {'' if ok is None else 'PASS' if ok else 'MISS'} |"

    lines = [(f"Voices: {r['split']} split ({len(r['voices'])} espeak-ng variants, Dutch and Korean)"
              f"{', QUICK run' if r['quick'] else ''}; {r['seconds']:.0f} s."), "",
             "| measure | value | target | result |", "|---|---:|---|---|"]
    for key, a in r["attribution"].items():
        if isinstance(a, str):
            lines.append(row(f"attribution {key}", a))
            continue
        target = "right >= 90%" if ", different," in key and "only" not in key else ""
        lost = f" ({a['pairs_without_profile']} pairs: too little voice)" if a.get("pairs_without_profile") else ""
        lines.append(row(f"attribution {key}: right / wrong / not sure (%)",
                         f"{a['right_pct']:.1f} / {a['wrong_pct']:.1f} / {a['unsure_pct']:.1f}{lost}", target,
                         a["right_pct"] >= 90 if target else None))
    s = r["sessions"]
    q, ld, h = s["listener_quiet"], s["listener_interrupts"], s["hard_pairs_interrupt"]
    lines.append(row(f"false interruption notes, {q['turns']} turns where only the speaker talks", str(q["false_notes"]),
                     "0", q["false_notes"] == 0))
    pct = 100 * ld["noticed"] / max(1, ld["real"])
    lines.append(row(f"real interruptions noticed ({ld['real']} in {ld['turns']} turns)", f"{ld['noticed']} ({pct:.0f}%)",
                     ">= 80%", pct >= 80))
    for how, (got, of) in ld["by_how"].items():
        lines.append(row(f"  of which: listener talks {'in a pause' if how == 'pause' else 'over the speaker'}",
                         f"{got} of {of}"))
    lines.append(row("false notes in the turns with interruptions", str(ld["false_notes"]), "0", ld["false_notes"] == 0))
    hp = 100 * h["noticed"] / max(1, h["real"])
    lines.append(row(f"hard pairs: interruptions noticed ({h['real']})", f"{h['noticed']} ({hp:.0f}%)"))
    lines.append(row("hard pairs: false notes", str(h["false_notes"])))
    c = r["cpu"]
    lines.append(row("CPU of TurnWatch with a profile (% of one core)", f"{c['turnwatch_pct_core']:.2f}", "<= 2",
                     c["turnwatch_pct_core"] <= 2))
    lines.append(row("  baseline: the listener's energy VAD alone, same run (% core)", f"{c['energy_vad_baseline_pct_core']:.2f}"))
    for key, value in r["no_profile"].items():
        lines.append(row(f"no profile, {key.split('_')[0]}: voice time measured / voiced frames of the dry mix (%)",
                         f"{value:.0f}"))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
