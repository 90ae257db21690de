"""What a command reads and writes besides its arguments: swappable, so tests run the CLI in-process."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass
class Environment:
    """The terminal a command talks to (httpie's idea): standard input, output and error."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO

    @classmethod
    def from_sys(cls) -> Environment:
        """The process's own streams, as they are now (pytest's capture replaces them)."""
        return cls(sys.stdin, sys.stdout, sys.stderr)

    def out(self, text: str = "", end: str = "\n") -> None:
        """A line for the user (prompts in text mode, results)."""
        print(text, end=end, file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        """A line about voicecoach itself: notices, one-sentence errors."""
        print(text, file=self.stderr, flush=True)

    def json(self, obj: dict[str, Any]) -> None:
        self.out(json.dumps(obj, ensure_ascii=False))

    def stderr_is_terminal(self) -> bool:
        isatty = getattr(self.stderr, "isatty", None)
        return bool(isatty and isatty())
