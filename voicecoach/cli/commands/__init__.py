"""Every `voicecoach` command, one module per area; a new command is a new module listed here.

A command module never imports the parser: it describes its commands (`COMMANDS`, see
cli/command.py) and the parser (cli/parser.py) puts them together.
"""

from __future__ import annotations

from voicecoach.cli.command import Command


def all_commands() -> list[Command]:
    """The commands in the order `voicecoach --help` lists them."""
    from voicecoach.cli.commands import device, exercises, hearing, journal, setup

    return [*setup.COMMANDS, *hearing.COMMANDS, *exercises.COMMANDS, *device.COMMANDS, *journal.COMMANDS]
