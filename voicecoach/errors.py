"""Errors a user can meet, each one sentence with the fix."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What `voicecoach` exits with: scripts and the service (no restart for 2-5) read these."""

    SUCCESS = 0
    ERROR = 1  # a bug (details in crash.log), or a check that did not pass
    USER_ERROR = 2  # a wrong option or input: the sentence says what to change
    MODEL = 3  # the speech model is missing or damaged
    DEVICE = 4  # a microphone or speaker cannot be used
    DATA_FILE = 5  # an exercise, vocabulary or config file is broken
    ALREADY_RUNNING = 6  # another voicecoach holds the journal
    STORAGE = 7  # something of theirs could not be written (a full disk)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)
    BROKEN_PIPE = 141  # the reader of our output went away (`voicecoach list | head`): 128 + SIGPIPE


class UserError(Exception):
    """A failure the user can fix; `str()` is the one sentence they see.

    The CLI prints it (and speaks it where a speaker works) and exits with
    `exit_code`, never with a traceback.
    """

    exit_code: ExitStatus = ExitStatus.USER_ERROR

    def __init__(self, message: str, fix: str = "") -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} {fix}".strip())


class ModelError(UserError):
    """The speech model is missing, incomplete or of the wrong kind."""

    exit_code = ExitStatus.MODEL


class DeviceError(UserError):
    """A microphone or speaker could not be opened or was lost."""

    exit_code = ExitStatus.DEVICE


class DataFileError(UserError):
    """An exercise, vocabulary or config file is broken; names file and place."""

    exit_code = ExitStatus.DATA_FILE

    def __init__(self, path: object, place: str, problem: str, fix: str = "") -> None:
        where = f"{path}" + (f", {place}" if place else "")
        if not fix:  # an option's value is not a file; a file of one's own has no built-in twin to fall back to
            fix = (f"Give {path} another value." if str(path).startswith("--")
                   else "Fix that file, or remove it to use the built-in one.")
        super().__init__(f"{where}: {problem}.", fix)
        self.path = path
        self.place = place
        self.problem = problem


class StorageError(UserError):
    """Something of theirs could not be written (a full disk, a read-only folder); the couple hears
    `storage_full` (exercises/_common.toml)."""

    exit_code = ExitStatus.STORAGE
