"""With the real Dutch model (VOICECOACH_MODEL pointing at vosk-model-small-nl-0.22): the Dutch words work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import couple_listener

MODEL = os.environ.get("VOICECOACH_MODEL")

pytestmark = pytest.mark.skipif(
    not MODEL or not (Path(MODEL) / "am" / "final.mdl").exists(),
    reason="the Dutch model is not here: set VOICECOACH_MODEL to vosk-model-small-nl-0.22 (voicecoach setup) to run",
)


@pytest.fixture(scope="module")
def nl():  # type: ignore[no-untyped-def]
    from voicecoach.speech.recognizer import VoskModel
    from voicecoach.speech.vocab import load_vocabulary

    model = VoskModel(Path(MODEL or ""))
    if not model.has_word("klopt"):
        pytest.skip("VOICECOACH_MODEL is not a Dutch model (it does not know 'klopt')")
    return model, load_vocabulary(language="nl").check_model(model.has_word, strict=False)


def test_builtin_vocabulary_is_complete_for_the_dutch_model(nl):
    model, vocab = nl
    assert all(model.has_word(w) for w in ("klopt", "niet", "nee", "ja", "klaar", "pauze", "verder", "waarom"))
    assert "klopt niet" in vocab.intents["deny"]


@pytest.mark.parametrize("text,intent", [("klopt", "confirm"), ("klopt niet", "deny"), ("nee", "deny"),
                                         ("ja", "confirm"), ("herhaal", "repeat"), ("pauze", "pause")])
def test_dutch_answers_are_heard(nl, say, text, intent):
    model, vocab = nl
    clock, _, listener = couple_listener(model, vocab, [say(text, voice="nl")])
    heard = listener.listen(["confirm", "deny", "repeat", "pause", "resume", "why", "help"], until=clock.now() + 8)
    assert heard.intent == intent, heard


def test_dutch_sentence_is_not_a_keyword(nl, say):
    model, vocab = nl
    clock, _, listener = couple_listener(model, vocab, [say("ik denk dat het morgen gaat regenen", voice="nl")])
    heard = listener.listen(["confirm", "deny"], until=clock.now() + 8)
    assert heard.kind == "unclear", heard
