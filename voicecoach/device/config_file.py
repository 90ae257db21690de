"""The user's config.toml: read it, and change one setting without losing their comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from voicecoach import paths
from voicecoach.errors import DataFileError, UserError
from voicecoach.paths import write_atomically
from voicecoach.tomlfile import read_toml


def config_path() -> Path:
    return paths.config_dir() / "config.toml"


def read_config(path: Path | None = None) -> dict[str, Any]:
    """config.toml as plain data; a missing file is an empty one, a broken one an error naming it."""
    path = path or config_path()
    return read_toml(path) if path.exists() else {}


def write_setting(table: str, key: str, value: str | int | bool, path: Path | None = None) -> Path:
    """Set `[table] key = value` in config.toml, keeping every other line and comment as it was.

    The file is replaced atomically (a power cut leaves the old or the new one, never half),
    owner-only (0600). A broken file is not touched: the error names it, so nothing the user
    wrote is lost. Returns the path written.
    """
    path = path or config_path()
    if path.is_symlink():  # a config kept elsewhere (dotfiles) stays a link; the file it points to changes
        path = path.resolve()
    read_config(path)  # the same checks and messages as every reader, before anything is changed
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8-sig")) if path.exists() else tomlkit.document()
    except tomlkit.exceptions.TOMLKitError as exc:  # tomllib accepted it; be safe all the same
        raise DataFileError(path, "", f"this file cannot be changed safely ({exc})") from None
    section = doc.get(table)
    if section is None:
        section = tomlkit.table()
        doc[table] = section
    elif not isinstance(section, Table):
        raise DataFileError(path, table, "expected a table such as [" + table + "]")
    section[key] = value
    try:
        write_atomically(path, tomlkit.dumps(doc))
    except OSError as exc:
        raise UserError(f"{path} could not be written ({exc.strerror or exc}).",
                        "Check that its folder is yours and the disk is not full.") from None
    return path
