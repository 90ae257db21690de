"""Reading the TOML files people edit, with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from voicecoach.errors import DataFileError


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(path, "", "the file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, "", f"the file cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, "", f"this is not valid TOML ({exc})") from None
