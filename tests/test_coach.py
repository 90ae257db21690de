"""The coaching flow and the question loop, driven without the command line: what a long-running device
(`voicecoach serve`) does with its devices already open."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import KO_VOCAB
from voicecoach.clock import SimClock
from voicecoach.coach import Coach, ConversationVoice
from voicecoach.device.wallclock import SimWallClock
from voicecoach.engine.ask import Asking
from voicecoach.engine.exercise import Timing, parse_exercise
from voicecoach.engine.session import Session
from voicecoach.engine.texts import Names, Texts
from voicecoach.events import EventLog
from voicecoach.journal import Journal
from voicecoach.settings import Exercises, Settings, load_settings
from voicecoach.speech.vocab import load_vocabulary
from voicecoach.voice import TextConversation

NL = load_vocabulary()


class Table:
    """A couple typing at the table: their lines, what voicecoach printed, and its events."""

    def __init__(self, lines: list[str]) -> None:
        self.clock = SimClock()
        self.events = EventLog(self.clock)
        self.out = io.StringIO()
        self.conv = TextConversation(NL, self.clock, self.events, io.StringIO("".join(f"{x}\n" for x in lines)),
                                     self.out)

    def prompts(self) -> list[str]:
        return [e["text"] for e in self.events.of("prompt")]


def test_a_visit_follows_up_then_offers_the_menu_without_argparse(tmp_path: Path) -> None:
    wall = SimWallClock(dt.datetime(2026, 3, 2, 20, 0))
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        s = journal.start_session("herstelgesprek", ("Sanne", "Joris"))
        journal.add_agreement(s, "Elke zondag wandelen", None)
        journal.end_session(s, "completed")
        wall.jump(24 * 3600)  # a day later by the injected clock
        table = Table(["ja", "stop"])  # it went well; no exercise today
        coach = Coach(table.conv, table.events, journal, Exercises(Settings()), lambda line: None)
        assert coach.visit() == "left"
        prompts = table.prompts()
        assert prompts[:3] == ["Gisteren spraken jullie af:", "Elke zondag wandelen",
                               "Is dat gelukt? Zeg ja, een beetje, of nee."]
        assert prompts[4].startswith("Zullen we het dagelijks gesprek doen? Zeg ja.")  # open agreements suggest the daily talk
        assert prompts[-1].startswith("Tot een volgende keer.")
        assert [a.follow_up for a in journal.agreements()] == ["goed"]


@pytest.mark.parametrize("last", [("Sanne", "Sanne"), ("Sanne", " sanne"), ("", "")])
def test_last_sessions_names_that_are_not_two_different_names_are_not_used(last: tuple[str, str],
                                                                          tmp_path: Path) -> None:
    """A journal from before one name twice was refused (or edited) ran the session as 'Sanne, klopt wat Sanne zei?'."""
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.end_session(journal.start_session("herstelgesprek", last), "completed")
        table, told = Table(["stop"]), []
        Coach(table.conv, table.events, journal, Exercises(Settings()), told.append).visit("herstelgesprek")
        prompts = table.prompts()
        assert prompts[0].startswith("Ik noem jullie partner één en partner twee.")  # who is who, as on a first visit
        assert prompts[1].startswith("Welkom, partner één en partner twee.")
        assert not any("Sanne" in prompt for prompt in prompts)
        assert len(told) == 1 and "not two different names" in told[0] and "--names" in told[0]
        assert journal.last_names() == (Names().one, Names().two)


def test_a_named_exercise_runs_and_its_outcome_is_returned(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        table = Table(["stop"])  # at the first question they stop
        coach = Coach(table.conv, table.events, journal, Exercises(Settings()), lambda line: None)
        assert coach.visit("dagelijks-gesprek", names="Sanne,Joris") == "stopped"
        assert table.prompts()[0].startswith("Eerst iets belangrijks")  # first use: the safety note first
        assert journal.load_progress() is not None  # and `resume` goes on from there


@pytest.mark.parametrize("lines,both,asked", [
    (["ja", "ja"], True, ["Sanne", "Joris"]),
    (["nee"], False, ["Sanne"]),  # Joris is not asked after her no
    (["ja", "nee"], False, ["Sanne", "Joris"]),
    (["", "", ""], False, ["Sanne"]),  # no answer is no
])
def test_both_partners_are_asked_by_name_and_it_is_yes_only_when_both_say_yes(lines, both, asked):  # type: ignore[no-untyped-def]
    common = {**Texts(NL, Names()).common, "keep_it": "{spreker}, mag ik dit bewaren? Zeg {ja} of {nee}."}
    table = Table(lines)
    asking = Asking(ConversationVoice(table.conv), Texts(NL, Names("Sanne", "Joris"), common), Timing.defaults())
    assert asking.both_yes("keep_it") is both
    questions = [p for p in table.prompts() if "mag ik dit bewaren" in p]
    assert [q.split(",")[0] for q in questions] == asked


def test_questions_wait_as_long_as_the_data_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared waiting times (_common.toml [timing]), and the couple's own in config.toml.
    defaults = Timing.defaults()
    table = Table(["nee"])
    asking = Asking(ConversationVoice(table.conv), Texts(NL, Names()), Exercises(Settings()).timing())
    asking.yes_no("Klopt dat?")
    assert [e["seconds"] for e in table.events.of("listening")] == [defaults.question_seconds]

    config = tmp_path / "config.toml"
    config.write_text('[timing]\nquestion_seconds = 12\nmenu_seconds = 15\n\n[reminder]\ntime = "20:00"\n')
    settings = load_settings(config)  # the device's own sections are welcome in the same file
    table = Table(["", "nee"])
    asking = Asking(ConversationVoice(table.conv), Texts(NL, Names()), Exercises(settings).timing())
    assert asking.yes_no("Klopt dat?") is False
    assert [e["seconds"] for e in table.events.of("listening")] == [12.0, 12.0]
    assert table.prompts()[1] == Texts(NL, Names()).nth("silence", 0)  # a reprompt, from the data

    table = Table(["stop"])
    coach = Coach(table.conv, table.events, None, Exercises(settings), lambda line: None)
    assert coach.visit() == "left"
    assert [e["seconds"] for e in table.events.of("listening")] == [15.0]


TURN = {"name": "beurt", "steps": [{"id": "praat", "kind": "turn", "speaker": 2, "seconds": 6,
                                    "text": "{spreker}, vertel.", "why": "Daarom."}]}


def test_a_timed_turn_hands_every_chunk_and_its_summary_to_an_observer(ko_model_path, say, tmp_path):  # type: ignore[no-untyped-def]
    """The seam for turn awareness: what the turn hears, with its stream times, and the summary at its end."""
    from voicecoach.cli.commands import all_commands
    from voicecoach.cli.parser import build_parser
    from voicecoach.environment import Environment
    from voicecoach.speech.turn_watch import TurnWatch
    from voicecoach.wiring import wire

    script = tmp_path / "couple.txt"
    script.write_text(f"{say('오늘은 정말 바쁜 하루였어요 그리고 내일도 바빠요')}\n", encoding="utf-8")
    env = Environment(io.StringIO(), io.StringIO(), io.StringIO())
    args = build_parser(all_commands(), env).parse_args(
        ["run", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--answers", str(script),
         "--speaker-file", str(tmp_path / "o.wav")])
    wired = wire(args, env)
    seen: list[tuple[float, float]] = []

    class Watch(TurnWatch):
        def feed(self, chunk, voice=None):  # type: ignore[no-untyped-def]
            seen.append((chunk.t0, chunk.t1))
            super().feed(chunk, voice)

    try:
        session = Session(parse_exercise(TURN, "beurt.toml"), wired.conversation, Names("Sanne", "Joris"),
                          events=wired.events, observe_turn=lambda who: Watch(who))
        assert session.run() == "completed"
    finally:
        wired.close()
    starts, ends = np.array([a for a, _ in seen]), np.array([b for _, b in seen])
    assert 5.5 <= ends[-1] - starts[0] <= 7.0  # the whole six-second turn, nothing before or after it
    assert np.all(np.abs(starts[1:] - ends[:-1]) < 1e-6)  # one continuous stream, in stream time
    ((step, who, summary),) = session.stage.watched
    assert (step, who) == ("praat", 2)
    assert summary.speaking(2) > 1.5 and summary.speaking(1) == 0.0  # her talk, measured by the watcher


@pytest.mark.parametrize("after", ["stop", "verder"])
def test_a_time_out_ends_with_stop_or_comes_back(after: str) -> None:
    """The time-out listens for minutes; a "stop" in it is a trigger fired from a callback (queued)."""
    from voicecoach.engine.exercise import load_exercise

    lines = ["time-out", after] + (["ja", "ja", "ja", "ja", "ja", "ja", "stop", "ja"] if after == "verder" else [])
    table = Table(lines)
    session = Session(load_exercise("herstelgesprek"), table.conv, Names("Sanne", "Joris"), events=table.events)
    outcome = session.run()
    texts = Texts(NL, Names("Sanne", "Joris"))
    prompts = table.prompts()
    assert [e["early"] for e in table.events.of("timeout_ended")] == [True]
    assert texts.get("timeout", minuten=20) in prompts
    assert outcome == "stopped" and prompts[-1] == texts.get("stop")
    if after == "stop":
        assert texts.get("timeout_over") not in prompts  # it stopped at once
        assert session.state == "stopped" and table.events.of("state")[-1]["state"] == "stopped"
    else:  # back early with "verder": welcome back and on at once (not a second "verder"), the question again
        assert texts.get("timeout_over") not in prompts and texts.get("timeout_back") in prompts
        assert prompts.index(texts.get("timeout_back")) < prompts.index(texts.get("stop"))
        assert [e["state"] for e in table.events.of("state")][:4] == ["welkom", "samen", "kalm", "regels"]


def test_a_time_out_goes_on_until_verder_and_hears_veiligheid_in_it() -> None:
    """Found by tests/test_orders.py: any word in a time-out ended it ("klaar", "waarom"), and "veiligheid"
    ended it without the safety note. Only "verder" or "stop" ends the cooling-off early; "help" says so."""
    from voicecoach.engine.exercise import load_exercise

    table = Table(["time-out", "veiligheid", "klaar", "waarom", "help", "verder", "stop", "ja"])
    session = Session(load_exercise("herstelgesprek"), table.conv, Names("Sanne", "Joris"), events=table.events)
    assert session.run() == "stopped"
    texts = Texts(NL, Names("Sanne", "Joris"))
    prompts = table.prompts()
    after = prompts[prompts.index(texts.get("timeout", minuten=20)) + 1:]
    # The safety note; then "help" says what ends the break (nothing for "klaar" and "waarom").
    assert after[:2] == [texts.get("safety"), "Je kunt nu zeggen: verder of stop."], after[:3]
    assert texts.get("timeout_over") not in prompts and texts.get("timeout_back") in prompts
    assert [e["early"] for e in table.events.of("timeout_ended")] == [True]
    assert [e["state"] for e in table.events.of("state")][:2] == ["welkom", "samen"]  # "klaar" did not end it


@pytest.mark.parametrize("where", ["menu", "yes_no", "stop_ask"])
def test_veiligheid_is_heard_at_every_question(where: str) -> None:
    """Found by tests/test_orders.py: in the menu, at the questions around an exercise ("Willen jullie nog
    een oefening doen?", "Is dat gelukt?") and at "Willen jullie echt stoppen?" "veiligheid" was not
    understood; it is the safety note, and then the same question again."""
    texts = Texts(NL, Names("Sanne", "Joris"))
    if where == "menu":
        table = Table(["veiligheid", "stop"])
        coach = Coach(table.conv, table.events, None, Exercises(Settings()), lambda line: None)
        assert coach.visit(names="Sanne,Joris") == "left"
        question = table.prompts()[0]
    elif where == "yes_no":
        table = Table(["veiligheid", "nee"])
        asking = Asking(ConversationVoice(table.conv), texts, Timing.defaults())
        assert asking.yes_no(question := texts.get("another")) is False
    else:
        table = Table(["stop", "veiligheid", "ja"])
        session = Session(parse_exercise(TURN, "beurt.toml"), table.conv, Names("Sanne", "Joris"), events=table.events)
        assert session.run() == "stopped"
        question = texts.get("stop_ask")
    prompts = table.prompts()
    i = prompts.index(question)
    assert prompts[i + 1:i + 3] == [texts.get("safety"), question]
