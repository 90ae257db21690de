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


def test_the_dutch_corpus_runs_the_same_table(tmp_path):
    # The evaluation corpus in Dutch (Dutch sentences, the Dutch vocabulary): the table a user sees for their setup.
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "VOICECOACH_CORPUS_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, str(root / "scripts" / "hearing.py"), "--quick", "--only", "clean",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=900, env=env, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "hearing-nl-held_out.json").read_text(encoding="utf-8"))
    assert result["meta"]["language"] == "nl"
    assert result["conditions"]["clean"]["voicecoach"]["recall"]["n"] > 0


def test_asking_back_is_dutch(nl):
    _, vocab = nl
    assert vocab.texts["check"].format(phrase="klopt niet") == "Ik hoorde: klopt niet. Is dat goed?"
