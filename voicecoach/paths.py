"""Where voicecoach keeps its files: one place, so tests can redirect it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path
