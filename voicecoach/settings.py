"""The couple's own settings for sessions (config.toml) and the exercises with their turn lengths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecoach.device.config_file import config_path
from voicecoach.engine.exercise import Exercise, Timing, load_exercise
from voicecoach.engine.texts import Names
from voicecoach.errors import DataFileError, UserError
from voicecoach.tomlfile import read_toml

SESSION_KEYS = ("timing", "names", "turns")
# Read by the kitchen-table device (voicecoach/device/), each with its own checks.
DEVICE_KEYS = ("reminder", "button")
# [turns]: the word after an interrupted turn, and how long each spoke at the end of an exercise.
TURN_KEYS = ("remarks", "speaking_time")


@dataclass(frozen=True)
class Settings:
    """config.toml as a session uses it: turn lengths ([timing]) and their names."""

    timing: dict[str, Any] = field(default_factory=dict)
    names: str | None = None
    path: Path | None = None
    turns: dict[str, bool] = field(default_factory=dict)  # [turns]: remarks, speaking_time (turns.TurnSettings)


def load_settings(path: Path | None = None) -> Settings:
    """The settings file, checked here so that a mistake names the file and the setting."""
    path = path or config_path()
    if not path.exists() and not path.is_symlink():
        return Settings()
    config = read_toml(path)  # a link to nowhere is named as such
    for key in config:
        if key not in SESSION_KEYS + DEVICE_KEYS:
            raise DataFileError(path, key, f"unknown setting; use {', '.join(SESSION_KEYS + DEVICE_KEYS)}")
    timing = config.get("timing", {})
    if not isinstance(timing, dict):
        raise DataFileError(path, "timing", "expected a table: [timing] with turn_seconds = 120 and the like")
    Timing.defaults().with_overrides(timing, path, "timing")
    names = config.get("names")
    if names is not None:
        try:
            if not isinstance(names, str):
                raise UserError("not text")
            Names.parse(names)
        except UserError:
            raise DataFileError(path, "names",
                                'expected two different names with a comma between them, e.g. "Sanne,Joris"') from None
    turns = config.get("turns", {})
    if not isinstance(turns, dict):
        raise DataFileError(path, "turns", "expected a table: [turns] with remarks = false and the like")
    for key, value in turns.items():
        if key not in TURN_KEYS:
            raise DataFileError(path, f"turns.{key}", f"unknown setting; use {', '.join(TURN_KEYS)}")
        if not isinstance(value, bool):
            raise DataFileError(path, f"turns.{key}", "expected true or false")
    return Settings(timing=dict(timing), names=names, path=path, turns=dict(turns))


class Exercises:
    """The exercises with the couple's own turn lengths: config.toml's [timing], then the command line's."""

    def __init__(self, settings: Settings, turn_seconds: float | None = None,
                 mirror_seconds: float | None = None) -> None:
        self.overrides = dict(settings.timing)
        self.source: object = settings.path or "settings"
        for option, key, seconds in (("--turn-seconds", "turn_seconds", turn_seconds),
                                     ("--mirror-seconds", "mirror_seconds", mirror_seconds)):
            # `is not None`: 0 is a value to refuse, not "not given". Each option is checked on its own, so
            # with both given the message names the wrong one, not whichever came last here.
            if seconds is not None:
                Timing.defaults().with_overrides({key: seconds}, option, "timing")
                self.overrides[key] = seconds
                self.source = option
        self._checked: dict[str, Exercise] = {}

    def load(self, name: str) -> Exercise:
        """An exercise by name (or a file's path); one checked ahead is used first."""
        return self._checked.pop(name, None) or load_exercise(name, self.overrides or None, self.source)

    def check(self, name: str) -> Exercise:
        """Load now, so a broken file is reported before anything is opened or spoken; `load` uses it."""
        exercise = self._checked[name] = load_exercise(name, self.overrides or None, self.source)
        return exercise

    def keep(self, name: str, exercise: Exercise) -> None:
        """`load(name)` gives this one (an exercise resumed from its own file)."""
        self._checked[name] = exercise

    def timing(self) -> Timing:
        """The waiting times of questions outside an exercise, with the couple's own settings."""
        return Timing.defaults().with_overrides(self.overrides, self.source, "timing")
