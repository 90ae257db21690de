"""The private journal: round trips, file modes, damage recovery, forgetting, crash safety."""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.errors import UserError
from voicecoach.journal import Journal
from voicecoach.paths import data_dir

REPO = Path(__file__).resolve().parent.parent
NAMES = ("Anna", "Bram")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOICECOACH_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def journal(home: Path) -> Iterator[Journal]:
    with Journal() as j:
        yield j


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def query(path: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_default_location_is_data_dir(journal: Journal, home: Path) -> None:
    assert journal.path == home / "data" / "journal.sqlite3" == data_dir() / "journal.sqlite3"
    assert journal.path.is_file()
    assert journal.recovered_from is None


def test_modes_are_private_even_with_an_open_umask(home: Path) -> None:
    old = os.umask(0)
    try:
        with Journal() as j:
            s = j.start_session("waardenkaart", NAMES)
            j.step_completed(s, "welkom")
            rec = j.store_recording(s, b"RIFF-data")
            assert mode(j.path.parent) == 0o700
            assert mode(j.path) == 0o600
            for side in ("-wal", "-shm"):
                side_file = j.path.with_name(j.path.name + side)
                assert side_file.exists()
                assert mode(side_file) == 0o600
            assert mode(j.recordings_dir()) == 0o700
            assert mode(rec) == 0o600
            assert rec.read_bytes() == b"RIFF-data"
            assert not list(j.recordings_dir().glob("*.part"))
    finally:
        os.umask(old)


def test_schema_version_wal_and_foreign_keys(journal: Journal) -> None:
    assert query(journal.path, "PRAGMA user_version") == [(2,)]
    assert query(journal.path, "PRAGMA journal_mode") == [("wal",)]
    with pytest.raises(sqlite3.IntegrityError):
        journal.step_completed(12345, "no such session")


def test_sessions_steps_and_turns_round_trip(journal: Journal) -> None:
    s = journal.start_session("herstelgesprek", NAMES)
    journal.step_completed(s, "welkom")
    journal.step_completed(s, "luisteren")
    journal.turn(s, "luisteren", "Anna", 90)
    journal.turn(s, "luisteren", "Bram", 30.5)
    journal.end_session(s, "completed")
    assert journal.steps(s) == ["welkom", "luisteren"]
    assert journal.last_names() == NAMES
    assert query(journal.path, "SELECT exercise, partner_a, partner_b, outcome FROM sessions") == [
        ("herstelgesprek", "Anna", "Bram", "completed")]
    assert query(journal.path, "SELECT speaker, seconds FROM turns ORDER BY id") == [
        ("Anna", 90.0), ("Bram", 30.5)]
    with pytest.raises(ValueError):
        journal.end_session(s, "gave up")
    assert query(journal.path, "SELECT outcome FROM sessions") == [("completed",)]
    summary = journal.summary()
    assert summary.turn_minutes == pytest.approx(120.5 / 60)
    assert summary.sessions_by_exercise == {"herstelgesprek": 1}


def test_values_round_trip_and_newest_wins(journal: Journal) -> None:
    assert journal.latest_shared_values() == []
    s = journal.start_session("waardenkaart", NAMES)
    journal.set_values(s, "Anna", ["rust", "humor", "eerlijkheid", "familie", "avontuur"])
    journal.set_values(s, "Bram", ["groei", "humor", "vrijheid", "vertrouwen", "koken"])
    journal.set_values(s, "Bram", ["groei", "humor", "vrijheid", "vertrouwen", "samen koken"])
    journal.set_shared_values(s, ["humor", "rust", "vertrouwen", "groei", "eerlijkheid"], "Wij lachen.")
    vm = journal.latest_value_map()
    assert vm.shared == ("humor", "rust", "vertrouwen", "groei", "eerlijkheid")
    assert vm.sentence == "Wij lachen."
    assert vm.partners == {"Anna": ("rust", "humor", "eerlijkheid", "familie", "avontuur"),
                           "Bram": ("groei", "humor", "vrijheid", "vertrouwen", "samen koken")}
    later = journal.start_session("waardenkaart", NAMES)
    journal.set_shared_values(later, ["a", "b", "c", "d", "e"], None)
    assert journal.latest_shared_values() == ["a", "b", "c", "d", "e"]
    assert journal.latest_value_map().sentence is None
    # A session where only the partners chose does not hide the last shared map.
    journal.set_values(journal.start_session("waardenkaart", NAMES), "Anna", ["x"])
    assert journal.latest_shared_values() == ["a", "b", "c", "d", "e"]


def test_gratitude_total(journal: Journal) -> None:
    assert journal.gratitude_total() == 0
    s1 = journal.start_session("dankbaarheid", NAMES)
    journal.gratitude(s1, "Anna", 3)
    journal.gratitude(s1, "Bram", 4)
    journal.gratitude(s1, "Bram", 5)  # a retry replaces, it does not add
    s2 = journal.start_session("dankbaarheid", NAMES)
    journal.gratitude(s2, "Anna", 2)
    assert journal.gratitude_total() == 10
    assert journal.summary().gratitude_total == 10


def test_agreements_text_recording_and_follow_up(journal: Journal) -> None:
    s1 = journal.start_session("dagelijks-gesprek", NAMES)
    old = journal.add_agreement(s1, "Oude afspraak", None)
    s2 = journal.start_session("dagelijks-gesprek", NAMES)
    rec = journal.store_recording(s2, b"RIFF\x00\x01")
    a_text = journal.add_agreement(s2, "Elke zondag samen wandelen", None)
    a_rec = journal.add_agreement(s2, None, rec)
    open_now = journal.open_agreements()  # every session's, oldest first
    assert [a.id for a in open_now] == [old, a_text, a_rec]
    assert open_now[1].text == "Elke zondag samen wandelen" and open_now[1].recording is None
    assert open_now[2].text is None and open_now[2].recording == rec
    assert open_now[2].recording.read_bytes() == b"RIFF\x00\x01"
    journal.follow_up(a_text, "goed")
    assert [a.id for a in journal.open_agreements()] == [old, a_rec]
    journal.follow_up(a_rec, "beetje")
    journal.follow_up(old, "niet")
    assert journal.open_agreements() == []
    assert [(a.id, a.follow_up) for a in journal.agreements()] == [
        (a_rec, "beetje"), (a_text, "goed"), (old, "niet")]
    with pytest.raises(ValueError):
        journal.follow_up(a_rec, "prima")
    with pytest.raises(KeyError):
        journal.follow_up(999, "goed")
    with pytest.raises(ValueError):
        journal.add_agreement(s2, None, None)


def test_progress_save_load_clear(journal: Journal) -> None:
    assert journal.load_progress() is None
    journal.save_progress("waardenkaart", "kiezen", {"step": 3, "names": ["Ánna", "Bram"]})
    journal.save_progress("herstelgesprek", "luisteren", {"step": 5, "note": "\"'; DROP"})
    p = journal.load_progress()
    assert p is not None
    assert (p.exercise, p.state, p.data) == ("herstelgesprek", "luisteren",
                                             {"step": 5, "note": "\"'; DROP"})
    assert query(journal.path, "SELECT COUNT(*) FROM progress") == [(1,)]
    journal.clear_progress()
    assert journal.load_progress() is None


def test_progress_survives_reopening(home: Path) -> None:
    with Journal() as j:
        j.save_progress("dankbaarheid", "ronde-2", {"count": 4})
    with Journal() as j:
        p = j.load_progress()
        assert p is not None and p.data == {"count": 4}


def test_summary(journal: Journal) -> None:
    empty = journal.summary()
    assert (empty.sessions, empty.last_session, empty.shared_values) == (0, None, ())
    s1 = journal.start_session("waardenkaart", NAMES)
    journal.set_shared_values(s1, ["rust", "humor"], None)
    s2 = journal.start_session("dagelijks-gesprek", NAMES)
    journal.start_session("dagelijks-gesprek", NAMES)
    a = journal.add_agreement(s2, "Thee om vier uur", None)
    journal.gratitude(s2, "Anna", 6)
    journal.turn(s2, "praten", "Bram", 180)
    summary = journal.summary()
    assert summary.sessions_by_exercise == {"dagelijks-gesprek": 2, "waardenkaart": 1}
    assert summary.sessions == 3
    assert summary.last_session is not None and summary.last_session.tzinfo is not None
    assert summary.shared_values == ("rust", "humor")
    assert [x.id for x in summary.open_agreements] == [a]
    assert summary.gratitude_total == 6
    assert summary.turn_minutes == pytest.approx(3.0)


def test_suggest_next(journal: Journal) -> None:
    assert journal.suggest_next() == "waardenkaart"
    s = journal.start_session("waardenkaart", NAMES)
    journal.set_shared_values(s, ["rust"], None)
    assert journal.suggest_next() is None
    journal.start_session("herstelgesprek", NAMES)
    assert journal.suggest_next() == "dankbaarheid"
    s3 = journal.start_session("dagelijks-gesprek", NAMES)
    a = journal.add_agreement(s3, "Samen koken", None)
    assert journal.suggest_next() == "dagelijks-gesprek"
    journal.follow_up(a, "niet")
    assert journal.suggest_next() is None


# Rows another program (a database viewer) changed: the file passes its integrity check, the field does not parse.
CHANGED = {
    "a date": "UPDATE agreements SET created_at = 'not a date' WHERE text = 'Samen koken'",
    "a session's start": "UPDATE sessions SET started_at = 'garbage'",
    "a goal's date": "UPDATE goals SET created_at = X'00'",
    "values": "UPDATE partner_values SET items = '{not json' WHERE partner = 'Anna'",
    "shared values": "UPDATE shared_values SET items = '[\"rust\", {\"x\": 1}]'",
    "a blob for text": "UPDATE agreements SET text = X'ff00fe' WHERE text = 'Samen koken'",
    "a blob for a name": "UPDATE sessions SET partner_a = X'416e6e61ff'",
}


def _tables(path: Path) -> list[tuple]:
    names = [n for (n,) in query(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [(n, query(path, f"SELECT * FROM {n}")) for n in names]


@pytest.mark.parametrize("change", CHANGED)
def test_a_row_another_program_changed_is_read_as_far_as_it_can_be(journal: Journal, change: str) -> None:
    from voicecoach.export import render_html
    from voicecoach.overview import overview

    s = journal.start_session("waardenkaart", NAMES)
    journal.set_values(s, "Anna", ["rust", "humor"])
    journal.set_values(s, "Bram", ["groei"])
    journal.set_shared_values(s, ["rust", "humor"], "Wij lachen.")
    journal.add_goal(s, "kort", "Samen op reis", None)
    journal.add_agreement(s, "Samen koken", None)
    journal.add_agreement(s, "Samen wandelen", None)
    journal.speaking(s, "praten", "Anna", 60)
    journal.close()
    conn = sqlite3.connect(journal.path)
    conn.execute(CHANGED[change])
    conn.commit()
    conn.close()
    kept = _tables(journal.path)
    told: list[str] = []
    with Journal(journal.path, tell=told.append) as j:
        agreements = {a.id: a for a in j.agreements()}
        summary, values, goals, spoken = j.summary(), j.latest_value_map(), j.latest_goals(), j.speaking_times()
        due = j.due_agreements(timedelta(hours=24))
        lines, page = overview(j).lines, render_html(j)
        assert (j.last_names(), j.suggest_next(), len(j.unreadable)) == (
            ("Anna\ufffd" if "name" in change else "Anna", "Bram"), "dagelijks-gesprek", 1)
    assert len(told) == 1 and "could not be read" in told[0] and "nothing in the journal was changed" in told[0]
    assert _tables(journal.path) == kept  # read, never "repaired"
    # Everything else is as it was; the changed field as well as it can be.
    assert [a.text for a in agreements.values()] == [
        "Samen wandelen", "\ufffd\ufffd\ufffd" if "text" in change else "Samen koken"]
    assert "Samen wandelen" in page and "Samen wandelen" in "\n".join(lines)
    assert summary.sessions == 1 and (summary.last_session is None) == (change == "a session's start")
    assert (spoken[0].started_at is None) == (change == "a session's start") and spoken[0].seconds["Anna"] == 60
    assert [a.text for a in due] == (["Samen koken"] if change == "a date" else [])  # unknown: asked, not forgotten
    assert (goals[0].text, goals[0].created_at is None) == ("Samen op reis", change == "a goal's date")
    assert values.partners == ({"Bram": ("groei",)} if change == "values" else {"Anna": ("rust", "humor"), "Bram": ("groei",)})
    assert values.shared == (("rust",) if change == "shared values" else ("rust", "humor"))
    assert values.sentence == "Wij lachen."


def test_garbage_file_is_kept_aside_and_a_new_journal_starts(
        home: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = data_dir() / "journal.sqlite3"
    path.parent.mkdir(parents=True)
    garbage = b"this is not sqlite \x00\xff" * 300
    path.write_bytes(garbage)
    with Journal() as j:
        assert j.recovered_from is not None
        assert j.recovered_from.name.startswith("journal.sqlite3.broken-")
        assert j.recovered_from.read_bytes() == garbage
        assert "damaged" in caplog.text
        s = j.start_session("waardenkaart", NAMES)
        j.step_completed(s, "welkom")
        assert j.steps(s) == ["welkom"]
        assert mode(j.path) == 0o600
    with Journal() as again:
        assert again.recovered_from is None
        assert again.summary().sessions == 1


def test_damaged_pages_are_recovered(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as j:
        s = j.start_session("waardenkaart", NAMES)
        for i in range(400):
            j.step_completed(s, f"stap {i} " + "x" * 100)
    data = bytearray(path.read_bytes())
    assert len(data) > 4 * 4096
    data[2 * 4096 + 8:4 * 4096] = b"\xa5" * (2 * 4096 - 8)  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    with Journal(path) as j:
        assert j.recovered_from is not None and j.recovered_from.read_bytes() == bytes(data)
        assert j.summary().sessions == 0


def test_failed_integrity_check_is_recovered(tmp_path: Path) -> None:
    # A readable file whose index disagrees with its table: only integrity_check notices.
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as j:
        s = j.start_session("waardenkaart", NAMES)
        for i in range(5):
            j.step_completed(s, f"stap {i}")
    conn = sqlite3.connect(path)
    conn.execute("CREATE INDEX steps_by_step ON steps(step)")
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX steps_by_step ON steps(at)'"
                 " WHERE name = 'steps_by_step'")
    conn.commit()
    conn.close()
    assert query(path, "PRAGMA integrity_check") != [("ok",)]
    with Journal(path) as j:
        assert j.recovered_from is not None
        assert query(j.recovered_from, "SELECT COUNT(*) FROM steps") == [(5,)]
        assert j.summary().sessions == 0


def test_newer_schema_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(UserError, match="newer"):
        Journal(path)
    assert query(path, "PRAGMA user_version") == [(99,)]
    assert not list(tmp_path.glob("*.broken-*"))


@pytest.mark.parametrize("linked", ["journal", "folder"])
def test_a_linked_journal_whose_disk_is_gone_is_refused_not_replaced(
        home: Path, linked: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Moved to another disk and linked: while that disk is not mounted, a new empty journal took the link's place
    (even `voicecoach journal` made one), and the old agreements were cut off when it came back."""
    from voicecoach import cli

    data, gone = home / "data", home / "disk" / "voicecoach"  # the disk is not there
    if linked == "journal":
        data.mkdir()
        link = data / "journal.sqlite3"
        link.symlink_to(gone / "journal.sqlite3")
    else:
        link = data
        link.symlink_to(gone)
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    for args in (["journal", "--mute"], ["journal", "--export", str(home / "pagina.html")],
                 ["run", "herstelgesprek", "--text", "--fast"]):
        assert cli.main(args) == 2
        out = capsys.readouterr()
        lines = [line for line in (out.out + out.err).splitlines() if line.strip()]
        assert len(lines) == 1 and f"at {link} points to {gone}" in lines[0] and "Connect that disk" in lines[0], lines
    assert link.is_symlink() and not gone.exists() and not (home / "pagina.html").exists()


def test_recordings_on_a_disk_that_is_gone_are_one_sentence(journal: Journal, home: Path) -> None:
    (home / "data" / "recordings").symlink_to(home / "disk" / "recordings")
    with pytest.raises(UserError, match="recordings points to .* which is not there"):
        journal.store_recording(journal.start_session("herstelgesprek", NAMES), b"RIFF")


def test_forget_leaves_nothing(home: Path) -> None:
    (home / "data").mkdir()
    (home / "data" / "journal.sqlite3").write_bytes(b"garbage" * 50)
    j = Journal()
    s = j.start_session("dagelijks-gesprek", NAMES)
    j.add_agreement(s, None, j.store_recording(s, b"RIFF"))
    j.save_progress("dagelijks-gesprek", "afspraak", {"x": 1})
    assert j.recovered_from is not None
    j.forget()
    leftovers = list(home.rglob("*"))
    assert leftovers == []
    with Journal() as fresh:
        assert fresh.summary().sessions == 0 and fresh.load_progress() is None


def test_forget_removes_everything_in_the_data_folder_but_the_model(home: Path) -> None:
    # Whatever voicecoach (or a later feature) keeps there goes: profiles, crash.log, unknown files.
    j = Journal()
    folder = j.path.parent
    for name in ("crash.log", "voice-profile.json", "listening.toml", "journal.sqlite3.broken-x"):
        (folder / name).write_text("theirs\n")
    model = folder / "models" / "vosk-model-small-nl-0.22" / "am"
    model.mkdir(parents=True)
    (model / "final.mdl").write_bytes(b"model")
    j.forget()
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()) == [
        "data/models/vosk-model-small-nl-0.22/am/final.mdl"]


def test_never_logs_what_the_couple_said(journal: Journal, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    s = journal.start_session("waardenkaart", ("Geheimnaam", "Anderenaam"))
    journal.set_values(s, "Geheimnaam", ["geheimewaarde"])
    journal.set_shared_values(s, ["geheimewaarde"], "geheimezin")
    journal.add_agreement(s, "geheimeafspraak", None)
    journal.save_progress("waardenkaart", "x", {"k": "geheimedata"})
    journal.end_session(s, "completed")
    assert caplog.records, "the journal should log what it does (ids and counts)"
    assert "geheim" not in caplog.text.lower()
    assert "naam" not in caplog.text.lower()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), values=st.lists(st.text(max_size=40), max_size=6))
def test_arbitrary_text_round_trips(tmp_path: Path, text: str, values: list[str]) -> None:
    path = tmp_path / "prop.sqlite3"
    with Journal(path) as j:
        s = j.start_session(text or "leeg", (text, "Bram"))
        aid = j.add_agreement(s, text, None)
        j.set_values(s, text, values)
        j.set_shared_values(s, values, text)
        j.save_progress("x", text, {text: values})
    with Journal(path) as j:  # reopened: what is on disk, not what is cached
        assert [a.text for a in j.agreements() if a.id == aid] == [text]
        vm = j.latest_value_map()
        assert vm.shared == tuple(values) and vm.sentence == text
        assert vm.partners[text] == tuple(values)
        assert j.last_names() == (text, "Bram")
        p = j.load_progress()
        assert p is not None and p.state == text and p.data == {text: values}


CHILD = """
import sys
from voicecoach.journal import Journal
j = Journal()
for _ in range(60):
    s = j.start_session("kill-test", ("A", "B"))
    for k in range(1, 151):
        j.step_completed(s, str(k))
        j.turn(s, str(k), "A", 1.0)
        if k == 1:
            print("ready", flush=True)
    j.end_session(s, "completed")
j.close()
"""


def test_sigkill_mid_write_leaves_a_consistent_prefix(home: Path) -> None:
    rng = random.Random(20240611)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed, previous_steps = 0, 0
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE,
                                 text=True)
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.6))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
            child.stdout.close()  # type: ignore[union-attr]
        killed += child.returncode == -signal.SIGKILL

        with Journal() as j:
            assert j.recovered_from is None
        path = data_dir() / "journal.sqlite3"
        assert query(path, "PRAGMA integrity_check") == [("ok",)]
        total_steps = 0
        for sid, outcome in query(path, "SELECT id, outcome FROM sessions ORDER BY id"):
            steps = [int(r[0]) for r in query(path, "SELECT step FROM steps WHERE session_id = ?"
                                              " ORDER BY id", sid)]
            turns = [int(r[0]) for r in query(path, "SELECT step FROM turns WHERE session_id = ?"
                                              " ORDER BY id", sid)]
            assert steps == list(range(1, len(steps) + 1))
            assert turns == list(range(1, len(turns) + 1))
            assert len(turns) in (len(steps), len(steps) - 1)  # turn k follows step k
            if outcome == "completed":
                assert len(steps) == len(turns) == 150
            total_steps += len(steps)
        # Nothing a previous, killed child committed may be lost.
        assert total_steps > previous_steps
        previous_steps = total_steps
    assert killed >= 3, "the children finished before they could be killed; the test proved nothing"
