"""Times of day as people say them ("half negen"), both ways, from a language data file."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from voicecoach.errors import DataFileError
from voicecoach.tomlfile import read_toml

OFF: Literal["off"] = "off"
Choice = dt.time | Literal["off"]
"""What someone chose for the reminder: a time of day, or OFF."""

_MINUTES_A_DAY = 24 * 60
_HALF_DAY = 12 * 60


def builtin_path(language: str = "nl") -> Path:
    return Path(str(resources.files("voicecoach") / "lang" / f"{language}-reminder.toml"))


def normalize(text: str) -> str:
    """Lower case, single spaces, and "'s avonds" equal to "s avonds" (recognizers differ there)."""
    words = re.sub(r"[.,!?;:]", " ", text.lower().replace("’", "'")).split()
    return " ".join(w.strip("'") for w in words)


@dataclass(frozen=True)
class SpokenTimes:
    """Every accepted phrase with its meaning, plus the sentences spoken about the reminder."""

    times: dict[str, dt.time]
    """Phrase -> time of day, e.g. "half negen" -> 20:30; one entry per accepted phrase."""
    off_words: tuple[str, ...]
    commands: dict[str, Choice]
    """Whole voice commands, e.g. "herinnering om half negen" -> 20:30, "herinnering uit" -> OFF."""
    speech: dict[str, str]
    source: Path
    _say: dict[int, str] = field(repr=False)
    _by_key: dict[str, Choice] = field(repr=False)
    _commands_by_key: dict[str, Choice] = field(repr=False)

    def parse(self, text: str) -> Choice | None:
        """The time (or OFF) that `text` says, or None when it is not a time this file knows."""
        return self._by_key.get(normalize(text))

    def parse_command(self, text: str) -> Choice | None:
        """The time (or OFF) that a whole command such as "herinnering om acht uur" sets, or None."""
        return self._commands_by_key.get(normalize(text))

    def time_phrases(self) -> list[str]:
        return sorted(self.times)

    def command_phrases(self) -> list[str]:
        """Every whole command, for building the listening grammar."""
        return sorted(self.commands)

    def words(self) -> set[str]:
        """Every word in the commands: each must be known to the speech model."""
        return {w for phrase in self.commands for w in phrase.split()}

    def say(self, t: dt.time) -> str:
        """How to say `t` (rounded to five minutes), e.g. 20:28 -> "half negen"."""
        minutes = t.hour * 60 + t.minute + (t.second >= 30)
        rounded = (round(minutes / 5) * 5) % _HALF_DAY
        return self._say[rounded]

    def sentence(self, key: str, t: dt.time | None = None) -> str:
        """One of the [speech] sentences, with {tijd} said as a time."""
        text = self.speech[key]
        return text.replace("{tijd}", self.say(t)) if t is not None else text


def _table(data: dict[str, Any], path: Path, key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict) or not value:
        raise DataFileError(path, key, "expected a table with at least one entry")
    return value


def _int_in(value: Any, low: int, high: int, path: Path, place: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise DataFileError(path, place, f"expected a whole number from {low} to {high}")
    return value


def _phrases(value: Any, path: Path, place: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and normalize(p) for p in value):
        raise DataFileError(path, place, "expected a list of phrases")
    return value


def _add(table: dict[str, Choice], phrase: str, meaning: Choice, path: Path, place: str) -> None:
    key = normalize(phrase)
    if table.get(key, meaning) != meaning:
        raise DataFileError(path, place, f"'{phrase}' would mean both {table[key]} and {meaning}")
    table[key] = meaning


def _clock(minutes: int) -> dt.time:
    minutes %= _MINUTES_A_DAY
    return dt.time(minutes // 60, minutes % 60)


def load(path: Path | None = None) -> SpokenTimes:
    """Read and check a reminder language file; errors name the file and the place."""
    path = path or builtin_path()
    data = read_toml(path)
    hours = {w: _int_in(v, 1, 12, path, f"hours.{w}") for w, v in _table(data, path, "hours").items()}
    forms = {f: _int_in(v, -59, 59, path, f"forms.{f}") for f, v in _table(data, path, "forms").items()}
    for form in forms:
        if "{uur}" not in form:
            raise DataFileError(path, f"forms.{form}", "a form needs {uur} where the hour word goes")
    parts = _table(data, path, "parts")
    default_part = data.get("default_part", "pm")
    for place, part in [*((f"parts.{p}", v) for p, v in parts.items()), ("default_part", default_part)]:
        if part not in ("am", "pm"):
            raise DataFileError(path, place, "expected 'am' or 'pm'")
    hours24 = {w: _int_in(v, 0, 23, path, f"hours24.{w}") for w, v in data.get("hours24", {}).items()}
    minutes24 = {w: _int_in(v, 1, 59, path, f"minutes24.{w}") for w, v in data.get("minutes24", {}).items()}

    by_key: dict[str, Choice] = {}
    times: dict[str, dt.time] = {}
    say: dict[int, str] = {}

    def add_time(phrase: str, t: dt.time, place: str) -> None:
        _add(by_key, phrase, t, path, place)
        times[phrase] = t

    for form, offset in forms.items():
        for word, hour in hours.items():
            twelve = ((hour % 12) * 60 + offset) % _HALF_DAY  # minutes on the 12-hour clock
            phrase = form.replace("{uur}", word)
            say.setdefault(twelve, phrase)
            pm = twelve + _HALF_DAY
            add_time(phrase, _clock(pm if default_part == "pm" else twelve), f"forms.{form}")
            for part_words, part in parts.items():
                add_time(f"{phrase} {part_words}", _clock(pm if part == "pm" else twelve), f"parts.{part_words}")
    for word, hour in hours24.items():
        add_time(f"{word} uur", dt.time(hour, 0), f"hours24.{word}")
        for minute_word, minute in minutes24.items():
            add_time(f"{word} uur {minute_word}", dt.time(hour, minute), f"minutes24.{minute_word}")
    missing = sorted(set(range(0, _HALF_DAY, 5)) - set(say))
    if missing:
        raise DataFileError(path, "forms", f"no form says {_clock(missing[0]):%H:%M}; every five minutes needs one")

    off_words = _phrases(data.get("off"), path, "off")
    for word in off_words:
        _add(by_key, word, OFF, path, "off")

    commands_data = _table(data, path, "commands")
    commands: dict[str, Choice] = {}
    commands_by_key: dict[str, Choice] = {}
    for template in _phrases(commands_data.get("set"), path, "commands.set"):
        if "{tijd}" not in template:
            raise DataFileError(path, "commands.set", f"'{template}' needs {{tijd}} where the time goes")
        for phrase, t in times.items():
            command = template.replace("{tijd}", phrase)
            _add(commands_by_key, command, t, path, "commands.set")
            commands[command] = t
    for phrase in _phrases(commands_data.get("off"), path, "commands.off"):
        _add(commands_by_key, phrase, OFF, path, "commands.off")
        commands[phrase] = OFF

    speech = _table(data, path, "speech")
    for key in ("reminder", "set", "off"):
        if not isinstance(speech.get(key), str) or not speech[key].strip():
            raise DataFileError(path, f"speech.{key}", "expected a sentence")
    return SpokenTimes(times, tuple(off_words), commands, dict(speech), path, say, by_key, commands_by_key)


@cache
def builtin(language: str = "nl") -> SpokenTimes:
    return load(builtin_path(language))
