"""Which voicecoach is running: a session holds the data folder, and forget waits for nobody."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from voicecoach import paths
from voicecoach.errors import ExitStatus, StorageError, UserError

log = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one session at a time is then up to them
    fcntl = None  # type: ignore[assignment]

SESSION_LOCK, WRITERS_LOCK = paths.LOCK_NAMES
MOMENT = 2.0  # seconds: `journal` holds the session lock this briefly while it tidies up; forget too


class AlreadyRunning(UserError):
    exit_code = ExitStatus.ALREADY_RUNNING


def _lock_file(name: str) -> IO[bytes]:
    folder = paths.data_dir()
    try:
        fd = os.open(paths.private_dir(folder) / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageError(f"Could not use voicecoach's data folder {folder} ({exc.strerror or exc}).",
                           "Check that it is a folder you can write to and that the disk is not full.") from None
    return os.fdopen(fd, "r+b")


def _try(f: IO[bytes], exclusive: bool) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(f.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Hold:
    """Locks held by this process; the OS drops them when it exits, however it ends."""

    def __init__(self) -> None:
        self._files: list[IO[bytes]] = []

    def take(self, name: str, exclusive: bool, wait: float = 0.0) -> bool:
        """Take the lock; `wait` seconds for one held only a moment (`journal` tidying up)."""
        f = _lock_file(name)
        deadline = time.monotonic() + wait
        while not _try(f, exclusive):
            if time.monotonic() >= deadline:
                f.close()
                return False
            time.sleep(0.05)
        self._files.append(f)
        return True

    def release(self) -> None:
        for f in self._files:
            f.close()  # closing the last descriptor releases a flock
        self._files.clear()


def _another() -> AlreadyRunning:
    return AlreadyRunning("Another voicecoach session is running on this computer.",
                          "Finish or stop that one first (say stop, or press Ctrl-C there).")


@contextlib.contextmanager
def session(journal: bool = True) -> Iterator[Hold]:
    """Held for a whole session: one journaled session at a time, and forget waits for it."""
    hold = Hold()
    try:
        if not hold.take(WRITERS_LOCK, exclusive=False, wait=MOMENT) or (
                journal and not hold.take(SESSION_LOCK, exclusive=True, wait=MOMENT)):
            raise _another()
        yield hold
    finally:
        hold.release()


@contextlib.contextmanager
def writer() -> Iterator[Hold]:
    """Held by anything that may write (the journal, a spoken prompt cached): forget refuses meanwhile."""
    hold = Hold()
    try:
        if not hold.take(WRITERS_LOCK, exclusive=False, wait=MOMENT):
            raise _another()
        yield hold
    finally:
        hold.release()


@contextlib.contextmanager
def alone() -> Iterator[Hold]:
    """For forget: nobody else may be running, and nobody may start until it is done."""
    hold = Hold()
    try:
        if not hold.take(WRITERS_LOCK, exclusive=True) or not hold.take(SESSION_LOCK, exclusive=True):
            raise AlreadyRunning("voicecoach is running (a session, or it is speaking); nothing was deleted.",
                                 "Stop it first (say stop, or press Ctrl-C there), then run `voicecoach forget` again.")
        yield hold
    finally:
        hold.release()


def lock_paths() -> list[Path]:
    return [paths.data_dir() / name for name in paths.LOCK_NAMES]
