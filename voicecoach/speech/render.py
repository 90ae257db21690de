"""Two ways to turn text into a WAV, each in a process of its own that can be killed: pyttsx3 in a
worker process, and the espeak-ng program. Neither plays sound, opens a sound device or uses the network."""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from voicecoach.audio.pcm import Audio, read_wav
from voicecoach.errors import UserError

log = logging.getLogger(__name__)

# libespeak-ng (through pcaudiolib) connects to the sound server even when it only renders to a
# file; with PULSE_SERVER=tcp:... that is a network connection. A server address that names a
# machine id no machine has is skipped by libpulse without any connection, and an empty ALSA
# configuration has no device to open (tests/test_synth.py watches the system calls).
NO_SOUND_SERVER = {
    "PULSE_SERVER": "{00000000000000000000000000000000}unix:/nonexistent",
    "ALSA_CONFIG_PATH": os.devnull,
}


def render_env() -> dict[str, str]:
    return {**os.environ, **NO_SOUND_SERVER}


class RenderFailed(Exception):
    """One way of rendering failed this time (hung, crashed, refused); another may work."""


class Route(Protocol):
    name: str
    attempts: int  # tries per text; each after a failure starts afresh

    def render(self, text: str, timeout: float) -> Audio: ...

    def reset(self) -> None:
        """Start afresh next time (a new engine)."""

    def close(self) -> None: ...


class WorkFiles:
    """Names for the WAVs our renderers write, in a private folder that `close()` removes."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.folder = work_dir / str(os.getpid())
        self._numbers = itertools.count()

    def new(self, prefix: str) -> Path:
        from voicecoach.paths import private_dir

        private_dir(self.work_dir)
        private_dir(self.folder)
        return self.folder / f"{prefix}-{next(self._numbers)}.wav"

    def take(self, path: Path) -> Audio:
        """Read what a renderer wrote, and remove it."""
        try:
            return read_wav(path)
        except UserError as exc:
            raise RenderFailed(exc.message) from None
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def remove_stale(work_dir: Path) -> None:
    """Folders left by a voicecoach that was killed (its process is gone)."""
    if not work_dir.is_dir():
        return
    for folder in work_dir.iterdir():
        if folder.name.isdigit() and not _alive(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


class WorkerRoute:
    """pyttsx3 in a worker process (`speech/pyttsx3_worker.py`): a render that hangs is
    killed with its process, a crash costs only that process, and the next try gets a new one."""

    name = "pyttsx3"
    attempts = 2

    def __init__(self, language: str, voice: str | None, rate: int, files: WorkFiles,
                 start_timeout: float = 10.0, command: Sequence[str] | None = None) -> None:
        self.args = [language, voice or "", str(rate)]
        self.files = files
        self.start_timeout = start_timeout
        self.command = list(command or [sys.executable, "-m", "voicecoach.speech.pyttsx3_worker"])
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def render(self, text: str, timeout: float) -> Audio:
        proc = self._proc or self._start()
        path = self.files.new("pyttsx3")
        try:
            assert proc.stdin is not None
            # The worker waits for its engine's "finished" event, within our own timeout.
            proc.stdin.write(json.dumps({"text": text, "path": str(path), "wait": 0.8 * timeout}) + "\n")
            proc.stdin.flush()
            reply = self._reply(timeout, "render")
            if "error" in reply:
                raise RenderFailed(reply["error"])
            return self.files.take(path)
        except (RenderFailed, OSError) as exc:
            path.unlink(missing_ok=True)
            self.reset()
            raise RenderFailed(str(exc) or type(exc).__name__) from None

    def _start(self) -> subprocess.Popen[str]:
        quiet = not log.isEnabledFor(logging.DEBUG)  # espeak's complaints go to the -vv log's terminal only
        try:
            proc = subprocess.Popen(
                [*self.command, *self.args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL if quiet else None, env=render_env(), text=True, encoding="utf-8",
            )
        except OSError as exc:
            raise RenderFailed(f"the worker could not start ({exc})") from None
        self._proc, self._replies = proc, queue.Queue()
        weakref.finalize(self, _end, proc)  # a synthesizer dropped without close() leaves no process behind
        assert proc.stdout is not None
        threading.Thread(target=_read_replies, args=(proc.stdout, self._replies), name="pyttsx3-replies",
                         daemon=True).start()
        reply = self._reply(self.start_timeout, "start")
        if "error" in reply:
            self.reset()
            raise RenderFailed(reply["error"])
        return proc

    def _reply(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.reset()
            raise RenderFailed(f"no answer within {timeout:.0f} s ({what})") from None
        if reply is None:
            self.reset()
            raise RenderFailed(f"the worker ended ({what})")
        return reply

    def reset(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()  # the worker ends by itself when its input ends
                proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.reset()


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


def _read_replies(stream: IO[str], replies: queue.Queue[dict[str, Any] | None]) -> None:
    try:
        for line in stream:
            try:
                replies.put(json.loads(line))
            except ValueError:
                replies.put({"error": "an unreadable answer"})
    except (OSError, ValueError):  # closed under us by reset()
        pass
    replies.put(None)


def has_voice(language: str, program: str | None = None) -> bool | None:
    """Whether espeak-ng, whose voices both ways render with, has one for `language`; None when it cannot
    be asked (no espeak-ng program: rendering then says what to install)."""
    program = program if program is not None else shutil.which("espeak-ng")
    if not program:
        return None
    try:
        done = subprocess.run([program, f"--voices={language}"], capture_output=True, timeout=10, env=render_env(),
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return len(done.stdout.splitlines()) > 1  # a heading, then a line per voice


class ProgramRoute:
    """The espeak-ng program writing a WAV: no Python between it and the file."""

    name = "espeak-ng"
    attempts = 1

    def __init__(self, language: str, voice: str | None, rate: int, files: WorkFiles, program: str | None = None) -> None:
        self.voice = voice or language
        self.rate = rate
        self.files = files
        self.program = program if program is not None else shutil.which("espeak-ng")

    def render(self, text: str, timeout: float) -> Audio:
        if not self.program:
            raise RenderFailed("the espeak-ng program is not installed")
        path = self.files.new("espeak")
        try:
            # Text on stdin: never mistaken for an option, and no limit on its length.
            done = subprocess.run(
                [self.program, "-v", self.voice, "-s", str(self.rate), "-b", "1", "-w", str(path), "--stdin"],
                input=text.encode("utf-8"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=timeout, env=render_env(), check=False,
            )
        except subprocess.TimeoutExpired:
            path.unlink(missing_ok=True)
            raise RenderFailed(f"no sound within {timeout:.0f} s") from None
        except OSError as exc:
            raise RenderFailed(str(exc)) from None
        if done.returncode != 0:
            path.unlink(missing_ok=True)
            raise RenderFailed(f"exit code {done.returncode}: {done.stderr.decode('utf-8', 'replace').strip()[:200]}")
        return self.files.take(path)

    def reset(self) -> None:
        return None

    def close(self) -> None:
        return None
