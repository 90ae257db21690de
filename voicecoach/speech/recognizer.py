"""Vosk behind a small interface: grammar-restricted recognition of one utterance."""

from __future__ import annotations

import ctypes
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from voicecoach.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the audio given to the recognizer
    end: float


@dataclass(frozen=True)
class Hypothesis:
    """One reading of the utterance; `score` is Vosk's log-domain total (higher is likelier)."""

    text: str
    score: float
    words: tuple[Word, ...] = ()


ALTERNATIVES = 10  # enough to see when two readings of the same sound compete


@dataclass(frozen=True)
class Reading:
    """One utterance, decoded twice: as one of the phrases valid now, and as anything else.

    `garbage` is the best score of the garbage grammar (everyday words): how
    well the sound is explained if it is not an answer (None: no garbage
    grammar). Comparing the two, per second of audio, says whether it was an
    answer at all; the N-best `answers` say which one.
    """

    answers: list[Hypothesis]
    garbage: float | None = None
    seconds: float = 0.0  # audio the recognizer heard
    garbage_text: str = ""  # the garbage grammar's best reading (for the evaluation; never logged)
    garbage_decoded: bool = False  # the garbage grammar heard this utterance too (even if it read nothing)
    # A third, independent reading ("verified" decision): the phrases and the garbage words in one grammar,
    # where everyday words compete with the answer. None: not decoded.
    broad: str | None = None


class Recognizer(Protocol):
    def set_grammar(self, phrases: list[str], garbage: list[str] | None = None, broad: bool = False) -> None: ...

    def accept(self, pcm: bytes) -> None: ...

    def partial(self) -> str: ...

    def final(self) -> Reading:
        """The utterance so far, read both ways; then ready for the next."""

    def has_word(self, word: str) -> bool: ...

    def reread(self, phrases: list[str], garbage: list[str]) -> Reading:
        """The last utterance read again as the two-grammar decision reads it: the phrases alone, and the
        garbage grammar (its audio is kept in memory until the next utterance begins, never anywhere else)."""


# Kaldi dithers every audio frame with noise from the C library's global rand() (Vosk's models leave
# --dither at its default), so the same utterance scored differently depending on how many the process had
# decoded before: on held-out speech under a television 21 of about 700 decisions changed between two runs of
# the same audio in one process. Seeding rand() at each utterance's start makes a reading depend on that
# utterance alone (the dither itself, one unit of noise, stays as the models were trained with).
DITHER_SEED = 1


def _find_srand() -> Any:
    try:
        return ctypes.CDLL(None).srand  # the process's C library: the one libvosk calls rand() from
    except (OSError, AttributeError):  # no such C library (not Linux or macOS): readings vary a little
        return None


_SRAND = _find_srand()


def same_dither() -> None:
    """Give the next utterance the same dither noise as every other (see DITHER_SEED)."""
    if _SRAND is not None:
        _SRAND(DITHER_SEED)


def _vosk() -> Any:
    try:
        import vosk
    except (ImportError, OSError) as exc:
        raise ModelError(
            f"The speech recognizer Vosk cannot be loaded ({exc}).", "Reinstall voicecoach with: pip install vosk"
        ) from None
    vosk.SetLogLevel(-1)
    return vosk


class VoskModel:
    """A loaded model; loading takes seconds, so one per process."""

    def __init__(self, path: Path) -> None:
        vosk = _vosk()
        self.path = path
        try:
            self.model = vosk.Model(str(path))
        except Exception as exc:  # noqa: BLE001 - vosk raises a bare Exception
            raise ModelError(
                f"The speech model at {path} could not be loaded ({exc}).",
                "Delete that folder and run `voicecoach setup` again, or pass --model PATH.",
            ) from None
        self.has_unk = self.has_word("[unk]")

    def has_word(self, word: str) -> bool:
        return int(self.model.vosk_model_find_word(word)) >= 0

    def recognizer(self, rate: int) -> VoskRecognizer:
        return VoskRecognizer(self, rate)


class VoskRecognizer:
    """Two KaldiRecognizers hear each utterance: the phrases valid now, and the garbage grammar (and, for
    the "verified" decision, a third: both in one grammar, an independent reading to check the first by).

    Keeping fillers out of the phrases' grammar means they cannot steal an
    answer; the garbage grammar only says how well "not an answer" explains
    the sound. One recognizer per grammar is kept: switching back is free.
    """

    def __init__(self, model: VoskModel, rate: int) -> None:
        self.model = model
        self.rate = rate
        self._cache: dict[tuple[str, ...], Any] = {}
        self._current: Any = None
        self._garbage: Any = None
        self._broad: Any = None
        self._bytes = 0
        self._fed: dict[int, int] = {}  # bytes each KaldiRecognizer has heard: its word times count from its start
        self._said: list[bytes] = []  # one grammar: the utterance's audio, for reread(); in memory, until the next

    def has_word(self, word: str) -> bool:
        return self.model.has_word(word)

    def _get(self, words: list[str], alternatives: int) -> Any:
        phrases = tuple(sorted(set(words)))
        key = (*phrases, f"#{alternatives}")  # the same words with other N-best: another recognizer
        rec = self._cache.get(key)
        if rec is None:
            grammar = list(phrases) + (["[unk]"] if self.model.has_unk else [])
            # ensure_ascii=False: Vosk does not decode \u escapes and would drop every word.
            rec = _vosk().KaldiRecognizer(self.model.model, self.rate, json.dumps(grammar, ensure_ascii=False))
            rec.SetWords(True)
            # N-best lists show competing readings (two voices at once, noise):
            # decide.py turns them into a confidence per intent.
            rec.SetMaxAlternatives(alternatives)
            if len(self._cache) > 64:
                self._cache.clear()
                self._fed.clear()
            self._cache[key] = rec
        else:
            rec.Reset()
        return rec

    def set_grammar(self, phrases: list[str], garbage: list[str] | None = None, broad: bool = False) -> None:
        """`broad`: also read each utterance with the phrases and the garbage words in one grammar."""
        self._current = self._get(phrases, ALTERNATIVES)
        self._garbage = self._get(garbage, 1) if garbage else None
        self._broad = self._get(phrases + garbage, 1) if broad and garbage else None
        self._bytes = 0
        self._said = []

    def accept(self, pcm: bytes) -> None:
        if self._bytes == 0:
            same_dither()  # an utterance begins: its reading must not depend on the ones before it
            self._said = []
        self._feed((self._current, self._garbage, self._broad), pcm)
        if self._garbage is None:  # one grammar: reread() may be asked for (while serve waits, nothing is kept)
            self._said.append(pcm)
        self._bytes += len(pcm)

    def _feed(self, recognizers: tuple[Any, ...], pcm: bytes) -> None:
        for rec in recognizers:
            if rec is not None:
                rec.AcceptWaveform(pcm)
                self._fed[id(rec)] = self._fed.get(id(rec), 0) + len(pcm)

    def reread(self, phrases: list[str], garbage: list[str]) -> Reading:
        said, self._said = b"".join(self._said), []
        if not phrases or not said:
            return Reading([], seconds=len(said) / 2 / self.rate)  # an empty grammar would crash Kaldi
        # Recognizers of the cache (one may be the listening grammar's): FinalResult leaves each ready for the next.
        answers_rec = self._get(phrases, ALTERNATIVES)
        garbage_rec = self._get(garbage, 1) if garbage else None
        same_dither()  # as the first reading: the same audio always reads the same
        self._feed((answers_rec, garbage_rec), said)
        return self._reading(answers_rec, garbage_rec, len(said) / 2 / self.rate)

    def partial(self) -> str:
        return str(json.loads(self._current.PartialResult()).get("partial", ""))

    def final(self) -> Reading:
        seconds, self._bytes = self._bytes / 2 / self.rate, 0
        reading = self._reading(self._current, self._garbage, seconds)
        if self._broad is None:
            return reading
        read = _hypotheses(json.loads(self._broad.FinalResult()))
        return replace(reading, broad=read[0].text if read else "")

    def _reading(self, answers_rec: Any, garbage_rec: Any, seconds: float) -> Reading:
        """The last `seconds` of audio as the phrases' recognizer and the garbage one (None: none) read them."""
        # Vosk's word times run on from the recognizer's first sample (even across Reset):
        # make them count from this utterance's start.
        start = self._fed.get(id(answers_rec), 0) / 2 / self.rate - seconds
        answers = [_shifted(h, start) for h in _hypotheses(json.loads(answers_rec.FinalResult()))]
        best = _hypotheses(json.loads(garbage_rec.FinalResult())) if garbage_rec is not None else []
        garbage, garbage_text = (best[0].score, best[0].text) if best else (None, "")
        return Reading(answers, garbage, seconds, garbage_text, garbage_rec is not None)


def _shifted(h: Hypothesis, by: float) -> Hypothesis:
    return Hypothesis(h.text, h.score, tuple(Word(w.text, w.start - by, w.end - by) for w in h.words))


def _hypotheses(result: dict[str, Any]) -> list[Hypothesis]:
    out = []
    for alt in result.get("alternatives", []):
        words = tuple(Word(w["word"], float(w["start"]), float(w["end"])) for w in alt.get("result", []))
        out.append(Hypothesis(str(alt.get("text", "")), float(alt.get("confidence", 0.0)), words))
    return [h for h in out if h.text or h.words]
