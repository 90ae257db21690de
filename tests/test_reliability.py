"""Faults lose nothing: missing or lost devices, a missing model, broken files, kills, noise, overflows."""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tests.conftest import KO_VOCAB, ROOT
from tests.couple import (
    answers_from,
    babble,
    events_of,
    noise,
    other_speech,
    voiced_rms,
    word,
    write_script,
)
from voicecoach import cli
from voicecoach.audio.live import DeviceLost, LiveMic
from voicecoach.audio.pcm import RATE, Audio, read_wav
from voicecoach.audio.sources import Chunk, ScriptedCouple
from voicecoach.clock import SimClock
from voicecoach.errors import DeviceError
from voicecoach.events import EventLog
from voicecoach.journal import Journal
from voicecoach.speech.listener import Listener, ListenSettings
from voicecoach.voice import MIC_BACK, MIC_LOST, MIC_MISSING

ANSWERS = ["confirm", "deny", "repeat", "pause", "resume", "stop", "why", "help"]


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def ko_args(model: Path, *more: str) -> list[str]:
    return ["--fast", "--model", str(model), "--vocab", str(KO_VOCAB), *more]


# -- 1. microphone missing at start --------------------------------------------------


def test_missing_microphone_is_said_and_printed(ko_model_path, tmp_path, capsys):
    out = tmp_path / "voice.wav"
    events = tmp_path / "events.jsonl"
    code = cli.main(["run", "herstelgesprek", *ko_args(ko_model_path), "--device", "no-such-microphone",
                     "--speaker-file", str(out), "--events-words", "--events", str(events)])
    err = capsys.readouterr().err
    assert code == DeviceError.exit_code
    line = one_line(err)
    assert "--text" in line and "microphone" in line.lower()
    # The speaker works: the couple hears it too, in Dutch.
    assert [e["text"] for e in events_of(events) if e["event"] == "prompt"] == [MIC_MISSING]
    assert wav_seconds(out) > 2.0
    assert "tekst" in MIC_MISSING


def test_missing_microphone_and_speaker_is_printed(ko_model_path, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    code = cli.main(["listen", *ko_args(ko_model_path), "--device", "no-such-microphone",
                     "--output-device", "no-such-speaker", "--events-words", "--events", str(events)])
    captured = capsys.readouterr()
    assert code == DeviceError.exit_code
    assert "--text" in one_line(captured.err)
    assert not [e for e in events_of(events) if e["event"] == "prompt"]  # nothing to speak with


# -- 2. microphone lost mid-session ---------------------------------------------------


class FlakyMic:
    """A microphone (a scripted couple) that is unplugged for a while, or loses audio blocks.

    `outages` are (from, to) in clock time: reading inside one raises DeviceLost,
    and start() fails until `to`. `glitches` are times at which a block is lost.
    """

    def __init__(self, inner: Any, clock: SimClock, outages: list[tuple[float, float]] = (),  # type: ignore[assignment]
                 glitches: list[float] = ()) -> None:  # type: ignore[assignment]
        self.inner = inner
        self.clock = clock
        self.rate = inner.rate
        self.outages = list(outages)
        self.glitches = sorted(glitches)
        self.overflows = 0
        self.lost_at: float | None = None
        self.starts: list[float] = []
        self.failed_starts: list[float] = []

    def _outage(self) -> tuple[float, float] | None:
        now = self.clock.now()
        return next(((a, b) for a, b in self.outages if a <= now < b), None)

    def start(self) -> None:
        if self.lost_at is None:  # the first start
            self.starts.append(self.clock.now())
            self.inner.start()
            return
        if self._outage() is not None:
            self.failed_starts.append(self.clock.now())
            raise DeviceError("No microphone found (unplugged).", "Plug it in.")
        self.outages = [w for w in self.outages if w[1] > self.clock.now()]
        self.lost_at = None
        self.starts.append(self.clock.now())

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        self.inner.begin_listening(ignore_until, new_phase)

    def read(self, timeout: float) -> Chunk | None:
        if self.lost_at is not None or self._outage() is not None:
            self.lost_at = self.lost_at if self.lost_at is not None else self.clock.now()
            raise DeviceLost("The microphone stopped working.", "Check its cable or USB plug.")
        chunk = self.inner.read(timeout)
        while self.glitches and chunk is not None and self.glitches[0] <= chunk.t1:
            self.glitches.pop(0)
            self.overflows += 1
        return chunk

    def close(self) -> None:
        return None


def flaky_listener(ko_model, ko_vocab, items, outages=(), glitches=(), settings=None):  # type: ignore[no-untyped-def]
    clock = SimClock()
    audio = [i if isinstance(i, float | Audio) else read_wav(i).to_rate(RATE) for i in items]
    mic = FlakyMic(ScriptedCouple(audio, clock), clock, list(outages), list(glitches))
    mic.start()
    told: list[tuple[str, float]] = []

    def on_outage(what: str) -> float | None:
        told.append((what, clock.now()))
        clock.sleep(2.0)  # as if it spoke the notice
        return clock.now()

    listener = Listener(mic, ko_model.recognizer(RATE), ko_vocab, clock, settings, on_outage=on_outage)
    return clock, mic, listener, told


def test_lost_microphone_is_waited_for_and_the_answer_still_heard(ko_model, ko_vocab, say):
    # Unplugged 0.1 s into the question, before anyone speaks; back 20 s later.
    clock, mic, listener, told = flaky_listener(ko_model, ko_vocab, [say(word("confirm"))], outages=[(0.1, 20.0)])
    heard = listener.listen(ANSWERS, until=clock.now() + 8)
    assert (heard.kind, heard.intent) == ("intent", "confirm"), heard
    assert [w for w, _ in told] == ["lost", "back"]
    # Retried every 3 s on the clock until it came back.
    tries = mic.failed_starts + mic.starts[1:]
    assert len(tries) >= 6 and all(abs((b - a) - 3.0) < 1e-6 for a, b in zip(tries, tries[1:], strict=False))
    assert 20.0 <= heard.lost <= 26.0  # the outage, plus speaking about it: the 8 s window did not run
    assert listener.outages == 1


def test_lost_microphone_freezes_the_deadline(ko_model, ko_vocab):
    clock, mic, listener, _ = flaky_listener(ko_model, ko_vocab, [30.0], outages=[(5.0, 40.0)])
    start = clock.now()
    heard = listener.listen(ANSWERS, until=start + 8)
    assert heard.kind == "silence"
    assert heard.lost >= 35.0
    assert 8.0 + heard.lost <= heard.t - start < 8.0 + heard.lost + 0.1  # 8 s of listening, not counting the outage


def test_half_an_utterance_cut_by_a_lost_microphone_decides_nothing(ko_model, ko_vocab, say, tmp_path):
    # "네, 아니요" (deny) cut after its "네": the half that was heard must not become "confirm".
    assert ko_vocab.phrase_map(["confirm", "deny"]) == {"네": "confirm", "아니요": "deny", "네 아니요": "deny"}
    deny = read_wav(say("네, 아니요"))
    lead = ScriptedCouple([], SimClock()).lead_in
    cut = lead + 0.35
    clock, mic, listener, told = flaky_listener(ko_model, ko_vocab, [say("네, 아니요")], outages=[(cut, cut + 10)])
    heard = listener.listen(ANSWERS, until=clock.now() + 8)
    assert heard.intent != "confirm", heard
    assert deny.seconds > 0.35 and told


def test_microphone_that_never_comes_back_gives_up_with_resume(ko_model, ko_vocab):
    settings = ListenSettings(max_outage=60.0)
    clock, mic, listener, told = flaky_listener(ko_model, ko_vocab, [5.0], outages=[(1.0, 1e9)], settings=settings)
    with pytest.raises(DeviceError) as err:
        listener.listen(ANSWERS, until=clock.now() + 8)
    assert "voicecoach resume" in str(err.value)
    assert 60.0 <= clock.now() < 70.0  # the wait is bounded


def test_session_pauses_for_a_lost_microphone_and_resumes(ko_model_path, say, tmp_path, capsys, monkeypatch):
    """A whole herstelgesprek; the microphone is gone for 40 s during Sanne's first turn."""
    from voicecoach import wiring

    script = answers_from("welkom", say, tmp_path)
    script[6] = "silence 200.0"  # Sanne's first turn (after six yeses by name) runs to its deadline: is its time kept whole?
    made: list[FlakyMic] = []
    original = wiring.make_source

    def flaky_source(args, clock):  # type: ignore[no-untyped-def]
        made.append(FlakyMic(original(args, clock), clock))
        return made[-1]

    monkeypatch.setattr(wiring, "make_source", flaky_source)
    events = tmp_path / "events.jsonl"
    args = ["run", "herstelgesprek", *ko_args(ko_model_path), "--answers", str(write_script(tmp_path / "c.txt", script)),
            "--events-words", "--events", str(events), "--names", "Sanne,Joris"]

    # Unplug 30 s into Sanne's turn: found from a first run's event log (the same script runs the same).
    original_emit = EventLog.emit
    armed: list[bool] = []

    def emit(self, kind, /, **fields):  # type: ignore[no-untyped-def]
        event = original_emit(self, kind, **fields)
        if kind == "turn_started" and not armed:
            armed.append(True)
            now = made[0].clock.now()
            made[0].outages.append((now + 30.0, now + 70.0))
        return event

    monkeypatch.setattr(EventLog, "emit", emit)
    code = cli.main(args)
    captured = capsys.readouterr()
    assert code == 0, captured
    log = events_of(events)
    assert [e["state"] for e in log if e["event"] == "microphone"] == ["lost", "back"]
    prompts = [e["text"] for e in log if e["event"] == "prompt"]
    assert MIC_LOST in prompts and MIC_BACK in prompts
    assert "microphone stopped working" in captured.err and "works again" in captured.err
    first_turn = next(e for e in log if e["event"] == "turn_ended")
    assert first_turn["how"] == "time"
    lost, back = (next(e["t"] for e in log if e.get("state") == s) for s in ("lost", "back"))
    # 120 s of turn with the microphone gone for 40 s in it: the turn still had its 120 s of listening.
    assert back - lost >= 38.0
    assert 120.0 + (back - lost) <= first_turn["seconds"] < 120.0 + (back - lost) + 20.0, first_turn
    assert [e["outcome"] for e in log if e["event"] == "session_ended"] == ["completed"]
    with Journal() as journal:
        assert len(journal.agreements()) == 2 and journal.load_progress() is None


# -- 3. speaker missing ---------------------------------------------------------------


def test_missing_speaker_prints_the_prompts_and_the_session_works(ko_model_path, say, tmp_path, capsys):
    script = write_script(tmp_path / "couple.txt", answers_from("welkom", say, tmp_path))
    code = cli.main(["run", "herstelgesprek", *ko_args(ko_model_path), "--answers", str(script),
                     "--output-device", "no-such-speaker", "--names", "Sanne,Joris"])
    out = capsys.readouterr().out
    assert code == 0, out
    first = out.splitlines()[0]
    assert "speaker" in first.lower() and "printed instead" in first  # one clear notice first
    assert "Eerst iets belangrijks" in out and "Sanne, jij begint" in out  # then the prompts
    with Journal() as journal:
        assert journal.summary().sessions_by_exercise == {"herstelgesprek": 1}


# -- 4. model missing, incomplete or of the wrong kind ----------------------------------


def _model_dir(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "model"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    root.mkdir(exist_ok=True)
    return root


MODELS = {
    "missing": None,
    "empty": {},
    "incomplete": {"am/final.mdl": b"x", "conf/model.conf": b"x"},
    "wrong-kind": {"am/final.mdl": b"x", "conf/model.conf": b"x", "graph/HCLG.fst": b"x"},
    "damaged": {"am/final.mdl": b"not a model", "conf/model.conf": b"--x\n", "graph/HCLr.fst": b"x", "graph/Gr.fst": b"x"},
}


@pytest.mark.parametrize("kind", list(MODELS))
def test_bad_model_is_one_sentence_with_the_fix(kind, tmp_path, capsys):
    files = MODELS[kind]
    model = tmp_path / "nowhere" if files is None else _model_dir(tmp_path, files)
    code = cli.main(["listen", "--fast", "--model", str(model), "--mic-file", str(tmp_path / "x.wav")])
    line = one_line(capsys.readouterr().err)
    assert code == 3
    assert str(model) in line and ("voicecoach setup" in line or "--model" in line), line


def test_no_model_anywhere_names_the_setup_command(tmp_path, capsys, monkeypatch):
    from voicecoach import paths

    monkeypatch.delenv("VOICECOACH_MODEL", raising=False)
    monkeypatch.setattr(paths, "REPO_MODELS", tmp_path / "models")
    code = cli.main(["check", "--fast"])
    line = one_line(capsys.readouterr().err)
    assert code == 3 and "voicecoach setup" in line, line


@pytest.mark.parametrize("kind", ["missing", "wrong-kind", "damaged"])
def test_bad_model_in_a_real_process_has_no_traceback(kind, tmp_path):
    files = MODELS[kind]
    model = tmp_path / "nowhere" if files is None else _model_dir(tmp_path, files)
    proc = subprocess.run([sys.executable, "-m", "voicecoach", "run", "herstelgesprek", "--model", str(model)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "VOICECOACH_HOME": str(tmp_path / "home")})
    assert proc.returncode == 3
    assert "voicecoach setup" in one_line(proc.stderr) or "--model" in proc.stderr
    assert proc.stdout == ""


# -- 5. broken exercise or vocabulary files ---------------------------------------------

GOOD_VOCAB = """language = "ko"

[intents]
confirm = ["네"]
deny = ["아니요", "네 아니요"]
stop = ["멈춰"]
"""

BROKEN_VOCABS = {
    "bad TOML": (GOOD_VOCAB.replace('confirm = ["네"]', 'confirm = ["네"'), "line ", "not valid TOML"),
    "empty phrase": (GOOD_VOCAB.replace('confirm = ["네"]', 'confirm = ["네", "  !? "]'), "intents.confirm[1]",
                     "the phrase is empty"),
    "same phrase twice": (GOOD_VOCAB.replace('stop = ["멈춰"]', 'stop = ["멈춰", "네"]'), "intents.stop",
                          "also used for intent 'confirm'"),
    "no deny": (GOOD_VOCAB.replace('deny = ["아니요", "네 아니요"]', ''), "[intents]", "'deny' is missing"),
    "no phrases": (GOOD_VOCAB.replace('stop = ["멈춰"]', 'stop = []'), "intents.stop", "non-empty list"),
    # It was taken, and every prompt then failed with 'install espeak-ng' (which was installed).
    "a language without a voice": (GOOD_VOCAB.replace('"ko"', '"xx"'), "language", "espeak-ng has no voice for 'xx'"),
}
assert all(text != GOOD_VOCAB for text, _, _ in BROKEN_VOCABS.values())


def _nothing_said(events: Path, voice: Path) -> None:
    assert not [e for e in events_of(events) if e["event"] == "prompt"]
    assert not voice.exists() or wav_seconds(voice) == 0.0


@pytest.mark.parametrize("case", list(BROKEN_VOCABS))
def test_broken_vocabulary_names_file_place_and_problem(case, ko_model_path, tmp_path, capsys):
    text, place, problem = BROKEN_VOCABS[case]
    vocab = tmp_path / "mine.toml"
    vocab.write_text(text, encoding="utf-8")
    events, voice = tmp_path / "events.jsonl", tmp_path / "voice.wav"
    code = cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(vocab),
                     "--answers", str(write_script(tmp_path / "c.txt", [1.0])), "--events-words", "--events", str(events),
                     "--speaker-file", str(voice)])
    line = one_line(capsys.readouterr().err)
    assert code == 5
    assert str(vocab) in line and place in line and problem in line, line
    _nothing_said(events, voice)


def test_values_the_model_knows_none_of_are_named_as_such(ko_model_path, tmp_path, capsys):
    """It said 'has no list of values ... Add `values = [...]` under [lists]' of a file that has one."""
    vocab = tmp_path / "mine.toml"
    text = KO_VOCAB.read_text(encoding="utf-8")
    vocab.write_text(re.sub(r"(?m)^values = .*$", 'values = ["zzzqq", "xxyy"]', text), encoding="utf-8")
    code = cli.main(["run", "waardenkaart", "--fast", "--model", str(ko_model_path), "--vocab", str(vocab),
                     "--answers", str(write_script(tmp_path / "c.txt", [1.0]))])
    err = capsys.readouterr().err
    line = err.splitlines()[-1]  # after the warning that names the values left out
    assert code == 5 and "Traceback" not in err
    assert str(vocab) in line and "lists.values: none of its values are words the speech model knows" in line, line
    assert "Add `values" not in line


def test_a_model_of_another_language_is_said_in_one_short_sentence(ko_model_path, tmp_path, capsys):
    """The Korean model with the built-in Dutch vocabulary said 5,500 characters, and to fix the built-in file."""
    events, voice = tmp_path / "events.jsonl", tmp_path / "voice.wav"
    code = cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--answers",
                     str(write_script(tmp_path / "c.txt", [1.0])), "--events", str(events), "--speaker-file", str(voice)])
    line = one_line(capsys.readouterr().err)
    assert code == 3 and "does not seem to speak Dutch" in line and "voicecoach setup" in line, line
    assert "Fix that file" not in line and len(line) < 400, line
    _nothing_said(events, voice)


EXERCISE = '''name = "mine"
title = "Mijn oefening"

[[steps]]
id = "hallo"
kind = "say"
text = "Hallo samen."

[[steps]]
id = "vraag"
kind = "confirm"
text = "Zijn jullie er klaar voor? Zeg {ja} of {nee}."
'''

BROKEN_EXERCISES = {
    "bad TOML": (EXERCISE.replace('kind = "say"', 'kind = say'), "line 6", "not valid TOML"),
    "unknown step kind": (EXERCISE.replace('kind = "say"', 'kind = "zingen"'), "step 'hallo'.kind",
                          "unknown step kind 'zingen'"),
    "missing prompt": (EXERCISE.replace('text = "Hallo samen."', ''), "step 'hallo'.text", "the text is missing"),
    "empty prompt": (EXERCISE.replace('"Hallo samen."', '"   "'), "step 'hallo'.text", "the text is missing"),
    "no such next step": (EXERCISE.replace('text = "Hallo samen."', 'text = "Hallo."\nnext = "weg"'),
                          "step 'hallo'", "'weg' that does not exist"),
    "bad count": (EXERCISE + '\n[timing]\nmax_rounds = 2.5\n', "timing.max_rounds", "whole number"),
    "endless tries": (EXERCISE + '\n[timing]\nmax_tries = 100000000\n', "timing.max_tries",
                      "expected a whole number from 1 to 10"),
    "negative rounds": (EXERCISE + '\n[timing]\nmax_rounds = -1\n', "timing.max_rounds",
                        "expected a whole number from 1 to 10"),
}


@pytest.mark.parametrize("case", list(BROKEN_EXERCISES))
def test_broken_exercise_file_names_file_place_and_problem(case, ko_model_path, tmp_path, capsys):
    text, place, problem = BROKEN_EXERCISES[case]
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    events, voice = tmp_path / "events.jsonl", tmp_path / "voice.wav"
    code = cli.main(["run", str(path), *ko_args(ko_model_path), "--answers", str(write_script(tmp_path / "c.txt", [1.0])),
                     "--events-words", "--events", str(events), "--speaker-file", str(voice), "--no-journal"])
    line = one_line(capsys.readouterr().err)
    assert code == 5
    assert str(path) in line and place in line and problem in line, line
    _nothing_said(events, voice)


def test_run_accepts_an_exercise_path(ko_model_path, say, tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text(EXERCISE, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    code = cli.main(["run", str(path), *ko_args(ko_model_path), "--answers",
                     str(write_script(tmp_path / "c.txt", [str(say(word("confirm")))])), "--events-words", "--events", str(events)])
    assert code == 0, capsys.readouterr()
    log = events_of(events)
    assert [e["outcome"] for e in log if e["event"] == "session_ended"] == ["completed"]
    assert ("intent", "confirm") in [(e["kind"], e["intent"]) for e in log if e["event"] == "heard"]


# -- 6. Ctrl-C, SIGTERM, a crash or a power cut mid-exercise -------------------------------

KILL_SEED = int(os.environ.get("VOICECOACH_KILL_SEED", time.time_ns() % 1_000_000))


def _voicecoach(args: list[str], home: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "VOICECOACH_HOME": str(home)}
    env.pop("VOICECOACH_MODEL", None)
    with log.open("w") as err:  # a file, not a pipe: a full pipe would block the child
        return subprocess.Popen([sys.executable, "-m", "voicecoach", *args], env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


def _states(events: Path) -> list[str]:
    return [e["state"] for e in events_of(events) if e["event"] == "state"]


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("sig,n", [(signal.SIGTERM, 0), (signal.SIGINT, 1), (signal.SIGKILL, 2), (signal.SIGKILL, 3)],
                         ids=["SIGTERM", "SIGINT", "SIGKILL", "SIGKILL-again"])
def test_killed_mid_exercise_resumes_where_it_was(sig, n, ko_model_path, say, tmp_path):
    rng = random.Random(KILL_SEED * 10 + n)
    home = tmp_path / "home"
    common = ["--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--names", "Sanne,Joris"]
    first_events = tmp_path / "first.jsonl"
    script = write_script(tmp_path / "first.txt", answers_from("welkom", say, tmp_path))
    proc = _voicecoach(["run", "herstelgesprek", *common, "--answers", str(script), "--events-words", "--events", str(first_events)],
                       home, tmp_path / "first.err")
    # A whole session passes through about 30 states: kill somewhere in its middle.
    after = rng.randint(2, 22)
    why = f"seed {KILL_SEED}, signal {sig.name}, after {after} states"
    deadline = time.monotonic() + 60
    try:
        while len(_states(first_events)) < after:
            assert proc.poll() is None, f"finished before it was killed ({why})"
            assert time.monotonic() < deadline, why
            time.sleep(0.003)
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    err = (tmp_path / "first.err").read_text()
    assert "Traceback" not in err, err
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130, (code, err, why)
        assert "bewaard" in err  # one sentence: stopped, and what they did is kept

    db = home / "data" / "journal.sqlite3"
    assert _integrity(db) == "ok", why
    with Journal(db) as journal:
        progress = journal.load_progress()
    assert progress is not None, why
    seen = [s.partition("__")[0] for s in _states(first_events)]
    saved_step = progress.state.partition("__")[0]
    # Saved on entering each step: the step it was in, or (killed between the two) the one before.
    assert saved_step in seen[-2:] or saved_step == seen[-1], (progress, seen[-3:], why)

    second_events = tmp_path / "second.jsonl"
    rest = write_script(tmp_path / "rest.txt", answers_from(saved_step, say, tmp_path, progress.data.get("consent")))
    proc = _voicecoach(["resume", *common, "--answers", str(rest), "--events-words", "--events", str(second_events)],
                       home, tmp_path / "second.err")
    try:
        code = proc.wait(timeout=90)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    err = (tmp_path / "second.err").read_text()
    assert code == 0, (err, why)
    assert _states(second_events)[0] == progress.state, why  # it went on from the saved step
    ended = [e["outcome"] for e in events_of(second_events) if e["event"] == "session_ended"]
    assert ended == ["completed"], why
    assert _integrity(db) == "ok"
    with Journal(db) as journal:
        assert journal.load_progress() is None
        agreements = journal.agreements()
    conn = sqlite3.connect(db)
    try:
        outcomes = [r[0] for r in conn.execute("SELECT outcome FROM sessions ORDER BY id")]
    finally:
        conn.close()
    # Both agreements kept, each once: storing one and moving on is one transaction.
    assert len(agreements) == 2, (agreements, why)
    assert all(a.recording is not None and a.recording.exists() for a in agreements)
    recordings = sorted(p.name for p in (home / "data" / "recordings").iterdir())
    assert recordings == sorted(a.recording.name for a in agreements), why  # and no recording without its row
    assert outcomes == ["completed"], why  # the resumed session is the same session


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.001, 0.003, 0.008])
def test_killed_right_as_an_agreement_is_kept_keeps_it_once(delay, ko_model_path, say, tmp_path):
    """The old "known window": a kill between storing an agreement and saving the next step's progress."""
    home = tmp_path / "home"
    common = ["--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--names", "Sanne,Joris"]
    events = tmp_path / "first.jsonl"
    script = write_script(tmp_path / "first.txt", answers_from("welkom", say, tmp_path))
    proc = _voicecoach(["run", "herstelgesprek", *common, "--answers", str(script), "--events", str(events)],
                       home, tmp_path / "first.err")
    deadline = time.monotonic() + 60
    try:
        while not any(e["event"] == "agreement" for e in events_of(events)):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.0005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    db = home / "data" / "journal.sqlite3"
    with Journal(db) as journal:
        progress = journal.load_progress()
    assert progress is not None
    saved_step = progress.state.partition("__")[0]
    rest = write_script(tmp_path / "rest.txt", answers_from(saved_step, say, tmp_path, progress.data.get("consent")))
    proc = _voicecoach(["resume", *common, "--answers", str(rest)], home, tmp_path / "second.err")
    try:
        assert proc.wait(timeout=90) == 0, (tmp_path / "second.err").read_text()[-2000:]
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with Journal(db) as journal:
        agreements = journal.agreements()
    assert len(agreements) == 2, (saved_step, agreements)
    recordings = sorted(p.name for p in (home / "data" / "recordings").iterdir())
    assert recordings == sorted(a.recording.name for a in agreements if a.recording is not None)


# -- 7. noise, coughs, both talking at once, a television ----------------------------------


class Room:
    """The couple, in a room where `bed` plays all the time (noise, a TV, a café) at `gain`."""

    def __init__(self, inner: ScriptedCouple, bed: np.ndarray, gain: float) -> None:
        self.inner, self.bed, self.gain = inner, bed, gain
        self.rate, self.overflows = inner.rate, 0

    def start(self) -> None:
        self.inner.start()

    def close(self) -> None:
        return None

    def begin_listening(self, ignore_until: float, new_phase: bool = True) -> None:
        self.inner.begin_listening(ignore_until, new_phase)

    def read(self, timeout: float) -> Chunk | None:
        chunk = self.inner.read(timeout)
        if chunk is None:
            return None
        n = len(chunk.samples)
        i = int(round(chunk.t0 * RATE)) % (len(self.bed) - n)
        mixed = chunk.samples.astype(np.float32) + self.gain * self.bed[i:i + n]
        return Chunk(np.clip(mixed, -32768, 32767).astype(np.int16), chunk.t0, chunk.rate)


def cough(seconds: float = 0.25, seed: int = 0) -> np.ndarray:
    """A cough: a loud burst of noise, sharp onset and quick decay (unit peak RMS)."""
    burst = noise("pink", seconds, seed)
    t = np.arange(len(burst)) / RATE
    return burst * np.exp(-t / (seconds / 3)) * np.minimum(1.0, t / 0.01)


@pytest.fixture(scope="module")
def beds(say):  # type: ignore[no-untyped-def]
    return {"white": noise("white", 40, 1), "pink": noise("pink", 40, 2), "babble": babble(say),
            "tv": other_speech(say, "ko+m1", 160)}


# Where the answer is clearly louder than the background (dB), it must still be understood.
# Measured with the Korean test model: at 20 dB a TV or a café mostly gives "unclear" (asked again).
CLEAR = {"white": 40, "pink": 30, "babble": 30, "tv": 40}


@pytest.mark.slow
@pytest.mark.parametrize("bed", ["white", "pink", "babble", "tv"])
def test_noise_is_unclear_never_a_wrong_decision(bed, beds, ko_model, ko_vocab, say):
    answers = [(word(i), i) for i in ("confirm", "deny", "pause", "resume", "why", "repeat")]
    answers += [("네, 아니요", "deny"), ("잠깐 만요", None), ("오늘 날씨가 좋네요", None)]  # None: not an answer
    assert "잠깐" not in ko_vocab.phrase_map(ANSWERS) and ko_vocab.phrase_map(ANSWERS)["네 아니요"] == "deny"
    intents = sorted({i for _, i in answers if i} | {"stop", "help"})
    level = float(np.median([voiced_rms(read_wav(say(w)).samples) for w, _ in answers]))
    wrong, understood = [], {}
    for snr in (CLEAR[bed], 20, 10, 0):
        clock = SimClock()
        items: list[Audio | float] = [12.0] + [read_wav(say(w)) for w, _ in answers]
        room = Room(ScriptedCouple(items, clock), np.roll(beds[bed], snr * 997), level / 10 ** (snr / 20))
        listener = Listener(room, ko_model.recognizer(RATE), ko_vocab, clock)
        heard = listener.listen(intents, clock.now() + 10)  # the background alone first
        if heard.kind == "intent":
            wrong.append((snr, "(background)", heard.intent))
        ok = 0
        for text, intent in answers:
            heard = listener.listen(intents, clock.now() + 8)
            if heard.kind == "intent" and heard.intent != intent:
                wrong.append((snr, text, heard.intent))
            ok += heard.intent == intent and intent is not None
        understood[snr] = ok
    assert not wrong, f"decided what was not said in {bed}: {wrong}"
    # Clearly louder: nearly every answer understood (an unclear one is asked again).
    assert understood[CLEAR[bed]] >= 5, understood


@pytest.mark.parametrize("bed", ["white", "pink"])
def test_the_first_question_in_a_noisy_kitchen_hears_the_noise_as_the_room(bed, beds, ko_model, ko_vocab, say):
    """A fresh listener (the first question of a session) with a fan or a cooker hood on: the noise is the room,
    learned in its first half second, not a long answer nobody gave ("Dat verstond ik niet" to silence); an
    answer said at once is still heard."""
    level = voiced_rms(read_wav(say(word("confirm"))).samples)
    for snr in (10, 20):
        clock = SimClock()
        room = Room(ScriptedCouple([12.0], clock), np.roll(beds[bed], snr * 997), level / 10 ** (snr / 20))
        heard = Listener(room, ko_model.recognizer(RATE), ko_vocab, clock).listen(ANSWERS, clock.now() + 8)
        assert heard.kind == "silence", (snr, heard)
    clock = SimClock()  # 20 dB under the answer (at 10 dB white noise the model misreads it either way)
    items: list[Audio | float] = [Audio.concat([Audio.silence(0.3), read_wav(say(word("confirm")))])]
    room = Room(ScriptedCouple(items, clock, lead_in=0.0), beds[bed], level / 10)
    heard = Listener(room, ko_model.recognizer(RATE), ko_vocab, clock).listen(ANSWERS, clock.now() + 8)
    assert heard.kind in ("intent", "check") and heard.intent == "confirm", heard


@pytest.mark.parametrize("bed", ["white", "pink"])
def test_a_cooker_hood_switched_on_while_listening_is_the_room_not_an_answer(bed, beds, ko_model, ko_vocab, say):
    """A steady sound that starts in a quiet room: until the noise floor catches up it is loud enough to be a
    voice, as long as no answer is; heard as the room, it is not "Dat verstond ik niet" to silence."""
    level = voiced_rms(read_wav(say(word("confirm"))).samples)
    hood = Audio((beds[bed][: 10 * RATE] * level / 10 ** (15 / 20)).astype(np.int16))
    clock = SimClock()
    couple = ScriptedCouple([Audio.concat([Audio.silence(2.0), hood])], clock, lead_in=0.0)
    heard = Listener(couple, ko_model.recognizer(RATE), ko_vocab, clock).listen(ANSWERS, clock.now() + 9)
    assert heard.kind == "silence", heard


@pytest.mark.parametrize("gap", [None, 0.3])
def test_a_cough_decides_nothing(gap, ko_model, ko_vocab, say):
    burst = Audio((cough() * 8000).astype(np.int16))  # louder than the voice
    items: list[Audio | float] = [burst if gap is None else Audio.concat([burst, Audio.silence(gap),
                                                                           read_wav(say(word("confirm")))])]
    clock = SimClock()
    listener = Listener(ScriptedCouple(items, clock), ko_model.recognizer(RATE), ko_vocab, clock)
    heard = listener.listen(ANSWERS, clock.now() + 8)
    if gap is None:
        assert heard.kind in ("silence", "unclear"), heard  # no answer: the question is asked again
        return
    if heard.kind != "intent":  # the cough was an utterance of its own, judged unclear: the answer follows it
        heard = listener.listen(ANSWERS, clock.now() + 8, new_phase=False)
    assert (heard.kind, heard.intent) == ("intent", "confirm"), heard  # heard, and nothing else decided


def test_coughs_in_a_turn_do_not_end_it(ko_model, ko_vocab):
    coughs = Audio.concat([Audio((cough(0.2, k) * 8000).astype(np.int16)) if k % 2 == 0 else Audio.silence(0.7)
                           for k in range(10)])
    clock = SimClock()
    listener = Listener(ScriptedCouple([coughs], clock), ko_model.recognizer(RATE), ko_vocab, clock)
    start = clock.now()
    heard = listener.listen(["done", "pause", "stop"], start + 15, turn=True)
    assert heard.kind == "timer" and heard.t - start >= 15.0


def test_a_quiet_television_does_not_answer_for_them(ko_model, ko_vocab, say):
    # The TV says an answer word, far quieter than the couple spoke before: not theirs.
    tv = Audio.concat([read_wav(say(word("confirm"), "ko+m1", 160)), Audio.silence(0.5)])
    quiet = Audio((tv.samples.astype(np.float32) * 0.05).astype(np.int16))  # -26 dB
    clock = SimClock()
    items: list[Audio | float] = [read_wav(say(word("deny"))), quiet]
    listener = Listener(ScriptedCouple(items, clock), ko_model.recognizer(RATE), ko_vocab, clock)
    assert listener.listen(ANSWERS, clock.now() + 8).intent == "deny"
    heard = listener.listen(ANSWERS, clock.now() + 8)
    assert heard.kind == "silence", heard


# -- 8. input overflows and a slow machine ------------------------------------------------


def test_audio_lost_inside_an_answer_decides_nothing(ko_model, ko_vocab, say):
    # A block is lost in the middle of "네, 아니요": what is left might read as "네" (confirm).
    lead = ScriptedCouple([], SimClock()).lead_in
    clock, mic, listener, _ = flaky_listener(ko_model, ko_vocab, [say("네, 아니요"), say(word("confirm"))],
                                             glitches=[lead + 0.3])
    heard = listener.listen(ANSWERS, until=clock.now() + 8)
    assert (heard.kind, heard.reason) == ("unclear", "audio lost"), heard
    assert listener.discarded == 1
    # The stream recovers: the next answer is heard as usual.
    heard = listener.listen(ANSWERS, until=clock.now() + 8)
    assert heard.intent == "confirm", heard


def test_audio_lost_in_a_turn_does_not_end_it(ko_model, ko_vocab, say, tmp_path):
    done = read_wav(say(word("done")))
    clock, mic, listener, _ = flaky_listener(ko_model, ko_vocab, [Audio.concat([Audio.silence(2.0), done])],
                                             glitches=[2.5])
    start = clock.now()
    heard = listener.listen(["done"], until=start + 10, turn=True)
    assert heard.kind == "timer", heard  # the done word with a hole in it is not taken


class FakeStream:
    """What sounddevice gives LiveMic: a stream that can stop (a lost device)."""

    def __init__(self, callback: Any, **kw: Any) -> None:
        self.callback, self.active, self.closed = callback, False, False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


class FakeSounddevice:
    def __init__(self) -> None:
        self.streams: list[FakeStream] = []
        self.plugged = True

    def query_devices(self, device: Any, kind: str) -> dict[str, Any]:
        if not self.plugged:
            raise ValueError("No input device matching 'usb'")
        return {"default_samplerate": RATE}

    def RawInputStream(self, **kw: Any) -> FakeStream:  # noqa: N802 - sounddevice's name
        self.streams.append(FakeStream(**kw))
        return self.streams[-1]


@pytest.fixture
def portaudio(monkeypatch):  # type: ignore[no-untyped-def]
    from voicecoach.audio import live

    fake = FakeSounddevice()
    monkeypatch.setattr(live, "_sounddevice", lambda: fake)
    return fake


def _block(value: int = 1000) -> bytes:
    return np.full(int(RATE * 0.02), value, "<i2").tobytes()


def test_live_mic_counts_overflows_and_drops_and_logs_them(portaudio, caplog):
    clock = SimClock()
    mic = LiveMic(clock)
    mic.start()
    callback = portaudio.streams[0].callback
    callback(_block(), 320, None, SimpleNamespace(input_overflow=True))
    for _ in range(505):  # a stalled reader while we listen: the queue (10 s) fills up
        clock.sleep(0.02)
        callback(_block(), 320, None, None)
    with caplog.at_level("WARNING"):
        assert mic.read(0.1) is not None
    assert mic.overflows == 1 + 6 and mic.dropped == 6  # counted when read: they were audio we listened to
    assert "audio was lost 7 time(s)" in caplog.text


def test_live_mic_reports_a_lost_device_and_restarts_cleanly(portaudio):
    clock = SimClock()
    mic = LiveMic(clock)
    mic.start()
    first = portaudio.streams[0]
    first.callback(_block(), 320, None, None)
    first.active = False  # PortAudio stopped the stream: the device is gone
    assert mic.read(0.01) is not None  # what came before is still delivered
    with pytest.raises(DeviceLost):
        mic.read(0.01)
    portaudio.plugged = False
    mic.close()
    with pytest.raises(DeviceError):
        mic.start()
    portaudio.plugged = True
    first.callback(_block(), 320, None, None)  # stale audio from before the loss...
    mic.start()
    assert first.closed and len(portaudio.streams) == 2
    with pytest.raises(queue.Empty):
        mic._queue.get_nowait()  # ...is not mistaken for new audio


def test_live_mic_that_goes_silent_counts_as_lost(portaudio):
    clock = SimClock()
    mic = LiveMic(clock)
    mic.start()
    clock.sleep(LiveMic.FIRST_AUDIO_SECONDS - 1)
    assert mic.read(0.01) is None  # no audio yet: a sound server may take seconds to start
    portaudio.streams[0].callback(_block(), 320, None, None)
    assert mic.read(0.01) is not None
    clock.sleep(LiveMic.STALL_SECONDS - 1)
    assert mic.read(0.01) is None  # a short gap is not a lost device
    clock.sleep(1.1)
    with pytest.raises(DeviceLost):
        mic.read(0.01)  # an "active" stream that sends nothing: an unplugged USB microphone
