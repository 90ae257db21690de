"""Their own answers as a second opinion (speech/own_answers.py): what it doubts, in quiet and in noise, and the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests import helpers
from tests.helpers import their_answers
from voicecoach.speech.own_answers import OwnAnswers

corpus = helpers.corpus()


def _in_a_quiet_room(samples: np.ndarray) -> np.ndarray:
    """As the listener passes an answer on: with the quiet after it."""
    return np.concatenate([samples, np.zeros(4000, np.int16)])


def _under_pink_noise(samples: np.ndarray, snr_db: float) -> np.ndarray:
    """The answer with half a second of room before and after, pink noise `snr_db` under the speech."""
    x = np.concatenate([np.zeros(8000), samples.astype(np.float64), np.zeros(8000)])
    noise = corpus.colored("pink", len(x) / 16000 + 1, seed=3)[: len(x)] * 32768 * 10 ** ((corpus.SPEECH_DBFS - snr_db) / 20)
    return np.clip(x + noise, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("voice", ["adam", "Alicia", "Andy"])
def test_noise_under_an_answer_does_not_make_it_sound_like_the_other(voice):  # type: ignore[no-untyped-def]
    """Pink noise 10 dB under "아니요" filled its quiet parts and made it nearer "네" for almost every tuning voice,
    until both are compared above the noise's floor: a right answer is not asked back for the noise."""
    own = their_answers(voice, 150)
    noisy = _under_pink_noise(corpus.speak("아니요", "ko", voice, 150, 50), 10.0)
    assert not own.doubts(noisy, "deny", "아니요")
    assert not own.doubts(_in_a_quiet_room(corpus.speak("네", "ko", voice, 150, 50)), "confirm", "네")


def test_it_doubts_only_the_phrases_they_said_and_only_with_two_answers():  # type: ignore[no-untyped-def]
    own = their_answers("adam", 175)
    filler_yes = _in_a_quiet_room(corpus.speak("아 네", "ko", "adam", 175, 50))  # "eh, yes", read as "아니요"
    assert own.doubts(filler_yes, "deny", "아니요")
    assert not own.doubts(filler_yes, "deny", "네 아니요")  # a phrase they did not say in the check
    one = OwnAnswers({"deny": own.phrases["deny"]}, {"deny": own.shapes["deny"]})
    assert not one.usable and not one.doubts(filler_yes, "deny", "아니요")  # nothing to compare with
    assert not own.doubts(np.zeros(400, np.int16), "deny", "아니요")  # too short to compare


def test_their_answers_survive_the_file_and_a_damaged_one_is_refused():  # type: ignore[no-untyped-def]
    own = their_answers("adam", 175)
    again = OwnAnswers.from_json(json.loads(json.dumps(own.to_json())))
    assert again.phrases == own.phrases
    filler_yes = _in_a_quiet_room(corpus.speak("아 네", "ko", "adam", 175, 50))
    assert again.doubts(filler_yes, "deny", "아니요")
    data = own.to_json()
    data["shapes"]["deny"][0]["bands"] = [[0.0] * 3] * 10  # three bands a frame instead of thirty
    with pytest.raises(ValueError):
        OwnAnswers.from_json(data)
    data = own.to_json()
    data["shapes"]["deny"][0]["depth"] = float("nan")
    with pytest.raises(ValueError):
        OwnAnswers.from_json(data)
    # Tampered to be slow: every answer would be compared with hours of shapes.
    data = own.to_json()
    data["shapes"]["deny"][0]["bands"] = [[0.0] * 30] * 100_000
    with pytest.raises(ValueError):
        OwnAnswers.from_json(data)
    data = own.to_json()
    data["shapes"]["deny"] = data["shapes"]["deny"] * 50
    with pytest.raises(ValueError):
        OwnAnswers.from_json(data)
    with pytest.raises((ValueError, TypeError, KeyError)):
        OwnAnswers.from_json({"phrases": ["네"], "shapes": "x"})


def _their_wake(voices: tuple[str, ...]) -> OwnAnswers:
    theirs = OwnAnswers()
    for voice in voices:
        for speed in (150, 175, 200):
            assert theirs.add("wake", "다시 계속", corpus.speak("다시 계속", "ko", voice, speed, 50))
    return theirs


def test_their_wake_phrase_is_near_in_their_units_and_their_talk_is_not():  # type: ignore[no-untyped-def]
    """`apart`: in units of how alike their own sayings are. Said slower or faster than in the check it stays
    near; their talk, a sentence with a wake word in it, or the phrase inside a long sentence do not, in a
    quiet room or under noise (the floor flattens every comparison, and the unit as much)."""
    theirs = _their_wake(("adam", "Alicia"))
    assert theirs.knows("wake", "다시  계속") and not theirs.knows("wake", "다시 시작")
    for voice in ("adam", "Alicia"):
        for speed in (130, 230):
            near = theirs.apart(_in_a_quiet_room(corpus.speak("다시 계속", "ko", voice, speed, 50)), "wake")
            assert near < 2.0, (voice, speed, near)
        for text in ("다시 기다려요", "계속 비가 와요 오늘", "방이 너무 추워요"):
            talk = corpus.speak(text, "ko", voice, 175, 50)
            assert theirs.apart(_in_a_quiet_room(talk), "wake") > 2.75, text
            assert theirs.apart(_under_pink_noise(talk, 10.0), "wake") > 2.75, text
    inside = corpus.speak("오늘은 정말 다시 계속 이야기하고 싶어요 그런데 시간이 없어요", "ko", "adam", 130, 50)
    assert theirs.apart(inside, "wake") > 2.75
    assert theirs.apart(np.zeros(100, np.int16), "wake") == float("inf")  # nothing to compare


def test_one_saying_of_a_phrase_is_not_enough_to_know_it():  # type: ignore[no-untyped-def]
    theirs = OwnAnswers()
    theirs.add("wake", "다시 계속", corpus.speak("다시 계속", "ko", "adam", 175, 50))
    assert not theirs.knows("wake", "다시 계속")  # no unit: how alike their sayings are is not known
    again = OwnAnswers.from_json(json.loads(json.dumps(_their_wake(("adam",)).to_json())))
    assert again.knows("wake", "다시 계속")
