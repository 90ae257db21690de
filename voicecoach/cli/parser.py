"""The command line: global options, and each command's own (from its command module)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from voicecoach import __version__
from voicecoach.cli.command import Command
from voicecoach.environment import Environment


def build_parser(commands: list[Command], env: Environment) -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        """Usage, help and errors go to the environment's streams, like everything else."""

        def _print_message(self, message: str, file: Any = None) -> None:
            if message:
                stream = env.stdout if file is None or file is sys.stdout else env.stderr
                stream.write(message)
                stream.flush()

    parser = Parser(
        prog="voicecoach",
        description="An offline voice coach that guides you both through conversation exercises, hands-free.",
    )
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (never what you say)")
    parser.add_argument("--list-devices", action="store_true", help="list microphones and speakers, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        command.arguments(sub.add_parser(command.name, help=command.help))
    return parser
