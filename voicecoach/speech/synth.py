"""Speech synthesis: pyttsx3 renders each prompt to audio; we play it ourselves."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import queue
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from voicecoach.audio.pcm import RATE, Audio, read_wav
from voicecoach.errors import UserError
from voicecoach.paths import private_dir

log = logging.getLogger(__name__)


class Synthesizer(Protocol):
    def render(self, text: str) -> Audio: ...

    def prefetch(self, texts: list[str]) -> None:
        """Render these in the background so they start at once when needed."""


@dataclass(frozen=True)
class VoiceSettings:
    language: str = "nl"
    voice: str | None = None  # a pyttsx3 voice id or name; default: the first for `language`
    rate: int = 150  # words per minute: calm, a little slower than espeak's 175
    timeout: float = 10.0  # seconds one render may take before the engine is replaced


class SynthError(UserError):
    pass


class _Engine:
    """One pyttsx3 engine on its own thread: pyttsx3 is not thread-safe and can hang."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings
        self.jobs: queue.Queue[tuple[str, Path, queue.Queue[Exception | None]] | None] = queue.Queue()
        self.ready: queue.Queue[Exception | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="pyttsx3", daemon=True)
        self.thread.start()
        error = self.ready.get(timeout=settings.timeout)
        if error is not None:
            raise error

    def _run(self) -> None:
        try:
            engine = self._init()
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            self.ready.put(exc if isinstance(exc, UserError) else SynthError(
                f"The speech synthesizer could not start ({exc}).",
                "Install espeak-ng with: sudo apt-get install espeak-ng (or use --text).",
            ))
            return
        self.ready.put(None)
        while True:
            job = self.jobs.get()
            if job is None:  # stop(): the thread ends instead of outliving its synthesizer
                return
            text, path, reply = job
            try:
                # The espeak driver now and then returns without writing the file
                # (seen on the first utterance): try once more on the same engine.
                for _ in range(2):
                    with contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints "Audio saved"
                        engine.save_to_file(text, str(path))
                        engine.runAndWait()
                    if path.exists() and path.stat().st_size > 44:
                        break
                reply.put(None)
            except Exception as exc:  # noqa: BLE001
                reply.put(exc)

    def _init(self) -> Any:
        import pyttsx3

        with contextlib.redirect_stdout(io.StringIO()):
            engine = pyttsx3.init("espeak") if os.name == "posix" else pyttsx3.init()
        voice = self.settings.voice or _voice_for(engine, self.settings.language)
        engine.setProperty("voice", voice)
        engine.setProperty("rate", self.settings.rate)
        return engine

    def stop(self) -> None:
        self.jobs.put(None)

    def render(self, text: str, path: Path) -> None:
        reply: queue.Queue[Exception | None] = queue.Queue()
        self.jobs.put((text, path, reply))
        try:
            error = reply.get(timeout=self.settings.timeout)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: let the engine finish this file before its folder is
            # removed, or espeak's callback prints a traceback as we stop.
            with contextlib.suppress(queue.Empty):
                reply.get(timeout=2.0)
            raise
        if error is not None:
            raise error


def _voice_for(engine: Any, language: str) -> str:
    for voice in engine.getProperty("voices"):
        langs = [str(x).lower() for x in (voice.languages or [])]
        if language in langs or str(voice.id).lower().endswith("/" + language) or str(voice.id).lower() == language:
            return str(voice.id)
    raise SynthError(
        f"No voice for language '{language}' was found in the speech synthesizer.",
        "Install espeak-ng with: sudo apt-get install espeak-ng",
    )


class Pyttsx3Synth:
    """Renders with pyttsx3 (espeak-ng), caching in memory and on disk.

    A render that hangs is abandoned and the engine re-created, so a stuck
    synthesizer never freezes the session.
    """

    def __init__(self, settings: VoiceSettings | None = None, cache_dir: Path | None = None, memory: int = 256) -> None:
        self.settings = settings or VoiceSettings()
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._limit = memory
        self._lock = threading.Lock()
        self._engine: _Engine | None = None
        self._prefetch: queue.Queue[str | None] = queue.Queue()
        self._prefetcher: threading.Thread | None = None

    def _key(self, text: str) -> str:
        s = self.settings
        return hashlib.sha256(f"{s.language}|{s.voice}|{s.rate}|{text}".encode()).hexdigest()[:32]

    def cached(self, text: str) -> Audio | None:
        key = self._key(text)
        with self._lock:
            audio = self._memory.get(key)
            if audio is not None:
                self._memory.move_to_end(key)
                return audio
        if self.cache_dir is not None:
            path = self.cache_dir / f"{key}.wav"
            if path.exists():
                try:
                    audio = read_wav(path).to_rate(RATE)
                except UserError:
                    path.unlink(missing_ok=True)  # a broken cache file is simply made again
                    return None
                self._remember(key, audio)
                return audio
        return None

    def _remember(self, key: str, audio: Audio) -> None:
        with self._lock:
            self._memory[key] = audio
            while len(self._memory) > self._limit:
                self._memory.popitem(last=False)

    def render(self, text: str) -> Audio:
        audio = self.cached(text)
        if audio is not None:
            return audio
        with self._lock:
            audio = self._render_locked(text)
        self._remember(self._key(text), audio)
        return audio

    def _render_locked(self, text: str) -> Audio:
        for attempt in (1, 2):
            if self._engine is None:
                self._engine = _Engine(self.settings)
            with tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as tmp:
                path = Path(tmp) / "prompt.wav"
                try:
                    self._engine.render(text, path)
                    audio = read_wav(path).to_rate(RATE)
                except (queue.Empty, UserError, RuntimeError, OSError) as exc:
                    log.warning("speech synthesis failed (attempt %d): %s; restarting it", attempt, exc)
                    self._engine = None
                    continue
            self._store(text, audio)
            return audio
        raise SynthError("The speech synthesizer stopped responding.", "Restart voicecoach, or use --text.")

    def _store(self, text: str, audio: Audio) -> None:
        if self.cache_dir is None:
            return
        try:
            private_dir(self.cache_dir)  # prompts hold their names: owner-only
            final = self.cache_dir / f"{self._key(text)}.wav"
            tmp = final.with_suffix(".tmp")
            tmp.write_bytes(audio.to_wav_bytes())
            os.replace(tmp, final)
        except OSError:
            log.debug("prompt cache not writable", exc_info=True)

    def prefetch(self, texts: list[str]) -> None:
        for text in texts:
            self._prefetch.put(text)
        if self._prefetcher is None:
            self._prefetcher = threading.Thread(target=self._prefetch_loop, name="prefetch", daemon=True)
            self._prefetcher.start()

    def _prefetch_loop(self) -> None:
        while True:
            text = self._prefetch.get()
            if text is None:  # close()
                return
            try:
                self.render(text)
            except UserError:
                log.debug("prefetch failed", exc_info=True)

    def close(self) -> None:
        """End the engine and prefetch threads, so a closed synthesizer leaves none behind."""
        if self._prefetcher is not None:
            self._prefetch.put(None)
            self._prefetcher = None
        with self._lock:
            if self._engine is not None:
                self._engine.stop()
                self._engine = None
