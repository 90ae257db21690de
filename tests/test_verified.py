"""The "verified" decision: a third, independent reading of each utterance, and answers said twice.

The rules on made-up readings (so each line of decide.py is pinned), then the real Vosk engine (Korean
test model) with espeak-ng answers: the third recognizer really reads every utterance.
"""

from __future__ import annotations

import pytest

from tests.helpers import couple_listener
from voicecoach.speech.decide import AGREED_EASIER, ALONE_HARDER, agrees, decide, phrase_of
from voicecoach.speech.endpoint import VERIFIED
from voicecoach.speech.listener import TWO_GRAMMARS, ListenSettings
from voicecoach.speech.recognizer import Hypothesis, Word

QUESTION = ["confirm", "deny", "repeat"]


@pytest.fixture
def phrases(ko_vocab):  # type: ignore[no-untyped-def]
    return ko_vocab.phrase_map(QUESTION)  # 네: confirm; 아니요, 네 아니요: deny; 마침: repeat


@pytest.mark.parametrize("text,repeats,want", [
    ("네", False, "네"),
    ("네 네", False, None),  # the one-grammar decision as shipped: not a phrase
    ("네 네", True, "네"),
    ("네 네 네", True, "네"),
    ("아니요 아니요", True, "아니요"),
    ("네 아니요", True, "네 아니요"),  # a phrase of its own, not "네" + "아니요"
    ("네 아니요 아니요", True, "네 아니요"),  # deny, then deny again
    ("네 마침", True, None),  # two meanings: never one of them
    ("아니요 네", True, None),
    ("네 오늘", True, None),  # not all of it is a phrase
])
def test_an_answer_said_more_than_once_is_that_answer(phrases, text, repeats, want):
    assert phrase_of(text, phrases, repeats) == want


@pytest.mark.parametrize("broad,intent,want", [
    ("네", "confirm", True),
    ("오늘 네 시간", "confirm", True),  # everyday words around it do not matter
    ("네 네", "confirm", True),
    ("아니요", "confirm", False),  # the second reading heard another answer
    ("네 아니요", "confirm", False),
    ("오늘 시간", "confirm", False),  # ...or no answer at all
    ("", "confirm", False),
    ("네 마침", "confirm", False),
])
def test_the_second_reading_agrees_only_when_it_means_the_same(phrases, broad, intent, want):
    assert agrees(broad, intent, phrases) is want


def judged(ko_vocab, phrases, sure: float, broad: str | None, text: str = "네"):  # type: ignore[no-untyped-def]
    """decide() on a reading whose sureness (decide.SURENESS log-odds) is `sure`."""
    from voicecoach.speech.decide import SURENESS

    voiced, seconds = 0.4, 0.6
    ratio = (sure - SURENESS.voiced * voiced - SURENESS.bias) / SURENESS.ratio
    best = Hypothesis(text, 50.0, tuple(Word(w, 0.1 + 0.2 * i, 0.3 + 0.2 * i) for i, w in enumerate(text.split())))
    return decide([best], voiced, phrases, ko_vocab, garbage=50.0 - ratio * seconds, seconds=seconds, broad=broad,
                  repeats=True)


def test_an_agreeing_second_reading_lowers_the_acceptance_line(ko_vocab, phrases):
    accept = ko_vocab.accept_score
    between = accept - AGREED_EASIER / 2  # below the line alone, above it with agreement
    assert judged(ko_vocab, phrases, between, None).kind == "check"  # two grammars: asked back
    heard = judged(ko_vocab, phrases, between, "오늘 네")
    assert (heard.kind, heard.intent) == ("intent", "confirm")
    assert judged(ko_vocab, phrases, between, "오늘 시간").kind == "check"


def test_without_agreement_only_a_clear_ratio_decides(ko_vocab, phrases):
    accept = ko_vocab.accept_score
    assert judged(ko_vocab, phrases, accept + ALONE_HARDER / 2, None).kind == "intent"  # two grammars
    assert judged(ko_vocab, phrases, accept + ALONE_HARDER / 2, "아니요").kind == "check"  # it heard "no"
    assert judged(ko_vocab, phrases, accept + ALONE_HARDER + 0.5, "아니요").kind == "intent"
    assert judged(ko_vocab, phrases, ko_vocab.check_score - 0.1, "네").kind == "unclear"  # below the band


def test_a_repeated_answer_is_asked_back_as_the_phrase_once(ko_vocab, phrases):
    heard = judged(ko_vocab, phrases, ko_vocab.accept_score - AGREED_EASIER - 0.1, "네 네", text="네 네")
    assert (heard.kind, heard.intent, heard.phrase) == ("check", "confirm", "네")


# -- the real engine ------------------------------------------------------------------------------------------


def test_the_third_reading_hears_every_utterance(ko_model, ko_vocab, say):
    from voicecoach.speech import judge as judge_module

    readings = []
    inner = judge_module.decide

    def watch(*args, **kw):  # type: ignore[no-untyped-def]
        readings.append(kw.get("broad"))
        return inner(*args, **kw)

    judge_module.decide = watch  # type: ignore[assignment]
    try:
        clock, _, listener = couple_listener(ko_model, ko_vocab, [say("네")], settings=ListenSettings(**VERIFIED))
        heard = listener.listen(QUESTION, clock.now() + 8)
        clock, _, two = couple_listener(ko_model, ko_vocab, [say("네")], settings=ListenSettings(**TWO_GRAMMARS))
        two.listen(QUESTION, clock.now() + 8)
    finally:
        judge_module.decide = inner  # type: ignore[assignment]
    assert (heard.kind, heard.intent) == ("intent", "confirm"), heard
    assert readings[0] is not None and "네" in readings[0].split(), readings
    assert readings[1:] == [None]  # the two-grammar decision reads it twice only


def test_talk_is_not_decided_by_the_verified_listener(ko_model, ko_vocab, say):
    clock, _, listener = couple_listener(ko_model, ko_vocab, [say("커피 주세요")],
                                         settings=ListenSettings(**VERIFIED))
    heard = listener.listen(QUESTION, clock.now() + 8)
    assert heard.kind in ("unclear", "check"), heard
