"""Privacy: nothing leaves the machine, nothing is kept without consent, and it is all owner-only and forgettable."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import KO_VOCAB, ROOT
from tests.couple import answers_from, events_of, write_script
from tests.helpers import FullDiskWrites
from voicecoach import cli, paths
from voicecoach.journal import Journal

# Runs voicecoach with every way out to a network refused and counted: an audit hook sees
# each socket connect, name lookup and send, whoever makes it (our code or a library).
NO_NETWORK = r"""
import sys
attempts = []
LOOPBACK = ("127.0.0.1", "::1", "localhost")
def refuse(event, args):
    if event == "socket.bind" and isinstance(args[1], tuple) and args[1][0] in LOOPBACK:
        return  # urllib3 (imported by vosk) probes for IPv6 by binding to ::1: no traffic
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
                 "socket.sendmsg", "socket.bind", "urllib.Request"):
        attempts.append(event)
        sys.stderr.write("NETWORK ATTEMPT: %s\n" % event)
        raise OSError("network access is not allowed in this test")
sys.addaudithook(refuse)
from voicecoach.cli import main
code = main(sys.argv[1:])
sys.stderr.write("network attempts: %d\n" % len(attempts))
sys.exit(code)
"""

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "VOICECOACH_HOME": str(home)}
    env.pop("VOICECOACH_MODEL", None)
    return env


def test_a_whole_session_runs_with_the_network_refused_and_logs_nothing_said(ko_model_path, say, tmp_path):
    home = tmp_path / "home"
    script = write_script(tmp_path / "couple.txt", answers_from("welkom", say, tmp_path))
    events = tmp_path / "events.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "-vv", "run", "herstelgesprek", "--fast", "--answers", str(script),
         "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--names", "Sanne,Joris",
         "--events-words", "--events", str(events)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=_env(home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "network attempts: 0" in proc.stderr and "NETWORK ATTEMPT" not in proc.stderr
    assert [e["outcome"] for e in events_of(events) if e["event"] == "session_ended"] == ["completed"]
    # -vv logs a lot (DEBUG), but never a word they said: here, any Korean at all.
    assert "DEBUG" in proc.stderr
    assert not HANGUL.search(proc.stderr), HANGUL.findall(proc.stderr)[:10]
    with Journal(home / "data" / "journal.sqlite3") as journal:
        assert len(journal.agreements()) == 2


TYPED = [
    "ja", "ja", "ja", "ja", "ja", "ja", "Ik voel me GEHEIM-EEN alleen", "Je voelt je alleen", "klopt", "nee",
    "Ik wil GEHEIM-TWEE meer rust", "Je wilt meer rust", "klopt", "nee",
    "Elke avond GEHEIM-DRIE praten", "Elke avond praten", "ja", "ja", "ja", "ja",
    "Zondag GEHEIM-VIER wandelen", "Zondag wandelen", "ja", "ja",
]


def test_typed_words_never_reach_the_log(tmp_path):
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-m", "voicecoach", "-vv", "run", "herstelgesprek", "--text", "--fast",
                           "--names", "Sanne,Joris"], input="\n".join(TYPED) + "\n", capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=_env(home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "DEBUG" in proc.stderr
    assert "GEHEIM" not in proc.stderr  # not in the log...
    with Journal(home / "data" / "journal.sqlite3") as journal:  # ...but kept, with their consent
        assert sorted(a.text for a in journal.agreements()) == ["Elke avond GEHEIM-DRIE praten",
                                                                 "Zondag GEHEIM-VIER wandelen"]


def test_nothing_is_recorded_when_consent_is_refused(ko_model_path, say, tmp_path, capsys):
    script = answers_from("welkom", say, tmp_path, give=False)
    events = tmp_path / "events.jsonl"
    code = cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                     "--answers", str(write_script(tmp_path / "couple.txt", script)), "--events-words", "--events", str(events),
                     "--names", "Sanne,Joris"])
    assert code == 0, capsys.readouterr()
    log = events_of(events)
    assert [e["given"] for e in log if e["event"] == "consent"] == [False]
    assert [e["kept"] for e in log if e["event"] == "agreement"] == [False, False]
    with Journal() as journal:
        assert journal.agreements() == []
        assert journal.summary().sessions_by_exercise == {"herstelgesprek": 1}  # the session itself is kept
    recordings = paths.data_dir() / "recordings"
    assert not recordings.exists() or not any(recordings.iterdir())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_journal_and_recordings_are_owner_only_and_forget_removes_them(ko_model_path, say, tmp_path, capsys):
    code = cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                     "--answers", str(write_script(tmp_path / "couple.txt", answers_from("welkom", say, tmp_path))),
                     "--names", "Sanne,Joris"])
    assert code == 0, capsys.readouterr()
    data = paths.data_dir()
    recordings = sorted((data / "recordings").iterdir())
    assert len(recordings) == 2
    assert _mode(data) == 0o700 and _mode(data / "recordings") == 0o700
    files = [data / "journal.sqlite3", *recordings]
    files += [p for p in (data / "journal.sqlite3-wal", data / "journal.sqlite3-shm") if p.exists()]
    assert {str(p.name): oct(_mode(p)) for p in files} == {str(p.name): oct(0o600) for p in files}

    assert cli.main(["forget", "--yes"]) == 0
    assert not (data / "journal.sqlite3").exists() and not (data / "recordings").exists()
    assert not list(data.glob("journal.sqlite3*")) if data.exists() else True
    assert not (paths.cache_dir() / "prompts").exists()  # the spoken prompts held their names


def test_a_crash_is_one_sentence_and_its_report_is_owner_only(monkeypatch, capsys):
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr("voicecoach.engine.exercise.available", boom)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err
    assert "voicecoach resume" not in lines[0] and "crash.log" in lines[0]  # `list` has no progress to go on with
    report = paths.data_dir() / "crash.log"
    assert "RuntimeError: a bug" in report.read_text() and _mode(report) == 0o600


def test_the_crash_report_is_owner_only_from_its_first_byte(monkeypatch, capsys):
    import traceback

    report = paths.data_dir() / "crash.log"
    modes = []

    def details() -> str:  # what the report holds is asked for once the file is open
        modes.append(_mode(report))
        return "RuntimeError: a bug"

    monkeypatch.setattr(traceback, "format_exc", details)
    monkeypatch.setattr("voicecoach.engine.exercise.available", lambda: 1 / 0)
    assert cli.main(["list"]) == 1
    assert modes == [0o600] and _mode(report) == 0o600


def test_a_crash_report_that_cannot_be_written_leaves_no_empty_file(monkeypatch, capsys):
    monkeypatch.setattr(sys.modules["voicecoach.cli.main"], "os", FullDiskWrites())
    monkeypatch.setattr("voicecoach.engine.exercise.available", lambda: 1 / 0)
    assert cli.main(["list"]) == 1
    assert "could not be written" in capsys.readouterr().err
    assert not (paths.data_dir() / "crash.log").exists()


def test_the_network_guard_does_catch_an_attempt(tmp_path):
    # The guard above must not pass by seeing nothing: `setup` does reach out (here to a closed local port).
    proc = subprocess.run([sys.executable, "-c", NO_NETWORK, "setup", "--dest", str(tmp_path / "models"),
                           "--url", "http://127.0.0.1:9/model.zip"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env=_env(tmp_path / "home"))
    assert proc.returncode != 0
    assert "NETWORK ATTEMPT" in proc.stderr and "network attempts: 0" not in proc.stderr


def test_the_events_file_holds_no_words_of_theirs_unless_asked(tmp_path):
    home = tmp_path / "home"
    events = tmp_path / "events.jsonl"
    common = [sys.executable, "-m", "voicecoach", "run", "herstelgesprek", "--text", "--fast", "--names",
              "Sanne,Joris", "--events", str(events)]
    proc = subprocess.run(common, input="\n".join(TYPED) + "\n", capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=_env(home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = events.read_text(encoding="utf-8")
    assert '"event": "agreement"' in text and '"event": "turn_ended"' in text  # what happened is there...
    for secret in ("geheim", "sanne", "joris", "rust", "wandelen"):  # ...but none of their words
        assert secret not in text.lower(), secret
    assert _mode(events) == 0o600
    asked = tmp_path / "words.jsonl"
    proc = subprocess.run([*common[:-1], str(asked), "--events-words"], input="\n".join(TYPED) + "\n",
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=_env(tmp_path / "home2"))
    assert proc.returncode == 0 and "geheim" in asked.read_text(encoding="utf-8").lower()  # asked for: kept


def test_the_events_file_of_a_spoken_waardenkaart_holds_no_values(ko_model_path, say, tmp_path, capsys):
    from tests.test_exercises import CHANGE, YES

    values = ["지식", "믿음", "보람", "모험", "노래"]
    script = [*values, CHANGE, "인내", YES, *values[::-1], YES, YES]
    lines = [str(say(w)) for w in script]
    answers = tmp_path / "couple.txt"
    answers.write_text("\n".join(lines + ["silence 3.0"] * 12) + "\n", encoding="utf-8")
    events = tmp_path / "events.jsonl"
    cli.main(["run", "waardenkaart", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
              "--answers", str(answers), "--events", str(events), "--names", "Sanne,Joris"])
    capsys.readouterr()
    text = events.read_text(encoding="utf-8")
    assert '"event": "values_confirmed"' in text or '"event": "value"' in text
    assert not HANGUL.search(text), HANGUL.findall(text)[:10]
    assert "item:" not in text and "Sanne" not in text


def test_a_no_to_learning_their_voices_removes_their_recorded_names() -> None:
    """The first names said in their own voices are kept only while both agree that voicecoach may learn their
    voices; a later no (`voicecoach check`) removed the voice profile but left the two recordings on disk."""
    import numpy as np

    from voicecoach import name_clips
    from voicecoach.audio.pcm import Audio
    from voicecoach.turns import save_consent

    save_consent(True)
    for partner in (1, 2):
        name_clips.save(partner, Audio(np.full(8000, 1000, dtype=np.int16)))
    assert name_clips.clip_path(1).exists() and name_clips.clip_path(2).exists()
    save_consent(True)  # a yes again keeps them
    assert name_clips.clip_path(2).exists()
    save_consent(False)
    assert not name_clips.clip_path(1).exists() and not name_clips.clip_path(2).exists()
    assert not name_clips.clip_path(1).parent.exists()
