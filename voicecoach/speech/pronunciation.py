"""Words the synthesizer says wrong, respelled before synthesis (lang/<language>-pronunciation.toml)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from voicecoach.errors import DataFileError
from voicecoach.tomlfile import read_toml


@dataclass(frozen=True)
class Pronunciation:
    """word -> how to write it so the voice says it right; whole words, any capitals."""

    words: dict[str, str]

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.words:
            return None
        keys = sorted(self.words, key=len, reverse=True)  # "time-out" before "time"
        return re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])", re.IGNORECASE)

    def apply(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return text
        lower = {k.lower(): v for k, v in self.words.items()}
        return pattern.sub(lambda m: lower[m.group(0).lower()], text)


def pronunciation_path(language: str) -> Path:
    return Path(str(resources.files("voicecoach") / "lang" / f"{language}-pronunciation.toml"))


@functools.cache
def load_pronunciation(language: str) -> Pronunciation:
    """The language's list; a language without one says every word as written."""
    path = pronunciation_path(language)
    if not path.exists():
        return Pronunciation({})
    words = read_toml(path).get("words", {})
    if not isinstance(words, dict) or not all(isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
                                              for k, v in words.items()):
        raise DataFileError(path, "[words]", 'expected lines like "time-out" = "taim aut"')
    return Pronunciation(dict(words))
