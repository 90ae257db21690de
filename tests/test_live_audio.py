"""The real audio path: PulseAudio null sinks, sounddevice, the real Vosk engine."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import KO_VOCAB

pytestmark = pytest.mark.audio


def voicecoach(args: list[str], env: dict[str, str], **kw):  # type: ignore[no-untyped-def]
    return subprocess.Popen([sys.executable, "-m", "voicecoach", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def play_into_mic(path, env) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["paplay", "--device=micfeed", str(path)], env=env, check=True, timeout=30)


def test_listen_hears_confirm_then_deny_through_the_microphone(pulse, ko_model_path, say):
    env = {**pulse, "VOICECOACH_MODEL": str(ko_model_path)}
    proc = voicecoach(["listen", "--vocab", str(KO_VOCAB), "--seconds", "12"], env)
    try:
        ready = proc.stderr.readline()  # printed once the microphone is open
        assert ready.startswith("Listening"), ready
        time.sleep(0.5)
        play_into_mic(say("네"), env)
        time.sleep(1.0)
        play_into_mic(say("아니요"), env)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    decisions = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert proc.returncode == 0, err
    assert [d["intent"] for d in decisions] == ["confirm", "deny"], (decisions, err)
    assert decisions[0]["t"] < decisions[1]["t"]
    assert all(0 < d["latency"] < 1.0 for d in decisions)


def test_own_voice_routed_into_the_microphone_decides_nothing(pulse, ko_model_path):
    # voicecoach's speaker is the microphone's sink: it hears itself say "... 네."
    env = {**pulse, "VOICECOACH_MODEL": str(ko_model_path), "PULSE_SINK": "micfeed"}
    proc = voicecoach(["check", "--vocab", str(KO_VOCAB)], env)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 1, (out, err)  # the calibration fails: nobody answered, only our own voice
    assert "Nothing was understood" in out, (out, err)


def test_missing_microphone_is_one_sentence_with_the_fix(pulse, ko_model_path):
    env = {**pulse, "VOICECOACH_MODEL": str(ko_model_path)}
    proc = voicecoach(["listen", "--vocab", str(KO_VOCAB), "--device", "no-such-microphone", "--seconds", "1"], env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 4
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "--text" in lines[0], err


def test_alsa_messages_stay_out_of_the_terminal(pulse):
    """A speaker left idle between prompts underruns; alsa-lib's own "underrun occurred" lines
    would stand beside our one-sentence messages. They go to the debug log instead."""
    script = (
        "import time\n"
        "from voicecoach.audio.live import LiveSpeaker\n"
        "from voicecoach.audio.pcm import chime\n"
        "from voicecoach.clock import RealClock\n"
        "speaker = LiveSpeaker(RealClock())\n"
        "for _ in range(4):\n"
        "    speaker.play(chime('turn'))\n"
        "    time.sleep(0.4)\n"
        "speaker.close()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env=pulse, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "ALSA lib" not in proc.stderr, proc.stderr
