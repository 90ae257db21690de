"""Errors a user can meet, each one sentence with the fix."""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can fix; `str()` is the one sentence they see.

    The CLI prints it (and speaks it where a speaker works) and exits with
    `exit_code`, never with a traceback.
    """

    exit_code = 2

    def __init__(self, message: str, fix: str = "") -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} {fix}".strip())


class ModelError(UserError):
    """The speech model is missing, incomplete or of the wrong kind."""

    exit_code = 3


class DeviceError(UserError):
    """A microphone or speaker could not be opened or was lost."""

    exit_code = 4


class DataFileError(UserError):
    """An exercise, vocabulary or config file is broken; names file and place."""

    exit_code = 5

    def __init__(self, path: object, place: str, problem: str) -> None:
        where = f"{path}" + (f", {place}" if place else "")
        super().__init__(f"{where}: {problem}.", "Fix that file, or remove it to use the built-in one.")
        self.path = path
        self.place = place
        self.problem = problem


class StorageError(UserError):
    """Something of theirs could not be written (a full disk, a read-only folder); `spoken` tells the couple."""

    exit_code = 7
    spoken = ("Ik kan niets meer bewaren op deze computer: de schijf is vol of niet schrijfbaar. "
              "Ik stop nu. Wat jullie eerder deden is bewaard; maak ruimte en ga dan verder.")
