"""Property-based tests: intent decisions and the exercise/vocabulary loaders on arbitrary input."""

from __future__ import annotations

import copy
import math
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from voicecoach.engine.exercise import (
    MAX_COUNT,
    Exercise,
    exercises_dir,
    load_exercise,
    parse_exercise,
)
from voicecoach.engine.machine import build_machine
from voicecoach.errors import DataFileError
from voicecoach.speech.decide import Heard, decide
from voicecoach.speech.recognizer import Hypothesis, Word
from voicecoach.speech.vocab import (
    Vocabulary,
    builtin_path,
    load_vocabulary,
    normalize,
    parse_vocabulary,
)

SETTINGS = settings(max_examples=int(__import__("os").environ.get("PROPERTY_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# -- intent decisions -----------------------------------------------------------

WORDS = ["klopt", "niet", "ja", "nee", "dat", "pauze", "verder", "ik", "[unk]", "KLOPT", "klopt!", ""]


PHRASES = ["klopt", "klopt niet", "ja", "nee", "pauze", "verder", "dat klopt", "ik"]


def _hypothesis(draw: Any) -> Hypothesis:
    if draw(st.booleans()):  # often a phrase that is valid somewhere, so intents do come out
        chosen = draw(st.sampled_from(PHRASES)).split()
    else:
        chosen = draw(st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=4))
    text = " ".join(chosen)
    timed = [w for w in chosen if w]
    starts = draw(st.lists(st.floats(-1, 3, allow_nan=False), min_size=len(timed), max_size=len(timed)))
    lengths = draw(st.lists(st.floats(0, 2, allow_nan=False), min_size=len(timed), max_size=len(timed)))
    words = tuple(Word(w, s, s + n) for w, s, n in zip(timed, starts, lengths, strict=False))
    if draw(st.integers(0, 4)) == 0:  # the words need not match the text: the rules must not rely on it
        words = tuple(Word(draw(st.sampled_from(WORDS)), 0.0, 0.5) for _ in range(draw(st.integers(0, 3))))
    score = draw(st.floats(-50, 50) | st.floats(allow_nan=True, allow_infinity=True))
    return Hypothesis(text, score, words)


@st.composite
def utterances(draw: Any) -> tuple[list[Hypothesis], float, dict[str, str], Vocabulary]:
    hypotheses = [_hypothesis(draw) for _ in range(draw(st.integers(0, 5)))]
    phrases = draw(st.dictionaries(st.sampled_from(PHRASES) | st.text(max_size=8),
                                   st.sampled_from(["confirm", "deny", "pause", "resume", "x"]), max_size=8))
    vocab = Vocabulary("nl", {"confirm": ("ja",), "deny": ("nee",)},
                       min_confidence=draw(st.floats(0, 1)), max_answer_seconds=draw(st.floats(0.5, 30)))
    voiced = draw(st.floats(0, 4) | st.floats(0, 60))
    return hypotheses, voiced, phrases, vocab


def _scored(score: float) -> tuple[list[Hypothesis], float, dict[str, str], Vocabulary]:
    """A clean "ja" whose recognizer score is not a number: found by this test, kept as examples."""
    vocab = Vocabulary("nl", {"confirm": ("ja",), "deny": ("nee",)})
    return [Hypothesis("ja", score, (Word("ja", 0.0, 0.4),))], 0.4, {"ja": "confirm"}, vocab


@SETTINGS
@given(utterances())
@example(_scored(math.nan))
@example(_scored(math.inf))
def test_decide_never_guesses(case: tuple[list[Hypothesis], float, dict[str, str], Vocabulary]) -> None:
    hypotheses, voiced, phrases, vocab = case
    heard = decide(hypotheses, voiced, phrases, vocab)
    assert isinstance(heard, Heard)
    assert heard.kind in ("intent", "unclear")
    if heard.kind == "intent":
        best = hypotheses[0]
        # Only ever the best reading's own phrase, valid now, trusted enough, and short enough.
        assert heard.phrase == normalize(best.text)
        assert phrases[heard.phrase] == heard.intent
        assert math.isfinite(heard.confidence) and vocab.min_confidence <= heard.confidence <= 1.0 + 1e-9
        assert voiced <= vocab.max_answer_seconds
        assert best.words and all(w.text != "[unk]" for w in best.words)
    else:
        assert heard.intent is None


# -- loaders: arbitrary TOML-like data ---------------------------------------------

SCALARS = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=12)
           | st.dates() | st.times() | st.datetimes())
KEYS = st.text(max_size=10) | st.sampled_from(
    ["intents", "fillers", "lists", "language", "min_confidence", "max_answer_seconds", "confirm", "deny",
     "steps", "timing", "id", "kind", "text", "why", "speaker", "seconds", "next", "on_deny", "options",
     "name", "title", "reflect", "check", "max_rounds", "turn_seconds", "ask_more"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=12)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=6)


def _builtin(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


NL = _builtin(builtin_path("nl"))
HERSTEL = _builtin(exercises_dir() / "herstelgesprek.toml")


@st.composite
def mutated(draw: Any, base: dict[str, Any]) -> dict[str, Any]:
    """A real file's data with a few values replaced, removed or added somewhere inside it."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        node: Any = data
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[key] = draw(VALUES)
            elif action == "delete":
                del node[key]
            elif isinstance(node, dict):
                node[draw(KEYS)] = draw(VALUES)
            else:
                node.append(draw(VALUES) if draw(st.booleans()) else copy.deepcopy(node[key]))
            break
    return data


def _check_vocabulary(vocab: Vocabulary) -> None:
    owner: dict[str, str] = {}
    assert "confirm" in vocab.intents and "deny" in vocab.intents
    for name, phrases in vocab.intents.items():
        assert phrases, name
        for phrase in phrases:
            assert phrase and phrase == normalize(phrase)
            assert phrase not in owner, (phrase, name, owner.get(phrase))
            owner[phrase] = name
    assert not set(vocab.fillers) & set(owner)
    assert 0 <= vocab.min_confidence <= 1 and 0.5 <= vocab.max_answer_seconds <= 30


def _vocabulary_or_error(data: dict[str, Any]) -> None:
    try:
        vocab = parse_vocabulary(data, "mine.toml")
    except DataFileError as exc:
        assert str(exc).startswith("mine.toml") and exc.problem
        return
    _check_vocabulary(vocab)


@SETTINGS
@given(DOCUMENTS)
def test_vocabulary_loader_on_arbitrary_data(data: dict[str, Any]) -> None:
    _vocabulary_or_error(data)


@SETTINGS
@given(mutated(NL))
def test_vocabulary_loader_on_damaged_builtin(data: dict[str, Any]) -> None:
    _vocabulary_or_error(data)


def _exercise_or_error(data: dict[str, Any]) -> None:
    try:
        exercise = parse_exercise(data, "mine.toml")
    except DataFileError as exc:
        assert str(exc).startswith("mine.toml") and exc.problem
        return
    assert isinstance(exercise, Exercise) and exercise.steps
    ids = [s.id for s in exercise.steps]
    assert len(set(ids)) == len(ids)
    for step in exercise.steps:
        assert step.text and step.speaker in (1, 2) and type(step.speaker) is int
        for target in [step.next, step.on_deny, *step.options.values()]:
            assert target is None or target in ids or target == "end"
    t = exercise.timing
    assert 1 <= t.max_rounds <= MAX_COUNT and 1 <= t.max_tries <= MAX_COUNT
    assert all(math.isfinite(getattr(t, f)) and getattr(t, f) > 0 for f in ("turn_seconds", "question_seconds"))
    # What loads must also compile into a state machine: a loader "yes" is a promise.
    build_machine(_Model(), exercise)


class _Model:
    """A bare model for the state machine: only what build_machine looks up."""

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: True


@SETTINGS
@given(DOCUMENTS)
def test_exercise_loader_on_arbitrary_data(data: dict[str, Any]) -> None:
    _exercise_or_error(data)


@SETTINGS
@given(mutated(HERSTEL))
def test_exercise_loader_on_damaged_builtin(data: dict[str, Any]) -> None:
    _exercise_or_error(data)


TOML_TEXT = st.text(alphabet=string.printable + "éë[]=\"'#", max_size=200) | st.builds(
    lambda a, b: a + b, st.sampled_from(['[intents]\nconfirm = ', '[[steps]]\nid = "a"\nkind = ', 'x = ']),
    st.text(max_size=40))


@settings(max_examples=150, deadline=None)
@given(TOML_TEXT | st.binary(max_size=100))
def test_loading_any_file_is_a_result_or_one_clear_error(tmp_path_factory: pytest.TempPathFactory,
                                                         content: str | bytes) -> None:
    path = tmp_path_factory.mktemp("file") / "mine.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    for load in (load_vocabulary, load_exercise):
        try:
            load(path)
        except DataFileError as exc:
            assert str(path) in str(exc)
