"""Voice activity from chunk energy, over a noise floor that follows the room."""

from __future__ import annotations

from voicecoach.audio.pcm import rms_dbfs
from voicecoach.audio.sources import Chunk


class EnergyVad:
    """Speech is what stands `margin_db` above the room's own noise.

    The floor falls at once to quieter levels and rises slowly, more slowly
    still while someone speaks, so a television or a fan becomes the floor
    while a voice on top of it does not.
    """

    def __init__(self, margin_db: float = 10.0, min_db: float = -55.0, start_floor_db: float = -70.0) -> None:
        self.margin_db = margin_db
        self.min_db = min_db
        self.floor_db = start_floor_db
        self.level_db = -120.0

    def is_speech(self, chunk: Chunk) -> bool:
        level = rms_dbfs(chunk.samples)
        self.level_db = level
        speech = level > max(self.floor_db + self.margin_db, self.min_db)
        if level < self.floor_db:
            self.floor_db = level if level > -100 else max(self.floor_db - 1.0, -100.0)
        else:
            rise = 0.002 if speech else 0.03
            self.floor_db += rise * (level - self.floor_db)
        return speech
