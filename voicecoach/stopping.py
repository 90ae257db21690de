"""Ctrl-C and SIGTERM: one orderly stop, whenever they come and however often."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from voicecoach.errors import ExitStatus

log = logging.getLogger(__name__)

STOPPED_LINE = "voicecoach: gestopt. Wat jullie deden is bewaard."
EXIT_INTERRUPTED = ExitStatus.INTERRUPTED
# SIGHUP: the terminal closed (an ssh session dropped); not on Windows.
SIGNALS = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


class _State:
    installed = False
    stopping = False  # the first signal came: cleanup is under way
    deferring = 0  # > 0 while something must not be cut in half (the model loading)
    pending = False
    announced = False  # the one line was printed


_state = _State()


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state.stopping:
        # Pressed again while we tidy up: stop now. Every finished step is on disk already.
        if not _state.announced:
            os.write(2, ("\n" + STOPPED_LINE + "\n").encode())
        os._exit(EXIT_INTERRUPTED)
    if _state.deferring:
        _state.pending = True
        return
    _state.stopping = True
    raise KeyboardInterrupt


def _quiet_unraisable(info: Any) -> None:
    # A native object cut off half-made by a stop (Vosk's Model.__del__) complains at exit: not theirs to read.
    log.debug("ignored in %r: %r", info.object, info.exc_value)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """For main(): Ctrl-C and SIGTERM raise KeyboardInterrupt once; a second one ends at once with 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[int, Callable[..., Any] | int | None] = {s: signal.getsignal(s) for s in SIGNALS}
    saved_hook = sys.unraisablehook
    _state.installed, _state.stopping, _state.deferring, _state.pending = True, False, 0, False
    _state.announced = False
    for s in SIGNALS:
        if saved[s] is not signal.SIG_IGN:  # started with it ignored (nohup, a background job): keep it so
            signal.signal(s, _handler)
    sys.unraisablehook = _quiet_unraisable
    try:
        yield
    finally:
        if not _state.stopping:
            for s, previous in saved.items():
                signal.signal(s, previous if previous is not None else signal.SIG_DFL)
        # else a late second signal, between here and the process's end, must still end it with 130, not -15
        sys.unraisablehook = saved_hook
        _state.installed = False


def announce() -> ExitStatus:
    """The one line a stop prints; returns the exit code."""
    _state.stopping = True  # a signal from now on only ends the process, silently
    print("\n" + STOPPED_LINE, file=sys.stderr, flush=True)
    _state.announced = True
    return EXIT_INTERRUPTED


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A stop that comes inside waits until the block is done (a model half-loaded cannot be freed)."""
    if not _state.installed:
        yield
        return
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        if not _state.deferring and _state.pending and not _state.stopping:
            _state.pending = False
            _state.stopping = True
            raise KeyboardInterrupt
