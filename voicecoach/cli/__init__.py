"""The `voicecoach` command line: `main` parses and dispatches; `commands/` holds what each command does."""

from voicecoach.cli.main import main

__all__ = ["main"]
