"""Vosk behind a small interface: grammar-restricted recognition of one utterance."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
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

class Recognizer(Protocol):
    def set_grammar(self, phrases: list[str]) -> None: ...

    def accept(self, pcm: bytes) -> None: ...

    def partial(self) -> str: ...

    def final(self) -> list[Hypothesis]:
        """The best readings of the utterance so far, best first; then ready for the next."""

    def has_word(self, word: str) -> bool: ...


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
    """One KaldiRecognizer per grammar, kept: switching back to a question is free."""

    def __init__(self, model: VoskModel, rate: int) -> None:
        self.model = model
        self.rate = rate
        self._cache: dict[tuple[str, ...], Any] = {}
        self._current: Any = None

    def has_word(self, word: str) -> bool:
        return self.model.has_word(word)

    def set_grammar(self, phrases: list[str]) -> None:
        key = tuple(sorted(set(phrases)))
        rec = self._cache.get(key)
        if rec is None:
            grammar = list(key) + (["[unk]"] if self.model.has_unk else [])
            # ensure_ascii=False: Vosk does not decode \u escapes and would drop every word.
            rec = _vosk().KaldiRecognizer(self.model.model, self.rate, json.dumps(grammar, ensure_ascii=False))
            rec.SetWords(True)
            # N-best lists show competing readings (two voices at once, noise):
            # decide.py turns them into a confidence per intent.
            rec.SetMaxAlternatives(ALTERNATIVES)
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = rec
        else:
            rec.Reset()
        self._current = rec

    def accept(self, pcm: bytes) -> None:
        self._current.AcceptWaveform(pcm)

    def partial(self) -> str:
        return str(json.loads(self._current.PartialResult()).get("partial", ""))

    def final(self) -> list[Hypothesis]:
        result = json.loads(self._current.FinalResult())
        out = []
        for alt in result.get("alternatives", []):
            words = tuple(Word(w["word"], float(w["start"]), float(w["end"])) for w in alt.get("result", []))
            out.append(Hypothesis(str(alt.get("text", "")), float(alt.get("confidence", 0.0)), words))
        return [h for h in out if h.text or h.words] or []
