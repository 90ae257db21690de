"""The rules that turn recognized words into a decision: reject rather than guess."""

from __future__ import annotations

from dataclasses import dataclass, field

import math

from voicecoach.speech.recognizer import Hypothesis
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
    lost: float = 0.0  # seconds the microphone was gone meanwhile: timers do not count them

    @property
    def latency(self) -> float | None:
        """From the end of speech to the decision; only decisions have one."""
        if self.speech_end is None or self.kind not in ("intent", "unclear"):
            return None
        return max(0.0, self.t - self.speech_end)


def intent_posteriors(hypotheses: list[Hypothesis], phrases: dict[str, str]) -> dict[str | None, float]:
    """How likely each intent is, over the N-best readings (None: no valid phrase).

    Vosk's alternative scores are log-domain, so a softmax gives each
    reading's share; readings that mean the same intent add up.
    """
    top = max(h.score for h in hypotheses)
    weights = [math.exp(h.score - top) for h in hypotheses]
    total = sum(weights)
    shares: dict[str | None, float] = {}
    for h, w in zip(hypotheses, weights):
        key = phrases.get(normalize(h.text))
        shares[key] = shares.get(key, 0.0) + w / total
    return shares


def decide(hypotheses: list[Hypothesis], voiced_seconds: float, phrases: dict[str, str], vocab: Vocabulary) -> Heard:
    """Judge one utterance against the phrases valid now (phrase -> intent)."""
    if not hypotheses:
        return Heard("unclear", reason="no words")
    best = hypotheses[0]
    words = list(best.words)
    text = normalize(best.text)
    if not words or not text:
        return Heard("unclear", reason="no words")
    if any(w.text == "[unk]" for w in words):
        return Heard("unclear", phrase=text, reason="unknown words")
    intent = phrases.get(text)
    # Filler readings are the garbage model: when one comes out on top the answer
    # is unclear, but a filler close behind does not veto a phrase that beat it.
    # Confidence is the competition between the meanings that are valid now
    # (measured: fewer lost answers for a few more false accepts, see the README).
    valid = [h for h in hypotheses if normalize(h.text) in phrases]
    confidence = intent_posteriors(valid, phrases).get(intent, 0.0) if valid else 0.0
    if intent is None:
        # "klopt klopt", "niet klopt", fillers, or a phrase not valid now.
        return Heard("unclear", phrase=text, confidence=confidence, reason="no phrase matches")
    if not confidence >= vocab.min_confidence:  # NaN (a broken score) is never trusted either
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
