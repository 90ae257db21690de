"""Adversarial, the journal: resumes, kills, a second process, forget at the wrong moment, full disks (issue 9).

Hostile files and input are in test_hostile_input.py, stops by signal in test_stops.py.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import test_exercises
from tests.conftest import KO_VOCAB, ROOT
from tests.helpers import FullDiskFsync
from voicecoach import cli, paths, running
from voicecoach.journal import Journal

typed = test_exercises.typed

# The typed herstelgesprek (as in test_privacy): up to the first agreement kept, then the second.
# Each partner answers by name: to working on it, to being calm, to the rules, to each agreement and to keeping it.
FIRST_PART = ["ja", "ja", "ja", "ja", "ja", "ja", "Ik voel me alleen", "Je voelt je alleen", "klopt", "nee",
              "Ik wil meer rust", "Je wilt meer rust", "klopt", "nee",
              "Elke avond samen praten", "Elke avond praten", "ja", "ja", "ja", "ja"]
SECOND_PART = ["Zondag samen wandelen", "Zondag wandelen", "ja", "ja"]


def outcomes(db: Path | None = None) -> list[tuple[str, str | None]]:
    with Journal(db) as journal:
        return [(exercise, outcome) for _, exercise, outcome in journal.outcomes()]


# -- items 2 and 4: a resumed session is the same session -------------------------------------------


def test_resumed_between_agreements_keeps_one_session_and_plays_both_back(typed):  # type: ignore[no-untyped-def]
    first = typed(["run", "herstelgesprek"], FIRST_PART)
    assert first.code == 2 and "resume --text" in first.out  # the typing ended after the first agreement
    assert [e["kept"] for e in first.of("agreement")] == [True]
    rest = typed(["resume"], SECOND_PART)
    assert rest.code == 0, rest.out
    assert outcomes() == [("herstelgesprek", "completed")]  # one herstelgesprek, not "2x"
    with Journal() as journal:
        assert [a.text for a in journal.open_agreements()] == ["Elke avond samen praten", "Zondag samen wandelen"]
    assert cli.main(["journal", "--mute"]) == 0
    # Next time, a day later, both are played back and asked about.
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1, hours=1)).isoformat(timespec="minutes")
    nxt = typed(["run", "dagelijks-gesprek", "--wall-start", tomorrow], ["ja", "nee", "ja", "a", "b", "c", "d"])
    assert nxt.code == 0, nxt.out
    assert "Elke avond samen praten" in nxt.out and "Zondag samen wandelen" in nxt.out
    assert [e["how"] for e in nxt.of("follow_up")] == ["goed", "niet"]


def test_journal_counts_a_resumed_session_once(typed, capsys):  # type: ignore[no-untyped-def]
    typed(["run", "herstelgesprek"], FIRST_PART[:6])
    typed(["resume"], FIRST_PART[6:10])
    typed(["resume"], FIRST_PART[10:] + SECOND_PART)
    assert cli.main(["journal", "--mute"]) == 0
    assert "Sessies: 1 (herstelgesprek 1x)" in capsys.readouterr().out


def test_a_step_stopped_halfway_is_completed_once_after_the_resume(typed):  # type: ignore[no-untyped-def]
    """Found by tests/test_orders.py: "stop" wrote the step it stopped as completed, and the resume, which does
    that step again, completed it a second time."""
    first = typed(["run", "dankbaarheid"], ["Je luistert altijd", "stop", "ja"])  # in Sanne's second thing
    assert first.code == 0 and first.log[-1]["outcome"] == "stopped"
    rest = typed(["resume"], ["Je luistert", "Je kookt", "Je lacht", "Je bent er", "Je helpt", "Je bent lief"])
    assert rest.code == 0, rest.out
    with Journal() as journal:
        ((session, _, outcome),) = journal.outcomes()
        assert outcome == "completed"
        assert journal.steps(session) == ["welkom", "dank_een", "luisteren", "dank_twee", "luisteren_twee",
                                          "afsluiting"]


# -- item 3: the value map of a resumed waardenkaart ---------------------------------------------------


def test_waardenkaart_resumed_after_the_shared_step_keeps_each_partners_values(typed, tmp_path, capsys):  # type: ignore[no-untyped-def]
    first = typed(["run", "waardenkaart"], [
        "rust", "humor", "moed", "liefde", "trouw", "ja",
        "humor", "moed", "plezier", "groei", "natuur", "ja",
        "ja", "ja",  # the shared five, confirmed by each: then the typing stops
    ])
    assert first.code == 2, first.out
    run = typed(["resume"], ["", "", "", "Wij zijn er voor elkaar", "ja", "ja", "ja", "ja"])
    assert run.code == 0, run.out
    with Journal() as journal:
        vm = journal.latest_value_map()
    assert vm.partners == {"Sanne": ("rust", "humor", "moed", "liefde", "trouw"),
                           "Joris": ("humor", "moed", "plezier", "groei", "natuur")}
    assert vm.sentence == "Wij zijn er voor elkaar"
    assert cli.main(["journal", "--mute"]) == 0
    out = capsys.readouterr().out
    assert "Waarden van Sanne: rust, humor" in out and "Waarden van Joris: humor, moed" in out
    page = tmp_path / "p.html"
    assert cli.main(["journal", "--export", str(page)]) == 0
    assert "Waarden van Sanne" in page.read_text(encoding="utf-8")


# -- item 4: a killed session shows as interrupted -----------------------------------------------------

CHILD_KILLED = """
import os, signal
from voicecoach.journal import Journal
from voicecoach import running
with running.session():
    j = Journal()
    s = j.start_session("herstelgesprek", ("A", "B"))
    j.step_completed(s, "welkom")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _child(code: str, home: Path, **kw) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "VOICECOACH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, **kw)


def test_a_killed_session_is_interrupted_once_nobody_holds_it(typed, tmp_path):  # type: ignore[no-untyped-def]
    home = Path(os.environ["VOICECOACH_HOME"])
    child = _child(CHILD_KILLED, home)
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert outcomes() == [("herstelgesprek", None)]  # the kill left no outcome...
    assert cli.main(["journal", "--mute"]) == 0  # ...and reading the journal, with nobody running, says so
    assert outcomes() == [("herstelgesprek", "interrupted")]


# -- item 5: an agreement, its recording and the next step's progress are one transaction ----------------


def test_kept_agreement_and_the_next_steps_progress_are_one_transaction(typed, monkeypatch):  # type: ignore[no-untyped-def]
    """A crash right after the agreement is stored, before the next step's progress: nothing of that move stays."""
    from voicecoach.journal import Journal as J

    original = J.save_progress

    def crash_on_move(self, exercise, state, data):  # type: ignore[no-untyped-def]
        if state.startswith("afspraak_twee"):
            raise RuntimeError("power cut")
        return original(self, exercise, state, data)

    monkeypatch.setattr(J, "save_progress", crash_on_move)
    first = typed(["run", "herstelgesprek"], FIRST_PART)
    assert first.code == 1  # the simulated power cut
    monkeypatch.setattr(J, "save_progress", original)
    with Journal() as journal:
        assert journal.agreements() == []  # not kept without the move that follows it
        assert journal.load_progress().state == "afspraak_een__propose"  # type: ignore[union-attr]
    rest = typed(["resume"], FIRST_PART[14:] + SECOND_PART)
    assert rest.code == 0, rest.out
    with Journal() as journal:
        assert sorted(a.text for a in journal.agreements()) == ["Elke avond samen praten", "Zondag samen wandelen"]


def test_a_recording_without_its_row_is_removed_at_the_next_session(typed):  # type: ignore[no-untyped-def]
    with Journal() as journal:
        s = journal.start_session("herstelgesprek", ("A", "B"))
        kept = journal.store_recording(s, b"RIFF-kept")
        journal.add_agreement(s, None, kept)
        orphan = journal.store_recording(s, b"RIFF-orphan")  # killed before its row was committed
        half = kept.parent / "session-1-x.part"
        half.write_bytes(b"RIFF")
    run = typed(["run", "dagelijks-gesprek"], ["ja", "ja", "a", "b", "c", "d"])
    assert run.code == 0, run.out
    assert kept.exists() and not orphan.exists() and not half.exists()


# -- item 6: one session at a time -------------------------------------------------------------------

HOLDER = """
import sys, time
from voicecoach import running
with running.session():
    print("holding", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def other_session(tmp_path):  # type: ignore[no-untyped-def]
    """Another voicecoach session holding this journal, in its own process."""
    home = Path(os.environ["VOICECOACH_HOME"])
    child = _child(HOLDER, home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    yield child
    _stop(child)


def _stop(child: subprocess.Popen) -> None:  # type: ignore[type-arg]
    child.kill()
    child.wait(timeout=30)
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()


def test_a_second_session_says_another_one_is_running(other_session, typed, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(FIRST_PART) + "\n"))
    events = tmp_path / "second.jsonl"
    code = cli.main(["run", "herstelgesprek", "--text", "--fast", "--events-words", "--events", str(events)])
    captured = capsys.readouterr()
    assert code == running.AlreadyRunning.exit_code
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert len(lines) == 1 and "Another voicecoach session is running" in lines[0], lines
    assert not events.exists()  # nothing was said or opened
    _stop(other_session)
    again = typed(["run", "herstelgesprek"], FIRST_PART + SECOND_PART)  # the OS let go of a killed holder's lock
    assert again.code == 0, again.out


def test_journal_can_be_read_while_a_session_runs(other_session, typed, capsys):  # type: ignore[no-untyped-def]
    with Journal() as journal:
        s = journal.start_session("herstelgesprek", ("A", "B"))  # the running session's own row
    assert cli.main(["journal", "--mute"]) == 0
    assert "herstelgesprek 1x" in capsys.readouterr().out
    assert outcomes() == [("herstelgesprek", None)]  # still running: not called interrupted
    assert s == 1


# -- items 8 and 9: forget -----------------------------------------------------------------------------


def test_forget_refuses_while_a_session_runs(other_session, capsys):  # type: ignore[no-untyped-def]
    with Journal() as journal:
        journal.add_agreement(journal.start_session("herstelgesprek", ("A", "B")), "Samen koken", None)
    assert cli.main(["forget", "--yes"]) == running.AlreadyRunning.exit_code
    err = capsys.readouterr()
    assert "Alles is gewist" not in err.out
    assert "nothing was deleted" in err.err and len(err.err.strip().splitlines()) == 1
    with Journal() as journal:
        assert [a.text for a in journal.agreements()] == ["Samen koken"]


SPEAKING = """
import sys
from voicecoach import running
with running.writer():
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_forget_refuses_while_voicecoach_speaks_the_journal(capsys):  # type: ignore[no-untyped-def]
    home = Path(os.environ["VOICECOACH_HOME"])
    child = _child(SPEAKING, home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        assert cli.main(["forget", "--yes"]) == running.AlreadyRunning.exit_code
    finally:
        _stop(child)


def test_forget_removes_everything_even_when_the_journal_cannot_be_opened(capsys):  # type: ignore[no-untyped-def]
    data, cache = paths.data_dir(), paths.cache_dir()
    (data / "journal.sqlite3").mkdir(parents=True)  # a folder where the journal should be
    (data / "journal.sqlite3" / "inside").write_text("x")
    (data / "crash.log").write_text("Traceback ... Sanne\n")
    (data / "recordings").mkdir()
    (data / "recordings" / "session-1.wav").write_bytes(b"RIFF")
    (data / "journal.sqlite3.broken-20250101").write_bytes(b"old")
    for folder in ("prompts", "tts-work"):
        (cache / folder).mkdir(parents=True)
        (cache / folder / "a.wav").write_bytes(b"RIFF")
    model = data / "models" / "m" / "am"
    model.mkdir(parents=True)
    (model / "final.mdl").write_bytes(b"m")
    assert cli.main(["forget", "--yes"]) == 0
    assert "Alles is gewist." in capsys.readouterr().out
    assert not cache.exists()
    assert sorted(p.relative_to(data).as_posix() for p in data.rglob("*")) == ["models", "models/m", "models/m/am",
                                                                             "models/m/am/final.mdl"]


def test_forget_removes_a_newer_versions_journal_too(capsys):  # type: ignore[no-untyped-def]
    with Journal() as journal:
        journal.start_session("herstelgesprek", ("A", "B"))
    conn = sqlite3.connect(paths.data_dir() / "journal.sqlite3")
    conn.execute("PRAGMA user_version=99")
    conn.close()
    assert cli.main(["forget", "--yes"]) == 0
    assert not paths.data_dir().exists()


def test_forget_removes_old_synthesizer_temp_folders_but_not_a_live_one(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = tmp_path / f"{paths.LEGACY_TEMP_PREFIX}abc"
    old.mkdir()
    (old / "prompt.wav").write_bytes(b"RIFF Sanne")
    long_ago = time.time() - 2 * paths.LEGACY_MIN_AGE
    os.utime(old, (long_ago, long_ago))
    live = tmp_path / f"{paths.LEGACY_TEMP_PREFIX}live"  # another voicecoach rendering right now
    live.mkdir()
    assert cli.main(["forget", "--yes"]) == 0
    assert not old.exists() and live.exists()


def test_forget_keeps_their_config_and_says_so(capsys):  # type: ignore[no-untyped-def]
    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('names = "Sanne,Joris"\n')
    assert cli.main(["forget", "--yes"]) == 0
    out = capsys.readouterr().out
    assert config.exists() and str(config) in out and "kept" in out


# -- item 7: an empty journal file ----------------------------------------------------------------------


def test_a_journal_truncated_to_nothing_is_kept_aside_and_said(capsys):  # type: ignore[no-untyped-def]
    with Journal() as journal:
        journal.start_session("herstelgesprek", ("A", "B"))
    db = paths.data_dir() / "journal.sqlite3"
    with Journal() as journal:  # a clean close leaves no write-ahead log behind
        pass
    db.write_bytes(b"")
    assert cli.main(["journal", "--mute"]) == 0
    out = capsys.readouterr().out
    assert "damaged" in out and "broken-" in out
    (kept,) = paths.data_dir().glob("journal.sqlite3.broken-*")
    assert kept.stat().st_size == 0
    with Journal() as journal:
        assert journal.recovered_from is None  # a new journal is never an empty file


def test_a_new_journal_is_never_an_empty_file(monkeypatch):  # type: ignore[no-untyped-def]
    # Killed while the new journal was being made: no 0-byte journal is left to be called damaged later.
    import voicecoach.journal as jmod

    def die(*a, **k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(jmod.os, "replace", die)
    with pytest.raises(KeyboardInterrupt):
        Journal()
    assert not (paths.data_dir() / "journal.sqlite3").exists()
    assert not [p for p in paths.data_dir().iterdir() if p.name.startswith(".journal")]


def _one_line(captured) -> str:  # type: ignore[no-untyped-def]
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err, lines
    return lines[0]


# -- item 18: a full disk, and --export to a folder or a place that cannot be written --------------------


def test_a_full_disk_while_a_recording_is_saved_costs_nothing(ko_model_path, say, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    import voicecoach.journal as journal_module
    from tests.couple import answers_from, events_of, write_script
    from voicecoach.engine.texts import load_common
    from voicecoach.errors import StorageError

    common = ["--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--names", "Sanne,Joris"]
    Journal().close()  # the journal was made while there was room
    events = tmp_path / "events.jsonl"
    script = write_script(tmp_path / "c.txt", answers_from("welkom", say, tmp_path))
    with monkeypatch.context() as full:
        full.setattr(journal_module, "os", FullDiskFsync())
        code = cli.main(["run", "herstelgesprek", *common, "--answers", str(script), "--events-words",
                         "--events", str(events)])
    captured = capsys.readouterr()
    assert code == StorageError.exit_code
    line = [x for x in captured.err.splitlines() if x.strip()]
    assert len(line) == 1 and "could not be saved" in line[0] and "voicecoach resume" in line[0], captured.err
    said = [e["text"] for e in events_of(events) if e["event"] == "prompt"]
    assert load_common()["storage_full"] in said  # they hear it
    with Journal() as journal:
        assert journal.agreements() == []
        progress = journal.load_progress()
    assert progress is not None and progress.state == "afspraak_een__propose"
    assert not list((paths.data_dir() / "recordings").iterdir())  # no half file either
    rest = write_script(tmp_path / "rest.txt", answers_from("afspraak_een", say, tmp_path, progress.data.get("consent")))
    assert cli.main(["resume", *common, "--answers", str(rest)]) == 0, capsys.readouterr()
    with Journal() as journal:
        assert len(journal.agreements()) == 2


def _some_journal() -> None:
    with Journal() as journal:
        journal.add_agreement(journal.start_session("herstelgesprek", ("A", "B")), "Samen koken", None)


def test_export_to_a_folder_writes_the_page_in_it(tmp_path, capsys):  # type: ignore[no-untyped-def]
    _some_journal()
    assert cli.main(["journal", "--export", str(tmp_path)]) == 0
    page = tmp_path / "voicecoach-overzicht.html"
    assert "Samen koken" in page.read_text(encoding="utf-8")
    assert f"Wrote {page}." in capsys.readouterr().out


@pytest.mark.parametrize("where", ["under a file", "full disk"])
def test_export_that_cannot_be_written_is_one_sentence(where, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    _some_journal()
    target = tmp_path / "page.html"
    if where == "under a file":
        (tmp_path / "notes.txt").write_text("x")
        target = tmp_path / "notes.txt" / "page.html"
    else:
        monkeypatch.setattr(paths, "os", FullDiskFsync())
    code = cli.main(["journal", "--export", str(target)])
    line = _one_line(capsys.readouterr())
    assert code == 7 and str(target) in line and "journal is unchanged" in line and "resume" not in line, line
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half page left
    with Journal() as journal:
        assert [a.text for a in journal.agreements()] == ["Samen koken"]


# -- our own adversarial pass: attacks beyond the list ----------------------------------------------


def test_a_data_folder_that_is_a_file_is_one_sentence(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    data = paths.data_dir()
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("not a folder")
    monkeypatch.setattr("sys.stdin", io.StringIO("klopt\n"))
    code = cli.main(["run", "herstelgesprek", "--text", "--fast"])
    line = _one_line(capsys.readouterr())
    assert code == 7 and str(data) in line, line
    assert cli.main(["journal", "--mute"]) == 7
    assert str(data) in _one_line(capsys.readouterr())
    assert data.read_text() == "not a folder"  # theirs, whatever it is: not touched


BRIEF_HOLDER = """
import sys, time
from voicecoach import running
with running.session():
    print("holding", flush=True)
    time.sleep(0.5)
"""


def test_a_session_waits_a_moment_for_a_brief_holder(typed):  # type: ignore[no-untyped-def]
    """`voicecoach journal` holds the session lock for a moment to tidy up: a session started then still starts."""
    home = Path(os.environ["VOICECOACH_HOME"])
    child = _child(BRIEF_HOLDER, home, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        run = typed(["run", "herstelgesprek"], FIRST_PART + SECOND_PART)
        assert run.code == 0, run.out
    finally:
        _stop(child)


def test_ctrl_c_during_forget_never_leaves_it_half_done(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    import voicecoach.forgetting as journal_module

    with Journal() as journal:
        s = journal.start_session("herstelgesprek", ("A", "B"))
        journal.add_agreement(s, None, journal.store_recording(s, b"RIFF"))
    (paths.cache_dir() / "prompts").mkdir(parents=True)
    real_stores = journal_module.private_stores

    def stores_then_ctrl_c():  # type: ignore[no-untyped-def]
        found = real_stores()
        os.kill(os.getpid(), signal.SIGINT)  # pressed right as deleting starts
        return found

    monkeypatch.setattr(journal_module, "private_stores", stores_then_ctrl_c)
    assert cli.main(["forget", "--yes"]) == 130
    assert not (paths.data_dir() / "journal.sqlite3").exists() and not (paths.data_dir() / "recordings").exists()
    assert not paths.cache_dir().exists()


def test_a_bug_mid_session_is_said_not_only_printed(ko_model_path, say, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """A screen-free couple must not be left in silence by a crash."""
    from tests.couple import answers_from, events_of, write_script
    from voicecoach.engine.steps.mirror import Mirror
    from voicecoach.engine.texts import load_common

    def boom(self, event):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(Mirror, "mirror_done", boom)
    events = tmp_path / "events.jsonl"
    script = write_script(tmp_path / "c.txt", answers_from("welkom", say, tmp_path))
    code = cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                     "--answers", str(script), "--events-words", "--events", str(events), "--names", "Sanne,Joris",
                     "--speaker-file", str(tmp_path / "o.wav")])
    assert code == 1
    err = capsys.readouterr().err
    assert "something unexpected" in err and "Run `voicecoach resume` to continue" in err
    assert [e["text"] for e in events_of(events) if e["event"] == "prompt"][-1] == load_common()["crashed"]
    with Journal() as journal:
        assert journal.load_progress() is not None  # and resume goes on


# -- a disk that really fills up (a small tmpfs in a private mount namespace) ------------------------------

FULL_DISK_DRIVER = r"""
import json, os, sqlite3, subprocess, sys
home, free, lines, rest_by_step = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
os.makedirs(home, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", home], check=True)
st = os.statvfs(home)
with open(os.path.join(home, "filler"), "wb") as f:
    f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
env = {**os.environ, "VOICECOACH_HOME": home}
cmd = [sys.executable, "-m", "voicecoach"]
p = subprocess.run([*cmd, "run", "herstelgesprek", "--text", "--fast", "--names", "A,B"], input=lines,
                   capture_output=True, text=True, env=env, timeout=120)
res = {"rc1": p.returncode, "err1": p.stderr, "out1": p.stdout[-600:]}
os.remove(os.path.join(home, "filler"))  # they make room
db = os.path.join(home, "data", "journal.sqlite3")
res["journal_made"] = os.path.exists(db)
if res["journal_made"]:
    c = sqlite3.connect(db)
    res["integrity"] = c.execute("PRAGMA integrity_check").fetchone()[0]
    state = (c.execute("SELECT state FROM progress").fetchone() or [None])[0]
    res["before"] = c.execute("SELECT COUNT(*) FROM agreements").fetchone()[0]
    c.close()
    res["state"] = state
    if state is not None:
        rest = "\n".join(rest_by_step[state.partition("__")[0]]) + "\n"
        p = subprocess.run([*cmd, "resume", "--text", "--fast"], input=rest, capture_output=True, text=True, env=env,
                           timeout=120)
        res["rc2"], res["err2"] = p.returncode, p.stderr
        c = sqlite3.connect(db)
        res["agreements"] = [r[0] for r in c.execute("SELECT text FROM agreements ORDER BY id")]
        res["outcomes"] = [r[0] for r in c.execute("SELECT outcome FROM sessions ORDER BY id")]
        c.close()
print(json.dumps(res))
"""


@pytest.mark.parametrize("free", [40_000, 100_000, 150_000, 200_000])
def test_a_disk_that_fills_up_mid_session_never_costs_the_journal(free, tmp_path):  # type: ignore[no-untyped-def]
    import json
    import shutil

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-Urm", "true"], capture_output=True).returncode:
        pytest.skip("no private mount namespace here (unshare -Urm): the full disk is simulated in other tests")
    full = FIRST_PART + SECOND_PART
    start = {"welkom": 0, "samen": 0, "kalm": 2, "regels": 4, "regels_goed": 4, "ikboodschap": 6, "spiegel_een": 6,
             "wissel": 10, "spiegel_twee": 10, "afspraken": 14, "afspraak_een": 14, "afspraak_twee": 20,
             "afsluiting": 24}
    rest_by_step = {step: full[i:] for step, i in start.items()}
    driver = tmp_path / "driver.py"
    driver.write_text(FULL_DISK_DRIVER)
    proc = subprocess.run(["unshare", "-Urm", sys.executable, str(driver), str(tmp_path / "home"), str(free),
                           "\n".join(full) + "\n", json.dumps(rest_by_step)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if res["rc1"] == 0:
        pytest.skip(f"{free} bytes were enough for the whole session here")
    assert res["rc1"] == 7, res
    lines = [line for line in res["err1"].splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res["err1"] and "disk" in lines[0], res["err1"]
    if not res["journal_made"]:
        return  # not even room for a new journal: nothing was started, nothing half made
    assert res["integrity"] == "ok"
    if res["state"] is None:
        return
    assert "Ik kan niets meer bewaren" in res["out1"]  # said (printed, in text mode) before it stops
    assert res["rc2"] == 0, res["err2"]
    assert res["agreements"] == ["Elke avond samen praten", "Zondag samen wandelen"], res
    assert res["outcomes"] == ["completed"], res


def test_forget_follows_a_store_moved_elsewhere_and_linked(tmp_path, capsys):  # type: ignore[no-untyped-def]
    """They moved the cache (or the recordings) to another disk and left a link: forget still forgets it."""
    elsewhere = tmp_path / "other-disk"
    (elsewhere / "prompts").mkdir(parents=True)
    (elsewhere / "prompts" / "abc.wav").write_bytes(b"RIFF Sanne")
    cache = paths.cache_dir()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.symlink_to(elsewhere, target_is_directory=True)
    assert cli.main(["forget", "--yes"]) == 0
    assert not cache.exists() and not cache.is_symlink()
    assert list(elsewhere.iterdir()) == []


def test_forget_through_a_linked_folder_deletes_only_what_voicecoach_wrote(tmp_path, capsys):  # type: ignore[no-untyped-def]
    """Recordings linked to a folder of theirs (the lead's adversarial pass): their photo stayed lost before."""
    theirs = tmp_path / "photos"
    theirs.mkdir()
    (theirs / "holiday.jpg").write_bytes(b"JPEG")
    (theirs / "session-3-20250101-x.wav").write_bytes(b"RIFF Sanne")  # ours
    data = paths.private_dir(paths.data_dir())
    (data / "recordings").symlink_to(theirs, target_is_directory=True)
    assert cli.main(["forget", "--yes"]) == 0
    assert not (data / "recordings").is_symlink()
    assert sorted(p.name for p in theirs.iterdir()) == ["holiday.jpg"]


def test_orphan_cleanup_touches_only_voicecoachs_own_recordings(typed, tmp_path):  # type: ignore[no-untyped-def]
    """A recordings folder linked to a folder of theirs: only our own unlisted files go."""
    theirs = tmp_path / "music"
    theirs.mkdir()
    (theirs / "song.wav").write_bytes(b"RIFF")
    (theirs / "notes.txt").write_text("x")
    data = paths.private_dir(paths.data_dir())
    (data / "recordings").symlink_to(theirs, target_is_directory=True)
    (theirs / "session-9-20250101-x.wav").write_bytes(b"RIFF")  # ours, without a row
    run = typed(["run", "dagelijks-gesprek"], ["ja", "a", "b", "c", "d"])
    assert run.code == 0, run.out
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt", "song.wav"]


def test_another_program_holding_the_journal_is_named(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """A database viewer with an open write transaction: one sentence that says so, nothing lost."""
    with Journal() as journal:
        journal.add_agreement(journal.start_session("herstelgesprek", ("A", "B")), "Samen koken", None)
    other = sqlite3.connect(paths.data_dir() / "journal.sqlite3", isolation_level=None)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(FIRST_PART) + "\n"))
    try:
        other.execute("BEGIN IMMEDIATE")
        code = cli.main(["run", "herstelgesprek", "--text", "--fast"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    line = _one_line(capsys.readouterr())
    assert code == 2 and "Another program is holding the journal" in line, line
    with Journal() as journal:
        assert [a.text for a in journal.agreements()] == ["Samen koken"]




def test_a_bug_without_a_journal_does_not_say_it_was_kept(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """With --no-journal a crash said "Wat jullie deden is bewaard: ... dan gaan we verder waar we waren."."""
    import io

    from tests.couple import events_of
    from voicecoach.engine.steps.mirror import Mirror
    from voicecoach.engine.texts import load_common

    def boom(self, event):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(Mirror, "mirror_done", boom)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(
        ["ja"] * 6 + ["Ik voel me alleen", "Je voelt je alleen", "klopt", "nee"]) + "\n"))
    events = tmp_path / "events.jsonl"
    code = cli.main(["run", "herstelgesprek", "--text", "--fast", "--no-journal", "--names", "Sanne,Joris",
                     "--events-words", "--events", str(events)])
    assert code == 1
    last = [e["text"] for e in events_of(events) if e["event"] == "prompt"][-1]
    assert last == load_common()["crashed_unkept"] and "bewaard" not in last
    err = capsys.readouterr().err
    assert "something unexpected" in err and "resume" not in err and "saved" not in err


@pytest.mark.parametrize("argv", [["setup", "--dest", "models"], ["journal", "--mute"], ["list"],
                                  ["run", "herstelgesprek", "--text", "--names", "Sanne,Joris"]])
def test_a_crash_says_resume_only_where_progress_can_be_resumed(argv, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """The crash sentence said "your progress is saved. Run `voicecoach resume`" after setup, journal or list too,
    and after a session had ended; there it points only to the report."""
    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("voicecoach.model_store.install_model", boom)
    monkeypatch.setattr("voicecoach.overview.overview", boom)
    monkeypatch.setattr("voicecoach.engine.exercise.available", boom)
    if argv[0] == "run":  # a session that ends well clears its progress; the crash comes after that
        monkeypatch.setattr("voicecoach.coach.Coach.visit", lambda self, *a, **k: self.journal.clear_progress() or boom())
    with Journal() as journal:  # an unfinished exercise from earlier: not what crashed
        journal.save_progress("herstelgesprek", "welkom", {})
    assert cli.main(argv) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    crash = paths.data_dir() / "crash.log"
    assert lines[-1] == f"voicecoach: something unexpected went wrong; please report the details in {crash}."
    assert "RuntimeError: a bug" in crash.read_text()
