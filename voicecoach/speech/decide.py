"""The rules that turn recognized words into a decision: reject rather than guess."""

from __future__ import annotations

from dataclasses import dataclass, field

from voicecoach.speech.recognizer import Word
from voicecoach.speech.vocab import Vocabulary, normalize

# Speech the recognizer did not account for, beyond this, means more was said.
UNEXPLAINED_SPEECH_S = 0.7


@dataclass(frozen=True)
class Heard:
    """What one listening phase ended with.

    kind: "intent" (a valid phrase), "unclear" (speech that matched nothing
    safely), "silence" (nobody spoke before the deadline), "timer" (a turn's
    deadline passed).
    """

    kind: str
    intent: str | None = None
    phrase: str = ""
    confidence: float = 0.0
    reason: str = ""
    t: float = 0.0  # stream time of the decision (seconds)
    speech_end: float | None = None  # stream time the speaker stopped
    level_db: float = -120.0  # loudest chunk of the utterance
    audio: object = field(default=None, compare=False, repr=False)  # np.ndarray when recorded
    said: str | None = None  # the typed words of a turn, in text mode

    @property
    def latency(self) -> float | None:
        return None if self.speech_end is None else max(0.0, self.t - self.speech_end)


def decide(words: list[Word], voiced_seconds: float, phrases: dict[str, str], vocab: Vocabulary) -> Heard:
    """Judge one utterance against the phrases valid now (phrase -> intent)."""
    text = normalize(" ".join(w.text for w in words))
    if not words:
        return Heard("unclear", reason="no words")
    if any(w.text == "[unk]" for w in words):
        return Heard("unclear", phrase=text, reason="unknown words")
    intent = phrases.get(text)
    confidence = min(w.conf for w in words)
    if intent is None:
        # "klopt klopt", "niet klopt", fillers, or a phrase not valid now.
        return Heard("unclear", phrase=text, confidence=confidence, reason="no phrase matches")
    if confidence < vocab.min_confidence:
        return Heard("unclear", phrase=text, confidence=confidence, reason="low confidence")
    if voiced_seconds > vocab.max_answer_seconds:
        return Heard("unclear", phrase=text, confidence=confidence, reason="too long")
    span = words[-1].end - words[0].start
    if voiced_seconds > span + UNEXPLAINED_SPEECH_S:
        return Heard("unclear", phrase=text, confidence=confidence, reason="more was said")
    return Heard("intent", intent=intent, phrase=text, confidence=confidence)


def extends(partial: str, phrases: dict[str, str]) -> bool:
    """True if some valid phrase continues `partial` ("klopt" -> "klopt niet")."""
    head = normalize(partial)
    return bool(head) and any(p.startswith(head + " ") for p in phrases)
