# ruff: noqa: F811 - the fixtures of test_exercises are imported, then named as arguments
"""Answered the way a Dutch couple talks (issue 10): ja/nee and their everyday forms for every yes/no
question, klopt / klopt niet for the mirroring check, each partner asked by name where both decide,
"stop" in a turn asked first, and the machine taking the blame when it cannot hear them."""

from __future__ import annotations

from collections.abc import Callable

from tests.test_exercises import NO, YES, Run, by_voice, talk, typed  # noqa: F401 - fixtures
from voicecoach.journal import Journal
from voicecoach.speech.vocab import load_vocabulary

NL = load_vocabulary()


def questions(run: Run) -> list[tuple[str, list[str]]]:
    """Each question with what was listened for right after it was said."""
    out: list[tuple[str, list[str]]] = []
    prompt = ""
    for event in run.log:
        if event["event"] == "prompt":
            prompt = event["text"]
        elif event["event"] == "listening" and not event["turn"]:
            out.append((prompt, event["intents"]))
    return out


def assert_answers_fit_the_questions(run: Run) -> None:
    """A yes/no question hears ja/nee (not klopt); "klopt dat?" hears klopt / klopt niet and ja/nee."""
    asked = questions(run)
    assert asked
    for prompt, intents in asked:
        assert "Eén woord is genoeg: klopt" not in prompt
        if prompt.endswith("Zeg ja of nee."):
            assert {"confirm", "deny"} <= set(intents) and not {"right", "wrong"} & set(intents), prompt
        if prompt.endswith("Zeg klopt of klopt niet."):
            assert {"right", "wrong", "confirm", "deny"} <= set(intents), prompt
    said = " ".join(p for p, _ in asked)
    assert "Zeg klopt of klopt niet" in said and "Zeg ja of nee" in said


def test_herstelgesprek_answered_as_people_talk(typed: Callable[..., Run]) -> None:
    run = typed(["run", "herstelgesprek"], [
        "ja hoor", "ja graag",                          # each says yes to working on it, by name
        "ja", "ja", "ja", "ja",                         # each is calm, each keeps to the rules
        "Ik voel me moe als het laat wordt", "Je bent moe 's avonds", "ja",  # "klopt dat?" takes ja too
        "klopt",                                        # "is er nog meer?" is a yes/no question: not klopt
        "nee, dat was het",
        "Ik wil meer rust", "Je wilt rust", "klopt niet", "Vooral in het weekend", "Je wilt rust in het weekend",
        "dat klopt", "nee hoor",
        "Elke avond tien minuten", "Elke avond tien minuten praten", "ja", "ja", "ja graag", "ja zeker",
        "Zondag wandelen", "Zondag wandelen", "ja", "nee",  # Joris does not agree: proposed again
        "Zaterdag wandelen", "Zaterdag wandelen", "ja", "ja",
    ])
    assert run.code == 0, run.out
    assert run.log[-1]["outcome"] == "completed"
    assert "Sanne, wil jij samen met Joris werken aan jullie relatie? Zeg ja of nee." in run.prompts
    assert "Joris, wil jij samen met Sanne werken aan jullie relatie? Zeg ja of nee." in run.prompts
    # the mirroring check is the speaker's, by name, and says so
    assert "Sanne, dit vraag ik aan jou: klopt wat Joris zei? Zeg klopt of klopt niet." in run.prompts
    assert run.after("Is er nog meer dat je wilt zeggen, Sanne?") == "Dat verstond ik niet. Zeg alleen ja of nee."
    assert_answers_fit_the_questions(run)
    answered = [(e["step"], e["partner"], e["answer"]) for e in run.of("answered")]
    assert ("afspraak_twee", "Joris", "deny") in answered
    assert [e["state"] for e in run.of("state")].count("afspraak_twee__propose") == 2
    with Journal() as journal:
        assert {a.text for a in journal.agreements()} == {"Elke avond tien minuten", "Zaterdag wandelen"}


def test_dagelijks_gesprek_and_toekomstbeeld_answered_as_people_talk(typed: Callable[..., Run]) -> None:
    run = typed(["run", "dagelijks-gesprek"], ["nee, nog niet", "klaar", "ja hoor", "a", "b", "c", "d"])
    assert run.code == 0, run.out
    waited = [e for e in run.of("listening") if e["seconds"] == 180]
    assert len(waited) == 1  # it really waits (minutes), then asks once more
    assert run.states[:4] == ["welkom", "klaar_voor", "eerst_weg", "klaar_voor"]
    run = typed(["run", "toekomstbeeld"], ["a", "b", "c", "d", "Dit jaar op reis", "ja", "ja hoor",
                                           "ja graag", "nee, liever niet",      # Joris: nothing is kept
                                           "Een huis", "ja zeker", "ja", "Zondag wandelen", "Zondag wandelen",
                                           "ja", "ja hoor", "Elke avond bellen", "Elke avond bellen", "ja", "ja"])
    assert run.code == 0, run.out
    assert [e["given"] for e in run.of("consent")] == [False]  # Joris said no: nothing is kept
    with Journal() as journal:
        assert journal.agreements() == [] and journal.latest_goals() == []


def test_one_voice_does_not_decide_for_two_by_voice(by_voice: Callable[..., Run], talk: Callable[..., str]) -> None:
    """The agreement: Sanne says yes, Joris no -> proposed again; both consent is needed to keep it."""
    run = by_voice(["run", "toekomstbeeld"], [
        talk("b1"), talk("b2"), talk("samen"), talk("goals"),
        talk("short"), YES, NO,                         # Joris does not agree: the goal is said again
        talk("short2"), YES, YES,                       # now both agree
        YES, NO,                                         # Sanne consents, Joris does not: nothing is kept
        talk("long"), YES, YES,
        talk("step"), talk("stepr"), YES, YES,
        talk("step2"), talk("stepr2"), YES, YES,
    ])
    assert run.code == 0, run.out
    asked = [p for p in run.prompts if "is dit ook jouw doel voor dit jaar" in p]
    assert [p.split(",")[0] for p in asked] == ["Sanne", "Joris", "Sanne", "Joris"]
    consent = [p.split(",")[0] for p in run.prompts if "mag ik jullie doelen en stappen" in p]
    assert consent == ["Sanne", "Joris"]
    assert [e["given"] for e in run.of("consent")] == [False]
    assert [e["kept"] for e in run.of("agreement")] == [False, False]
    with Journal() as journal:
        assert journal.agreements() == [] and not list(journal.recordings_dir().iterdir())


def test_after_three_misses_the_machine_takes_the_blame_and_ja_nee_work(by_voice: Callable[..., Run]) -> None:
    run = by_voice(["run", "dagelijks-gesprek"], [
        "silence 9", "silence 9", "silence 9",           # nothing heard three times
        NO,                                               # "zullen we even pauzeren?" no: the question again
        "silence 9", "silence 9", "silence 9",
        YES,                                              # this time yes: a pause
        "계속", YES,                                      # "verder", and the question is answered
        "silence 160", "silence 160", "silence 160", "silence 160",
    ])
    assert run.code == 0, run.out
    stuck = "Ik kan jullie nu niet goed verstaan. Zullen we even pauzeren? Zeg 네 of 아니요."
    assert run.prompts.count(stuck) == 2
    assert "Het lukt even niet om elkaar te verstaan" not in " ".join(run.prompts)
    assert run.after(stuck) == "Goed. Dan vraag ik het nog een keer."
    assert len(run.of("paused")) == 1 and len(run.of("resumed")) == 1
    assert run.log[-1]["outcome"] == "completed"


def test_stop_inside_a_turn_is_asked_first(typed: Callable[..., Run]) -> None:
    # Typed: the small Korean test model hears its stop word as its pause word inside a turn.
    run = typed(["run", "dagelijks-gesprek"], [
        "ja",
        "stop", "nee",                                    # in Sanne's turn: "echt stoppen?" no: she goes on
        "Druk op werk",
        "stop", "ja hoor",                                # in Joris's turn: yes, they stop
    ])
    assert run.code == 0, run.out
    assert run.prompts.count("Willen jullie echt stoppen? Zeg ja of nee.") == 2
    assert "Goed, we gaan door. Ga verder, Sanne." in run.prompts
    assert [e["stop"] for e in run.of("stop_asked")] == [False, True]
    assert [e["speaker"] for e in run.of("turn_started")] == ["Sanne", "Joris"]
    assert run.log[-1]["outcome"] == "stopped"
    assert run.prompts[-1].endswith("De volgende keer vraag ik of jullie hier verder willen gaan.")


def test_without_a_journal_nothing_says_it_was_kept(typed: Callable[..., Run]) -> None:
    run = typed(["run", "dagelijks-gesprek", "--no-journal"], ["stop"])
    assert run.code == 0, run.out
    assert run.prompts[-1] == "We stoppen hier. Goed dat jullie dit samen deden."
    assert "bewaard" not in run.out


def test_the_resume_question_names_the_exercise_and_takes_ja_hoor(typed: Callable[..., Run]) -> None:
    first = typed(["run", "herstelgesprek"], ["ja", "ja"])  # the typing ends at the first turn
    assert first.code == 2
    run = typed(["run"], ["ja hoor", "ja"])  # then the typing ends inside the exercise
    question = "Vorige keer zijn jullie halverwege het herstelgesprek gestopt. Willen jullie daar verdergaan? Zeg ja of nee."
    assert run.prompts[0] == question
    assert "klaargekomen" not in run.out
    assert [e["exercise"] for e in run.of("session_started")] == ["herstelgesprek"]


def test_the_menu_proposes_one_thing_and_help_is_short(typed: Callable[..., Run]) -> None:
    run = typed(["run"], ["help", "nee hoor", "dankbaarheid", "a", "b", "c", "d", "e", "f", "nee"])
    assert run.code == 0, run.out
    assert run.prompts[1] == "Zullen we de waardenkaart doen? Zeg ja. Liever iets anders? Zeg dan nee."
    # help says what may be said now (issue 10 item 8), not the menu again
    assert run.prompts[2] == ("Zeg ja om de waardenkaart te beginnen, of nee voor iets anders. Je mag ook meteen een "
                              "oefening noemen, zoals dagelijks gesprek. Of zeg stop om te stoppen.")
    assert run.prompts[3].startswith("Welke oefening willen jullie doen? Zeg: dagelijks gesprek, dankbaarheid, herstelgesprek")
    assert [e["exercise"] for e in run.of("session_started")] == ["dankbaarheid"]


def test_a_menu_it_cannot_hear_takes_the_blame_and_listens_once_more(typed: Callable[..., Run]) -> None:
    run = typed(["run", "--no-journal"], ["hm", "", "eh", "dankbaarheid", "a", "b", "c", "d", "e", "f", "nee"])
    assert run.code == 0, run.out
    failed = "Het lukt me nu niet om jullie te verstaan. Zeg bijvoorbeeld alleen: dagelijks gesprek. Of zeg stop."
    assert failed in run.prompts and run.prompts.count(failed) == 1
    assert [e["exercise"] for e in run.of("session_started")] == ["dankbaarheid"]
    gone = typed(["run", "--no-journal"], ["hm", "", "eh", "hm", "", "eh"])
    assert gone.code == 0 and gone.prompts[-1].startswith("Het lukt me nu niet om jullie te verstaan. Probeer")


def test_help_names_only_the_words_that_do_something_now(typed: Callable[..., Run]) -> None:
    run = typed(["run", "dagelijks-gesprek", "--no-journal"], ["help", "stop"])
    said = run.after("Liggen de telefoons weg")
    assert said.startswith("Je kunt nu zeggen: ja, nee, herhaal") and "verder" not in said and "help" not in said


def test_no_wist_je_dat_twice_in_one_visit(typed: Callable[..., Run]) -> None:
    run = typed(["run", "--no-journal"], ["waarom", "dagelijks gesprek", "waarom", "waarom", "ja", "a", "b", "c", "d",
                                          "nee"])
    assert run.code == 0, run.out
    facts = [p[p.index("Wist je dat"):] for p in run.prompts if "Wist je dat" in p]
    assert len(facts) == 3 and len(set(facts)) == 3, facts  # the menu's, the exercise's and the one between


def test_the_journal_says_one_minute(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from voicecoach.overview import overview

    with Journal(tmp_path / "j.sqlite3") as journal:
        session = journal.start_session("dagelijks-gesprek", ("Sanne", "Joris"))
        journal.turn(session, "beurt_een", "Sanne", 40.0)
        journal.turn(session, "beurt_twee", "Joris", 30.0)
        journal.end_session(session, "completed")
        lines = overview(journal).lines
    assert "Samen aan het woord: 1 minuut." in lines, lines


def test_without_names_it_says_who_is_partner_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_coach import Table
    from voicecoach.coach import Coach
    from voicecoach.settings import Exercises, Settings

    table = Table(["stop"])
    coach = Coach(table.conv, table.events, None, Exercises(Settings()), lambda line: None)
    assert coach.visit("dagelijks-gesprek") == "stopped"
    who = "Ik noem jullie partner één en partner twee. Partner één is wie links zit, partner twee wie rechts zit."
    assert table.prompts()[0] == who
    named = Table(["stop"])
    Coach(named.conv, named.events, None, Exercises(Settings()), lambda line: None).visit(
        "dagelijks-gesprek", names="Sanne,Joris")
    assert who not in named.prompts()


def test_a_resumed_exercise_says_where_they_were(typed: Callable[..., Run]) -> None:
    first = typed(["run", "herstelgesprek"], ["ja"] * 6)  # the typing ends in Sanne's first turn
    assert first.code == 2
    run = typed(["resume"], ["Ik voel me moe"])
    recap = "We gaan verder met spiegelen. Sanne vertelt, Joris luistert en zegt het terug."
    tip = "Een tip: ben je klaar met praten? Wacht even, en zeg dan alleen: klaar."  # once a visit, before a turn
    assert run.prompts[0] == recap and run.prompts[1] == tip and run.prompts[2].startswith("Sanne, jij begint.")


def test_there_is_a_way_out_of_changing_a_value(typed: Callable[..., Run]) -> None:
    run = typed(["run", "waardenkaart", "--no-journal"], [
        "rust", "humor", "moed", "liefde", "trouw", "verander rust", "nee", "ja", "stop"])
    assert run.code == 0, run.out
    assert "Wat komt er in de plaats van rust? Of zeg nee, dan blijft het rust." in run.prompts
    assert [e["value"] for e in run.of("value_kept")] == ["rust"] and not run.of("value_changed")
    assert run.of("values_confirmed")[0]["values"] == ["rust", "humor", "moed", "liefde", "trouw"]


def test_options_without_a_command_start_the_menu(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import io

    from voicecoach import cli

    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["--text", "--fast", "--names", "Sanne,Joris", "--no-journal"]) == 0
    assert "Welke oefening willen jullie doen?" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["-v", "--text", "--no-journal"]) == 0
    assert cli.main(["--version"]) == 0 and cli.main(["list"]) == 0
