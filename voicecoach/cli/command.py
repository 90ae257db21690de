"""What a command is: a name, its arguments, what it does, and whether it may write."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus


@dataclass(frozen=True)
class Command:
    """One subcommand: its arguments, what it does, and whether it may write (forget waits for it)."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Environment], ExitStatus]
    writes: bool = True  # it may write the journal or cache spoken prompts: holds the writers' lock
    sessions: bool = False  # it runs exercises that save their progress: after a crash, `resume` may go on


def no_arguments(p: argparse.ArgumentParser) -> None:
    """For a command without options of its own."""
