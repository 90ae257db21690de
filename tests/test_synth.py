"""Speech synthesis that recovers: the real pyttsx3 worker process, with faults put into it, the
espeak-ng program as the second way, a prompt cache that checks what it reads, and never silence."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import time
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import ROOT
from voicecoach import paths
from voicecoach.audio.pcm import Audio, chime, read_wav
from voicecoach.audio.sinks import WavSpeaker
from voicecoach.clock import SimClock
from voicecoach.events import EventLog
from voicecoach.speech.render import has_voice
from voicecoach.speech.synth import Pyttsx3Synth, SynthError, VoiceSettings, implausible, pieces
from voicecoach.voice import VoiceConversation

SAFETY = ("Eerst iets belangrijks, voor jullie allebei. Deze oefeningen zijn niet bedoeld voor een relatie "
          "met geweld, dreiging of controle. Bel dan Veilig Thuis.")
FAKE = str(Path(__file__).resolve().parent / "fake_tts_worker.py")


@pytest.fixture(autouse=True)
def _needs_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/system-packages)")


def faulty(mode: str, state: Path, **kw):  # type: ignore[no-untyped-def]
    """A synthesizer whose pyttsx3 worker has the fault `mode` (see tests/fake_tts_worker.py)."""
    settings = kw.pop("settings", VoiceSettings(timeout=3.0))
    return Pyttsx3Synth(settings, worker=[sys.executable, FAKE, mode, str(state)], **kw)


def workers(state: Path) -> list[int]:
    return [int(p.name) for p in state.iterdir()] if state.exists() else []


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def assert_speaks(audio: Audio, text: str) -> None:
    assert implausible(text, audio) is None
    assert audio.seconds > 0.06 * sum(c.isalnum() for c in text)  # not a blip: most of the text


# -- the real worker -------------------------------------------------------------------------


def test_a_prompt_is_rendered_in_a_worker_checked_and_kept_owner_only(capfd):
    folder = paths.cache_dir() / "prompts"
    synth = Pyttsx3Synth(cache_dir=folder)
    try:
        audio = synth.render(SAFETY)
        assert_speaks(audio, SAFETY)
        assert synth.routes[0]._proc is not None  # by pyttsx3, in its own process
        kept = list(folder.glob("*.wav"))
        assert len(kept) == 1
        assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert list(folder.glob("*.tmp")) == []
    finally:
        synth.close()
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # pyttsx3's "Audio saved to ..." stays in the worker
    assert list((paths.cache_dir() / "tts-tmp").iterdir()) == []  # no temporary file left


def test_rendering_leaves_the_programs_own_output_alone(capsys):
    """Other threads keep printing while a prompt renders (a process-wide redirect swallowed that)."""
    import threading

    synth = Pyttsx3Synth()
    done = threading.Event()
    printed = 0

    def render() -> None:
        try:
            synth.render(SAFETY * 3)
        finally:
            done.set()

    worker = threading.Thread(target=render)
    worker.start()
    while not done.is_set():
        print("still here")
        printed += 1
        time.sleep(0.005)
    worker.join()
    synth.close()
    assert capsys.readouterr().out.count("still here") == printed > 5


def test_a_very_long_prompt_is_rendered_in_pieces():
    text = "Jullie praten om de beurt, twee en een halve minuut per persoon. Zeg klaar als je eerder klaar bent. " * 120
    synth = Pyttsx3Synth(program="")  # pyttsx3 only: the way that used to stop responding
    try:
        audio = synth.render(text)  # 12 KB: in one piece it took pyttsx3 past its timeout
    finally:
        synth.close()
    assert_speaks(audio, text)
    assert audio.seconds > 600


def test_long_texts_split_at_sentences_and_lose_nothing():
    text = ("Eerste zin. " * 60) + "Een hele lange zin zonder punt " * 40 + "en het einde!"
    parts = pieces(text, limit=200)
    assert all(0 < len(p) <= 200 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert pieces("Kort.") == ["Kort."]


def test_plausibility():
    text = "Hallo Sanne, fijn dat jullie er zijn."
    assert implausible(text, Audio(np.zeros(0, np.int16), 22050)) == "no sound at all"
    assert "voice" in str(implausible(text, Audio.silence(3.0, 22050)))  # the right length, but silent
    t = np.arange(int(0.2 * 22050)) / 22050
    blip = Audio((8000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16), 22050)
    assert "voice" in str(implausible(text, blip))
    t = np.arange(int(60 * 22050)) / 22050
    assert "sound" in str(implausible(text, Audio((8000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16), 22050)))
    assert implausible("...", Audio.silence(0.0)) is None  # nothing to say


# -- faults in the worker ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["empty-first", "header-first", "short-first", "crash-first", "hang-first"])
def test_a_bad_render_is_tried_again_on_a_fresh_engine(mode, tmp_path):
    state = tmp_path / "workers"
    synth = faulty(mode, state, program="")  # no second way: the fresh engine must do it
    try:
        began = time.monotonic()
        audio = synth.render(SAFETY)
        took = time.monotonic() - began
    finally:
        synth.close()
    assert_speaks(audio, SAFETY)
    first, second = sorted(workers(state), key=lambda p: (state / str(p)).stat().st_mtime_ns)
    assert gone(first) and gone(second)  # the faulty one was ended, and close() ended the other
    if mode == "hang-first":
        assert 3.0 <= took < 30  # killed after its timeout, not waited for


@pytest.mark.parametrize("mode", ["empty", "hang", "crash", "refuse"])
def test_an_engine_that_never_works_is_replaced_by_the_espeak_program(mode, tmp_path):
    state = tmp_path / "workers"
    cache = tmp_path / "prompts"
    synth = faulty(mode, state, cache_dir=cache)
    try:
        audio = synth.render(SAFETY)
        assert_speaks(audio, SAFETY)
        assert len(workers(state)) == 2  # two engines tried, each in a new process
        began = time.monotonic()
        assert_speaks(synth.render("Goed zo, Sanne. Nu jij."), "Goed zo, Sanne. Nu jij.")
        assert time.monotonic() - began < 3.0  # the broken engine rests: no new wait for it
        assert len(workers(state)) == 2
    finally:
        synth.close()
    assert all(gone(pid) for pid in workers(state))
    assert len(list(cache.glob("*.wav"))) == 2


def test_when_no_way_gives_sound_the_error_says_what_to_install(tmp_path):
    synth = faulty("empty", tmp_path / "workers", program="", cache_dir=tmp_path / "prompts")
    try:
        with pytest.raises(SynthError) as caught:
            synth.render(SAFETY)
    finally:
        synth.close()
    assert "espeak-ng" in caught.value.fix
    assert not (tmp_path / "prompts").exists() or list((tmp_path / "prompts").iterdir()) == []  # nothing bad kept


def test_espeak_ng_is_asked_whether_it_speaks_a_language():
    assert has_voice("nl") is True and has_voice("ko") is True
    assert has_voice("xx") is False
    assert has_voice("nl", program="") is None  # no program to ask: rendering says what to install


def test_a_synthesizer_that_fails_every_way_warns_once_not_before_every_prompt(tmp_path, caplog):
    synth = faulty("empty", tmp_path / "workers", program="")
    try:
        for text in (SAFETY, "Goed zo.", "Tot morgen."):
            with pytest.raises(SynthError):
                synth.render(text)
    finally:
        synth.close()
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING and "failed every way" in r.getMessage()]
    assert len(warned) == 1, warned


# -- never silence ---------------------------------------------------------------------------


def test_the_safety_note_is_printed_with_a_chime_when_no_voice_can_be_made(tmp_path, capsys):
    clock = SimClock()
    out = tmp_path / "speaker.wav"
    speaker = WavSpeaker(out, clock)
    notices: list[str] = []
    synth = faulty("empty", tmp_path / "workers", program="")
    listener = SimpleNamespace(vocab=None, on_outage=None)
    talk = VoiceConversation(synth, speaker, listener, clock, EventLog(clock), notice=notices.append)  # type: ignore[arg-type]
    try:
        talk.say(SAFETY)
        talk.say("Goed zo.")
    finally:
        talk.close()
        speaker.close()
    printed = capsys.readouterr().out.splitlines()
    assert printed == [SAFETY, "Goed zo."]  # the Dutch text they would have heard, on stdout
    assert len(notices) == 1 and "espeak-ng" in notices[0]  # one line on what to fix, not one per prompt
    heard = read_wav(out)
    notice = chime("notice")
    assert heard.seconds >= 2 * notice.seconds
    assert np.abs(heard.samples).max() > 4000  # a chime, not silence


def test_a_cached_prompt_that_is_damaged_is_made_again(tmp_path):
    cache = tmp_path / "prompts"
    synth = Pyttsx3Synth(cache_dir=cache)
    try:
        good = synth.render(SAFETY)
        [kept] = cache.glob("*.wav")
        damages = {
            "header only": Audio(np.zeros(0, np.int16), 22050).to_wav_bytes(),
            "silence": Audio.silence(good.seconds, good.rate).to_wav_bytes(),
            "a tenth": Audio(good.samples[: len(good.samples) // 10], good.rate).to_wav_bytes(),
            "not a WAV": b"RIFF\x00\x00garbage" * 10,
        }
        for damage, data in damages.items():
            kept.write_bytes(data)
            fresh = Pyttsx3Synth(cache_dir=cache)  # a new session: nothing in memory
            try:
                assert_speaks(fresh.render(SAFETY), SAFETY)
            finally:
                fresh.close()
            assert implausible(SAFETY, read_wav(kept)) is None, damage  # and the cache holds good audio again
    finally:
        synth.close()


# -- a full disk, and what is on the disk ---------------------------------------------------------

FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from voicecoach.speech.render import has_voice
from voicecoach.speech.synth import Pyttsx3Synth
cache = Path(sys.argv[1])
synth = Pyttsx3Synth(cache_dir=cache)
synth.render("Hallo Sanne.")  # the worker starts before the limit: only this process is short of disk
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))  # every file ends at 4 KB: a full disk
audio = synth.render(sys.argv[2])
synth.close()
print(audio.seconds)
"""


def test_a_full_disk_costs_the_prompt_cache_only(tmp_path):
    cache = tmp_path / "prompts"
    env = {**os.environ, "VOICECOACH_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(cache), SAFETY], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 5  # the prompt was spoken all the same
    assert "could not be kept" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.suffix for p in cache.iterdir()) == [".wav"]  # "Hallo Sanne." only; no partial .tmp file


def test_the_speaker_file_is_owner_only(tmp_path):
    out = tmp_path / "speaker.wav"
    out.write_bytes(b"old")
    out.chmod(0o644)
    speaker = WavSpeaker(out, SimClock())
    speaker.play(chime("turn"))
    speaker.close()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with wave.open(str(out)) as w:
        assert w.getnframes() == len(chime("turn").samples)


# -- no sound server, no network -------------------------------------------------------------

RENDER_BOTH_WAYS = """
import sys
from pathlib import Path
from voicecoach.speech.render import has_voice
from voicecoach.speech.synth import Pyttsx3Synth
from voicecoach.speech.render import ProgramRoute
synth = Pyttsx3Synth()
assert synth.render("Hallo Sanne, dit is een test.").seconds > 1
program = [r for r in synth.routes if isinstance(r, ProgramRoute)][0]
assert program.render("En dit is de tweede weg.", 30).seconds > 1
synth.close()
"""


def test_rendering_opens_no_socket_and_no_sound_device(tmp_path):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/system-packages --test)")
    trace = tmp_path / "trace.txt"
    # A sound server reached over TCP: espeak-ng used to connect to it even to render a file.
    env = {**os.environ, "PULSE_SERVER": "tcp:127.0.0.1:9", "VOICECOACH_HOME": str(tmp_path / "home")}
    done = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=network,openat",
                           sys.executable, "-c", RENDER_BOTH_WAYS], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    calls = trace.read_text().splitlines()
    assert any("espeak-ng-data" in c for c in calls)  # the trace did see the renderers at work
    network = [c for c in calls if " socket(" in c or " connect(" in c or " sendto(" in c or " socketpair(" in c]
    assert network == [], network[:5]
    assert [c for c in calls if "/dev/snd" in c or "pulse/native" in c] == []


def test_a_speaker_file_that_cannot_be_written_is_one_sentence(tmp_path):
    from voicecoach.errors import DeviceError

    with pytest.raises(DeviceError) as caught:
        WavSpeaker(tmp_path / "no-such-folder" / "speaker.wav", SimClock())
    assert "cannot be written" in caught.value.message and "folder" in caught.value.fix


def test_the_prompt_cache_does_not_wait_for_the_disk(tmp_path, monkeypatch):
    """A new prompt is kept while the couple waits for it: no fsync (an SD card can take long); a cache file lost
    in a power cut is made again. The journal's own files do wait (paths.write_atomically's default)."""
    import voicecoach.paths as paths
    from voicecoach.speech.prompt_cache import PromptCache

    class NoWaiting:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(os, name)

        def fsync(self, fd: int) -> None:
            raise AssertionError("the prompt cache waited for the disk")

    monkeypatch.setattr(paths, "os", NoWaiting())
    cache = PromptCache(tmp_path / "prompts", lambda text: "k", lambda text, audio: None)
    cache.put("Hallo Sanne.", chime("turn"))
    assert [p.name for p in (tmp_path / "prompts").iterdir()] == ["k.wav"]
    with pytest.raises(AssertionError, match="waited"):  # what must survive a power cut still waits
        paths.write_atomically(tmp_path / "consent.json", "{}")
