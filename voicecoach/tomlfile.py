"""Reading the text files people edit (TOML, answer scripts), with errors that name the file."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

from voicecoach.errors import DataFileError

# Far above any real exercise, vocabulary or script (the largest built-in one is ~20 KB); a bigger
# file is a mistake (or /dev/zero) and would otherwise be read into memory whole.
MAX_TEXT_BYTES = 4 * 1024 * 1024


class TextFileProblem(Exception):
    """Why a text file could not be read, said as the end of 'FILE: ...'."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line  # where the text stops being UTF-8


class TextFileMissing(TextFileProblem):
    """There is no such file (a reader may take that as "never written")."""


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A small UTF-8 text file, whole; a device, a pipe or a huge file is refused before it is read (the
    files voicecoach writes itself too: one put in their place must not block or fill the memory)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise TextFileProblem("this is not a regular file")
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise TextFileMissing("the file does not exist") from None
    except OSError as exc:
        raise TextFileProblem(f"the file cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise TextFileProblem(f"the file is larger than {limit // (1024 * 1024)} MB, which no such file needs")
    try:
        return data.decode("utf-8-sig")  # Notepad starts a UTF-8 file with a byte-order mark nobody can see
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TextFileProblem(f"the file cannot be read (line {line} is not UTF-8 text)", line) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except TextFileProblem as exc:
        raise DataFileError(path, "", exc.reason) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, "", f"this is not valid TOML ({exc})") from None
    except RecursionError:  # brackets nested thousands deep: tomllib recurses per level
        raise DataFileError(path, "", "this is not valid TOML (it is nested far too deeply)") from None
