"""The logic between words and decisions: vocabulary loading, matching, and the rules."""

from __future__ import annotations

import pytest

from voicecoach.errors import DataFileError, ModelError
from voicecoach.speech.decide import decide, extends, intent_posteriors
from voicecoach.speech.recognizer import Hypothesis, Word
from voicecoach.speech.vocab import builtin_path, load_vocabulary, normalize, parse_vocabulary

NL = load_vocabulary(language="nl")
ANSWERS = NL.phrase_map(["right", "wrong", "confirm", "deny", "repeat"])  # the mirroring check's answers


def hyp(text: str, score: float = 50.0, seconds_per_word: float = 0.3) -> Hypothesis:
    words = tuple(Word(w, i * seconds_per_word, (i + 1) * seconds_per_word) for i, w in enumerate(text.split()))
    return Hypothesis(text, score, words)


def test_builtin_dutch_vocabulary_has_the_mirroring_words():
    assert NL.phrase_map(["right"])["klopt"] == "right"
    assert NL.phrase_map(["wrong"])["klopt niet"] == "wrong"
    assert NL.first("right") == "klopt" and NL.first("wrong") == "klopt niet"
    # yes/no questions: ja / nee and their everyday forms
    assert NL.first("confirm") == "ja" and NL.first("deny") == "nee"
    assert NL.phrase_map(["confirm", "deny"])["nee dat was het"] == "deny"


@pytest.mark.parametrize("text,intent", [("klopt", "right"), ("dat klopt", "right"), ("klopt niet", "wrong"),
                                         ("nee", "deny"), ("herhaal", "repeat")])
def test_whole_phrase_decides(text, intent):
    heard = decide([hyp(text)], 0.4, ANSWERS, NL)
    assert (heard.kind, heard.intent) == ("intent", intent)


@pytest.mark.parametrize("text", ["klopt klopt", "niet klopt", "ik denk klopt", "klopt maar", "niet", "de"])
def test_anything_but_a_whole_phrase_is_unclear(text):
    # Vosk's grammar is a bigram model: these outputs happen, and none is an answer.
    assert decide([hyp(text)], 0.4, ANSWERS, NL).kind == "unclear"


def test_phrase_not_valid_now_is_unclear():
    only_confirm = NL.phrase_map(["confirm"])
    assert decide([hyp("nee")], 0.3, only_confirm, NL).kind == "unclear"


def test_competing_readings_lower_the_confidence():
    close = [hyp("klopt", 50.0), hyp("klopt niet", 49.8)]
    assert decide(close, 0.5, ANSWERS, NL).reason == "low confidence"
    clear = [hyp("klopt", 50.0), hyp("klopt niet", 40.0)]
    assert decide(clear, 0.5, ANSWERS, NL).intent == "right"


def test_readings_with_the_same_meaning_add_up():
    shares = intent_posteriors([hyp("klopt", 50.0), hyp("dat klopt", 50.0), hyp("nee", 45.0)], ANSWERS)
    assert shares["right"] > 0.98


def test_speech_far_longer_than_the_phrase_is_unclear():
    heard = decide([hyp("klopt")], 2.5, ANSWERS, NL)  # 0.3 s of word, 2.5 s of voice
    assert (heard.kind, heard.reason) == ("unclear", "more was said")


def test_too_long_for_an_answer_is_unclear():
    long = decide([hyp("klopt", seconds_per_word=3.5)], NL.max_answer_seconds + 0.5, ANSWERS, NL)
    assert long.reason == "too long"


def test_unknown_word_marker_is_unclear():
    assert decide([hyp("[unk] klopt")], 0.5, ANSWERS, NL).kind == "unclear"


def test_no_words_is_unclear():
    assert decide([], 0.5, ANSWERS, NL).kind == "unclear"


def test_prefix_detection():
    assert extends("klopt", ANSWERS)
    assert extends("dat klopt", ANSWERS)
    assert not extends("klopt niet", ANSWERS)
    assert not extends("", ANSWERS)


def test_normalize():
    assert normalize("  Klopt,  NIET! ") == "klopt niet"
    assert normalize("time-out") == "time-out"


def bad(**changes):  # type: ignore[no-untyped-def]
    data = {"intents": {"confirm": ["ja"], "deny": ["nee"]}}
    data.update(changes)
    return data


@pytest.mark.parametrize("data,place,problem", [
    ({}, "[intents]", "missing"),
    (bad(intents={"confirm": ["ja"]}), "[intents]", "'deny' is missing"),
    (bad(intents={"confirm": ["ja"], "deny": ["  "]}), "intents.deny[0]", "empty"),
    (bad(intents={"confirm": ["ja"], "deny": ["ja"]}), "intents.deny", "also used for intent 'confirm'"),
    (bad(intents={"confirm": [], "deny": ["nee"]}), "intents.confirm", "non-empty list"),
    (bad(intents={"confirm": [3], "deny": ["nee"]}), "intents.confirm[0]", "must be text"),
    (bad(min_confidence=2), "min_confidence", "number from"),
    (bad(fillers=["ja"]), "fillers", "both a filler"),
    (bad(intents={"confirm": ["ja"], "deny": ["nee"], "fillers": ["de"]}), "intents.fillers", "above the [intents]"),
])
def test_broken_vocabulary_names_place_and_problem(data, place, problem):
    with pytest.raises(DataFileError) as info:
        parse_vocabulary(data, "mine.toml")
    assert info.value.place == place and problem in info.value.problem
    assert str(info.value).startswith("mine.toml")


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text("[intents\nconfirm = ", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_vocabulary(path)
    assert str(path) in str(info.value) and "not valid TOML" in str(info.value)


def test_model_check_user_vocabulary_is_refused_naming_the_word():
    vocab = parse_vocabulary(bad(intents={"confirm": ["ja", "zeker wel"], "deny": ["nee"]}), "mine.toml")
    with pytest.raises(DataFileError) as info:
        vocab.check_model(lambda w: w != "zeker", strict=True)
    assert "'zeker'" in str(info.value)


def test_model_check_builtin_drops_alternatives_but_keeps_intents():
    vocab = parse_vocabulary(bad(intents={"confirm": ["ja", "zeker wel"], "deny": ["nee"]}), "built-in")
    kept = vocab.check_model(lambda w: w != "zeker", strict=False)
    assert kept.intents["confirm"] == ("ja",)
    with pytest.raises(DataFileError) as info:
        vocab.check_model(lambda w: w not in ("ja", "zeker"), strict=False)
    # The built-in file is never theirs to fix: the model is.
    assert "voicecoach setup" in info.value.fix and "Fix that file" not in str(info.value)


def test_a_model_of_another_language_is_named_as_such_not_by_its_hundreds_of_words():
    """The Korean model with the built-in Dutch vocabulary: 5,500 characters of words, and 'fix the built-in file'."""
    with pytest.raises(ModelError) as info:
        NL.check_model(lambda w: False, strict=False, model_path="/models/ko")
    text = str(info.value)
    assert text.startswith("The speech model at /models/ko does not seem to speak Dutch: it knows none of the built-in")
    assert "voicecoach setup" in text and "--vocab" in text, text
    assert "Fix that file" not in text and "aandacht" not in text and len(text) < 300, text
    mine = parse_vocabulary(bad(fillers=["wel", "zeker"]), "mine.toml")
    with pytest.raises(ModelError) as info:
        mine.check_model(lambda w: w == "nee", strict=True)  # 1 of 4
    assert "speak Dutch, the language of mine.toml: it knows only 1 of its 4 words" in str(info.value), info.value


def test_words_the_model_lacks_are_named_a_few_at_a_time(caplog):
    fillers = [f"woord{i}" for i in range(30)]  # woord1 and woord10 to woord19 unknown: 11 of 32, not another language
    with pytest.raises(DataFileError) as info:
        parse_vocabulary(bad(fillers=fillers), "mine.toml").check_model(lambda w: not w.startswith("woord1"), strict=True)
    assert "'woord1', 'woord10', 'woord11', 'woord12', 'woord13' … and 6 more" in str(info.value), info.value
    values = parse_vocabulary(bad(lists={"values": [f"waarde{i}" for i in range(40)]}), "mine.toml")
    assert values.check_model(lambda w: not w.startswith("waarde"), strict=True).lists["values"] == ()
    assert "of 40 list item(s)" in caplog.text and "… and 35 more" in caplog.text and "waarde39" not in caplog.text


def test_the_dutch_values_are_a_few_hundred_with_everyday_words_for_them():
    values, synonyms = NL.sayable("values"), NL.synonyms["values"]
    assert len(values) >= 400 and len(synonyms) >= 150 and len(NL.lists["values"]) == 80
    assert NL.item_of("values", "kinderen") == "gezin" and NL.item_of("values", "verbinding") == "verbondenheid"
    assert "zelfvertrouwen" in values and NL.item_of("values", "rust") == "rust"
    # The long tail (and every everyday word) is asked back by voice; the list voicecoach started with is not.
    assert {"zelfvertrouwen", "kinderen"} <= NL.asked_back("values") and "rust" not in NL.asked_back("values")
    # No everyday word may take a command's or an answer's place while values are named or changed.
    said = {p for name, ps in NL.intents.items() if not name.startswith("ex_") for p in ps}
    assert not said & set(synonyms)


def test_a_vocabulary_copy_finds_the_included_values_next_to_it_or_built_in(tmp_path):
    mine = tmp_path / "mine.toml"
    text = builtin_path("nl").read_text(encoding="utf-8")
    mine.write_text(text, encoding="utf-8")
    assert load_vocabulary(mine).lists["values"] == NL.lists["values"]  # no copy of nl-values.toml: the built-in
    (tmp_path / "nl-values.toml").write_text('[lists]\nvalues = ["rust", "moed"]\n[synonyms.values]\nkalm = "rust"\n',
                                             encoding="utf-8")
    own = load_vocabulary(mine)
    assert own.lists["values"] == ("rust", "moed") and own.synonyms == {"values": {"kalm": "rust"}}
    mine.write_text(text + '\n[lists]\nvalues = ["humor"]\n', encoding="utf-8")
    assert load_vocabulary(mine).lists["values"] == ("humor",)  # the file's own list wins
    # ... whole: the built-in long tail ("values_more") and everyday words are not added to it
    (tmp_path / "nl-values.toml").unlink()
    assert load_vocabulary(mine).sayable("values") == ("humor",)


@pytest.mark.parametrize("synonyms,problem", [
    ({"values": {"kalm": "stilte"}}, "an item of lists.values"),
    ({"values": {"rust": "moed"}}, "is an item of lists.values itself"),
    ({"other": {"kalm": "rust"}}, "for the list 'other'"),
])
def test_broken_synonyms_name_place_and_problem(synonyms, problem):
    with pytest.raises(DataFileError) as info:
        parse_vocabulary(bad(lists={"values": ["rust", "moed"]}, synonyms=synonyms), "mine.toml")
    assert problem in info.value.problem


def test_model_check_leaves_out_values_it_lacks_and_names_them(caplog):
    vocab = parse_vocabulary(bad(lists={"values": ["rust", "moed", "zelfvertrouwen"]},
                                 synonyms={"values": {"kalm": "rust", "lef": "moed"}}), "mine.toml")
    kept = vocab.check_model(lambda w: w not in ("zelfvertrouwen", "lef"), strict=True)  # not refused whole
    assert kept.lists["values"] == ("rust", "moed") and kept.synonyms == {"values": {"kalm": "rust"}}
    assert "cannot be said: lef, zelfvertrouwen" in caplog.text
