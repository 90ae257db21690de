"""Every exercise end to end: a scripted couple through the real Vosk engine, and the same typed."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KO_VOCAB
from voicecoach import cli
from voicecoach.audio.pcm import Audio, read_wav, write_wav
from voicecoach.journal import Journal
from voicecoach.speech.vocab import load_vocabulary

NAMES = ["--names", "Sanne,Joris"]
# Korean stand-ins (tests/data/ko.toml): yes, no, done, change, and values the model hears right.
YES, NO, DONE, CHANGE = "네", "아니요", "쉬자", "지우기"


def events_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Run:
    """One run's event log, with the views the tests ask for."""

    def __init__(self, code: int, log: list[dict[str, Any]], out: str, voice: Path | None = None) -> None:
        self.code, self.log, self.out = code, log, out
        self.voice = voice  # everything voicecoach said and played, as a WAV

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e["event"] == kind]

    @property
    def prompts(self) -> list[str]:
        return [e["text"] for e in self.of("prompt")]

    @property
    def states(self) -> list[str]:
        return [e["state"] for e in self.of("state")]

    @property
    def heard(self) -> list[tuple[str, str | None]]:
        return [(e["kind"], e["intent"]) for e in self.of("heard")]

    def after(self, start: str) -> str:
        """The prompt said right after the first one that starts with `start`."""
        prompts = self.prompts
        return prompts[prompts.index(next(p for p in prompts if p.startswith(start))) + 1]


@pytest.fixture
def talk(say: Callable[..., Path], tmp_path: Path) -> Callable[..., str]:
    """talk(name) -> WAV: someone speaks a sentence, pauses, then says the done word on its own."""

    def make(name: str, sentence: str = "오늘은 정말 바쁜 하루였어요 그리고 내일도 바빠요") -> str:
        parts = [read_wav(say(sentence)), Audio.silence(1.2), read_wav(say(DONE)), Audio.silence(0.3)]
        path = tmp_path / f"{name}.wav"
        write_wav(path, Audio.concat(parts))
        return str(path)

    return make


HANGUL = re.compile(r"[\uac00-\ud7a3]")


def assert_no_words_logged(log: str, typed: list[str] = ()) -> None:  # type: ignore[assignment]
    """At -vv the log holds nothing they said (any Korean: the test couple speaks Korean) or typed."""
    assert not HANGUL.search(log), HANGUL.findall(log)[:10]
    for name in NAMES[1].split(","):  # their names are in nearly every prompt
        assert name not in log, f"{name!r} is in the log"
    vocab = load_vocabulary()
    commands = {p for phrases in vocab.intents.values() for p in phrases}
    for line in typed:
        words = line.strip().lower()
        if len(words) >= 3 and words not in commands:
            assert not re.search(rf"\b{re.escape(words)}\b", log, re.IGNORECASE), f"{line!r} is in the log"


@pytest.fixture
def by_voice(ko_model_path: Path, say: Callable[..., Path], tmp_path: Path,
             capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Callable[..., Run]:
    """by_voice(args, script) runs voicecoach on a scripted couple; words in the script are spoken.

    Every run is at -vv, and its log is checked for their words: every exercise, every test.
    """
    runs = iter(range(1000))
    caplog.set_level("DEBUG")

    def run(args: list[str], script: list[str | Path], names: list[str] = NAMES) -> Run:
        n = next(runs)
        lines = [x if isinstance(x, str) and (x.startswith("silence") or x.endswith(".wav")) else str(say(str(x)))
                 for x in script]
        answers = tmp_path / f"couple{n}.txt"
        answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
        events, voice = tmp_path / f"events{n}.jsonl", tmp_path / f"voice{n}.wav"
        caplog.clear()
        code = cli.main(["-vv", *args, "--fast", "--answers", str(answers), "--model", str(ko_model_path),
                         "--vocab", str(KO_VOCAB), "--events-words", "--events", str(events), "--speaker-file", str(voice), *names])
        out, err = capsys.readouterr()
        assert any(r.levelname == "DEBUG" for r in caplog.records)  # -vv did log
        assert_no_words_logged(caplog.text)
        return Run(code, events_of(events), out + err, voice)

    return run


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
          caplog: pytest.LogCaptureFixture) -> Callable[..., Run]:
    """typed(args, lines) runs voicecoach in --text mode with these lines as the keyboard (at -vv; the log
    is checked for what they typed)."""
    runs = iter(range(1000))
    caplog.set_level("DEBUG")

    def run(args: list[str], lines: list[str]) -> Run:
        events = tmp_path / f"typed{next(runs)}.jsonl"
        monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
        caplog.clear()
        code = cli.main(["-vv", *args, "--text", "--fast", "--events-words", "--events", str(events), *NAMES])
        out, err = capsys.readouterr()
        assert_no_words_logged(caplog.text, lines)
        return Run(code, events_of(events), out + err)

    return run


def test_waardenkaart_by_voice(by_voice, talk):  # type: ignore[no-untyped-def]
    run = by_voice(["run", "waardenkaart"], [
        "지식", "사랑",                    # Sanne's first value; "love" is not in the list: unclear
        "믿음", "용기", "노래", "보람",    # ...so she is asked again, and goes on
        f"{CHANGE} 지식", "인내",          # read back: "verander eerlijkheid" -> the new one
        YES,
        "모험", "자유", "믿음", "지식", "노래",  # Joris
        NO, "지식", "보람",                # "nee" -> which one? -> what instead?
        YES,
        "모험", "지식",                    # the proposal: naming one swaps it
        YES, YES,                          # each agrees, by name
        talk("radiate1"), talk("radiate2"), talk("agree"),
        talk("sentence"), YES, YES, YES, YES,  # the sentence, agreed by both, kept with both's consent
    ])
    assert run.code == 0, run.out
    assert run.log[-1]["event"] == "session_ended" and run.log[-1]["outcome"] == "completed"
    # the value the recognizer did not catch: unclear, a reprompt with examples, then the next one
    i = run.heard.index(("unclear", None))
    assert run.heard[i - 1] == ("intent", "item:지식") and run.heard[i + 1] == ("intent", "item:믿음")
    assert run.after("지식. Wat is je tweede waarde").startswith("Dat woord ken ik niet, of ik verstond het niet goed.")
    assert ("intent", "change:지식") in run.heard and ("intent", "deny") in run.heard
    changes = [(e["old"], e["new"]) for e in run.of("value_changed")]
    assert changes == [("지식", "인내"), ("지식", "보람"), ("모험", "지식")]
    confirmed = {e["partner"]: e["values"] for e in run.of("values_confirmed")}
    assert confirmed == {"Sanne": ["인내", "믿음", "용기", "노래", "보람"],
                         "Joris": ["모험", "자유", "믿음", "보람", "노래"],
                         "samen": ["믿음", "노래", "보람", "인내", "지식"]}
    proposed = run.of("shared_proposed")[0]
    assert proposed["both"] == ["믿음", "노래", "보람"]
    assert proposed["proposal"] == ["믿음", "노래", "보람", "인내", "모험"]  # the overlap, then one from each
    assert any(p.startswith("Jullie kozen allebei: 믿음, 노래 en 보람.") for p in run.prompts)
    assert "Sanne, ik hoorde: 지식, 믿음, 용기, 노래 en 보람. Is dat goed?" in " ".join(run.prompts)
    assert run.of("sentence") == [{**run.of("sentence")[0], "kept": True, "recorded": True}]
    together = [e for e in run.of("turn_started") if e["speaker"] == "jullie"]
    assert len(together) == 1
    with Journal() as journal:
        vm = journal.latest_value_map()
        assert vm.partners == {"Sanne": ("인내", "믿음", "용기", "노래", "보람"),
                               "Joris": ("모험", "자유", "믿음", "보람", "노래")}
        assert vm.shared == ("믿음", "노래", "보람", "인내", "지식")
        assert vm.sentence is None and vm.recording is not None and read_wav(vm.recording).seconds > 1
        assert journal.agreements() == []  # a sentence is not an agreement


def test_a_value_of_the_long_tail_is_asked_back_by_voice(by_voice, talk, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Values in values_more (and synonyms) widen the grammar: heard by voice, each is asked back first."""
    vocab = tmp_path / "ko-more.toml"
    text = KO_VOCAB.read_text(encoding="utf-8").replace('"용기", ', "")
    vocab.write_text(text + 'values_more = ["용기"]\n', encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.KO_VOCAB", vocab)
    run = by_voice(["run", "waardenkaart"], [
        "지식", "용기", NO, "용기", YES, "믿음", "노래", "보람", YES,  # "용기": asked back; no, then yes
        "모험", "자유", "믿음", "지식", "노래", YES, YES, YES,
        talk("radiate1"), talk("radiate2"), talk("agree"), talk("sentence"), YES, YES, NO,
    ])
    assert run.code == 0, run.out
    asked = [p for p in run.prompts if p == "용기 맞아요?"]
    assert len(asked) == 2  # each time it was heard, before it counted
    assert ("intent", "ask:용기") in run.heard and ("intent", "item:지식") in run.heard
    confirmed = {e["partner"]: e["values"] for e in run.of("values_confirmed")}
    assert confirmed["Sanne"] == ["지식", "용기", "믿음", "노래", "보람"]


def test_waardenkaart_typed(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "waardenkaart"], [
        "eerlijkheid", "rust", "gezellig thuis", "humor", "avontuur", "respect",  # one not in the list
        "verander rust", "veiligheid", "ja hoor",           # "veiligheid" is a value here, not the command
        "vertrouwen", "humor", "humor", "eerlijkheid", "natuur", "liefde",  # a value named twice
        "nee", "natuur", "rust", "ja",
        "ruil respect", "ruil avontuur", "geduld", "ja", "ja",  # respect is not in the proposal: said so
        "Dat we rustig blijven", "Dat we samen lachen", "",
        "Wij kiezen elke dag voor eerlijkheid en humor", "ja", "ja graag", "ja", "ja zeker",
    ])
    assert run.code == 0, run.out
    # a typed word not in the list: said honestly, with values close to it in spelling
    assert "Dat woord ken ik nog niet; kies er een dat er dichtbij ligt, zoals gezelligheid, " in run.out
    assert "Humor staat er al bij. Noem een andere waarde." in run.out
    assert "Respect staat niet in het voorstel. Noem een waarde uit het voorstel, zoals eerlijkheid." in run.out
    assert not run.of("paused") and run.out.count("Bel Veilig Thuis") == 1  # only the first-use note
    assert [(e["old"], e["new"]) for e in run.of("value_changed")] == [
        ("rust", "veiligheid"), ("natuur", "rust"), ("avontuur", "geduld")]
    assert run.of("shared_proposed")[0]["proposal"] == ["eerlijkheid", "humor", "veiligheid", "vertrouwen", "avontuur"]
    with Journal() as journal:
        vm = journal.latest_value_map()
    assert vm.partners == {"Sanne": ("eerlijkheid", "veiligheid", "humor", "avontuur", "respect"),
                           "Joris": ("vertrouwen", "humor", "eerlijkheid", "rust", "liefde")}
    assert vm.shared == ("eerlijkheid", "humor", "veiligheid", "vertrouwen", "geduld")
    assert vm.sentence == "Wij kiezen elke dag voor eerlijkheid en humor" and vm.recording is None


def test_waardenkaart_typed_takes_everyday_words_and_has_a_way_out(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "waardenkaart"], [
        "kinderen", "verbinding", "zelfvertrouwn", "zelfvertrouwen", "lachen", "eerlijk zijn",
        "verander humor", "laat maar",             # a way out of "wat komt er in de plaats van"
        "verander kinderen", "help", "", "ja",     # by its everyday word; help names the way out; silence keeps it
        "rust", "humor", "respect", "samen", "liefde", "ja",
        "ja", "ja", "", "", "", "Wij zijn er voor elkaar", "ja", "ja", "nee",
    ])
    assert run.code == 0, run.out
    assert "Dat woord ken ik nog niet; kies er een dat er dichtbij ligt, zoals zelfvertrouwen, " in run.out
    assert "Gezin. Wat is je tweede waarde, Sanne?" in run.out  # "kinderen" is kept as gezin
    assert "Ik hoorde niets. Dan blijft het gezin." in run.out
    assert "Of zeg laat maar: dan blijft het gezin." in run.out
    assert [e["value"] for e in run.of("value_kept")] == ["humor", "gezin"] and not run.of("value_changed")
    confirmed = {e["partner"]: e["values"] for e in run.of("values_confirmed")}
    assert confirmed["Sanne"] == ["gezin", "verbondenheid", "zelfvertrouwen", "humor", "eerlijkheid"]
    assert confirmed["Joris"] == ["rust", "humor", "respect", "samenzijn", "liefde"]


def test_waardenkaart_resumes_with_the_values_named_so_far(typed):  # type: ignore[no-untyped-def]
    first = typed(["run", "waardenkaart"], ["rust", "humor", "moed", "liefde", "trouw", "ja", "rust", "humor"])
    assert first.code == 2 and "resume --text" in first.out  # the typing stopped while Joris named values
    run = typed(["resume"], ["humor", "moed", "plezier", "groei", "natuur", "ja", "ja", "ja",
                             "", "", "", "Wij zijn er voor elkaar", "ja", "ja", "nee"])
    assert run.code == 0, run.out
    assert run.states[0] == "waarden_twee__name"  # his step again, from its start
    assert run.of("shared_proposed")[0]["both"] == ["humor", "moed"]
    assert run.of("sentence")[0]["kept"] is False  # no consent: the sentence is not kept
    with Journal() as journal:
        vm = journal.latest_value_map()
    assert vm.shared == ("humor", "moed", "rust", "plezier", "liefde") and vm.sentence is None
    assert vm.partners["Sanne"] == ("rust", "humor", "moed", "liefde", "trouw")


def test_dankbaarheid_by_voice(by_voice, talk):  # type: ignore[no-untyped-def]
    run = by_voice(["run", "dankbaarheid"], [
        talk("g1"), talk("g2"), talk("g3"),  # Sanne names three, each with its why
        talk("g4"), DONE,                     # Joris: one, then "klaar" straight away: nothing named
        talk("g5"), DONE, DONE,               # after a gentle second chance one more; then twice nothing: done
    ])
    assert run.code == 0, run.out
    counted = [(e["partner"], e["n"]) for e in run.of("counted")]
    assert counted == [("Sanne", 1), ("Sanne", 2), ("Sanne", 3), ("Joris", 1), ("Joris", 2)]
    assert [(e["partner"], e["count"]) for e in run.of("gratitude")] == [("Sanne", 3), ("Joris", 2)]
    assert "Dat was de eerste. Dank je." in run.prompts and "En dat was de derde. Mooi, Sanne." in run.prompts
    assert run.after("Dat was de eerste").startswith("Sanne, wat is het tweede?")
    assert "Neem gerust de tijd, Joris. Vertel het, en zeg dan 쉬자." in run.prompts
    assert "Dat is ook goed, Joris. We gaan verder." in run.prompts
    assert len(run.of("turn_ended")) == 8
    with Journal() as journal:
        assert journal.gratitude_total() == 5


def test_dankbaarheid_typed(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "dankbaarheid"], [
        "Je luistert altijd naar me", "Je kookt zo lekker", "waarom",  # "waarom" inside a turn is her words
        "Je bent geduldig", "", "Je steunt me", "Dat je er bent",
    ])
    assert run.code == 0, run.out
    assert [(e["partner"], e["count"]) for e in run.of("gratitude")] == [("Sanne", 3), ("Joris", 3)]
    # a word inside someone's turn starts no lecture: no explanation, no "wist je dat"
    assert "Als je hoort waarvoor" not in run.out and not run.of("fact")
    assert "Neem gerust de tijd, Joris." in run.out  # the empty line named nothing
    # each of the three things, for each partner, is asked with its "why"
    asked = [p for p in run.prompts if "het eerste ding" in p or "het tweede" in p or "het derde" in p]
    for partner in ("Sanne", "Joris"):
        mine = [p for p in asked if partner in re.split(r"[.?]", p)[0]]  # addressed to them
        assert len(mine) == 3 and all("waarom" in p.lower() for p in mine), mine
    assert run.after("En dat was de derde. Mooi, Joris.").startswith("Sanne, en hoe was het voor jou om dat te horen?")
    with Journal() as journal:
        assert journal.gratitude_total() == 6


LISTENING = ["luister_een", "luister_twee", "haak", "haak_twee", "samenvatten", "samenvatten_twee"]


def test_luisteroefeningen_by_voice(by_voice, talk):  # type: ignore[no-untyped-def]
    run = by_voice(["run", "luisteroefeningen"], [
        talk("ik1"), talk("ik2"), talk("na1"),           # ik-boodschappen, then how it was for them
        talk("l1"), talk("r1"), YES,                     # actief luisteren: klopt
        talk("l2"), talk("r2"), NO, talk("c2"), talk("r2b"), YES,  # klopt niet, what was missed, again
        talk("na2"),
        talk("h1"), talk("h1r"), YES,                    # haak-reflectie: Joris takes the hook
        talk("h2"), talk("h2r"), YES,                    # ... and Sanne
        "silence 70",                                    # nobody says how it was: the turn ends on time
        talk("s2"), "silence 70", YES,                   # samenvatten: Sanne's summary runs out of time
        talk("s1"), talk("s1r"), YES,                    # ... and Joris sums up
        talk("na4"),
    ])
    assert run.code == 0, run.out
    assert [e["step"] for e in run.of("mirror_done")] == LISTENING
    assert [e["rounds"] for e in run.of("mirror_done")] == [1, 2, 1, 1, 1, 1]
    timed = [(e["speaker"], e["seconds"]) for e in run.of("turn_ended") if e["how"] == "time"]
    assert [who for who, _ in timed] == ["jullie", "Sanne"] and all(60 <= s < 70 for _, s in timed)
    # each partner practises both techniques in both roles: who speaks, who reflects
    reflect = {p.split(",")[0]: p for p in run.prompts if "haak" in p and "vraag ernaar" in p}
    assert set(reflect) == {"Joris", "Sanne"}
    summed = [p.split(",")[0] for p in run.prompts if "samen in twee of drie zinnen: wat er gebeurde" in p]
    assert summed == ["Sanne", "Joris"]
    # after each of the four parts a turn together to say how it was
    states = run.states
    for part, after in (("ik_twee", "na_ik"), ("luister_twee__check", "na_luisteren"), ("haak_twee__check", "na_haak"),
                        ("samenvatten_twee__check", "na_samenvatten")):
        assert states[states.index(after) - 1] == part
    together = [e for e in run.of("turn_started") if e["speaker"] == "jullie"]
    assert len(together) == 4 and run.after("Nu wisselen jullie. Joris").startswith("Sanne, nu pak jij de haak")
    assert "is er nog meer" not in " ".join(run.prompts).lower()  # ask_more is off in this exercise


def test_luisteroefeningen_typed(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "luisteroefeningen"], [
        "Ik voel me moe als de avond vol zit", "Ik voel me blij als we samen eten", "Spannend, maar fijn",
        "Mijn week was druk", "Je had een drukke week", "klopt",
        "Ik mis mijn zus", "Je mist je familie", "klopt niet", "Vooral mijn zus", "Je mist je zus", "ja hoor",
        "",                                                   # how it was: nothing to say, and that is fine
        "Ik maak me zorgen over werk", "Je zei zorgen. Wat bedoel je?", "ja",
        "Ik werd blij van de zon", "Je zei blij. Wat maakte je blij?", "ja",
        "Het voelde warm",
        "Ik zou willen dat we vaker wandelen", "Je wilt vaker wandelen, want dat geeft rust", "klopt",
        "Ik zou minder willen haasten", "Je wilt meer rust in de ochtend", "dat klopt",
        "Fijn om gehoord te worden",
    ])
    assert run.code == 0, run.out
    assert [e["step"] for e in run.of("mirror_done")] == LISTENING
    assert run.out.count("Hoe was dat voor jullie") == 4
    assert run.log[-1]["outcome"] == "completed"


def test_luisteroefeningen_resumed_in_the_turn_together(typed):  # type: ignore[no-untyped-def]
    first = typed(["run", "luisteroefeningen"], ["Ik voel me moe", "Ik voel me blij", "stop", "ja hoor"])
    assert first.code == 0 and first.log[-1]["outcome"] == "stopped"
    run = typed(["resume"], ["Het was spannend", "stop", "ja"])
    assert run.states[0] == "na_ik"
    assert run.prompts[0] == "We gaan verder waar jullie gebleven waren. Jullie praten samen."  # not one of them


def test_toekomstbeeld_by_voice(by_voice, talk):  # type: ignore[no-untyped-def]
    run = by_voice(["run", "toekomstbeeld"], [
        talk("b1"), talk("b2"), talk("samen"),
        "silence 200",                    # the goals talk: nobody speaks; a nudge, a warning, time is up
        talk("short"), YES, YES,          # Sanne says the goal for this year; each agrees, by name
        NO,                               # no consent from Sanne: Joris is not asked, nothing is kept
        talk("long"), YES, YES,           # Joris says the long-term goal; consent is not asked again
        talk("step1"), talk("step1r"), YES, YES,  # Sanne's small step, mirrored by Joris
        talk("step2"), talk("step2r"), YES, YES,  # and Joris's, mirrored by Sanne
    ])
    assert run.code == 0, run.out
    speakers = [e["speaker"] for e in run.of("turn_started")]
    assert speakers == ["Sanne", "Joris", "jullie", "jullie", "Sanne", "Joris", "Sanne", "Joris", "Joris", "Sanne"]
    goals = [e for e in run.of("turn_ended") if e["how"] == "time"]
    assert len(goals) == 1 and goals[0]["speaker"] == "jullie" and 180 <= goals[0]["seconds"] < 190
    assert any(p.startswith("Neem jullie tijd.") for p in run.prompts)  # the nudge for both together
    assert run.of("consent") == [{**run.of("consent")[0], "given": False}]
    assert [e["kept"] for e in run.of("short_goal") + run.of("long_goal") + run.of("agreement")] == [False] * 4
    asked = [p for p in run.prompts if "ben jij het eens met deze stap" in p or "is dit ook jouw doel" in p]
    assert [p.split(",")[0] for p in asked] == ["Sanne", "Joris"] * 4  # each step and goal asked of each, by name
    with Journal() as journal:
        assert journal.agreements() == [] and journal.latest_goals() == []
        assert not list(journal.recordings_dir().iterdir())  # no recording without consent


def test_toekomstbeeld_typed(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "toekomstbeeld"], [
        "Een huis met een tuin", "Meer tijd samen", "We willen allebei rust", "Dit jaar op vakantie",
        "Dit jaar samen op reis", "ja hoor", "ja", "ja graag", "ja",
        "Over tien jaar een eigen huis", "ja", "nee",       # Joris does not agree: proposed again
        "Over tien jaar een huis met een tuin", "ja", "ja zeker",
        "Elke zondag samen wandelen", "Zondag wandelen", "ja", "ja",
        "Elke avond even bellen", "Jij belt elke avond", "ja", "ja hoor",
    ])
    assert run.code == 0, run.out
    assert "over twee jaar" in run.out and "korte termijn" in run.out and "kleine stap" in run.out
    assert "Joris, nu jij" not in run.out and "Dank je. Nu jij, Joris: stel ook één kleine stap voor." in run.out
    with Journal() as journal:
        assert [a.text for a in journal.agreements()] == ["Elke avond even bellen", "Elke zondag samen wandelen"]
        assert [(g.term, g.text) for g in journal.latest_goals()] == [
            ("kort", "Dit jaar samen op reis"), ("lang", "Over tien jaar een huis met een tuin")]


def test_toekomstbeeld_resumed_at_the_long_term_goal(typed):  # type: ignore[no-untyped-def]
    first = typed(["run", "toekomstbeeld"], ["a", "b", "c", "d", "Dit jaar samen op reis", "ja", "ja", "ja", "ja",
                                             "stop", "ja"])  # in Joris's turn for the long-term goal they stop
    assert first.code == 0 and first.log[-1]["outcome"] == "stopped"
    run = typed(["resume"], ["Een huis met een tuin", "ja", "ja", "Zondag wandelen", "Zondag wandelen", "ja", "ja",
                             "Elke avond bellen", "Elke avond bellen", "ja", "ja"])
    assert run.code == 0, run.out
    assert run.prompts[0] == "We gaan verder met jullie doelen. Joris zegt jullie doel voor de lange termijn."
    assert "mag ik jullie doelen" not in run.out  # their consent was kept with the progress
    with Journal() as journal:
        assert [g.text for g in journal.latest_goals()] == ["Dit jaar samen op reis", "Een huis met een tuin"]


def test_dagelijks_gesprek_by_voice(by_voice, talk):  # type: ignore[no-untyped-def]
    run = by_voice(["run", "dagelijks-gesprek"], [
        NO, YES, YES,                     # phones away? not yet; "ja" ends the wait; asked again: yes
        "silence 160", talk("t2"), talk("t3"), "silence 160",
    ])
    assert run.code == 0, run.out
    assert run.states[:4] == ["welkom", "klaar_voor", "eerst_weg", "klaar_voor"]
    turns = run.of("turn_ended")
    assert [t["speaker"] for t in turns] == ["Sanne", "Joris", "Sanne", "Joris"]
    assert [t["how"] for t in turns] == ["time", "done", "done", "time"]
    assert all(150 <= t["seconds"] < 160 for t in turns if t["how"] == "time")
    assert len(run.of("turn_warned")) == 2
    assert run.prompts[-1].startswith("Dat was jullie gesprek van vandaag.")
    assert "terugval" in run.prompts[-1].lower() or "misgaat" in run.prompts[-1]


def test_dagelijks_gesprek_typed(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "dagelijks-gesprek"], ["ja", "Druk op werk", "Lekker gesport", "Het weekend", "Vakantie"])
    assert run.code == 0, run.out
    assert len(run.of("turn_ended")) == 4 and "Tot morgenavond" in run.out


def test_a_pause_nobody_ends_stops_the_session_and_keeps_its_place(by_voice):  # type: ignore[no-untyped-def]
    from voicecoach import paths
    from voicecoach.speech.vocab import load_vocabulary

    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[timing]\npause_minutes = 3\n", encoding="utf-8")
    pause = load_vocabulary(KO_VOCAB).intents["pause"][0]
    run = by_voice(["run", "dankbaarheid"], [pause])  # then nobody says anything any more
    assert run.code == 0, run.out
    assert run.of("paused") and run.of("pause_expired")[0]["minutes"] == 3
    assert run.log[-1]["outcome"] == "stopped"
    assert run.prompts[-1].startswith("We stoppen hier.")
    assert 180 <= run.of("pause_expired")[0]["t"] - run.of("paused")[0]["t"] < 250
    with Journal() as journal:
        progress = journal.load_progress()
        assert progress is not None and progress.exercise == "dankbaarheid" and progress.state == "dank_een"


def test_klaar_on_its_own_is_told_once_a_visit_before_the_first_turn(typed):  # type: ignore[no-untyped-def]
    run = typed(["run", "dankbaarheid"], ["Je luistert", "Je kookt", "Je lacht", "Je bent er", "Je helpt", "Je bent lief"])
    assert run.code == 0, run.out
    tip = "Een tip: ben je klaar met praten? Wacht even, en zeg dan alleen: klaar."
    assert run.out.count(tip) == 1 and [e["tip"] for e in run.of("told")] == ["klaar"]
    assert run.out.index(tip) < run.out.index("Sanne, jij begint.")  # before the first turn, not inside one
    # The menu: a visit with two exercises hears it once; "help" says what may be said, not the menu again.
    run = typed(["run"], ["help", "nee", "help", "dankbaarheid", "Je luistert", "Je kookt", "Je lacht", "Je bent er",
                          "Je helpt", "Je bent lief", "ja", "dankbaarheid", "a", "b", "c", "d", "e", "f", "nee"])
    assert run.code == 0, run.out
    assert run.out.count(tip) == 1 and len(run.of("turn_started")) == 12
    assert "Zeg ja om " in run.out and "Je mag ook meteen een oefening noemen" in run.out
    assert "Zeg herhaal om de keuzes nog eens te horen, of stop om te stoppen." in run.out
    assert run.out.count("Welke oefening willen jullie doen?") == 1  # help did not repeat the menu


def test_without_names_each_says_their_name_and_hears_it_in_the_prompts(by_voice, talk, say):  # type: ignore[no-untyped-def]
    """With voice consent (turn awareness), the recorded first names are played in place of "partner één"."""
    import stat

    from voicecoach import name_clips
    from voicecoach.turns import save_consent

    save_consent(True)  # both said yes in `voicecoach check`
    gratitude = [talk("g1"), talk("g2"), talk("g3"), talk("g4"), DONE, talk("g5"), DONE, DONE]
    run = by_voice(["run", "dankbaarheid"], [str(say("지수", "ko+f2")), str(say("민호", "ko+m3")), *gratitude], names=[])
    assert run.code == 0, run.out
    assert run.of("names_recorded") == [{**run.of("names_recorded")[0], "kept": True}]
    for partner in (1, 2):
        path = name_clips.clip_path(partner)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and 0.25 <= read_wav(path).seconds <= 2.7
    prompts = run.of("prompt")
    asked = [p for p in prompts if "zeg na de toon alleen je voornaam" in p["text"]]
    assert [p["text"].split(",")[0] for p in asked] == ["Partner één", "Partner twee"] and not asked[0].get("names_played")
    thanks = next(p for p in prompts if p["text"].startswith("Dank jullie wel, partner één en partner twee"))
    assert thanks["names_played"] == 2  # their own voices, in place of the words
    assert any(p.get("names_played") and p["text"].startswith("Partner één, jij begint") for p in prompts)
    # The next visit plays them without asking again; `forget` removes them with everything else.
    again = by_voice(["run", "dankbaarheid"], gratitude, names=[])
    assert not [p for p in again.of("prompt") if "voornaam" in p["text"]]
    assert next(p for p in again.of("prompt") if p["text"].startswith("Ik noem jullie"))["names_played"] == 4
    assert cli.main(["forget", "--yes"]) == 0 and not name_clips.clip_path(1).exists()


def test_without_voice_consent_no_name_is_recorded(by_voice, talk):  # type: ignore[no-untyped-def]
    from voicecoach import name_clips
    from voicecoach.turns import save_consent

    save_consent(False)
    run = by_voice(["run", "dankbaarheid"], [talk("g1"), talk("g2"), talk("g3"), talk("g4"), DONE, talk("g5"), DONE,
                                             DONE], names=[])
    assert run.code == 0, run.out
    assert "Partner één is wie links zit" in " ".join(run.prompts) and "voornaam" not in " ".join(run.prompts)
    assert not run.of("names_recorded") and not name_clips.clip_path(1).exists()


def test_waardenkaart_which_value_takes_the_everyday_word_and_has_a_way_out(typed):  # type: ignore[no-untyped-def]
    # "Welke waarde wil je veranderen?": a couple says "verander kinderen" again, or changes their mind
    # ("laat maar"); both used to be "not understood" until the session paused.
    run = typed(["run", "waardenkaart"], [
        "eerlijkheid", "kinderen", "rust", "humor", "liefde",
        "nee", "help", "laat maar",                   # no value to change after all: read back again
        "nee", "verander kinderen", "familie", "ja",   # by its everyday word, with "verander" as in the check
        "rust", "humor", "respect", "moed", "liefde", "ja",
        "ja", "ja", "", "", "", "Wij zijn er voor elkaar", "ja", "ja", "nee",
    ])
    assert run.code == 0, run.out
    assert "Of zeg laat maar: dan blijft alles zo." in run.out  # help names the way out
    assert not run.of("paused")
    assert [(e["old"], e["new"]) for e in run.of("value_changed")] == [("gezin", "familie")]
    confirmed = {e["partner"]: e["values"] for e in run.of("values_confirmed")}
    assert confirmed["Sanne"] == ["eerlijkheid", "familie", "rust", "humor", "liefde"]


def test_waardenkaart_one_value_chosen_by_both_is_said_in_good_dutch(typed):  # type: ignore[no-untyped-def]
    # Only "rust" in common: "Jullie kozen allebei: rust. Dat zijn jullie kernwaarden." was wrong Dutch.
    run = typed(["run", "waardenkaart", "--no-journal"], [
        "eerlijkheid", "gezin", "rust", "humor", "liefde", "ja",
        "vertrouwen", "verbondenheid", "rust", "avontuur", "vrijheid", "ja",
        "ja", "ja", "", "", "", "Wij zijn er voor elkaar", "ja", "ja",
    ])
    assert run.code == 0, run.out
    assert run.of("shared_proposed")[0]["both"] == ["rust"]
    said = next(line for line in run.out.splitlines() if "Jullie kozen allebei: rust." in line)
    assert " zijn " not in said.split("rust.", 1)[1]  # nothing plural about the one value
    assert "Jullie kozen allebei: rust. Daarmee begint mijn voorstel." in run.out


def test_help_to_shall_we_pause_names_its_own_answers(typed):  # type: ignore[no-untyped-def]
    # After three misses voicecoach asks "Zullen we even pauzeren?"; "help" there used to name values
    # (the step's own help) while only ja / nee were listened for.
    run = typed(["run", "waardenkaart", "--no-journal"], [
        "appel", "peer", "banaan", "help", "nee",
        "eerlijkheid", "gezin", "rust", "humor", "liefde", "ja",
        "vertrouwen", "verbondenheid", "rust", "avontuur", "vrijheid", "ja",
        "ja", "ja", "", "", "", "Wij zijn er voor elkaar", "ja", "ja",
    ])
    assert run.code == 0, run.out
    after_stuck = run.out.split("Zullen we even pauzeren? Zeg ja of nee.", 1)[1]
    help_said = after_stuck.split("\n", 2)[1]
    assert "Je kunt nu zeggen: ja, nee" in help_said and "Noem één waarde" not in help_said
    assert "Goed. Dan vraag ik het nog een keer." in run.out and not run.of("paused")


def test_changing_a_value_not_in_the_proposal_says_which_may_be_changed(typed):  # type: ignore[no-untyped-def]
    """ "verander avontuur" when avontuur was not proposed was answered "Dat verstond ik niet" and used up one
    of the tries; now it is said kindly that it is not in the proposal, with one that is (no try is used, as
    for a value named twice), and the partner asked answers on."""
    run = typed(["run", "waardenkaart", "--no-journal"], [
        "eerlijkheid", "gezin", "rust", "humor", "liefde", "ja",
        "vertrouwen", "verbondenheid", "rust", "avontuur", "vrijheid", "verander humor", "ja",  # Sanne's, not his
        "verander avontuur", "verander avontuur", "verander avontuur", "ja",  # Sanne: three times, no pause
        "verander avontuur", "nee", "verander avontuur", "laat maar",          # Joris; and at "welke waarde?"
        "ja", "ja", "", "", "", "Wij zijn er voor elkaar", "ja", "ja",
    ])
    assert run.code == 0, run.out
    assert run.of("shared_proposed")[0]["proposal"] == ["rust", "eerlijkheid", "vertrouwen", "gezin", "verbondenheid"]
    absent = "Avontuur staat niet in het voorstel. Noem een waarde uit het voorstel, zoals rust."
    assert "Humor staat niet in je lijst. Noem een waarde uit je lijst, zoals vertrouwen." in run.out
    assert run.out.count(absent) == 5 and len(run.of("value_absent")) == 6
    # Only values named in this session are listened for so (a grammar of every value costs answers by voice).
    listened = [set(e["intents"]) for e in run.of("listening")]
    assert any("change:avontuur" in i for i in listened) and not any("change:natuur" in i for i in listened)
    assert "Dat verstond ik niet" not in run.out and not run.of("paused")
    # Joris's "verander avontuur" was his answer: he is asked on, Sanne's yes still stands
    assert [(e["partner"], e["answer"]) for e in run.of("answered") if e["step"] == "samen"] == [
        ("Sanne", "confirm"), ("Joris", "deny"), ("Sanne", "confirm"), ("Joris", "confirm")]
    assert not run.of("value_changed")
    assert {e["partner"]: e["values"] for e in run.of("values_confirmed")}["samen"] == [
        "rust", "eerlijkheid", "vertrouwen", "gezin", "verbondenheid"]
