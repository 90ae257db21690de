"""The journal in the flow: follow-up of agreements, the suggesting menu, and journal/export/forget."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from tests import test_exercises
from voicecoach import cli, paths
from voicecoach.audio.pcm import Audio, read_wav
from voicecoach.journal import Journal

# The scripted couple, the typing couple and their words, shared with the exercise tests.
by_voice, talk, typed = test_exercises.by_voice, test_exercises.talk, test_exercises.typed
YES, NO = test_exercises.YES, test_exercises.NO
STEP = "Elke zondag samen wandelen"


DAY1, DAY2 = ["--wall-start", "2026-03-02T20:00"], ["--wall-start", "2026-03-03T21:00"]  # a day apart


def test_agreement_is_followed_up_a_day_later_by_voice(by_voice, talk):  # type: ignore[no-untyped-def]
    first = by_voice(["run", *DAY1], [
        "미래",                           # the menu: the future picture, by its word
        talk("b1"), talk("b2"), talk("samen"), talk("goals"),
        talk("short"), YES, YES, YES, YES,  # the short-term goal: both agree, both consent (to all of today)
        talk("long"), YES, YES,             # the long-term goal
        talk("step1"), talk("step1r"), YES, YES,  # Sanne's small step, mirrored by Joris, both agree
        talk("step2"), talk("step2r"), YES, YES,  # Joris's small step
        NO,                               # another exercise? no
    ])
    assert first.code == 0, first.out
    assert first.of("menu")[0]["suggestion"] == "waardenkaart"  # the first time: no shared values yet
    assert [e["exercise"] for e in first.of("session_started")] == ["toekomstbeeld"]
    assert [e["recorded"] for e in first.of("agreement")] == [True, True]
    with Journal() as journal:
        first_step, second_step = journal.open_agreements()
        recording = read_wav(first_step.recording)

    run = by_voice(["run", *DAY2], [
        YES,                               # "Is dat gelukt?" -> goed
        "모자",                             # the second: "een beetje"
        YES,                               # the menu suggests the daily talk: yes
        YES, talk("t1"), talk("t2"), talk("t3"), talk("t4"),
        NO,                                # another exercise? no
    ])
    assert run.code == 0, run.out
    assert run.prompts[:2] == ["Eerst kijken we even terug, afspraak voor afspraak.", "Gisteren spraken jullie af:"]
    assert run.prompts[2] == "Is dat gelukt? Zeg 네, 모자, of 아니요."
    # between those two their own recorded words were played back
    assert recording.samples.astype("<i2").tobytes() in run.voice.read_bytes()
    assert [(e["agreement"], e["how"]) for e in run.of("follow_up")] == [(first_step.id, "goed"),
                                                                         (second_step.id, "beetje")]
    assert run.prompts[3].startswith("Wat fijn. Dat is een succes")
    assert run.prompts[4:7] == ["En jullie spraken ook af:", "Is dat gelukt? Zeg 네, 모자, of 아니요.",
                                "Een beetje is ook een stap. Wat lukte, telt."]
    assert run.of("menu")[0]["suggestion"] == "dagelijks-gesprek"
    assert run.prompts[7] == "Zullen we het dagelijks gesprek doen? Zeg 네. Liever iets anders? Zeg dan 아니요."
    assert [e["exercise"] for e in run.of("session_started")] == ["dagelijks-gesprek"]
    # between exercises: a "wist je dat" from the article, then the offer of another one
    assert run.after("Dat was jullie gesprek van vandaag").startswith("Nog iets om mee te nemen. Wist je dat")
    assert run.prompts[-2].startswith("Willen jullie nog een oefening doen?")
    assert run.prompts[-1].startswith("Tot een volgende keer.")
    with Journal() as journal:
        assert [a.follow_up for a in journal.agreements()] == ["beetje", "goed"]
        assert journal.open_agreements() == []
        assert journal.summary().sessions_by_exercise == {"dagelijks-gesprek": 1, "toekomstbeeld": 1}


TOEKOMST = ["Een huis met een tuin", "Meer tijd samen", "We willen allebei rust", "Dit jaar op vakantie",
            "Dit jaar samen op reis", "ja", "ja hoor", "ja", "ja graag",      # the short-term goal, kept
            "Over tien jaar een eigen huis", "ja", "ja",                     # the long-term goal
            STEP, "Zondag wandelen", "ja", "ja",                             # Sanne's small step
            "Elke avond even bellen", "Bellen elke avond", "ja", "ja"]        # Joris's small step


def test_follow_up_typed_minutes_later_not_asked_a_day_later_each_asked_once(typed):  # type: ignore[no-untyped-def]
    first = typed(["run", "toekomstbeeld", *DAY1], TOEKOMST)
    assert first.code == 0, first.out
    soon = typed(["run", "dagelijks-gesprek", "--wall-start", "2026-03-02T20:40"], ["ja", "a", "b", "c", "d"])
    assert soon.code == 0 and "spraken jullie af" not in soon.out and not soon.of("follow_up")  # minutes later
    run = typed(["run", "dagelijks-gesprek", *DAY2],
                ["", "nee hoor",                    # silence, then no
                 "een beetje",                      # the second: a little
                 "ja", "a", "b", "c", "d"])
    assert run.code == 0, run.out
    assert f"Gisteren spraken jullie af:\n{STEP}\nIs dat gelukt? Zeg ja, een beetje, of nee." in run.out
    assert "En jullie spraken ook af:\nElke avond even bellen\nIs dat gelukt?" in run.out
    assert "Ik hoorde niets. Is het gelukt?" in run.out and "Terugval hoort erbij" in run.out
    assert "Een beetje is ook een stap" in run.out
    assert [e["how"] for e in run.of("follow_up")] == ["niet", "beetje"]
    again = typed(["run", "dagelijks-gesprek", "--wall-start", "2026-03-05T20:00"], ["ja", "a", "b", "c", "d"])
    assert again.code == 0 and "spraken jullie af" not in again.out and not again.of("follow_up")  # asked once
    with Journal() as journal:
        assert [(a.text, a.follow_up) for a in journal.agreements()] == [("Elke avond even bellen", "beetje"),
                                                                         (STEP, "niet")]


def test_no_answer_keeps_the_agreement_open_for_next_time(typed):  # type: ignore[no-untyped-def]
    first = typed(["run", "toekomstbeeld", *DAY1], TOEKOMST)
    assert first.code == 0, first.out
    run = typed(["run", "dagelijks-gesprek", *DAY2], ["hmm", "", "tja", "ja", "a", "b", "c", "d"])
    assert run.code == 0, run.out
    assert [e["how"] for e in run.of("follow_up")] == [None]  # the second is not asked: nobody may be listening
    assert "Dan vraag ik het een volgende keer nog eens." in run.out and "En jullie spraken ook af" not in run.out
    later = typed(["run", "dagelijks-gesprek", "--wall-start", "2026-03-04T19:00"], ["ja hoor", "ja", "ja", "a", "b", "c", "d"])
    assert later.code == 0, later.out
    assert "Afgelopen maandag spraken jullie af:" in later.out  # made on Monday 2 March, asked on Wednesday
    assert [e["how"] for e in later.of("follow_up")] == ["goed", "goed"]


def test_menu_suggests_from_the_journal_and_tells_a_fact_on_waarom(typed):  # type: ignore[no-untyped-def]
    run = typed(["run"], ["waarom", "ja"])  # then the typing stops inside the exercise
    assert run.code == 2
    assert run.out.index("Bel Veilig Thuis") < run.out.index("Zullen we de waardenkaart doen?")  # safety first
    assert run.of("menu")[0]["suggestion"] == "waardenkaart"  # no shared values yet
    assert run.after("Zullen we de waardenkaart doen?").startswith("Wist je dat")
    assert "We maken een waardenkaart" in run.out
    # a named choice by its menu word; "stop" in the menu ends kindly
    other = typed(["run", "--no-journal"], ["dankbaarheid", "a", "b", "c", "d", "e", "f", "nee"])
    assert other.code == 0 and [e["exercise"] for e in other.of("session_started")] == ["dankbaarheid"]
    assert other.of("menu")[0]["suggestion"] is None
    stopped = typed(["run", "--no-journal"], ["stop"])
    assert stopped.code == 0 and "Tot een volgende keer" in stopped.out and not stopped.of("session_started")


def _filled_journal() -> tuple[Path, Path]:
    """A journal with values, a spoken sentence, agreements and gratitude; returns two recordings."""
    tone = Audio((np.sin(np.arange(16000) / 5) * 8000).astype(np.int16))
    with Journal() as j:
        s = j.start_session("waardenkaart", ("Sanne", "Joris"))
        j.set_values(s, "Sanne", ["rust", "humor", "moed", "liefde", "trouw"])
        j.set_values(s, "Joris", ["humor", "moed", "plezier", "groei", "natuur"])
        sentence = j.store_recording(s, tone.to_wav_bytes())
        j.set_shared_values(s, ["humor", "moed", "rust", "plezier", "liefde"], None, sentence)
        s2 = j.start_session("toekomstbeeld", ("Sanne", "Joris"))
        done = j.add_agreement(s2, STEP, None)
        j.follow_up(done, "goed")
        spoken = j.store_recording(s2, Audio(tone.samples[::-1].copy()).to_wav_bytes())
        j.add_agreement(s2, None, spoken)
        j.gratitude(s, "Sanne", 3)
        j.gratitude(s, "Joris", 2)
    return sentence, spoken


def test_journal_tells_and_prints_what_they_did(tmp_path, capsys):  # type: ignore[no-untyped-def]
    sentence, spoken = _filled_journal()
    voice = tmp_path / "told.wav"
    assert cli.main(["journal", "--fast", "--speaker-file", str(voice)]) == 0
    out = capsys.readouterr().out
    assert "Sessies: 2 (toekomstbeeld 1x, waardenkaart 1x)" in out
    assert "Gezamenlijke waarden: humor, moed, rust, plezier, liefde." in out
    assert "Jullie zin: (ingesproken)" in out and "Waarden van Joris: humor, moed, plezier, groei, natuur." in out
    assert f"  - {STEP} (ging goed)" in out and "(ingesproken afspraak" in out and "(nog open)" in out
    assert "Dankbaarheid: 5 keer" in out
    told = voice.read_bytes()
    for recording in (sentence, spoken):  # their own voice is played, not only spoken about
        assert read_wav(recording).samples.astype("<i2").tobytes() in told
    assert read_wav(voice).seconds > 10
    assert cli.main(["journal", "--mute"]) == 0 and "Dankbaarheid: 5 keer" in capsys.readouterr().out


def test_journal_of_nothing_yet(capsys):  # type: ignore[no-untyped-def]
    assert cli.main(["journal", "--mute"]) == 0
    assert "Er staat nog niets in jullie dagboek." in capsys.readouterr().out


def test_journal_export_writes_a_private_page(tmp_path, capsys):  # type: ignore[no-untyped-def]
    _filled_journal()
    page = tmp_path / "overzicht.html"
    assert cli.main(["journal", "--export", str(page)]) == 0
    assert f"Wrote {page}." in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    assert "plezier" in html and STEP in html and "ingesproken zin" in html and ">5<" in html
    assert stat.S_IMODE(os.stat(page).st_mode) == 0o600


def test_forget_asks_first_then_deletes_everything(monkeypatch, capsys):  # type: ignore[no-untyped-def]
    _filled_journal()
    cache = paths.cache_dir() / "prompts"
    cache.mkdir(parents=True)
    (cache / "x.wav").write_bytes(b"RIFF")
    monkeypatch.setattr("sys.stdin", io.StringIO("nee\n"))
    assert cli.main(["forget"]) == 1
    assert "Niets gewist." in capsys.readouterr().out
    with Journal() as journal:
        assert journal.summary().sessions == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\n"))
    assert cli.main(["forget"]) == 0
    assert "Alles is gewist." in capsys.readouterr().out
    assert not (paths.data_dir() / "journal.sqlite3").exists() and not (paths.data_dir() / "recordings").exists()
    assert not cache.exists()
    with Journal() as journal:
        assert journal.summary().sessions == 0 and journal.agreements() == []


def test_forget_yes_needs_no_typing(monkeypatch):  # type: ignore[no-untyped-def]
    _filled_journal()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["forget", "--yes"]) == 0
    assert not (paths.data_dir() / "journal.sqlite3").exists()


@pytest.mark.parametrize("answer", ["", "yes", "JA doe maar"])
def test_forget_keeps_everything_unless_ja(monkeypatch, answer):  # type: ignore[no-untyped-def]
    _filled_journal()
    monkeypatch.setattr("sys.stdin", io.StringIO(answer + "\n"))
    assert cli.main(["forget"]) == 1
    assert (paths.data_dir() / "journal.sqlite3").exists()
