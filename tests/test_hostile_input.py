"""Adversarial input: looping or oversized exercises, config mistakes, hostile WAVs and scripts, damaged progress,
names that cannot be said, long typed texts (issue 9)."""

from __future__ import annotations

import io
import sqlite3
import time
from pathlib import Path

import pytest

from tests import test_exercises
from tests.conftest import KO_VOCAB
from tests.test_safety import FIRST_PART, _one_line, outcomes
from voicecoach import cli, paths
from voicecoach.journal import Journal

typed = test_exercises.typed  # the typing couple (a fixture)
LOOP = '''name = "rondje"

[[steps]]
id = "a"
kind = "say"
text = "Een."

[[steps]]
id = "b"
kind = "say"
text = "Twee."
next = "a"

[[steps]]
id = "vraag"
kind = "confirm"
text = "Klaar? Zeg {ja}."
'''


def test_say_steps_that_loop_without_listening_are_refused_at_load(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "rondje.toml"
    path.write_text(LOOP, encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\n"))
    assert cli.main(["run", str(path), "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and "a -> b -> a" in line and "never listen" in line
    assert not (paths.data_dir() / "journal.sqlite3").exists()  # refused before anything was written


def test_a_loop_through_a_question_is_fine(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "vraag.toml"
    path.write_text(LOOP.replace('next = "a"\n', "").replace('text = "Klaar? Zeg {ja}."',
                                                               'text = "Nog eens? Zeg {ja}."\non_deny = "a"'),
                    encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("nee\nja\n"))
    assert cli.main(["run", str(path), "--text", "--fast"]) == 0, capsys.readouterr()


def test_a_prompt_too_long_is_refused_when_the_exercise_loads(tmp_path, capsys):  # type: ignore[no-untyped-def]
    path = tmp_path / "lang.toml"
    path.write_text(LOOP.replace('next = "a"\n', "").replace('"Twee."', '"' + "bla " * 30000 + '"'), encoding="utf-8")
    assert cli.main(["run", str(path), "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and "step 'b'.text" in line and "120,000 characters" in line


@pytest.mark.parametrize("config,place", [
    ("[timing]\nturn_seconds = -3\n", "timing.turn_seconds"),
    ("timing = 5\n", "timing"),
    ("[timing]\nbeurt = 3\n", "timing.beurt"),
    ('names = "Sanne"\n', "names"),
    ('names = ["Sanne", "Joris"]\n', "names"),
    ("names = 5\n", "names"),
    ("[timing\n", "not valid TOML"),
    ('naam = "Sanne,Joris"\n', "naam"),
    (b"names = '\xff\xfe'\n", "cannot be read"),
])
def test_config_mistakes_name_the_file_and_never_crash(config, place, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    path = paths.config_dir() / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(config if isinstance(config, bytes) else config.encode())
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and place in line, line


BOM = "\ufeff"  # Notepad starts a UTF-8 file with it; nobody can see it


def test_a_config_file_that_starts_with_a_byte_order_mark_is_read(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    from voicecoach.device.config_file import write_setting
    from voicecoach.settings import load_settings

    path = paths.config_dir() / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(BOM + 'names = "Sanne,Joris"\n', encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\nja\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast"]) == 0, capsys.readouterr().err
    assert "Welkom, Sanne en Joris." in capsys.readouterr().out
    write_setting("turns", "remarks", False)  # "geen opmerkingen" keeps what was there
    assert load_settings().names == "Sanne,Joris" and load_settings().turns == {"remarks": False}


def test_a_vocabulary_and_a_script_that_start_with_a_byte_order_mark_are_read(ko_model_path, say, tmp_path,
                                                                             capsys):  # type: ignore[no-untyped-def]
    vocab = tmp_path / "mine.toml"
    vocab.write_text(BOM + KO_VOCAB.read_text(encoding="utf-8"), encoding="utf-8")
    script = tmp_path / "couple.txt"
    script.write_text(BOM + f"{say('네')}\nsilence 1\n", encoding="utf-8")
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(vocab), "--answers", str(script),
                     "--seconds", "4"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert '"intent": "confirm"' in captured.out


MINE = '''name = "mine"

[[steps]]
id = "een"
kind = "confirm"
text = "Vraag een. Zeg {ja}."

[[steps]]
id = "twee"
kind = "confirm"
text = "Vraag twee. Zeg {ja}."
'''


def test_a_custom_exercise_can_be_resumed(typed, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.toml"
    path.write_text(MINE, encoding="utf-8")
    first = typed(["run", str(path)], ["ja"])  # the typing stops at the second question
    assert first.code == 2 and "resume" in first.out
    run = typed(["resume"], ["ja"])
    assert run.code == 0, run.out
    assert run.states[0] == "twee" and "Vraag twee." in run.out
    assert outcomes() == [("mine", "completed")]


def test_a_custom_file_with_a_built_in_name_resumes_itself(typed, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "herstelgesprek.toml"
    path.write_text(MINE.replace('name = "mine"', 'name = "herstelgesprek"'), encoding="utf-8")
    assert typed(["run", str(path)], ["ja"]).code == 2
    run = typed(["resume"], ["ja"])
    assert run.code == 0, run.out
    assert "Vraag twee." in run.out


@pytest.mark.parametrize("damage", ["file gone", "step gone", "not json", "bad state"])
def test_progress_that_cannot_be_continued_is_set_aside_with_one_sentence(damage, typed, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.toml"
    path.write_text(MINE, encoding="utf-8")
    assert typed(["run", str(path)], ["ja"]).code == 2
    db = paths.data_dir() / "journal.sqlite3"
    if damage == "file gone":
        path.unlink()
    elif damage == "step gone":
        path.write_text(MINE.replace('id = "twee"', 'id = "drie"'), encoding="utf-8")
    else:
        conn = sqlite3.connect(db)
        sql = {"not json": "UPDATE progress SET data = '{not json'",
               "bad state": "UPDATE progress SET state = 'nergens__niets'"}[damage]
        conn.execute(sql)
        conn.commit()
        conn.close()
    run = typed(["run", "dagelijks-gesprek"], ["ja", "a", "b", "c", "d"])  # they start something else
    assert run.code == 0, run.out
    assert "cannot be continued" in run.out and "Traceback" not in run.out
    again = typed(["resume"], [])
    assert again.code == 2 and "nothing to continue" in again.out.lower()  # not a loop of failures


def _wav_with_rate(path: Path, rate: int, seconds: float = 1.0) -> Path:
    import struct

    frames = b"\x00\x10" * int(16000 * seconds)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, rate * 2 & 0xFFFFFFFF, 2, 16) + b"data" + struct.pack("<I", len(frames))
    path.write_bytes(header + frames)
    return path


@pytest.mark.parametrize("rate", [0, 1, 100, 3999, 10_000_000])
def test_a_wav_that_lies_about_its_rate_is_one_sentence(rate, ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    wav = _wav_with_rate(tmp_path / "bad.wav", rate, 30.0)
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--mic-file", str(wav), "--seconds", "1"])
    line = _one_line(capsys.readouterr())
    assert code == 2 and str(wav) in line and f"{rate} Hz" in line, line


def _wav_header(fmt: int, width: int, data: bytes, rate: int = 16000) -> bytes:
    import struct

    return b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, fmt, 1, rate, rate * width, width, 8 * width) + b"data" + struct.pack("<I", len(data)) + data


@pytest.mark.parametrize("content,problem", [
    (b"", "empty or cut short"),
    (_wav_header(3, 4, b"\x00\x00\x80\x3e" * 16000), "floating point"),
    (_wav_header(0xFFFE, 2, b"\x00\x10" * 16000), "extended header"),
])
def test_a_wav_voicecoach_cannot_read_says_why_in_words(content, problem, ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    wav = tmp_path / "other.wav"
    wav.write_bytes(content)
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--mic-file", str(wav), "--seconds", "1"])
    line = _one_line(capsys.readouterr())
    assert code == 2 and str(wav) in line and problem in line and "sox" in line, line


def test_a_24_bit_wav_reads_as_its_16_bit_self(tmp_path):  # type: ignore[no-untyped-def]
    import numpy as np

    from voicecoach.audio.pcm import read_wav

    samples = np.array([0, 1, -1, 32767, -32768, 12345, -12345], np.int16)
    low = np.array([0x7F, 0x00, 0xFF, 0x12, 0x80, 0x01, 0xFE], np.uint8)  # below 16 bits: dropped, never carried
    wide = np.stack([low, *samples.view(np.uint8).reshape(-1, 2).T], axis=1).tobytes()
    wav = tmp_path / "24bit.wav"
    wav.write_bytes(_wav_header(1, 3, wide))
    audio = read_wav(wav)
    assert audio.rate == 16000 and audio.samples.tolist() == samples.tolist()


@pytest.mark.parametrize("line,problem", [
    ("silence nan", "silence"), ("silence inf", "silence"), ("silence -1", "silence"), ("silence 1e7", "silence"),
    ("silence", "silence"),
])
def test_bad_silence_lines_name_file_and_line(line, problem, ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    script = tmp_path / "couple.txt"
    script.write_text(f"# the couple\nsilence 1\n{line}\n", encoding="utf-8")
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--answers", str(script),
                     "--seconds", "1"])
    out = _one_line(capsys.readouterr())
    assert code == 2 and f"{script}, line 3" in out and problem in out, out


def test_a_script_that_is_not_utf8_names_file_and_line(ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    script = tmp_path / "couple.txt"
    script.write_bytes(b"silence 1\nsilence 2\nantw\xe9\xff.wav\n")
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--answers", str(script),
                     "--seconds", "1"])
    out = _one_line(capsys.readouterr())
    assert code == 2 and f"{script}, line 3" in out and "UTF-8" in out, out


def test_a_wav_in_a_script_that_lies_names_the_line(ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    _wav_with_rate(tmp_path / "a.wav", 1)
    script = tmp_path / "couple.txt"
    script.write_text("silence 1\na.wav\n", encoding="utf-8")
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--answers", str(script),
                     "--seconds", "1"])
    out = _one_line(capsys.readouterr())
    assert code == 2 and f"{script}, line 2" in out and "1 Hz" in out, out


def test_a_long_scripted_silence_costs_no_memory(tmp_path):  # type: ignore[no-untyped-def]
    import tracemalloc

    from voicecoach.audio.sources import ScriptedCouple, parse_script
    from voicecoach.clock import SimClock

    script = tmp_path / "couple.txt"
    script.write_text("silence 80000\n", encoding="utf-8")
    couple = ScriptedCouple(parse_script(script), SimClock())
    tracemalloc.start()
    couple.begin_listening(0.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000  # 80,000 s of samples would be 2.5 GB


def test_a_recording_named_on_many_lines_is_held_once(tmp_path):  # type: ignore[no-untyped-def]
    """A simulated day names one recording of room noise thousands of times (scripts/bench_wake.py)."""
    import tracemalloc

    import numpy as np

    from voicecoach.audio.pcm import Audio, write_wav
    from voicecoach.audio.sources import parse_script

    write_wav(tmp_path / "room.wav", Audio(np.zeros(16000 * 10, np.int16)))  # 10 s: 320 kB
    script = tmp_path / "day.txt"
    script.write_text("room.wav\n" * 500, encoding="utf-8")
    tracemalloc.start()
    items = parse_script(script)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(items) == 500
    assert held < 5_000_000  # read on every line: 160 MB


@pytest.mark.parametrize("names", ["San\nne,Joris", "A" * 300 + ",Joris", "Sanne,\x1b[2JJoris"])
def test_names_that_cannot_be_said_are_refused_before_anything_starts(names, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """A name is spoken in nearly every prompt: a pasted paragraph would stall the synthesizer every time."""
    monkeypatch.setattr("sys.stdin", io.StringIO("klopt\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--names", names]) == 2
    line = _one_line(capsys.readouterr())
    assert "--names" in line


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_events_file_that_cannot_be_written_is_one_sentence(where, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("x")
    target = tmp_path if where == "a folder" else tmp_path / "notes.txt" / "events.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("klopt\n"))
    code = cli.main(["run", "herstelgesprek", "--text", "--fast", "--events", str(target)])
    line = _one_line(capsys.readouterr())
    assert code == 2 and str(target) in line and "--events" in line, line


class _Ears:
    """A conversation that only keeps what it was asked to say."""

    can_play = False

    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)


def test_a_long_typed_agreement_is_said_back_whole_in_parts():  # type: ignore[no-untyped-def]
    """Typed once (pasted, perhaps), said back every session: never one prompt too long to speak."""
    from datetime import datetime

    from voicecoach import moments
    from voicecoach.engine.exercise import MAX_PROMPT_CHARS
    from voicecoach.engine.texts import Names, Texts
    from voicecoach.journal import Agreement
    from voicecoach.speech.vocab import load_vocabulary

    text = " ".join(f"Zin {n}: we gaan elke avond samen wandelen en praten over de dag." for n in range(200))
    ears = _Ears()
    moments.play_agreement(ears, Texts(load_vocabulary(), Names()), Agreement(1, 1, text, None, datetime.now()))
    assert len(ears.said) > 1 and all(len(part) <= MAX_PROMPT_CHARS for part in ears.said)
    assert " ".join(ears.said) == text


def test_the_journal_speaks_a_long_agreement_in_parts(capsys):  # type: ignore[no-untyped-def]
    from voicecoach.engine.exercise import MAX_PROMPT_CHARS
    from voicecoach.overview import overview

    text = "Wij " + "wandelen en praten elke avond, " * 300 + "en dat is fijn."
    sentence = "Wij kiezen voor " + "rust en humor, " * 200 + "elke dag."
    with Journal() as journal:
        s = journal.start_session("herstelgesprek", ("A", "B"))
        journal.add_agreement(s, text, None)
        journal.set_shared_values(s, ["rust", "humor"], sentence)
        view = overview(journal)
    spoken = [p for p in view.spoken if isinstance(p, str)]
    assert all(len(p) <= MAX_PROMPT_CHARS for p in spoken)
    said = " ".join(spoken).replace(",", "")
    assert text.replace(",", "") in said and sentence.replace(",", "") in said  # every word is still said


@pytest.mark.parametrize("data", ['{"lists": {"1": 5}}', '{"lists": [1, 2]}', '{"consent": "ja"}', '[1, 2]',
                                  '{"names": "Sanne"}', '{"session": "x"}'])
def test_progress_data_of_the_wrong_shape_is_set_aside(data, typed, tmp_path):  # type: ignore[no-untyped-def]
    assert typed(["run", "herstelgesprek"], FIRST_PART[:4]).code == 2
    conn = sqlite3.connect(paths.data_dir() / "journal.sqlite3")
    conn.execute("UPDATE progress SET data = ?", (data,))
    conn.commit()
    conn.close()
    run = typed(["resume"], [])
    assert run.code == 2 and "cannot be continued" in run.out and "Traceback" not in run.out, run.out
    assert "something unexpected" not in run.out


def test_a_huge_exercise_file_is_checked_quickly(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """Thousands of say steps in a row (a generated file): the loop check is linear, not quadratic."""
    from voicecoach.engine.exercise import load_exercise

    steps = "".join(f'[[steps]]\nid = "s{i}"\nkind = "say"\ntext = "Zin {i}."\n\n' for i in range(20000))
    path = tmp_path / "groot.toml"
    path.write_text('name = "groot"\n\n' + steps, encoding="utf-8")
    start = time.monotonic()
    assert len(load_exercise(path).steps) == 20000
    assert time.monotonic() - start < 20  # quadratic: 200 million steps walked



# -- attacks beyond the list (the lead's own adversarial pass) --------------------------------------


def test_an_exercise_nested_thousands_deep_is_a_broken_file_not_a_crash(tmp_path, capsys):  # type: ignore[no-untyped-def]
    """tomllib recurses per bracket: 100,000 of them exhaust Python's stack."""
    path = tmp_path / "diep.toml"
    path.write_text("a = " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert cli.main(["run", str(path), "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and "nested far too deeply" in line
    assert "Fix that file and try again" in line  # their own file: there is no built-in one to fall back to


def test_a_huge_exercise_file_is_refused_unread(tmp_path, capsys):  # type: ignore[no-untyped-def]
    path = tmp_path / "groot.toml"
    path.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    assert cli.main(["run", str(path), "--text", "--fast"]) == 5
    assert "larger than 4 MB" in _one_line(capsys.readouterr())


@pytest.mark.parametrize("kind", ["a pipe nobody writes to", "an endless device"])
def test_an_answers_script_that_is_not_a_file_is_refused_at_once(kind, ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """A pipe would block for ever and /dev/zero would be read until memory runs out."""
    import os

    if kind == "an endless device":
        script = Path("/dev/zero")
    else:
        script = tmp_path / "fifo"
        os.mkfifo(script)
    began = time.monotonic()
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                     "--answers", str(script), "--seconds", "1"])
    line = _one_line(capsys.readouterr())
    assert code == 2 and str(script) in line and "not a regular file" in line, line
    assert time.monotonic() - began < 30


@pytest.mark.timeout(60)
@pytest.mark.parametrize("option", ["--mic-file", "--answers"])
@pytest.mark.parametrize("kind", ["a named pipe", "a folder", "a device"])
def test_a_recording_that_is_not_a_file_is_refused_at_once(option, kind, ko_model_path, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """A pipe as --mic-file, or on a line of an --answers script, was waited on for ever with nothing said."""
    import os

    wav = {"a named pipe": tmp_path / "fifo.wav", "a folder": tmp_path, "a device": Path("/dev/zero")}[kind]
    if kind == "a named pipe":
        os.mkfifo(wav)
    given = wav if option == "--mic-file" else tmp_path / "couple.txt"
    if option == "--answers":
        given.write_text(f"silence 1\n{wav}\n", encoding="utf-8")
    code = cli.main(["listen", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), option, str(given),
                     "--seconds", "1"])
    line = _one_line(capsys.readouterr())
    assert code == 2 and f"{wav} is {kind}, not a WAV file." in line, line
    assert option == "--mic-file" or f"{given}, line 2:" in line


def test_an_events_file_on_a_full_disk_leaves_the_session_running(tmp_path, capsys, caplog, monkeypatch):  # type: ignore[no-untyped-def]
    """/dev/full fails every write with ENOSPC: the events file is a diagnostic, the session is theirs."""
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    code = cli.main(["run", "herstelgesprek", "--text", "--fast", "--events", "/dev/full"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err, captured.err
    assert "events file could not be written" in caplog.text  # on the terminal outside pytest
    assert not (paths.data_dir() / "crash.log").exists()


def test_export_never_replaces_something_that_is_not_a_file(tmp_path, capsys):  # type: ignore[no-untyped-def]
    """As root, an atomic replace onto /dev/null would swap the device for a web page."""
    import os
    import stat

    fifo = tmp_path / "pagina.html"
    os.mkfifo(fifo)
    Journal().close()
    assert cli.main(["journal", "--export", str(fifo)]) == 2
    line = _one_line(capsys.readouterr())
    assert str(fifo) in line and "not a file" in line
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("name", ["notes.txt", "script.sh"])
def test_export_never_overwrites_a_file_that_is_not_an_earlier_export(name, tmp_path, capsys):  # type: ignore[no-untyped-def]
    theirs = tmp_path / name
    theirs.write_text("van ons\n", encoding="utf-8")
    Journal().close()
    assert cli.main(["journal", "--export", str(theirs)]) == 2
    line = _one_line(capsys.readouterr())
    assert str(theirs) in line and "left as it is" in line and "another file name" in line
    assert theirs.read_text(encoding="utf-8") == "van ons\n"
    page = tmp_path / "koelkast.html"
    assert cli.main(["journal", "--export", str(page)]) == 0  # a page of ours is replaced, as before
    assert cli.main(["journal", "--export", str(page)]) == 0


@pytest.mark.parametrize("names", ["{spreker},Joris", "Sanne,Jo<b>ris", "Sanne,@joris"])
def test_names_with_braces_or_symbols_are_refused(names, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("klopt\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--names", names]) == 2
    assert "--names" in _one_line(capsys.readouterr())


@pytest.mark.parametrize("names", ["Sanne,Sanne", " sanne , SANNE ", "Zoë,Zoe\u0308"])
def test_the_same_name_twice_is_refused(names, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """Accepted, it made "Sanne, klopt wat Sanne zei?"."""
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--names", names]) == 2
    line = _one_line(capsys.readouterr())
    assert "--names" in line and "two different names" in line and "twice" in line, line


def test_the_same_name_twice_in_the_config_is_refused(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    path = paths.config_dir() / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('names = "Sanne,sanne"\n', encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and "names" in line and "two different names" in line, line


@pytest.mark.parametrize("names", ["Anne-Marie,D'Angelo", "Zoë,José", "Léa,Øyvind"])
def test_names_as_people_write_them_are_welcome(names, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--names", names]) == 0
    assert names.split(",")[1] in capsys.readouterr().out


def test_a_wrong_option_value_says_to_change_the_option_not_a_file(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--turn-seconds", "-5"]) == 5
    line = _one_line(capsys.readouterr())
    assert "--turn-seconds" in line and "another value" in line and "remove it" not in line


@pytest.mark.parametrize("option,value", [("--turn-seconds", "1e308"), ("--turn-seconds", "3601"),
                                          ("--mirror-seconds", "inf")])
def test_a_turn_that_would_never_end_is_refused(option, value, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """A turn of 1e308 seconds was taken, and never ended."""
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", option, value]) == 5
    line = _one_line(capsys.readouterr())
    assert option in line and "at most 3,600" in line and "another value" in line, line


@pytest.mark.parametrize("options,wrong", [
    (["--turn-seconds", "-5", "--mirror-seconds", "30"], "--turn-seconds"),
    (["--mirror-seconds", "30", "--turn-seconds", "-5"], "--turn-seconds"),
    (["--turn-seconds", "60", "--mirror-seconds", "0"], "--mirror-seconds"),
    (["--mirror-seconds", "0", "--turn-seconds", "60"], "--mirror-seconds"),
])
def test_of_both_turn_lengths_the_wrong_one_is_named(options, wrong, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """With both given, the message blamed --mirror-seconds for a wrong --turn-seconds."""
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", *options]) == 5
    line = _one_line(capsys.readouterr())
    right = ({"--turn-seconds", "--mirror-seconds"} - {wrong}).pop()
    assert f"{wrong}, timing.{wrong[2:].replace('-', '_')}:" in line and f"Give {wrong} another value." in line, line
    assert right not in line and right[2:].replace("-", "_") not in line, line


@pytest.mark.parametrize("option", ["--turn-seconds", "--mirror-seconds"])
@pytest.mark.parametrize("value", ["0", "0.0", "-5"])
def test_a_turn_of_no_time_is_refused(option, value, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """--turn-seconds 0 was taken as not given: the session ran with the default turns."""
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", option, value]) == 5
    line = _one_line(capsys.readouterr())
    assert option in line and "above 0 and at most 3,600" in line and "another value" in line, line


@pytest.mark.parametrize("args,said", [
    (["run", "herstelgesprek", "--rate", "0"], "--rate needs a speaking rate from 80 to 500 words per minute, not 0."),
    (["run", "herstelgesprek", "--rate", "-5"], "from 80 to 500"),
    (["listen", "--seconds", "0"], "--seconds needs a number of seconds above 0, not 0."),
    (["listen", "--seconds", "-1"], "above 0"),
])
def test_a_rate_or_listening_time_of_zero_is_refused(args, said, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """--rate 0 was taken as not given (spoken at 150), and `listen --seconds 0` listened for ever."""
    assert cli.main([*args, "--fast", "--vocab", str(KO_VOCAB), "--mic-file", str(tmp_path / "none.wav")]) == 2
    line = _one_line(capsys.readouterr())
    assert said in line, line


def test_an_hour_long_turn_is_still_welcome(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--turn-seconds", "3600"]) == 0, capsys.readouterr()


@pytest.mark.parametrize("config,place", [
    ("[timing]\nturn_seconds = 1e308\n", "timing.turn_seconds"),
    ("[timing]\npause_minutes = 1e9\n", "timing.pause_minutes"),
])
def test_config_times_beyond_an_hour_or_a_day_are_refused(config, place, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    path = paths.config_dir() / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(config, encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and place in line and "at most" in line, line


def test_a_step_that_would_never_end_is_refused_at_load(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "eindeloos.toml"
    path.write_text(LOOP.replace('next = "a"\n', "").replace('kind = "confirm"', 'kind = "turn"\nseconds = 1e308'),
                    encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    assert cli.main(["run", str(path), "--text", "--fast"]) == 5
    line = _one_line(capsys.readouterr())
    assert str(path) in line and "step 'vraag'.seconds" in line and "at most 3,600" in line, line


@pytest.mark.parametrize("target,code", [("/dev/full", 7), ("/proc/version", 4)])
def test_a_speaker_file_that_cannot_be_written_is_one_sentence_before_anything(target, code, ko_model_path, tmp_path,
                                                                              capsys):  # type: ignore[no-untyped-def]
    """Both open fine (as root) and fail at the first write: the session crashed at its first prompt."""
    script = tmp_path / "stil.txt"
    script.write_text("silence 1\n", encoding="utf-8")
    assert cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                     "--answers", str(script), "--speaker-file", target]) == code
    line = _one_line(capsys.readouterr())
    assert f"The speaker file {target} cannot be written" in line, line
    assert not (paths.data_dir() / "crash.log").exists()


class _FillsUp:
    """A file on a disk that fills up after `room` writes."""

    def __init__(self, file, room: int) -> None:  # type: ignore[no-untyped-def]
        self._file, self._room = file, room

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._file, name)

    def write(self, data: bytes) -> int:
        import errno

        self._room -= 1
        if self._room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self._file.write(data))


def test_a_speaker_file_that_fills_up_mid_session_keeps_the_session(ko_model_path, say, tmp_path, capsys,
                                                                    monkeypatch):  # type: ignore[no-untyped-def]
    import os

    from tests.couple import answers_from, write_script
    from voicecoach.audio import sinks

    class Disk:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(os, name)

        def fdopen(self, fd: int, mode: str) -> _FillsUp:
            return _FillsUp(os.fdopen(fd, mode), room=12)

    monkeypatch.setattr(sinks, "os", Disk())
    common = ["--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--names", "Sanne,Joris"]
    script = write_script(tmp_path / "c.txt", answers_from("welkom", say, tmp_path))
    code = cli.main(["run", "herstelgesprek", *common, "--answers", str(script),
                     "--speaker-file", str(tmp_path / "o.wav")])
    line = _one_line(capsys.readouterr())
    assert code == 7 and "speaker file" in line and "No space left on device" in line, line
    assert outcomes() == [("herstelgesprek", "interrupted")]
    with Journal() as journal:
        assert journal.load_progress() is not None  # `voicecoach resume` goes on from there


@pytest.mark.parametrize("option", ["--export", "--events", "--speaker-file"])
def test_no_output_file_may_be_the_journal(option, ko_model_path, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """`journal --export` onto the journal replaced everything they kept with a web page."""
    with Journal() as journal:
        journal.add_agreement(journal.start_session("herstelgesprek", ("A", "B")), "Samen koken", None)
    target = str(paths.data_dir() / "journal.sqlite3")
    monkeypatch.setattr("sys.stdin", io.StringIO("stop\n"))
    script = tmp_path / "stil.txt"
    script.write_text("silence 1\n", encoding="utf-8")
    by_voice = ["--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--answers", str(script)]
    args = (["journal", "--export", target] if option == "--export"
            else ["run", "herstelgesprek", "--fast", *by_voice, option, target])
    assert cli.main(args) == 2
    line = _one_line(capsys.readouterr())
    assert option in line and "keeps your journal" in line, line
    with Journal() as journal:
        assert [a.text for a in journal.agreements()] == ["Samen koken"]


@pytest.mark.parametrize("change", ["UPDATE agreements SET created_at = 'not a date'",
                                    "UPDATE sessions SET started_at = 'garbage'",
                                    "UPDATE partner_values SET items = '{not json'",
                                    "UPDATE agreements SET text = X'ff00fe' WHERE id = 1"])
def test_a_row_another_program_changed_is_one_sentence_not_a_crash(change, typed, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """Such a journal passes SQLite's integrity check; every command crashed on it, for good."""
    with Journal() as journal:
        s = journal.start_session("waardenkaart", ("A", "B"))
        journal.set_values(s, "A", ["rust"])
        journal.add_agreement(s, "Samen koken", None)
        journal.add_agreement(s, "Samen wandelen", None)
    conn = sqlite3.connect(paths.data_dir() / "journal.sqlite3")
    conn.execute(change)
    conn.commit()
    kept = conn.execute("SELECT * FROM agreements").fetchall()
    assert cli.main(["journal", "--mute"]) == 0
    out = capsys.readouterr()
    assert "Samen wandelen" in out.out and "Traceback" not in out.err and "unexpected" not in out.err
    assert (out.out + out.err).count("could not be read") == 1, out
    assert cli.main(["journal", "--export", str(tmp_path / "pagina.html")]) == 0
    assert "Samen wandelen" in (tmp_path / "pagina.html").read_text("utf-8")
    out = capsys.readouterr()
    assert out.out.startswith("Wrote ") and out.err.count("could not be read") == 1, out
    run = typed(["run", "dagelijks-gesprek"], ["stop"])
    assert run.code == 0 and "unexpected" not in run.out and run.out.count("could not be read") == 1, run.out
    assert conn.execute("SELECT * FROM agreements").fetchall() == kept  # nothing "repaired" away
    conn.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["a named pipe", "a device"])
@pytest.mark.parametrize("store", ["calibration", "voice profile", "consent", "reminder record"])
def test_a_file_voicecoach_keeps_replaced_by_a_pipe_or_device_reads_as_damaged(store, kind):  # type: ignore[no-untyped-def]
    """The small files voicecoach writes itself are read at every start, and by a running serve every half
    minute: a pipe in their place was waited on for ever, a device read until memory ran out."""
    import os

    from voicecoach.device.reminder import read_state, state_path
    from voicecoach.speech import calibration
    from voicecoach.speech.speakers import ProfileError, SpeakerProfile, profile_path
    from voicecoach.turns import consent_path, load_consent

    def voice_profile() -> None:
        with pytest.raises(ProfileError, match="damaged"):
            SpeakerProfile.load(profile_path())

    path, read = {"calibration": (calibration.path(), lambda: calibration.load() is None),
                  "voice profile": (profile_path(), lambda: voice_profile() is None),
                  "consent": (consent_path(), lambda: load_consent() is None),
                  "reminder record": (state_path(), lambda: read_state(state_path()) is None)}[store]
    paths.private_dir(path.parent)
    if kind == "a named pipe":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    began = time.monotonic()
    assert read()
    assert time.monotonic() - began < 5
