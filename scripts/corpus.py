#!/usr/bin/env python3
"""The evaluation corpus: answers and other talk in every espeak-ng voice variant, in every condition.

    python scripts/corpus.py [--split held_out|tuning] [--out DIR] [--quick]

Writes each condition's audio as WAV files plus `manifest.jsonl` (one line per
file: text, expected intent, voice, speed, pitch) to DIR (default
artifacts/corpus/<lang>/<split>/), so the corpus can be listened to and fed to
`voicecoach listen --mic-file`. scripts/hearing.py builds the same material in
memory and measures voicecoach and the naive loop on it.

The language follows the model, as in the benchmark: Korean with the test
model, Dutch (the `nl` table of corpus_data/sentences.toml, the Dutch
vocabulary) when VOICECOACH_MODEL is set. Voices are split once and for all in
corpus_data/voices.toml: tune on "tuning", report "held_out", never move one.
Rendered speech is cached in $VOICECOACH_CORPUS_CACHE (default
~/.cache/voicecoach-corpus), outside the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import tomllib
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import bench_baseline as bb
import numpy as np
from bench_baseline import REPO, SPEECH_DBFS, at_level, rms, silence, trim

from voicecoach.audio.pcm import RATE

log = logging.getLogger("corpus")
DATA = Path(__file__).resolve().parent / "corpus_data"
SPEEDS = (130, 150, 175, 200, 230)  # words per minute: slow and careful to hurried
PITCHES = (20, 35, 50, 65, 80)
GAP = 1.0  # seconds of the condition's background between two items in a written file


@dataclass(frozen=True)
class Material:
    """One language's test sentences (corpus_data/sentences.toml)."""

    code: str
    vocab: Path
    intents: tuple[str, ...]  # the grammar of the question: the mirroring check
    answers: dict[str, tuple[str, ...]]  # intent -> phrases
    variants: dict[str, tuple[str, ...]]  # intent -> the answer twice or with a filler
    others: tuple[str, ...]  # talk that is no answer
    laughter: tuple[str, ...]


def material(code: str) -> Material:
    data = tomllib.loads((DATA / "sentences.toml").read_text(encoding="utf-8"))[code]
    return Material(code, REPO / data["vocab"], tuple(data["intents"]),
                    {k: tuple(v) for k, v in data["answers"].items()},
                    {k: tuple(v) for k, v in data["variants"].items()}, tuple(data["talk"]["others"]),
                    tuple(data["laughter"]))


def language() -> str:
    return "nl" if os.environ.get("VOICECOACH_MODEL") else "ko"


def installed_variants() -> list[str]:
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = []
    for line in out.splitlines()[1:]:
        i = line.find("!v/")
        if i >= 0:
            names.append(line[i + 3:].strip().split("  ")[0].strip())
    return names


def voices(split: str) -> list[str]:
    """The variants of one side of the fixed split that this espeak-ng has ("" is the base voice)."""
    table = tomllib.loads((DATA / "voices.toml").read_text(encoding="utf-8"))
    have = set(installed_variants())
    known = set(table["tuning"]) | set(table["held_out"]) | set(table.get("excluded", []))
    new = sorted(have - known)
    if new:
        log.warning("espeak-ng variants in neither side of the split, left out: %s", ", ".join(new))
    return [v for v in table[split] if v == "" or v in have]


# --- speech ---------------------------------------------------------------------------------------------------


_NPY_HEADER = threading.Lock()


def load_cached(path: Path) -> np.ndarray:
    """np.load, one thread at a time: it parses the .npy header with ast.literal_eval, and the CPython
    3.11 here keeps the AST's recursion depth where threads share it (cpython gh-106905), so two threads
    parsing at once failed now and then with "SystemError: AST constructor recursion depth mismatch" (the corpus renders with
    4 threads; seen once in a full test run, in tests/test_bench.py)."""
    with _NPY_HEADER:
        return np.load(path)


def cache_dir() -> Path:
    return Path(os.environ.get("VOICECOACH_CORPUS_CACHE", Path.home() / ".cache" / "voicecoach-corpus"))


def speak(text: str, code: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng's rendering, trimmed and at SPEECH_DBFS; cached on disk."""
    name = code + (f"+{voice}" if voice else "")
    key = hashlib.sha1(f"{text}|{name}|{speed}|{pitch}".encode()).hexdigest()[:20]
    path = cache_dir() / "speech" / f"{key}.npy"
    if path.exists():
        return load_cached(path)
    samples = at_level(trim(bb.espeak(text, name, speed, pitch)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, samples)
    tmp.replace(path)
    return samples


@dataclass(frozen=True)
class Item:
    """One utterance of the corpus; `intent` is what it means (None: not an answer)."""

    kind: str  # "answer", "variant" (twice / with a filler) or "other"
    text: str
    intent: str | None
    voice: str
    speed: int
    pitch: int
    samples: np.ndarray  # int16 at RATE, trimmed, RMS at SPEECH_DBFS

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


@dataclass(frozen=True)
class Size:
    answers: int  # per condition
    variants: int
    others: int
    talk_minutes: float  # each long stretch (conversation, television) without answers


FULL = Size(answers=48, variants=14, others=40, talk_minutes=10.0)
QUICK = Size(answers=12, variants=4, others=10, talk_minutes=1.5)


def items(mat: Material, split: str, size: Size, seed: int = 0) -> list[Item]:
    """The utterances of one split: phrases in turn, voices in turn, speeds and pitches drawn."""
    rng = np.random.default_rng(seed + (0 if split == "held_out" else 1000))
    pool = voices(split)
    order = [pool[i] for i in rng.permutation(len(pool))]
    jobs: list[tuple[str, str, str | None]] = []
    answers = [(p, i) for i, ps in mat.answers.items() for p in ps]
    variants = [(p, i) for i, ps in mat.variants.items() for p in ps]
    jobs += [("answer", *answers[n % len(answers)]) for n in range(size.answers)]
    jobs += [("variant", *variants[n % len(variants)]) for n in range(size.variants)]
    others = [mat.others[i] for i in rng.permutation(len(mat.others))]
    jobs += [("other", others[n % len(others)], None) for n in range(size.others)]
    specs = [(kind, text, intent, order[n % len(order)], int(rng.choice(SPEEDS)), int(rng.choice(PITCHES)))
             for n, (kind, text, intent) in enumerate(jobs)]
    with ThreadPoolExecutor(4) as pool_:
        audio = list(pool_.map(lambda s: speak(s[1], mat.code, s[3], s[4], s[5]), specs))
    return [Item(*spec, samples) for spec, samples in zip(specs, audio, strict=True)]


def talk_track(mat: Material, split: str, seconds: float, seed: int, pause: tuple[float, float]) -> np.ndarray:
    """People talking, no answer among it (float64, speech at unit RMS): sentences of the split's voices."""
    rng = np.random.default_rng(seed)
    pool = voices(split)
    parts: list[np.ndarray] = []
    total = 0
    while total < seconds * RATE:
        s = speak(mat.others[int(rng.integers(len(mat.others)))], mat.code, pool[int(rng.integers(len(pool)))],
                  int(rng.choice(SPEEDS)), int(rng.choice(PITCHES))).astype(np.float64)
        gap = np.zeros(int(rng.uniform(*pause) * RATE))
        parts += [s / rms(s), gap]
        total += len(s) + len(gap)
    return np.concatenate(parts)[: int(seconds * RATE)]


# --- conditions -----------------------------------------------------------------------------------------------


def colored(kind: str, seconds: float, seed: int) -> np.ndarray:
    """White, pink (1/f) or brown (1/f^2, a cooker hood) noise at unit RMS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    x = rng.standard_normal(n)
    if kind != "white":
        f = np.fft.rfftfreq(n, 1 / RATE)
        f[0] = f[1]
        x = np.fft.irfft(np.fft.rfft(x) / (np.sqrt(f) if kind == "pink" else f), n)
        x -= np.mean(x)
    return x / rms(x)


def reverb(samples: np.ndarray, room: str) -> np.ndarray:
    """sox's reverb: a small kitchen, or a large open-plan room. The tail is kept."""
    args = {"small": ["reverb", "40", "50", "30", "100", "10"], "large": ["reverb", "85", "40", "100", "100", "30"]}
    key = hashlib.sha1(samples.tobytes() + room.encode()).hexdigest()[:20]
    path = cache_dir() / "reverb" / f"{key}.npy"
    if path.exists():
        return load_cached(path)
    raw = ["-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(RATE)]
    tail = np.concatenate([samples, silence(1.0)])
    out = subprocess.run(["sox", "-R", "-D", *raw, "-", *raw, "-", *args[room]], input=tail.tobytes(),
                         capture_output=True, check=True, timeout=60).stdout
    wet = at_level(trim(np.frombuffer(out, "<i2").astype(np.int16)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, wet)
    tmp.replace(path)
    return wet


def transient(kind: str, rng: np.random.Generator, mat: Material) -> np.ndarray:
    """A cough, laughter, cutlery on a plate, or a door clicking shut (int16, as loud as speech or louder)."""
    t = np.arange(int(0.5 * RATE)) / RATE
    if kind == "cough":
        burst = np.zeros(0)
        for _ in range(int(rng.integers(1, 3))):
            n = int(rng.uniform(0.15, 0.3) * RATE)
            x = np.convolve(rng.standard_normal(n), np.hanning(12), "same")  # breathy, band-limited
            env = np.exp(-np.arange(n) / (0.06 * RATE)) * (1 - np.exp(-np.arange(n) / (0.005 * RATE)))
            burst = np.concatenate([burst, x * env, np.zeros(int(0.12 * RATE))])
        x, db = burst, SPEECH_DBFS + 4
    elif kind == "laughter":
        text = mat.laughter[int(rng.integers(len(mat.laughter)))]
        x = speak(text, mat.code, "", int(rng.choice(SPEEDS)), int(rng.choice(PITCHES))).astype(np.float64)
        db = SPEECH_DBFS
    elif kind == "cutlery":
        x = np.zeros(int(0.8 * RATE))
        for _ in range(int(rng.integers(2, 5))):
            at = int(rng.uniform(0, 0.6) * RATE)
            ring = sum(np.sin(2 * np.pi * rng.uniform(2500, 7000) * t) for _ in range(3)) * np.exp(-t / 0.04)
            x[at:at + len(t)] += ring[: len(x) - at]
        db = SPEECH_DBFS + 2
    else:  # door click: a sharp click and a low thump
        x = np.zeros(int(0.4 * RATE))
        x[0:40] = rng.standard_normal(40) * np.hanning(40)
        thump = np.sin(2 * np.pi * 90 * t[: int(0.2 * RATE)]) * np.exp(-t[: int(0.2 * RATE)] / 0.05)
        x[200:200 + len(thump)] += 0.5 * thump
        db = SPEECH_DBFS + 6
    x = x / rms(x) * 32768 * 10 ** (db / 20)
    return np.clip(x, -32768, 32767).astype(np.int16)


TRANSIENTS = ("cough", "laughter", "cutlery", "door")


@dataclass(frozen=True)
class Condition:
    """How an item sounds at the table: the speech itself, and the room's background under it."""

    name: str
    noise: str | None = None  # white, pink, brown, tv or cafe
    snr_db: float = 0.0  # speech at SPEECH_DBFS stands this far above the background
    room: str | None = None  # small or large: reverberation
    gain_db: float = 0.0  # the talker's level at the microphone re SPEECH_DBFS (far away: negative)
    clip: bool = False
    transients: bool = False

    def speech(self, item: Item, rng: np.random.Generator, mat: Material) -> np.ndarray:
        x = reverb(item.samples, self.room) if self.room else item.samples
        y = x.astype(np.float64) * 10 ** (self.gain_db / 20)
        if self.clip:  # a partner leaning into the microphone: 18 dB too hot, clipped
            y = y * 10 ** (18 / 20)
        if self.transients:
            kind = TRANSIENTS[int(rng.integers(len(TRANSIENTS)))]
            sound = transient(kind, rng, mat).astype(np.float64)
            gap = np.zeros(int(rng.uniform(0.3, 1.2) * RATE))
            # before the answer, or right after it while the decision is pending
            y = np.concatenate([sound, gap, y]) if rng.random() < 0.5 else np.concatenate([y, gap[: len(gap) // 4],
                                                                                           sound])
        return np.clip(y, -32768, 32767).astype(np.int16)

    def background(self, mat: Material, split: str, seconds: float, seed: int) -> np.ndarray | None:
        """The background loop at its level (float32), or None for a quiet room."""
        if self.noise is None:
            return None
        if self.noise in ("tv", "cafe"):
            other = "tuning" if split == "held_out" else "held_out"  # background voices: not the couple's
            if self.noise == "tv":  # one programme: a talker at a time, short pauses
                unit = talk_track(mat, other, seconds, seed, (0.1, 0.5))
            else:  # a café: six conversations at once
                unit = sum(np.roll(talk_track(mat, other, seconds, seed + k, (0.2, 0.8)), 7919 * k)
                           for k in range(6))
            unit = unit / rms(unit)
        else:
            unit = colored(self.noise, seconds, seed)
        return (unit * 32768 * 10 ** ((SPEECH_DBFS - self.snr_db) / 20)).astype(np.float32)


def conditions(quick: bool = False) -> list[Condition]:
    out = [Condition("clean")]
    for kind in ("white", "pink", "brown"):
        out += [Condition(f"{kind} {snr} dB", kind, snr) for snr in (20, 10, 5)]
    out += [Condition("small room", room="small"), Condition("large room", room="large"),
            # across the table: 15 dB quieter, with the room's echo, pink noise 15 dB under that voice
            Condition("far talker", "pink", 30.0, room="small", gain_db=-15.0)]
    out += [Condition(f"television {snr} dB", "tv", snr) for snr in (20, 12, 6)]
    out += [Condition("cafe 12 dB", "cafe", 12.0), Condition("clipping", clip=True),
            Condition("coughs, laughter, cutlery, doors", transients=True)]
    if quick:
        keep = {"clean", "pink 10 dB", "brown 10 dB", "far talker", "television 12 dB",
                "coughs, laughter, cutlery, doors"}
        out = [c for c in out if c.name in keep]
    return out


def far_snr(c: Condition) -> float:
    """The speech-to-background ratio the listener really gets (far talker: gain included)."""
    return c.snr_db + c.gain_db


# --- writing it out -------------------------------------------------------------------------------------------


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def write(out: Path, mat: Material, split: str, size: Size, quick: bool) -> int:
    """Each condition as one WAV per item (with the background around it) and a manifest."""
    corpus = items(mat, split, size)
    count = 0
    for ci, cond in enumerate(conditions(quick)):
        folder = out / cond.name.replace(" ", "_").replace(",", "")
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(ci)
        lines = []
        bed = cond.background(mat, split, 60.0, seed=ci + 1)
        for n, item in enumerate(corpus):
            speech = cond.speech(item, rng, mat)
            x = np.concatenate([silence(GAP), speech, silence(GAP)]).astype(np.float64)
            if bed is not None:
                start = int(rng.integers(len(bed) - len(x))) if len(bed) > len(x) else 0
                x[: len(bed) - start] += bed[start:start + len(x)]
            name = f"{n:03d}.wav"
            write_wav(folder / name, np.clip(x, -32768, 32767).astype(np.int16))
            lines.append(json.dumps({"file": name, "kind": item.kind, "text": item.text, "intent": item.intent,
                                     "voice": item.voice, "speed": item.speed, "pitch": item.pitch,
                                     "speech_start": GAP, "speech_end": GAP + len(speech) / RATE},
                                    ensure_ascii=False))
            count += 1
        (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--split", choices=("held_out", "tuning"), default="held_out")
    parser.add_argument("--out", type=Path, help="default artifacts/corpus/<lang>/<split>/")
    parser.add_argument("--quick", action="store_true", help="fewer items and conditions")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    code = language()
    out = args.out or REPO / "artifacts" / "corpus" / code / args.split
    n = write(out, material(code), args.split, QUICK if args.quick else FULL, args.quick)
    log.info("%d files in %s", n, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
