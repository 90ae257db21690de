"""Speech synthesis: text to audio that is checked before it is used; we play it ourselves."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voicecoach import paths
from voicecoach.audio.pcm import Audio
from voicecoach.errors import UserError
from voicecoach.speech.prompt_cache import PromptCache
from voicecoach.speech.pronunciation import load_pronunciation
from voicecoach.speech.render import ProgramRoute, RenderFailed, Route, WorkerRoute, WorkFiles, remove_stale

log = logging.getLogger(__name__)


class Synthesizer(Protocol):
    def render(self, text: str) -> Audio:
        """The spoken text; raises SynthError when no usable sound could be made."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class VoiceSettings:
    language: str = "nl"
    voice: str | None = None  # a pyttsx3 voice id or name; default: the first for `language`
    rate: int = 150  # words per minute: calm, a little slower than espeak's 175
    timeout: float = 10.0  # seconds a short text may take (longer texts get more) before the renderer is killed


class SynthError(UserError):
    pass


# espeak-ng speaks Dutch at about 0.1 s per letter or digit at 150 words per minute (measured
# over the exercises' prompts: 0.082-0.137 s).
SECONDS_PER_LETTER = 0.1
PIECE_LETTERS = 500  # longer texts are rendered a few sentences at a time
VOICED_DBFS = -45.0


def implausible(text: str, audio: Audio, rate: int = 150) -> str | None:
    """Why `audio` cannot be `text` spoken at `rate` words per minute, or None if it can be."""
    letters = sum(c.isalnum() for c in text)
    if letters == 0:
        return None
    expected = letters * SECONDS_PER_LETTER * 150 / max(rate, 1)
    if len(audio.samples) == 0:
        return "no sound at all"
    frame = max(1, audio.rate // 50)  # 20 ms
    usable = len(audio.samples) - len(audio.samples) % frame
    frames = audio.samples[:usable].astype(np.float32).reshape(-1, frame)
    loud = np.sqrt(np.mean(frames**2, axis=1)) > 32768 * 10 ** (VOICED_DBFS / 20)
    voiced = float(loud.sum()) * frame / audio.rate
    if voiced < 0.3 * expected:
        return f"{voiced:.1f} s of voice where about {expected:.1f} s were expected"
    if audio.seconds > 3 * expected + 2:
        return f"{audio.seconds:.0f} s of sound where about {expected:.1f} s were expected"
    return None


def pieces(text: str, limit: int = PIECE_LETTERS) -> list[str]:
    """Sentence-sized parts of a long text, each at most `limit` characters."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    for sentence in re.split(r"(?<=[.!?;:])\s+", text.strip()):
        while len(sentence) > limit:  # a run-on sentence: break at a comma, else at a space
            cut = max(sentence.rfind(", ", 0, limit), sentence.rfind(" ", 0, limit))
            cut = cut if cut > 0 else limit
            parts.append(sentence[: cut + 1].strip())
            sentence = sentence[cut + 1:].strip()
        if parts and len(parts[-1]) + 1 + len(sentence) <= limit:
            parts[-1] = f"{parts[-1]} {sentence}"
        elif sentence:
            parts.append(sentence)
    return parts


class Pyttsx3Synth:
    """pyttsx3 (espeak-ng) in a worker process, the espeak-ng program as the second way, and a
    cache: every render and every cached prompt is checked for plausibility before it is used.

    A render that is empty, far too short or too long is tried again on a fresh engine, then by
    the other way; only when every way fails does `render` raise SynthError (the conversation then
    prints the text and plays a chime). A way that failed rests for a minute, so one broken engine
    does not delay every prompt.
    """

    REST_SECONDS = 60.0

    def __init__(self, settings: VoiceSettings | None = None, cache_dir: Path | None = None,
                 work_dir: Path | None = None, worker: Sequence[str] | None = None, program: str | None = None) -> None:
        """`worker`: the command of the pyttsx3 worker process; `program`: the espeak-ng program
        (None: found on PATH, "": none)."""
        self.settings = s = settings or VoiceSettings()
        work = work_dir or paths.cache_dir() / "tts-tmp"
        remove_stale(work)
        self._files = WorkFiles(work)
        self.routes: list[Route] = [
            WorkerRoute(s.language, s.voice, s.rate, self._files, start_timeout=s.timeout, command=worker),
            ProgramRoute(s.language, s.voice, s.rate, self._files, program=program),
        ]
        self.cache = PromptCache(cache_dir, self._key, self._check)
        self._resting: dict[str, float] = {}

    def _key(self, text: str) -> str:
        s = self.settings
        return hashlib.sha256(f"{s.language}|{s.voice}|{s.rate}|{text}".encode()).hexdigest()[:32]

    def _check(self, text: str, audio: Audio) -> str | None:
        return implausible(text, audio, self.settings.rate)

    def render(self, text: str) -> Audio:
        if not any(c.isalnum() for c in text):
            return Audio.silence(0.0)
        text = load_pronunciation(self.settings.language).apply(text)  # "time-out" said the Dutch way
        audio = self.cache.get(text)
        if audio is None:
            parts = [self._render_piece(piece) for piece in pieces(text)]
            audio = parts[0] if len(parts) == 1 else Audio.concat(parts, rate=parts[0].rate)
            self.cache.put(text, audio)
        return audio

    def _render_piece(self, text: str) -> Audio:
        timeout = self.settings.timeout + len(text) / 50  # espeak renders far faster; this is for a busy computer
        problems: list[str] = []
        for route in self._ready_routes():
            for attempt in range(1, route.attempts + 1):
                try:
                    audio = route.render(text, timeout)
                except RenderFailed as exc:
                    problem = str(exc)
                else:
                    found = self._check(text, audio)
                    if found is None:
                        self._resting.pop(route.name, None)
                        return audio
                    problem = found
                    route.reset()  # the next try gets a fresh engine
                problems.append(f"{route.name} try {attempt}: {problem}")
                log.warning("speech synthesis gave no usable sound (%s, try %d: %s); trying again",
                            route.name, attempt, problem)
            self._resting[route.name] = time.monotonic() + self.REST_SECONDS
        if problems:
            log.warning("speech synthesis failed every way (%s)", "; ".join(problems))
        else:  # every way rests after failing: said when it failed, not again before every prompt
            log.debug("speech synthesis failed every way within the last minute; not tried now")
        raise SynthError(
            "The speech synthesizer gave no usable sound.",
            "Install espeak-ng with: sudo apt-get install espeak-ng (or use --text).",
        )

    def _ready_routes(self) -> list[Route]:
        now = time.monotonic()
        return [r for r in self.routes if self._resting.get(r.name, 0.0) <= now]

    def close(self) -> None:
        """End the worker process and remove the synthesizer's temporary files."""
        for route in self.routes:
            route.close()
        self._files.close()
