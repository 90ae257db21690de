"""`forget`: deleting everything voicecoach wrote about the couple, whatever state the journal is in."""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path

from voicecoach.paths import data_dir, own_entries, private_stores

log = logging.getLogger(__name__)


def forget_everything() -> list[Path]:
    """Delete every store in `paths.private_stores()`, whatever state the journal is in; returns what failed."""
    failed: list[Path] = []
    for p in private_stores():
        try:
            if p.is_symlink() and p.is_dir():
                # Moved elsewhere (another disk) and linked: what we wrote there is still theirs to forget,
                # and the folder may hold files of their own (music beside the recordings), which stay.
                for child in own_entries(p):
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
                p.unlink()
            elif p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not delete %s", p, exc_info=True)
            failed.append(p)
    with contextlib.suppress(OSError):
        data_dir().rmdir()  # only if empty: the speech model (and a running forget's locks) may live there
    log.info("everything voicecoach kept was deleted")
    return failed
