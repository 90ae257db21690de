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
    conf: float
    start: float  # seconds from the start of the audio given to the recognizer
    end: float


class Recognizer(Protocol):
    def set_grammar(self, phrases: list[str]) -> None: ...

    def accept(self, pcm: bytes) -> None: ...

    def partial(self) -> str: ...

    def final(self) -> list[Word]:
        """The words of the utterance so far; the recognizer is then ready for the next."""

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

    def final(self) -> list[Word]:
        result = json.loads(self._current.FinalResult())
        return [Word(w["word"], float(w.get("conf", 0.0)), float(w["start"]), float(w["end"])) for w in result.get("result", [])]
