"""Rendered prompts kept in memory and on disk (owner-only), each checked again when it is read."""

from __future__ import annotations

import logging
import stat
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from voicecoach.audio.pcm import Audio, read_wav
from voicecoach.errors import UserError
from voicecoach.paths import private_dir, write_atomically

log = logging.getLogger(__name__)


class PromptCache:
    """`get` returns a prompt's audio only if `check(text, audio)` finds nothing wrong with it
    (a damaged or silent file is removed and made again); `put` never fails the session: a
    full disk costs the cache, and leaves no partial file behind."""

    MAX_SECONDS = 300.0  # a longer sound is not kept: it is rendered again if it is ever needed

    def __init__(self, folder: Path | None, key: Callable[[str], str], check: Callable[[str, Audio], str | None],
                 memory_seconds: float = 1800.0) -> None:
        self.folder = folder
        self.key = key
        self.check = check
        self.memory_seconds = memory_seconds
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._warned = False

    def get(self, text: str) -> Audio | None:
        key = self.key(text)
        remembered = self._memory.get(key)
        if remembered is not None:
            self._memory.move_to_end(key)
            return remembered
        if self.folder is None:
            return None
        path = self.folder / f"{key}.wav"
        if not path.exists():
            return None
        audio: Audio | None
        problem: str | None
        try:
            audio = read_wav(path)
        except UserError as exc:
            audio, problem = None, exc.message
        else:
            problem = self.check(text, audio)
        if audio is None or problem is not None:
            log.warning("a cached prompt was damaged (%s); it is made again", problem)
            path.unlink(missing_ok=True)
            return None
        if stat.S_IMODE(path.stat().st_mode) & 0o077:  # kept by an older voicecoach
            path.chmod(0o600)
        self._remember(key, audio)
        return audio

    def put(self, text: str, audio: Audio) -> None:
        if audio.seconds > self.MAX_SECONDS:
            return
        key = self.key(text)
        self._remember(key, audio)
        if self.folder is not None:
            self._store(key, audio)

    def _remember(self, key: str, audio: Audio) -> None:
        self._memory[key] = audio
        self._memory.move_to_end(key)
        while sum(a.seconds for a in self._memory.values()) > self.memory_seconds and len(self._memory) > 1:
            self._memory.popitem(last=False)

    def _store(self, key: str, audio: Audio) -> None:
        assert self.folder is not None
        try:
            private_dir(self.folder)  # prompts hold their names: owner-only
            write_atomically(self.folder / f"{key}.wav", audio.to_wav_bytes(), durable=False)  # made again if lost
        except OSError as exc:
            (log.debug if self._warned else log.warning)(
                "a spoken prompt could not be kept for next time (%s); it is made again when needed",
                exc.strerror or exc)
            self._warned = True
