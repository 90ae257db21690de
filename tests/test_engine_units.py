"""The engine's small parts: proposals, list phrases, new step fields, phases, texts, and the data files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.conftest import KO_VOCAB
from voicecoach.clock import SimClock
from voicecoach.engine import placeholders
from voicecoach.engine.exercise import available, load_exercise, parse_exercise
from voicecoach.engine.machine import build_machine, phases
from voicecoach.engine.session import Session
from voicecoach.engine.steps.values import Values, propose
from voicecoach.engine.texts import TOGETHER, Names, Texts, fill_in, join, ordinal
from voicecoach.errors import DataFileError
from voicecoach.events import EventLog
from voicecoach.journal import Journal
from voicecoach.speech.vocab import load_vocabulary
from voicecoach.voice import TextConversation

NL = load_vocabulary()


@pytest.mark.parametrize("one,two,count,want", [
    (["a", "b", "c", "d", "e"], ["f", "c", "a", "g", "h"], 5, ["a", "c", "b", "f", "d"]),
    (["a", "b", "c", "d", "e"], ["f", "g", "h", "i", "j"], 5, ["a", "f", "b", "g", "c"]),
    (["a", "b", "c"], ["c", "b", "a"], 5, ["a", "b", "c"]),          # fewer than five in all: what there is
    (["a", "b", "c", "d", "e"], ["e", "d", "c", "b", "a"], 3, ["a", "b", "c"]),  # all shared: in her order
    (["a", "b"], [], 5, ["a", "b"]),
])
def test_shared_proposal_is_overlap_then_one_from_each(one, two, count, want):  # type: ignore[no-untyped-def]
    assert propose(one, two, count) == want


def test_list_items_are_phrases_alone_or_after_an_intent():
    phrases = NL.phrase_map(["confirm", "change", "item:rust", "change:rust", "item:veiligheid", "safety"])
    assert phrases["rust"] == "item:rust"
    assert phrases["verander rust"] == phrases["ruil rust"] == "change:rust"
    assert phrases["verander"] == "change" and phrases["ja"] == "confirm"
    assert phrases["veiligheid"] == "safety"  # the later name wins a shared phrase
    assert NL.phrase_map(["change:humor", "item:veiligheid"])["veiligheid"] == "item:veiligheid"


def _session(exercise: str, vocab=NL) -> Session:  # type: ignore[no-untyped-def]
    clock = SimClock()
    conv = TextConversation(vocab, clock, EventLog(clock), stdin=io.StringIO(""), stdout=io.StringIO())
    return Session(load_exercise(exercise), conv, Names("Sanne", "Joris"))


def test_a_value_wins_over_the_command_with_the_same_word():
    stage = _session("waardenkaart").stage
    heard = stage.listenable(["item:rust", "item:veiligheid"])
    assert heard[:2] == ["item:rust", "item:veiligheid"]
    assert "safety" not in heard and "repeat" in heard and "stop" in heard
    assert "safety" in stage.listenable(["confirm", "deny"])


def test_help_for_values_names_examples_not_seventy_words():
    stage = _session("waardenkaart", load_vocabulary(KO_VOCAB)).stage
    step = Values(stage.exercise.step("waarden_een"), stage)
    step.enter("name")
    assert step.help().startswith("Noem één waarde, bijvoorbeeld 지식, 믿음 of 보람.")


@pytest.mark.parametrize("step,problem", [
    ({"kind": "values", "count": 0}, "whole number from 1 to 10"),
    ({"kind": "values", "count": 2.5}, "whole number"),
    ({"kind": "say", "count": 3}, "only a step of kind"),
    ({"kind": "count", "keep": "agreement"}, "keeps"),
    ({"kind": "agreement", "keep": "gratitude"}, "keeps"),
    ({"kind": "say", "together": True}, "only a turn"),
    ({"kind": "turn", "together": "yes"}, "true or false"),
    ({"kind": "say", "list": "values"}, "vocabulary list"),
    ({"kind": "count", "counted": []}, "list of texts"),
    ({"kind": "count", "counted": ["een", 2]}, "list of texts"),
    ({"kind": "choice", "options": {"stop": "a"}}, "stop always ends the session"),
    ({"kind": "say", "resume": "nergens"}, "does not exist"),
    ({"kind": "say", "resume": "end"}, "goes on at a step"),
    ({"kind": "say", "resume": 3}, "expected the id of a step"),
])
def test_new_step_fields_are_checked(step, problem):  # type: ignore[no-untyped-def]
    data = {"steps": [{"id": "a", "text": "Hallo.", **step}]}
    with pytest.raises(DataFileError) as info:
        parse_exercise(data, "mine.toml")
    assert problem in str(info.value)


def test_phases_of_the_new_kinds():
    ex = parse_exercise({"steps": [
        {"id": "v", "kind": "values", "text": "x"}, {"id": "s", "kind": "shared", "text": "x"},
        {"id": "z", "kind": "agreement", "mirror": False, "keep": "sentence", "text": "x"},
        {"id": "c", "kind": "count", "count": 3, "keep": "gratitude", "text": "x", "counted": ["een", "twee"]},
    ]}, "mine.toml")
    assert phases(ex.step("v")) == ("name", "check", "which", "change")
    assert phases(ex.step("s")) == ("propose", "check", "which", "change")
    assert phases(ex.step("z")) == ("propose", "agree", "consent")
    assert ex.step("c").field_text("counted", n=5) == "twee"  # a list gives one text per item, then its last

    class Model:
        pass

    machine = build_machine(Model(), ex)
    assert "z__reflect" not in machine.states and "v__which" in machine.states
    assert {t.dest for t in machine.get_transitions("pick", "v__check")} == {"v__change"}
    assert {t.dest for t in machine.get_transitions("pick", "v__change")} == {"v__check"}
    # ...or, when nothing was proposed, straight on to the next step: nothing to agree to
    assert {t.dest for t in machine.get_transitions("next", "z__propose")} == {"z__agree", "c"}


def test_texts_helpers():
    assert [ordinal(n) for n in (1, 3, 5, 11)] == ["eerste", "derde", "vijfde", "11e"]
    assert join(["a"]) == "a" and join(["a", "b", "c"]) == "a, b en c" and join(["a", "b"], alternatives=True) == "a of b"
    texts = Texts(NL, Names("Sanne", "Joris"))
    assert texts.get("turn_nudge", TOGETHER).startswith("Neem jullie tijd.")
    assert texts.get("turn_nudge", 1).startswith("Neem je tijd, Sanne.")
    facts = texts.common["facts"]
    assert texts.fact(0) != texts.fact(1) and texts.fact(len(facts)) == texts.fact(0)
    assert all(f.startswith("Wist je dat") for f in facts)
    assert "terugval" in texts.fill("{afsluiting}").lower() or "misgaat" in texts.fill("{afsluiting}")


@pytest.mark.parametrize("text,want", [
    ("{spreker}, jij begint.", "Partner één, jij begint."),
    ("Nu andersom. {spreker}, vertel {luisteraar} iets.", "Nu andersom. Partner één, vertel partner twee iets."),
    ("Klaar? {luisteraar}, nu jij!", "Klaar? Partner twee, nu jij!"),
    ("Mooi!  {spreker}, nu jij.", "Mooi!  Partner één, nu jij."),
    ("{waarde}. Wat is je tweede waarde, {spreker}?", "Rust. Wat is je tweede waarde, partner één?"),
    ("Welkom, {een} en {twee}. Zeg: {ja}.", "Welkom, partner één en partner twee. Zeg: ja."),  # inside: as it is
    ("Dank je. {bewaard}{waarde} blijft.", "Dank je. Rust blijft."),  # an empty value before it
    ("Het is {waarde}.{spreker}", "Het is rust.partner één"),  # no space: not a new sentence
])
def test_a_value_that_opens_a_sentence_starts_with_a_capital(text, want):  # type: ignore[no-untyped-def]
    """Without --names "partner één, jij begint" was printed and spoken lower-case at the start of a sentence."""
    assert Texts(NL, Names()).fill(text, 1, waarde="rust") == want
    assert fill_in("{aantal} keer. {aantal} keer.", aantal="twee") == "Twee keer. Twee keer."


def _fill_all(texts: Texts, text: str, speaker: int, allowed: tuple[str, ...]) -> str:
    """`text` filled in with a value for every placeholder the code fills in there (engine/placeholders.py)."""
    return texts.fill(text, speaker, **{name: f"<{name}>" for name in allowed})


@pytest.mark.parametrize("name", available())
def test_every_text_of_every_exercise_fills_in(name, caplog):  # type: ignore[no-untyped-def]
    texts = Texts(NL, Names("Sanne", "Joris"))
    exercise = load_exercise(name)
    for step in exercise.steps:
        allowed = placeholders.BY_KIND.get(step.kind, ())
        for field, value in [("text", step.text), ("why", step.why), *step.extra.items()]:
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and field in ("text", "why", *placeholders.DEFAULTS_KIND, "moveon"):
                    filled = _fill_all(texts, text, step.speaker, () if field == "why" else allowed)
                    assert not re.search(r"[{}]", filled), (name, step.id, field, filled)
    assert exercise.why and all(s.why for s in exercise.steps if s.kind != "say" or s.next is None)
    assert not caplog.records  # nothing was asked for that the code does not fill in


def test_common_texts_fill_in(caplog):  # type: ignore[no-untyped-def]
    texts = Texts(NL, Names("Sanne", "Joris"))
    for key, value in texts.common.items():
        if key in ("timing", "defaults"):
            continue
        for text in value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]:
            filled = _fill_all(texts, text, 1, placeholders.COMMON.get(key, ()))
            assert not re.search(r"[{}]", filled), (key, filled)
    for key, text in texts.common["defaults"].items():
        filled = _fill_all(texts, text, 1, placeholders.BY_KIND.get(placeholders.DEFAULTS_KIND[key], ()))
        assert not re.search(r"[{}]", filled), (key, filled)
    assert not caplog.records


@pytest.mark.parametrize("field,text", [("text", "Hallo {sprekr}."), ("why", "Omdat {waarde}."),
                                        ("check", "Klopt {waarden}?"), ("text", "Een {haakje.")])
def test_a_placeholder_typo_is_refused_when_the_exercise_loads(field, text):  # type: ignore[no-untyped-def]
    data = {"steps": [{"id": "spiegel", "kind": "mirror", "text": "Vertel, {spreker}.", "why": "Daarom.", field: text}]}
    with pytest.raises(DataFileError) as info:
        parse_exercise(data, "mine.toml")
    message = str(info.value)
    assert "mine.toml" in message and "'spiegel'" in message and field in message


@pytest.mark.parametrize("field", ["consent", "consent_unrecorded", "empty"])
def test_a_placeholder_typo_in_an_agreement_text_is_refused(field):  # type: ignore[no-untyped-def]
    data = {"steps": [{"id": "afspraak", "kind": "agreement", "text": "Stel voor, {spreker}.",
                       field: "Mag dat, {sprekr}?"}]}
    with pytest.raises(DataFileError) as info:
        parse_exercise(data, "mine.toml")
    assert "'afspraak'" in str(info.value) and field in str(info.value) and "{sprekr}" in str(info.value)


def test_a_placeholder_the_step_kind_fills_in_is_accepted():
    data = {"steps": [{"id": "w", "kind": "values", "text": "Noem een waarde, {spreker}, zoals {voorbeeld}."},
                      {"id": "d", "kind": "count", "text": "Het {nummer}, {luisteraar}?"}]}
    assert len(parse_exercise(data, "mine.toml").steps) == 2


def test_the_shared_texts_are_checked_too(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from voicecoach.engine import exercise, texts

    common = (exercise.exercises_dir() / "_common.toml").read_text(encoding="utf-8")
    mine = tmp_path / "_common.toml"
    mine.write_text(common.replace('stuck = "Ik kan', 'stuck = "{sprekr}, ik kan'), encoding="utf-8")
    monkeypatch.setattr(texts, "common_path", lambda: mine)
    texts.load_common.cache_clear()
    try:
        with pytest.raises(DataFileError) as info:
            texts.load_common()
        assert "_common.toml" in str(info.value) and "stuck" in str(info.value) and "{sprekr}" in str(info.value)
    finally:
        texts.load_common.cache_clear()


def test_vocabularies_know_the_values_and_every_exercise():
    assert len(NL.lists["values"]) >= 60
    assert {"eerlijkheid", "veiligheid", "empathie", "avontuur", "rust", "respect", "vertrouwen", "humor"} <= set(
        NL.lists["values"])
    ko = load_vocabulary(KO_VOCAB)
    for name in available():
        intent = f"ex_{name.replace('-', '_')}"
        assert intent in NL.intents and intent in ko.intents, name
    assert "change" in NL.intents and "change" in ko.intents and len(ko.lists["values"]) >= 8


def test_sentence_recording_round_trips_and_is_replaced(tmp_path: Path):
    with Journal(tmp_path / "j.sqlite3") as j:
        s = j.start_session("waardenkaart", ("A", "B"))
        rec = j.store_recording(s, b"RIFF0000")
        j.set_shared_values(s, ["rust"], None, rec)
        vm = j.latest_value_map()
        assert vm.recording == rec and vm.sentence is None
        j.set_shared_values(s, ["rust", "humor"], "Wij lachen.")
        vm = j.latest_value_map()
        assert vm.recording is None and vm.sentence == "Wij lachen." and vm.shared == ("rust", "humor")


def test_a_vocabulary_without_values_is_refused_before_speaking():
    from dataclasses import replace

    from voicecoach.errors import UserError

    with pytest.raises(UserError) as info:
        _session("waardenkaart", replace(NL, lists={}))
    assert "no list of values" in str(info.value) and "[lists]" in info.value.fix
    _session("dankbaarheid", replace(NL, lists={}))  # an exercise without values needs none


def test_a_recorded_name_is_played_in_place_of_partner_een() -> None:
    """name_clips.split and VoiceConversation.say: the words around it are rendered, the clip itself played."""
    from types import SimpleNamespace

    import numpy as np

    from voicecoach import name_clips
    from voicecoach.audio.pcm import Audio
    from voicecoach.clock import SimClock
    from voicecoach.events import EventLog
    from voicecoach.voice import VoiceConversation

    clip = Audio(np.full(1600, 1234, np.int16))
    parts = name_clips.split("Partner één, jij begint. Kijk partner twee aan.", {"partner één": clip})
    assert parts == [clip, ", jij begint. Kijk partner twee aan."]
    rendered: list[str] = []
    played: list[Audio] = []
    synth = SimpleNamespace(render=lambda text: rendered.append(text) or Audio(np.full(800, 7, np.int16)))
    speaker = SimpleNamespace(play=lambda audio: played.append(audio) or 0.0)
    clock = SimClock()
    listener = SimpleNamespace(vocab=NL, on_outage=None)
    conv = VoiceConversation(synth, speaker, listener, clock, EventLog(clock))  # type: ignore[arg-type]
    conv.name_clips = {"partner één": clip, "partner twee": Audio(np.full(1600, 99, np.int16))}
    conv.say("partner één, jij begint. Kijk partner twee aan.")
    assert rendered == [", jij begint. Kijk ", " aan."]
    assert list(np.unique(played[0].samples)) == [7, 99, 1234] and len(played[0].samples) == 1600 * 2 + 800 * 2
    assert name_clips.trimmed(Audio(np.zeros(16000, np.int16))) is None  # silence is no name
    talk = Audio(np.concatenate([np.zeros(8000), np.full(16000 * 5, 3000), np.zeros(8000)]).astype(np.int16))
    assert name_clips.trimmed(talk) is None  # five seconds is a sentence, not a name
