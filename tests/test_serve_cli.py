"""`voicecoach serve` and `voicecoach service` from the command line; serve through the real PulseAudio
devices, woken by a wake phrase played into the microphone."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import KO_VOCAB, ROOT
from tests.test_service import home, systemctl  # noqa: F401 - fixtures
from voicecoach.audio.pcm import Audio, read_wav, write_wav
from voicecoach.cli import main
from voicecoach.device import service as unit
from voicecoach.environment import Environment

WAKE = "다시 계속"  # tests/data/ko-device.toml (chosen on tuning voices: 14 of 16 heard)


def run(args: list[str]) -> tuple[int, str, str]:
    env = Environment(io.StringIO(""), io.StringIO(), io.StringIO())
    status = main(args, env)
    return int(status), env.stdout.getvalue(), env.stderr.getvalue()  # type: ignore[attr-defined]


def test_serve_wakes_on_the_phrase_in_a_recording_and_waits_again(ko_model_path: Path, say: Any,
                                                                  tmp_path: Path) -> None:
    mic = tmp_path / "kitchen.wav"
    write_wav(mic, Audio.concat([Audio.silence(2.0), read_wav(say(WAKE, voice="ko+f2")), Audio.silence(70.0)]))
    status, out, err = run(["serve", "--fast", "--no-button", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                            "--mic-file", str(mic)])
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Listening for \u201c{WAKE}\u201d."
    woke = lines.index("Woken by voice.")
    assert lines[woke + 1] == "The session ended (left)."  # nobody chose from the menu: back to waiting
    assert lines[woke + 2].startswith("Listening for")
    assert lines[-1] == "voicecoach stopped listening."


def test_serve_with_a_vocabulary_whose_wake_phrase_the_model_lacks_is_one_sentence(ko_model_path: Path,
                                                                                   tmp_path: Path) -> None:
    vocab = tmp_path / "mine.toml"
    own = 'confirm = ["네"]\nwake = ["hallo coach"]\nquiet = ["네 조용히"]\nnot_today = ["왜"]'
    vocab.write_text(KO_VOCAB.read_text(encoding="utf-8").replace('confirm = ["네"]', own), encoding="utf-8")
    status, out, err = run(["serve", "--fast", "--no-button", "--model", str(ko_model_path), "--vocab", str(vocab),
                            "--mic-file", str(tmp_path / "none.wav")])
    assert status == 5, err
    assert "does not know the word(s) coach, hallo" in err and "Traceback" not in err


def test_service_install_and_remove_from_the_command_line(home: Path, systemctl: Path) -> None:  # noqa: F811
    status, out, _ = run(["service", "install", "--", "--device", "Jabra"])
    assert status == 0
    path = home / "config" / "systemd" / "user" / unit.UNIT
    text = path.read_text(encoding="utf-8")
    assert "-m voicecoach serve --device Jabra" in text and "RestartPreventExitStatus=" in text
    assert out.splitlines()[0] == f"Wrote {path}."
    assert systemctl.read_text().splitlines()[:2] == ["systemctl --user daemon-reload",
                                                      f"systemctl --user enable --now {unit.UNIT}"]
    status, out, _ = run(["service", "remove"])
    assert status == 0 and not path.exists() and "what you did and agreed is kept" in out


def test_service_install_and_remove_system_after_the_action_as_the_readme_says(
        home: Path, systemctl: Path, monkeypatch: Any) -> None:  # noqa: F811
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # as under sudo
    monkeypatch.setattr(unit, "SYSTEM_UNIT_DIR", home / "etc-systemd-system")
    monkeypatch.setattr(unit, "_check_reachable", lambda command: None)  # wherever the checkout lies
    path = home / "etc-systemd-system" / unit.UNIT
    for args in (["service", "install", "--system"], ["service", "install", "--system", "--", "--device", "Jabra"],
                 ["service", "--system", "install", "--", "--device", "Jabra"]):
        status, _, err = run(args)
        assert status == 0, err
        text = path.read_text(encoding="utf-8")
        assert "DynamicUser=yes" in text and "--system" not in text, args
        assert text.count("-m voicecoach serve" + (" --device Jabra\n" if "Jabra" in args else "\n")) == 1, args
        assert not (home / "config" / "systemd").exists()  # no user unit
    status, out, err = run(["service", "remove", "--system"])
    assert status == 0 and not path.exists() and "what you did and agreed is kept" in out, err
    assert systemctl.read_text().splitlines()[-2:] == [f"systemctl disable --now {unit.UNIT}", "systemctl daemon-reload"]


def test_serve_options_serve_would_refuse_are_not_installed(home: Path, systemctl: Path) -> None:  # noqa: F811
    for args, said in ((["--", "--bogus"], "--bogus"), (["--", "--device"], "expected one argument"),
                       (["--", "--device", "Jabra", "--system"], "before --")):
        status, _, err = run(["service", "install", *args])
        assert status == 2 and said in err and err.count("\n") == 1, err
    assert not (home / "config" / "systemd").exists() and systemctl.read_text() == ""


def test_service_install_and_remove_help_is_printed_and_nothing_installed(home: Path, systemctl: Path) -> None:  # noqa: F811
    for args in (["install", "-h"], ["remove", "-h"], ["install", "--help"], ["install", "--system", "-h"],
                 ["install", "--device", "Jabra", "-h"]):
        status, out, err = run(["service", *args])
        assert status == 0 and err == "", (args, err)
        assert out.startswith("usage: voicecoach service") and "--system" in out, args
    assert not (home / "config" / "systemd").exists() and systemctl.read_text() == ""


def test_installing_the_system_service_without_root_is_one_sentence(home: Path, systemctl: Path) -> None:  # noqa: F811
    if os.geteuid() == 0:
        return  # CI runs as root: the system service is installed there (tests/test_service.py)
    status, _, err = run(["service", "install", "--system"])
    assert status == 2 and "needs root" in err


def test_serve_through_the_sound_server_wakes_on_a_played_phrase(pulse: dict[str, str], ko_model_path: Path,
                                                                 say: Any, tmp_path: Path) -> None:
    env = {**pulse, "VOICECOACH_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "serve", "--no-button", "--model", str(ko_model_path),
                             "--vocab", str(KO_VOCAB)], env=env, cwd=ROOT, text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.rstrip("\n")) for x in proc.stdout or []], daemon=True).start()

    def wait_for(start: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line.startswith(start):
                return line
        told = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        raise AssertionError(f"no line starting {start!r} in {seconds} s; stderr: {told}")

    try:
        wait_for("Listening for", 120)
        time.sleep(1.5)  # the room's noise floor settles
        subprocess.run(["paplay", "--device=micfeed", str(say(WAKE, voice="ko+f2"))], env=pulse, check=True, timeout=30)
        wait_for("Woken by voice", 20)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130 and "Traceback" not in err


def test_waiting_sends_nothing_and_keeps_nothing_of_what_it_heard(ko_model_path: Path, say: Any, tmp_path: Path) -> None:
    from tests.couple import events_of
    from tests.test_privacy import HANGUL, NO_NETWORK

    vc_home, events, mic = tmp_path / "home", tmp_path / "events.jsonl", tmp_path / "kitchen.wav"
    talk = read_wav(say("오늘 날씨 정말 좋아요 우리 집에 가요 계속 이야기해요", voice="ko+m3"))
    write_wav(mic, Audio.concat([Audio.silence(1.0), talk, Audio.silence(2.0), read_wav(say(WAKE, voice="ko+f2")),
                                 Audio.silence(70.0)]))
    env = {**os.environ, "VOICECOACH_HOME": str(vc_home)}
    proc = subprocess.run([sys.executable, "-c", NO_NETWORK, "-vv", "serve", "--fast", "--no-button", "--model",
                           str(ko_model_path), "--vocab", str(KO_VOCAB), "--mic-file", str(mic), "--events", str(events)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "network attempts: 0" in proc.stderr and "Woken by voice." in proc.stdout
    assert "DEBUG" in proc.stderr and not HANGUL.search(proc.stderr), HANGUL.findall(proc.stderr)[:10]
    # The events file starts with the greeting: nothing of the waiting before it.
    assert events_of(events)[0]["event"] == "prompt"
    kept = sorted(str(p.relative_to(vc_home)) for p in vc_home.rglob("*") if p.is_file())
    assert not [k for k in kept if not k.startswith(("cache/prompts/", "data/journal", "data/reminder.json", "data/."))
                and not k.endswith(".lock")], kept


def test_without_a_speaker_serve_prints_what_it_would_say(ko_model_path: Path, say: Any, tmp_path: Path) -> None:
    mic = tmp_path / "kitchen.wav"
    write_wav(mic, Audio.concat([Audio.silence(2.0), read_wav(say(WAKE, voice="ko+f2")), Audio.silence(70.0)]))
    status, out, err = run(["serve", "--fast", "--no-button", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                            "--mic-file", str(mic), "--output-device", "no-such-speaker-anywhere"])
    assert status == 0, err
    lines = out.splitlines()
    assert "The prompts are printed instead" in lines[0]
    woke = lines.index("Woken by voice.")
    assert lines[woke + 1] == "안녕하세요."  # the greeting (tests/data/ko-device.toml), printed for the journal
