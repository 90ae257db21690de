"""Following up agreements: a day after they were made (by the injected wall clock), each asked once, by its
own words; ja / een beetje / nee kept and shown; no answer keeps it open; an old journal migrates."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from tests.test_coach import Table as TypingTable
from voicecoach.coach import Coach
from voicecoach.device.wallclock import SimWallClock
from voicecoach.export import render_html
from voicecoach.journal import Journal
from voicecoach.journal_file import SCHEMA_VERSION
from voicecoach.overview import overview
from voicecoach.settings import Exercises, Settings

NAMES = ("Sanne", "Joris")
MONDAY = dt.datetime(2026, 3, 2, 20, 0)
HOUR = 3600.0


class Table(TypingTable):
    """A couple typing at the table, visiting with a journal (its time of day: the injected wall clock)."""

    def visit(self, journal: Journal) -> list[str]:
        Coach(self.conv, self.events, journal, Exercises(Settings()), lambda line: None).visit()
        return self.prompts()

    def follow_ups(self) -> list[tuple[int, str | None]]:
        return [(e["agreement"], e["how"]) for e in self.events.of("follow_up")]


def _agreements(journal: Journal, wall: SimWallClock, *texts: str) -> list[int]:
    s = journal.start_session("herstelgesprek", NAMES)
    made = [journal.add_agreement(s, text, None) for text in texts]
    journal.end_session(s, "completed")
    return made


def test_minutes_later_nothing_is_asked_a_day_later_each_open_one_once(tmp_path: Path) -> None:
    wall = SimWallClock(MONDAY)
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        first, second = _agreements(journal, wall, "Elke avond tien minuten praten", "Telefoon weg bij het eten")
        wall.jump(20 * 60)
        table = Table(["stop"])
        assert not any("spraken jullie af" in p for p in table.visit(journal))  # twenty minutes later
        assert table.follow_ups() == []
        wall.jump(23 * HOUR)  # Tuesday 20:20: 23 h 20 min after they were made
        assert journal.due_agreements(dt.timedelta(hours=24)) == []
        wall.jump(HOUR)
        third, = _agreements(journal, wall, "Zondag samen wandelen")  # made on Tuesday: not due yet
        wall.jump(24 * HOUR + 60)  # Wednesday evening: both Monday's and Tuesday's are a day old
        table = Table(["ja hoor", "herhaal", "een beetje", "nee, dat was het", "stop"])
        prompts = table.visit(journal)
        assert prompts[:4] == ["Eerst kijken we even terug, afspraak voor afspraak.",
                               "Afgelopen maandag spraken jullie af:", "Elke avond tien minuten praten",
                               "Is dat gelukt? Zeg ja, een beetje, of nee."]
        i = prompts.index("En jullie spraken ook af:")  # the same session: no new "when"
        assert prompts[i + 1:i + 5] == ["Telefoon weg bij het eten", "Is dat gelukt? Zeg ja, een beetje, of nee.",
                                        "Telefoon weg bij het eten",  # "herhaal": its words again, then the question
                                        "Is dat gelukt? Zeg ja, een beetje, of nee."]
        assert "En gisteren spraken jullie af:" in prompts  # another session, made the day before
        assert table.follow_ups() == [(first, "goed"), (second, "beetje"), (third, "niet")]
        assert journal.open_agreements() == []
        wall.jump(7 * 24 * HOUR)
        table = Table(["stop"])
        assert not any("spraken jullie af" in p for p in table.visit(journal))  # each is asked once
        assert [(a.text, a.follow_up) for a in journal.agreements()] == [
            ("Zondag samen wandelen", "niet"), ("Telefoon weg bij het eten", "beetje"),
            ("Elke avond tien minuten praten", "goed")]


def test_no_answer_asks_again_then_leaves_it_open_and_asks_next_time(tmp_path: Path) -> None:
    wall = SimWallClock(MONDAY)
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        made, _ = _agreements(journal, wall, "Elke avond tien minuten praten", "Telefoon weg bij het eten")
        wall.jump(9 * 24 * HOUR)
        table = Table(["", "misschien", "", "stop"])  # silence, something else, silence: nobody answers
        prompts = table.visit(journal)
        i = prompts.index("Is dat gelukt? Zeg ja, een beetje, of nee.")
        assert prompts[i + 1:i + 4] == ["Ik hoorde niets. Is het gelukt? Zeg ja, een beetje, of nee.",
                                        "Dat verstond ik niet. Zeg alleen ja, een beetje, of nee.",
                                        "Dan vraag ik het een volgende keer nog eens."]  # the third miss: on
        assert "Op 2 maart spraken jullie af:" in prompts  # more than a week ago: the date
        assert table.follow_ups() == [(made, None)]  # nothing kept; the second waits too
        assert "En jullie spraken ook af:" not in prompts
        assert len(journal.open_agreements()) == 2
        table = Table(["ja", "ja", "stop"])
        table.visit(journal)
        assert [how for _, how in table.follow_ups()] == ["goed", "goed"]


def test_stop_ends_the_visit_and_every_agreement_waits_for_next_time(tmp_path: Path) -> None:
    wall = SimWallClock(MONDAY)
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        made = _agreements(journal, wall, "Elke avond tien minuten praten", "Telefoon weg bij het eten")
        wall.jump(2 * 24 * HOUR)
        table = Table(["stop", "dagelijks gesprek"])  # the second line would start an exercise from the menu
        prompts = table.visit(journal)
        assert prompts[-2:] == ["Is dat gelukt? Zeg ja, een beetje, of nee.",
                                "Goed, we stoppen. Naar de afspraken vraag ik een volgende keer. Tot dan."]
        assert table.follow_ups() == [(made[0], None)] and len(journal.open_agreements()) == 2
        assert not table.events.of("menu")  # no menu after it
        table = Table(["ja", "nee", "stop"])
        table.visit(journal)
        assert table.follow_ups() == [(made[0], "goed"), (made[1], "niet")]


def test_answers_are_shown_in_the_journal_and_on_the_fridge_page(tmp_path: Path) -> None:
    wall = SimWallClock(MONDAY)
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        done, some, open_one = _agreements(journal, wall, "Samen koken", "Vaker wandelen", "Eerder naar bed")
        journal.follow_up(done, "goed")
        journal.follow_up(some, "beetje")
        s = journal.start_session("toekomstbeeld", NAMES)
        journal.add_goal(s, "kort", "Dit jaar samen op reis", None)
        journal.add_goal(s, "lang", "Een huis met een tuin", None)
        lines = overview(journal).lines
        assert "  - Vaker wandelen (ging een beetje)" in lines and "  - Samen koken (ging goed)" in lines
        assert "  - Eerder naar bed (nog open)" in lines
        assert "Ons doel voor dit jaar: Dit jaar samen op reis" in lines
        assert "Ons doel voor de lange termijn: Een huis met een tuin" in lines
        spoken = overview(journal).spoken
        i = spoken.index("Jullie doel voor dit jaar:")
        assert spoken[i + 1:i + 4] == ["Dit jaar samen op reis", "Jullie doel voor de lange termijn:",
                                       "Een huis met een tuin"]
        page = render_html(journal)
        assert "Vaker wandelen<span class=\"status\">ging een beetje</span>" in page
        assert "<h2>Onze doelen</h2>" in page and "Een huis met een tuin" in page
        assert page.index("Dit jaar samen op reis") < page.index("Een huis met een tuin")


# The journal's tables as version 1 wrote them (the agreements CHECK without 'beetje', no goals).
V1 = [
    """CREATE TABLE sessions (id INTEGER PRIMARY KEY, exercise TEXT NOT NULL, partner_a TEXT NOT NULL,
        partner_b TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
        outcome TEXT CHECK (outcome IN ('completed', 'stopped', 'interrupted')))""",
    """CREATE TABLE steps (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id)
        ON DELETE CASCADE, step TEXT NOT NULL, at TEXT NOT NULL)""",
    """CREATE TABLE turns (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id)
        ON DELETE CASCADE, step TEXT NOT NULL, speaker TEXT NOT NULL, seconds REAL NOT NULL CHECK (seconds >= 0))""",
    """CREATE TABLE partner_values (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        partner TEXT NOT NULL, items TEXT NOT NULL, PRIMARY KEY (session_id, partner))""",
    """CREATE TABLE shared_values (session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        items TEXT NOT NULL, sentence TEXT)""",
    """CREATE TABLE gratitude (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        partner TEXT NOT NULL, count INTEGER NOT NULL CHECK (count >= 0), PRIMARY KEY (session_id, partner))""",
    """CREATE TABLE agreements (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        text TEXT, recording TEXT, created_at TEXT NOT NULL, followed_up_at TEXT,
        follow_up TEXT CHECK (follow_up IN ('goed', 'matig', 'niet', 'overgeslagen')),
        CHECK (text IS NOT NULL OR recording IS NOT NULL))""",
    """CREATE TABLE progress (id INTEGER PRIMARY KEY CHECK (id = 1), exercise TEXT NOT NULL, state TEXT NOT NULL,
        data TEXT NOT NULL, saved_at TEXT NOT NULL)""",
    """CREATE TABLE sentence_recordings (session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        recording TEXT NOT NULL)""",
    """CREATE TABLE speaking (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        step TEXT NOT NULL, partner TEXT NOT NULL, seconds REAL NOT NULL CHECK (seconds >= 0),
        interruptions INTEGER NOT NULL CHECK (interruptions >= 0), attributed INTEGER NOT NULL,
        PRIMARY KEY (session_id, step, partner))""",
]
ROWS = [
    "INSERT INTO sessions VALUES (1, 'herstelgesprek', 'Sanne', 'Joris', '2026-01-05T20:00:00+01:00',"
    " '2026-01-05T20:40:00+01:00', 'completed')",
    "INSERT INTO sessions VALUES (2, 'waardenkaart', 'Sanne', 'Joris', '2026-01-06T20:00:00+01:00', NULL, NULL)",
    "INSERT INTO steps VALUES (1, 1, 'welkom', '2026-01-05T20:01:00+01:00')",
    "INSERT INTO turns VALUES (1, 1, 'spiegel_een', 'Sanne', 95.5)",
    "INSERT INTO partner_values VALUES (2, 'Sanne', '[\"rust\", \"humor\"]')",
    "INSERT INTO shared_values VALUES (2, '[\"rust\"]', 'Wij kiezen voor rust')",
    "INSERT INTO gratitude VALUES (1, 'Joris', 3)",
    "INSERT INTO agreements VALUES (1, 1, 'Samen koken', NULL, '2026-01-05T20:30:00+01:00',"
    " '2026-01-06T20:00:00+01:00', 'goed')",
    "INSERT INTO agreements VALUES (2, 1, NULL, 'session-1-x.wav', '2026-01-05T20:31:00+01:00',"
    " '2026-01-06T20:01:00+01:00', 'overgeslagen')",
    "INSERT INTO agreements VALUES (3, 1, 'Eerder naar bed', NULL, '2026-01-05T20:32:00+01:00', NULL, NULL)",
    "INSERT INTO progress VALUES (1, 'waardenkaart', 'samen__check', '{\"lists\": {}}', '2026-01-06T20:10:00+01:00')",
    "INSERT INTO sentence_recordings VALUES (2, 'session-2-y.wav')",
    "INSERT INTO speaking VALUES (1, 'spiegel_een', 'Sanne', 80.0, 1, 1)",
]


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()


def test_an_old_journal_opens_migrated_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    conn = sqlite3.connect(path)
    for statement in [*V1, *ROWS]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = _dump(path)
    wall = SimWallClock(dt.datetime(2026, 1, 8, 20, 0))
    with Journal(path, wall=wall) as journal:
        after = _dump(path)
        assert {t: rows for t, rows in after.items() if t != "goals"} == before  # every row, unchanged
        assert after["goals"] == []
        assert [(a.id, a.follow_up) for a in journal.agreements()] == [(3, None), (2, "overgeslagen"), (1, "goed")]
        assert [a.id for a in journal.due_agreements(dt.timedelta(hours=24))] == [3]  # old 'overgeslagen' stays shut
        journal.follow_up(3, "beetje")  # the new answer fits the migrated table
        progress = journal.load_progress()
        assert progress is not None and progress.state == "samen__check"
        assert journal.latest_value_map().sentence == "Wij kiezen voor rust"
        assert "  - (ingesproken afspraak, 5 januari 2026) (overgeslagen)" in overview(journal).lines
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError):  # the CHECK is still there, with the new answer in it
            conn.execute("UPDATE agreements SET follow_up = 'prima' WHERE id = 1")
    finally:
        conn.close()
    with Journal(path) as journal:  # opened again: nothing to migrate, nothing changes
        assert [(a.id, a.follow_up) for a in journal.agreements()] == [(3, "beetje"), (2, "overgeslagen"), (1, "goed")]


def test_at_most_five_in_one_visit_the_rest_next_time(tmp_path: Path) -> None:
    wall = SimWallClock(MONDAY)
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        made = _agreements(journal, wall, *(f"Afspraak {n}" for n in range(1, 8)))
        wall.jump(2 * 24 * HOUR)
        table = Table(["ja"] * 5 + ["stop"])
        table.visit(journal)
        assert [a for a, _ in table.follow_ups()] == made[:5]  # oldest first
        table = Table(["nee", "nee", "stop"])
        table.visit(journal)
        assert table.follow_ups() == [(made[5], "niet"), (made[6], "niet")]


def test_a_wrong_wall_start_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    from voicecoach import cli

    assert cli.main(["run", "dankbaarheid", "--text", "--wall-start", "gisteren"]) == 2
    err = capsys.readouterr().err
    assert "--wall-start needs a date and time such as 2026-03-02T20:00, not 'gisteren'." in err
    assert "Traceback" not in err


def test_help_and_why_to_is_dat_gelukt_are_answered_and_cost_no_try(tmp_path: Path) -> None:
    """ "help" and "waarom" were "Dat verstond ik niet" and used up a try; now each gets its answer."""
    wall = SimWallClock(MONDAY)
    with Journal(tmp_path / "j.sqlite3", wall=wall) as journal:
        made, = _agreements(journal, wall, "Elke avond tien minuten praten")
        wall.jump(2 * 24 * HOUR)
        table = Table(["help", "waarom", "", "misschien", "een beetje", "stop"])
        prompts = table.visit(journal)
        assert "Zeg ja als het gelukt is, een beetje als het soms lukte, of nee. Zeg herhaal om de afspraak nog eens " \
               "te horen." in prompts
        assert any(p.startswith("Terugkijken laat zien wat al lukt.") for p in prompts)
        assert not any(p.startswith("Dat verstond ik niet") and "help" in p for p in prompts)
        assert table.follow_ups() == [(made, "beetje")]  # two misses after help and why: still asked
