"""Ctrl-C, SIGTERM and SIGHUP at any moment: one line, exit code 130, never a traceback (issue 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import KO_VOCAB, ROOT
from voicecoach.journal import Journal


def _run_until(args: list[str], marker: str, home: Path, log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "VOICECOACH_HOME": str(home)}
    env.pop("VOICECOACH_MODEL", None)
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "-v", *args], env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 60
    while marker not in log.read_text():
        assert proc.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.002)
    return proc


LOADING = "Using the speech model"  # logged just before Vosk loads it (about 1.3 s here)


@pytest.mark.parametrize("sig,twice,marker,after", [
    (signal.SIGINT, False, LOADING, 0.5),   # inside Vosk's model loading
    (signal.SIGINT, False, LOADING, 0.9),
    (signal.SIGTERM, False, LOADING, 0.7),
    (signal.SIGINT, True, LOADING, 0.6),
    (signal.SIGINT, True, "session 1 started", 0.0),         # twice, mid-exercise
    (signal.SIGTERM, True, "session 1 started", 0.0),
], ids=["int-loading", "int-loading-late", "term-loading", "int-twice-loading", "int-twice", "term-twice"])
def test_a_stop_at_any_moment_is_one_line_and_130(sig, twice, marker, after, ko_model_path, tmp_path):  # type: ignore[no-untyped-def]
    script = tmp_path / "s.txt"
    script.write_text("silence 1000\n")
    log = tmp_path / "err.txt"
    proc = _run_until(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                       "--answers", str(script), "--speaker-file", str(tmp_path / "o.wav")], marker, tmp_path / "h", log)
    time.sleep(after)
    proc.send_signal(sig)
    if twice:
        time.sleep(0.005)
        proc.send_signal(sig)
    code = proc.wait(timeout=60)
    err = log.read_text()
    said = [line for line in err.splitlines() if line.strip() and not line.startswith(("INFO", "WARNING"))]
    assert code == 130, err[-2000:]
    assert said == ["voicecoach: gestopt. Wat jullie deden is bewaard."], said


def test_sighup_is_a_stop_too(ko_model_path, tmp_path):  # type: ignore[no-untyped-def]
    """The terminal closed (an ssh session dropped): an orderly stop, as with Ctrl-C."""
    script = tmp_path / "s.txt"
    script.write_text("silence 1000\n")
    log = tmp_path / "err.txt"
    proc = _run_until(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                       "--answers", str(script), "--speaker-file", str(tmp_path / "o.wav")], "session 1 started",
                      tmp_path / "h", log)
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=60) == 130, log.read_text()[-2000:]
    with Journal(tmp_path / "h" / "data" / "journal.sqlite3") as journal:
        assert [o for _, _, o in journal.outcomes()] == ["interrupted"]


def test_a_second_signal_after_main_returned_still_ends_with_130(tmp_path):  # type: ignore[no-untyped-def]
    """The window between the tidy stop and the process's end: a late SIGTERM must not turn 130 into -15."""
    code = """
import os, signal, sys
from voicecoach import cli
from voicecoach.engine import exercise
def stop():
    raise KeyboardInterrupt
exercise.available = stop
rc = cli.main(["list"])
os.kill(os.getpid(), signal.SIGTERM)  # late, after main() returned
sys.exit(rc)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "VOICECOACH_HOME": str(tmp_path / "h"), "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 130, proc
    assert [line for line in proc.stderr.splitlines() if line.strip()] == [
        "voicecoach: gestopt. Wat jullie deden is bewaard."]

