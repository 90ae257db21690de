"""Where voicecoach keeps its files: one place, so tests can redirect it."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

import platformdirs

from voicecoach.errors import UserError

APP = "voicecoach"
# The project checkout's models/ folder; used when running from a clone.
REPO_MODELS = Path(__file__).resolve().parent.parent / "models"


def data_dir() -> Path:
    """Journal, progress and recordings (VOICECOACH_HOME overrides, for tests)."""
    home = os.environ.get("VOICECOACH_HOME")
    return Path(home) / "data" if home else Path(platformdirs.user_data_dir(APP))


def config_dir() -> Path:
    home = os.environ.get("VOICECOACH_HOME")
    return Path(home) / "config" if home else Path(platformdirs.user_config_dir(APP))


def cache_dir() -> Path:
    home = os.environ.get("VOICECOACH_HOME")
    return Path(home) / "cache" if home else Path(platformdirs.user_cache_dir(APP))


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by the owner only (0700)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        refuse_missing_link(path, "The folder")
        raise
    os.chmod(path, 0o700)
    return path


def write_atomically(path: Path, data: str | bytes, mode: int = 0o600, durable: bool = True) -> None:
    """Replace `path` with `data` whole or not at all: after a power cut it holds the old or the new data.

    The file is owner-only (0600) from its first byte, so a half-written journal export or voice profile is
    never readable by others; `mode` widens it only once it is complete (a diagram is an ordinary file).
    A missing folder is made owner-only, as every folder of voicecoach's own is. `durable=False` skips
    waiting for the disk (a cache, written while a prompt waits to be spoken: an SD card can take long).
    """
    folder = path.parent
    if not folder.exists():
        private_dir(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if not durable:
        return
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def refuse_missing_link(path: Path, what: str) -> None:
    """A link on the way to `path` whose target is not there (moved to a disk that is not mounted) is refused:
    a new file made in its place would take the link's place, and the old one is lost when the disk returns."""
    for link in (path, *path.parents):
        if link.is_symlink() and not link.exists():
            target = link.parent / os.readlink(link)
            raise UserError(f"{what if link == path else 'The folder'} at {link} points to {target}, which is not there.",
                            "Connect that disk, or remove the link.")


# Older versions rendered prompts in folders like this in the system temp folder.
LEGACY_TEMP_PREFIX = "voicecoach-tts-"
LEGACY_MIN_AGE = 600.0  # seconds
# Kept by `forget`: the speech model holds nothing of theirs and may not be downloadable again.
KEPT_IN_DATA = ("models",)
LOCK_NAMES = ("session.lock", "writers.lock")


# What voicecoach itself names inside a store that may be a link to a folder of theirs (moved to another
# disk, or shared with their own files): only these go when `forget` meets such a link.
OWN_NAMES = {"recordings": ("session-*.wav", "session-*.part"), "cache": ("prompts", "tts-tmp")}


def own_entries(store: Path) -> list[Path]:
    """What voicecoach wrote in `store`, a folder reached through a link; nothing it cannot name as its own."""
    kind = "cache" if store == cache_dir() else store.name
    return sorted({p for pattern in OWN_NAMES.get(kind, ()) for p in store.glob(pattern)})


def outside_stores(path: Path, option: str) -> Path:
    """A file they name for voicecoach to write (--export, --events, --speaker-file) must not be one of ours:
    the journal replaced by a web page would be everything they kept, gone."""
    target = Path(path).expanduser().resolve()
    for store in (data_dir(), cache_dir()):
        if target == store.resolve() or target.is_relative_to(store.resolve()):
            raise UserError(f"{path} is inside {store}, where voicecoach keeps your journal and recordings.",
                            f"Give {option} a file in another folder.")
    return Path(path)


def private_stores() -> list[Path]:
    """Everything voicecoach writes about the couple, for `forget`.

    The whole data folder (journal, damaged copies, recordings, crash.log, and any
    profile stored there later) except the speech model, the whole cache folder
    (spoken prompts, synthesizer work files), and temp folders of older versions.
    A new kind of stored file belongs under one of these folders, so it is covered.
    """
    data = data_dir()
    stores: list[Path] = []
    if data.is_dir():
        stores += sorted(p for p in data.iterdir() if p.name not in KEPT_IN_DATA and p.name not in LOCK_NAMES)
    stores.append(cache_dir())
    # A live render lasts seconds; an older folder is a leftover (another running voicecoach keeps its own).
    cutoff = time.time() - LEGACY_MIN_AGE
    for p in sorted(Path(tempfile.gettempdir()).glob(f"{LEGACY_TEMP_PREFIX}*")):
        with contextlib.suppress(OSError):
            info = p.lstat()
            mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
            if info.st_mtime < cutoff and mine:
                stores.append(p)
    return stores
