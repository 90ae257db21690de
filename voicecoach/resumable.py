"""Which saved progress can be continued: the exercise still has that step, and the data is as a session saved it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicecoach.engine.exercise import available, exercises_dir
from voicecoach.engine.machine import entry_state
from voicecoach.engine.texts import Names
from voicecoach.errors import UserError
from voicecoach.journal import Journal, Progress
from voicecoach.settings import Exercises


def saved_progress(journal: Journal | None, exercises: Exercises, notice: Callable[[str], None]) -> Progress | None:
    """The progress to offer, its exercise checked (so `exercises.load` gives it); progress that cannot be
    continued (its file gone or changed, or damaged) is set aside with one sentence, never a dead end."""
    if journal is None:
        return None
    try:
        progress = journal.load_progress()
    except (ValueError, TypeError) as exc:  # not JSON, a bad date: damaged outside voicecoach
        _drop(journal, notice, f"it is damaged ({exc})")
        return None
    if progress is None:
        return None
    source = progress.data.get("source") if isinstance(progress.data, dict) else None
    try:
        check_shape(progress.data)
        builtin = progress.exercise in available() and (
            not isinstance(source, str) or Path(source).parent == exercises_dir())
        where = progress.exercise if builtin or not isinstance(source, str) else source
        exercise = exercises.check(where)
        states = {entry_state(step) for step in exercise.steps} | {step.id for step in exercise.steps}
        if progress.state not in states:
            raise ValueError(f"the exercise has no step {progress.state!r} any more")
    except UserError as exc:
        _drop(journal, notice, exc.message.rstrip("."))
        return None
    except ValueError as exc:
        _drop(journal, notice, str(exc))
        return None
    if where != progress.exercise:
        exercises.keep(progress.exercise, exercise)
    return progress


def check_shape(data: Any) -> None:
    """What a session saved, as a session will read it; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("its data is not a table")
    lists = data.get("lists", {})
    if not isinstance(lists, dict) or not all(isinstance(v, list) and all(isinstance(i, str) for i in v)
                                              for v in lists.values()):
        raise ValueError("its lists of values are damaged")
    if data.get("consent") not in (None, True, False):
        raise ValueError("its consent is damaged")
    names = data.get("names")
    if names is not None and not (isinstance(names, list) and len(names) == 2
                                  and all(isinstance(n, str) for n in names)):
        raise ValueError("its names are damaged")
    if names is not None:
        Names.parse(",".join(names))
    if not isinstance(data.get("session"), int | None) or isinstance(data.get("session"), bool):
        raise ValueError("its session is damaged")


def saved_names(progress: Progress | None) -> str | None:
    """The names the unfinished exercise was started with, as --names gives them."""
    if progress is None:
        return None
    saved = progress.data.get("names")
    return ",".join(saved) if saved and len(saved) == 2 else None


def _drop(journal: Journal, notice: Callable[[str], None], why: str) -> None:
    notice(f"voicecoach: the unfinished exercise cannot be continued ({why}); you start afresh, "
           "and everything you kept is still in the journal.")
    journal.clear_progress()
