"""The rules that turn recognized words into a decision: reject rather than guess."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from voicecoach.speech.recognizer import Hypothesis
from voicecoach.speech.vocab import Vocabulary, normalize

# Speech the recognizer did not account for, beyond this, means more was said.
UNEXPLAINED_SPEECH_S = 0.7


@dataclass(frozen=True)
class Heard:
    """What one listening phase ended with.

    kind: "intent" (a valid phrase), "unclear" (speech that matched nothing
    safely), "check" (nearly sure of `intent`: ask back before acting on it),
    "silence" (nobody spoke before the deadline), "timer" (a turn's deadline
    passed).
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
    said: str | None = None  # in text mode: the typed words of a turn, or of an answer not understood
    lost: float = 0.0  # seconds the microphone was gone meanwhile: timers do not count them
    ratio: float | None = None  # per second: the phrase's score over the garbage grammar's (None: not measured)
    score: float | None = None  # log-odds that the phrase was said (see sureness); None: not measured
    weakest_db: float | None = None  # how far the quietest word of the phrase peaks below the utterance's loudest
    snr_db: float | None = None  # the utterance's loudest chunk over the room's noise floor
    voice_share: float | None = None  # voiced seconds over the best reading's span

    @property
    def sure(self) -> float | None:
        """How sure the phrase was said, as log-odds (what the thresholds judge)."""
        return self.score

    @property
    def latency(self) -> float | None:
        """From the end of speech to the decision; only decisions have one."""
        if self.speech_end is None or self.kind not in ("intent", "unclear", "check"):
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
    for h, w in zip(hypotheses, weights, strict=True):
        key = phrases.get(normalize(h.text))
        shares[key] = shares.get(key, 0.0) + w / total
    return shares


@dataclass(frozen=True)
class Thresholds:
    """How sure (log-odds, see `sureness`) voicecoach must be that the phrase was said.

    At or above `accept`: decided. From `check` to `accept`: nearly sure, so
    ask back. Below `check`: unclear. Defaults are in the vocabulary file; a
    couple's calibration (`voicecoach check`) may set their own.
    """

    accept: float
    check: float


@dataclass(frozen=True)
class Sureness:
    """A logistic combination of what one utterance says about itself: log-odds that the phrase was said.

    `ratio`: how much better the phrase explains the sound than the garbage
    grammar, per second; `voiced`: seconds of voice (an answer is short, talk
    that happens to read as a phrase in the phrases-only grammar is long).
    Neither alone separates answers from look-alikes: a short sentence can
    beat the fillers, a slow answer can be long.
    """

    ratio: float
    voiced: float
    bias: float

    def __call__(self, ratio: float, voiced: float) -> float:
        return self.ratio * ratio + self.voiced * voiced + self.bias


# Fitted on the tuning voices only, never on the held-out ones: every utterance of the clean, pink 10 dB,
# brown 10 dB, far-talker and television 12 dB conditions that read as a single phrase, labelled by whether
# it was that phrase (from `scripts/hearing.py --split tuning --sweep --dump`; `--fit` on the same sweep
# gives 0.129 / -3.49 / 3.84, the same decisions within a few utterances).
SURENESS = Sureness(ratio=0.149, voiced=-3.04, bias=3.62)


# The "verified" decision: with a third, independent reading (the phrases and the garbage words in one
# grammar) that means the same, the phrase is accepted this much below the acceptance line; without it,
# only this much above it (the README, "What was tried": chosen on the tuning voices).
AGREED_EASIER = 0.5
ALONE_HARDER = 1.0


def phrase_of(text: str, phrases: dict[str, str], repeats: bool) -> str | None:
    """The valid phrase `text` is; with `repeats`, also an answer said more than once ("네 네": "네";
    "klopt klopt"), as long as every part means the same intent. None: no valid phrase."""
    if text in phrases or not repeats:
        return text if text in phrases else None
    words, parts = text.split(), []
    while words:  # longest phrase first: "네 아니요" is one phrase, not "네" + "아니요"
        n = next((n for n in range(len(words), 0, -1) if " ".join(words[:n]) in phrases), 0)
        if n == 0:
            return None
        parts.append(" ".join(words[:n]))
        words = words[n:]
    return parts[0] if len({phrases[p] for p in parts}) == 1 else None


def agrees(broad: str, intent: str, phrases: dict[str, str]) -> bool:
    """The broad reading, its everyday words left out, means `intent` (and nothing else)."""
    own = {w for p in phrases for w in p.split()}
    kept = " ".join(w for w in normalize(broad).split() if w in own)
    phrase = phrase_of(kept, phrases, repeats=True) if kept else None
    return phrase is not None and phrases[phrase] == intent


def garbage_ratio(best: Hypothesis, garbage: float | None, seconds: float) -> float | None:
    """(phrase score - garbage score) per second; None when there was no garbage decode."""
    if garbage is None or not math.isfinite(garbage) or not math.isfinite(best.score):
        return None
    return (best.score - garbage) / max(seconds, 0.2)


def decide(hypotheses: list[Hypothesis], voiced_seconds: float, phrases: dict[str, str], vocab: Vocabulary,
           *, garbage: float | None = None, seconds: float = 0.0, thresholds: Thresholds | None = None,
           garbage_decoded: bool = False, broad: str | None = None, repeats: bool = False) -> Heard:
    """Judge one utterance against the phrases valid now (phrase -> intent).

    `hypotheses` are the N-best readings with the grammar of those phrases;
    `garbage` the best score of the garbage grammar over the same `seconds` of
    audio (None: not decoded, only the other rules apply; or, with
    `garbage_decoded`, decoded but empty). The competition
    between the meanings valid now is the N-best confidence.
    """
    if not hypotheses:
        return Heard("unclear", reason="no words")
    best = hypotheses[0]
    ratio = garbage_ratio(best, garbage, seconds)  # kept on every outcome: calibration reads it
    score = None if ratio is None else SURENESS(ratio, voiced_seconds)

    def unclear(reason: str, **more: object) -> Heard:
        return Heard("unclear", phrase=text, reason=reason, ratio=ratio, score=score, **more)  # type: ignore[arg-type]

    words = list(best.words)
    text = normalize(best.text)
    if not words or not text:
        return unclear("no words")
    if any(w.text == "[unk]" for w in words):
        return unclear("unknown words")
    said = phrase_of(text, phrases, repeats)
    intent = phrases[said] if said is not None else None
    # Confidence is the competition between the meanings that are valid now.
    meanings = {t: phrases[p] for h in hypotheses
                if (p := phrase_of(t := normalize(h.text), phrases, repeats)) is not None}
    valid = [h for h in hypotheses if normalize(h.text) in meanings]
    confidence = intent_posteriors(valid, meanings).get(intent, 0.0) if valid else 0.0
    if said is None or intent is None:
        # "klopt klopt" (unless `repeats`), "niet klopt", or a phrase not valid now.
        return unclear("no phrase matches", confidence=confidence)
    if not confidence >= vocab.min_confidence:  # NaN (a broken score) is never trusted either
        return unclear("low confidence", confidence=confidence)
    if voiced_seconds > vocab.max_answer_seconds:
        return unclear("too long", confidence=confidence)
    span = words[-1].end - words[0].start
    if voiced_seconds > span + UNEXPLAINED_SPEECH_S:
        return unclear("more was said", confidence=confidence)
    if score is None and garbage_decoded:
        # The garbage grammar read nothing at all (a far, quiet voice): the test of "not an answer" could
        # not be made, so it is never decided outright (tuning voices: 4 of 12 such readings were wrong).
        return Heard("check", intent=intent, phrase=said, confidence=confidence, reason="no garbage reading")
    if score is not None:
        limits = thresholds or Thresholds(vocab.accept_score, vocab.check_score)
        accept = limits.accept
        if broad is not None:
            # A second, independent reading that heard the same answer among everyday words makes it
            # surer; one that heard something else leaves only a clear garbage ratio to decide on.
            accept += -AGREED_EASIER if agrees(broad, intent, phrases) else ALONE_HARDER
        if not score >= limits.check:
            return unclear("not an answer", confidence=confidence)
        if score < accept:
            return Heard("check", intent=intent, phrase=said, confidence=confidence, reason="nearly sure",
                         ratio=ratio, score=score)
    return Heard("intent", intent=intent, phrase=said, confidence=confidence, ratio=ratio, score=score)


def extends(partial: str, phrases: dict[str, str]) -> bool:
    """True if some valid phrase continues `partial` ("klopt" -> "klopt niet")."""
    head = normalize(partial)
    return bool(head) and any(p.startswith(head + " ") for p in phrases)
