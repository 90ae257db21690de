"""Soak: two hours of listening and an hour-long session, in --fast time: flat memory, no leaks, all kept."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import KO_VOCAB
from tests.couple import answers_from, events_of, noise, word, write_script
from voicecoach import cli, paths
from voicecoach.audio.pcm import RATE, Audio, read_wav
from voicecoach.audio.sources import ScriptedCouple
from voicecoach.clock import SimClock
from voicecoach.speech.listener import Listener

pytestmark = pytest.mark.slow

ANSWERS = ["confirm", "deny", "pause", "resume", "why", "repeat", "stop"]


def rss_mb() -> float:
    """Resident memory of this process now (not its peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _audio_objects() -> list[object]:
    from voicecoach.audio import live

    gc.collect()
    return [o for o in gc.get_objects() if type(o) in (live.LiveMic, live.LiveSpeaker)]  # type(): no weakref deref


def test_two_hours_of_answers_silences_and_noise(ko_model, ko_vocab, say):
    words = {i: read_wav(say(word(i))) for i in ANSWERS if i != "stop"}
    speech = read_wav(say("오늘은 정말 바쁜 하루였어요 그리고 내일도 바빠요"))
    cough = Audio((noise("pink", 0.25, 3) * np.exp(-np.arange(4000) / 1300) * 8000).astype(np.int16))
    # One round: nine answers, two silences, a cough, someone talking, a quiet minute in a
    # turn. Repeated: over 2 hours (answers cost the time; silence is cheap in --fast time).
    cycle: list[tuple[Audio | float, str]] = [(words[i], i) for i in words] + [
        (9.0, "silence"), (words["confirm"], "confirm"), (cough, "cough"), (9.0, "silence"),
        (words["deny"], "deny"), (speech, "talk"), (words["pause"], "pause"), (50.0, "turn")]
    rounds = 110
    script = cycle * rounds
    clock = SimClock()
    couple = ScriptedCouple([a for a, _ in script], clock)
    listener = Listener(couple, ko_model.recognizer(RATE), ko_vocab, clock)
    threads = {t.ident for t in threading.enumerate()}
    results: list[tuple[str, str | None]] = []
    started = time.monotonic()
    base = None
    for n, (_, expected) in enumerate(script):
        if n == len(cycle) * 20:  # after warming up: caches, the recognizer's grammars
            gc.collect()
            base = rss_mb()
        turn = expected == "turn"
        heard = listener.listen(ANSWERS, clock.now() + (45 if turn else 8), turn=turn)
        results.append((heard.kind, heard.intent))
    seconds = time.monotonic() - started
    gc.collect()
    growth = rss_mb() - (base or 0.0)
    print(f"soak: {len(script)} turns, {clock.now() / 3600:.2f} h of audio in {seconds:.1f} s; RSS growth {growth:.1f} MB")

    assert clock.now() >= 2 * 3600
    assert couple.remaining == 0
    wrong = [(n, e, r) for n, ((_, e), r) in enumerate(zip(script, results, strict=False))
             if (e in words and r != ("intent", e)) or (e in ("silence", "cough") and r != ("silence", None))
             or (e == "talk" and r[0] != "unclear") or (e == "turn" and r != ("timer", None))]
    assert not wrong, wrong[:10]  # every answer heard, every silence and cough a silence, talk unclear
    assert growth < 16.0, f"memory grew {growth:.1f} MB over {len(script)} turns"
    # none left behind (a thread an earlier test left may end meanwhile: that is not ours)
    assert {t.ident for t in threading.enumerate()} - threads == set()
    assert listener.outages == 0 and listener.discarded == 0


def test_an_hour_long_session_with_a_long_pause(ko_model_path, say, tmp_path, capsys):
    script: list[str | float] = list(answers_from("welkom", say, tmp_path))
    # Sanne pauses her first turn and they come back 55 minutes later (a pause ends itself at 60).
    script[1:1] = [str(say(word("pause"))), *[65.0] * 55, str(say(word("resume")))]
    events = tmp_path / "events.jsonl"
    args = ["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
            "--answers", str(write_script(tmp_path / "couple.txt", script)), "--events-words", "--events", str(events),
            "--names", "Sanne,Joris"]
    from voicecoach.wiring import load_model

    cli.main(["list"])  # imports, first-use work and the model (kept per process) don't count as leaks
    load_model(str(ko_model_path))
    threads = sorted(t.name for t in threading.enumerate())
    gc.collect()
    before = rss_mb()
    started = time.monotonic()
    assert cli.main(args) == 0, capsys.readouterr()
    seconds = time.monotonic() - started
    gc.collect()
    log = events_of(events)
    print(f"session: {log[-1]['t'] / 3600:.2f} h in {seconds:.1f} s; RSS {rss_mb() - before:+.1f} MB")

    assert log[-1]["t"] >= 55 * 60
    kinds = [e["event"] for e in log]
    assert kinds.count("paused") == 1 and kinds.count("resumed") == 1
    assert [e["outcome"] for e in log if e["event"] == "session_ended"] == ["completed"]
    assert sorted(t.name for t in threading.enumerate()) == threads  # the synthesizer's thread ended too
    assert _audio_objects() == []
    db = paths.data_dir() / "journal.sqlite3"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT exercise, outcome FROM sessions").fetchall() == [("herstelgesprek", "completed")]
        turns = conn.execute("SELECT step, speaker FROM turns ORDER BY id").fetchall()
        agreements = conn.execute("SELECT text, recording FROM agreements ORDER BY id").fetchall()
        steps = [r[0] for r in conn.execute("SELECT step FROM steps ORDER BY id")]
        progress = conn.execute("SELECT COUNT(*) FROM progress").fetchone()[0]
    finally:
        conn.close()
    # The journal matches the script: four mirrored turns, two proposals with their mirrors, two agreements.
    assert [t[0] for t in turns] == ["spiegel_een"] * 2 + ["spiegel_twee"] * 2 + ["afspraak_een"] * 2 + \
        ["afspraak_twee"] * 2
    assert [t[1] for t in turns] == ["Sanne", "Joris", "Joris", "Sanne", "Sanne", "Joris", "Joris", "Sanne"]
    assert len(agreements) == 2 and all(rec and Path(paths.data_dir() / "recordings" / rec).exists()
                                        for _, rec in agreements)
    assert steps[:5] == ["welkom", "samen", "kalm", "regels", "regels_goed"] and progress == 0
