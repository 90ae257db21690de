"""The decision step: one ended utterance, its two readings and its levels, to an intent, a question back, or unclear."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from voicecoach.audio.sources import CHUNK_SECONDS
from voicecoach.speech.decide import Heard, Thresholds, decide
from voicecoach.speech.endpoint import ListenSettings, Utterance
from voicecoach.speech.recognizer import Hypothesis, Reading
from voicecoach.speech.vocab import Vocabulary


def judge(reading: Reading, utt: Utterance, phrases: dict[str, str], vocab: Vocabulary, s: ListenSettings,
          thresholds: Thresholds | None, turn: bool, t: float) -> Heard:
    """decide.py's rules on the words, then what the levels say about them."""
    words = reading.answers
    heard = decide(words, utt.voiced, phrases, vocab, garbage=reading.garbage, seconds=reading.seconds,
                   thresholds=thresholds, garbage_decoded=reading.garbage_decoded, broad=reading.broad,
                   repeats=s.decision == "verified")
    span = _span(words)
    weakest = _weakest_word(words, utt.levels, utt.loudest)
    heard = replace(heard, t=t, speech_end=utt.last_voice, level_db=utt.loudest, weakest_db=weakest,
                    snr_db=utt.loudest - utt.floor, voice_share=utt.voiced / span if span > 0 else None)
    if heard.kind not in ("intent", "check"):
        return heard
    if utt.loudest - utt.floor < s.min_snr_db:
        # Barely above the noise: the recognizer's reading is a guess (tests/test_reliability.py).
        return replace(heard, kind="unclear", intent=None, reason="too noisy")
    if utt.voiced < s.min_voice_share * span:
        # Words read into noise: a phrase where hardly any voice stood above the room.
        return replace(heard, kind="unclear", intent=None, reason="too little voice")
    if weakest is not None and weakest > s.word_db:
        # A word read into the echo of the answer or into the noise after it ("네" + the room's
        # reverberation read as "네 아니요"): what was said is not sure.
        return replace(heard, kind="unclear", intent=None, reason="a word was not voiced")
    if heard.kind == "check" and turn:
        # No question in the middle of someone's turn: a phrase set off by pauses on both sides
        # (turn_end_silence) is what ends it, nearly sure or not.
        return replace(heard, kind="intent", reason="")
    return heard


def _weakest_word(hypotheses: list[Hypothesis], levels: list[float], loudest: float) -> float | None:
    """dB from the utterance's loudest chunk down to the peak of its quietest word (best reading)."""
    words = hypotheses[0].words if hypotheses else ()
    if not words or not levels:
        return None
    gaps = []
    for w in words:
        first = int(w.start / CHUNK_SECONDS)
        last = max(first + 1, int(np.ceil(w.end / CHUNK_SECONDS)))
        inside = levels[max(0, first):min(len(levels), last)]
        gaps.append(loudest - max(inside) if inside else 120.0)
    return float(max(gaps))


def _span(hypotheses: list[Hypothesis]) -> float:
    """Seconds from the best reading's first word to its last."""
    words = hypotheses[0].words if hypotheses else ()
    return words[-1].end - words[0].start if words else 0.0
