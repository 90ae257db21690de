"""Their own names in their own voices (issue 10 item 7).

Without --names, and only when both agreed that voicecoach may learn their voices (turn awareness), each
says their first name once at the start. The recording of it (trimmed to the voice, a private file removed
by `forget` with the rest of the data folder) is played inside prompts wherever "partner één" or "partner
twee" would be said: "[Sanne], jij begint." Nothing is recognized or written as text: the journal keeps
"partner één"; the name is only sound.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import numpy as np

from voicecoach.audio.pcm import Audio, read_wav, rms_dbfs
from voicecoach.paths import data_dir, private_dir, write_atomically

log = logging.getLogger(__name__)

FOLDER = "names"
SHORTEST, LONGEST = 0.25, 2.5  # seconds: a first name, not a sentence
VOICE_DB = 24.0  # a 20 ms frame is voice when it is within this much of the loudest
FRAME = 0.02


def clip_path(partner: int) -> Path:
    return data_dir() / FOLDER / f"partner-{partner}.wav"


def trimmed(audio: Audio) -> Audio | None:
    """The voiced part of a recording, with a little air around it; None when it is not a name's length."""
    n = max(1, int(audio.rate * FRAME))
    frames = [audio.samples[i : i + n] for i in range(0, len(audio.samples) - n + 1, n)]
    if not frames:
        return None
    levels = np.array([rms_dbfs(f) for f in frames])
    voiced = np.nonzero(levels > max(levels.max() - VOICE_DB, -55.0))[0]
    if not len(voiced):
        return None
    pad = int(0.08 * audio.rate)
    start, end = max(0, voiced[0] * n - pad), min(len(audio.samples), (voiced[-1] + 1) * n + pad)
    clip = Audio(audio.samples[start:end], audio.rate)
    return clip if SHORTEST <= clip.seconds <= LONGEST + 0.2 else None


def save(partner: int, clip: Audio) -> Path:
    """Written readable by the owner only (0600), in a folder only they can enter."""
    path = clip_path(partner)
    private_dir(path.parent)
    write_atomically(path, clip.to_wav_bytes())  # a voice: never readable by others, not even half-written
    return path


def remove() -> None:
    """Both clips gone: their voices were only kept because both agreed that voicecoach may learn them."""
    for partner in (1, 2):
        with contextlib.suppress(FileNotFoundError):
            clip_path(partner).unlink()
    with contextlib.suppress(OSError):
        clip_path(1).parent.rmdir()  # only if empty


def load() -> dict[int, Audio]:
    """The clips kept from an earlier visit (a damaged one is simply not used: they are asked again)."""
    clips: dict[int, Audio] = {}
    for partner in (1, 2):
        path = clip_path(partner)
        if path.exists():
            try:
                clips[partner] = read_wav(path)
            except Exception:  # noqa: BLE001 - any damage means: ask for the name again
                log.warning("the recorded name of partner %d could not be read; it is asked again", partner)
    return clips if len(clips) == 2 else {}


def split(text: str, phrases: dict[str, Audio]) -> list[str | Audio]:
    """`text` cut where one of `phrases` stands (any case): the text around it, and its clip in its place."""
    if not phrases:
        return [text]
    by_lower = {p.lower(): clip for p, clip in phrases.items()}
    pattern = re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)), re.IGNORECASE)
    out: list[str | Audio] = []
    at = 0
    for m in pattern.finditer(text):
        if text[at : m.start()].strip():
            out.append(text[at : m.start()])
        out.append(by_lower[m.group(0).lower()])
        at = m.end()
    if text[at:].strip(" ,.;:"):
        out.append(text[at:])
    return out
