"""A couple's own voices: what `voicecoach check` learned about them, kept on this machine.

Each partner says the confirm and deny phrases three times and one ordinary
sentence. How well the phrases' grammar explains their answers, against the
garbage grammar, says how sure voicecoach may be of them: a voice the model
hears less well gets a lower acceptance threshold, but never so low that the
ordinary sentences they said would pass. Their loudness tells the listener
what "near" is (a television far quieter is not them). The shapes of their
answers (own_answers.py, no audio) are a second opinion on every answer after, and
the shapes of their wake phrase decide, for `voicecoach serve`, whether it was them (device/wake.py).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicecoach import paths
from voicecoach.errors import StorageError
from voicecoach.speech.decide import Thresholds
from voicecoach.speech.own_answers import OwnAnswers
from voicecoach.tomlfile import TextFileMissing, TextFileProblem, read_text

log = logging.getLogger(__name__)

FILE = "hearing.json"
MARGIN = 0.5  # log-odds (decide.Sureness) kept between their answers and the acceptance threshold
ABOVE_TALK = 1.0  # ...and between the threshold and their ordinary talk
FLOOR = 0.5  # never accept below this, whatever the samples say (the default's asking-back line)


@dataclass(frozen=True)
class Sample:
    """One calibration utterance as the listener judged it."""

    partner: int
    meant: str | None  # the intent they were asked to say; None: the ordinary sentence
    heard: str | None  # the intent (or nearly sure intent) decided, None for unclear or silence
    ratio: float | None  # Heard.sure: log-odds that the phrase was said (None: not measured)
    level_db: float


@dataclass(frozen=True)
class Profile:
    accept: float
    check: float
    voice_db: float | None
    heard: int  # calibration answers heard right
    asked: int  # calibration answers asked for
    own: OwnAnswers | None = None  # how they said their answers (None: an older file, or nothing usable)
    wake: OwnAnswers | None = None  # how they said the wake phrase, for serve (None: not learned)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.accept, self.check)


def fit(samples: list[Sample], default: Thresholds, own: OwnAnswers | None = None) -> Profile:
    """Thresholds for this couple: low enough for their answers, high enough above their talk."""
    answers = [s for s in samples if s.meant is not None]
    right = [s for s in answers if s.heard == s.meant]
    scored = [s.ratio for s in right if s.ratio is not None]  # none with the one-grammar decision
    talk = [s.ratio for s in samples if s.meant is None and s.ratio is not None]
    accept = default.accept
    if scored:
        # The weakest answer they gave, with a margin, if that is below the default.
        accept = min(accept, min(scored) - MARGIN)
    lowest = max([FLOOR, *(t + ABOVE_TALK for t in talk)])
    accept = min(default.accept, max(accept, lowest))
    check = min(default.check, accept)
    levels = [s.level_db for s in right if math.isfinite(s.level_db)]
    voice = sum(levels) / len(levels) if levels else None
    return Profile(accept, check, voice, len(right), len(answers), own if own is not None and own.usable else None)


def path() -> Path:
    return paths.data_dir() / FILE


def save(profile: Profile) -> Path:
    """Owner-only, written whole or not at all; `voicecoach forget` removes it with the data folder."""
    target = path()
    try:
        paths.private_dir(target.parent)
        paths.write_atomically(target, json.dumps(_as_json(profile)))
    except OSError as exc:
        raise StorageError(f"What the check learned could not be saved in {target.parent} ({exc.strerror or exc}).",
                           "Free some disk space, then run `voicecoach check` again.") from None
    return target


def _as_json(profile: Profile) -> dict[str, Any]:
    return {"accept": profile.accept, "check": profile.check, "voice_db": profile.voice_db, "heard": profile.heard,
            "asked": profile.asked, "own": None if profile.own is None else profile.own.to_json(),
            "wake": None if profile.wake is None else profile.wake.to_json()}


class Watch:
    """The check's file as last seen, for a process that runs for days (`voicecoach serve`): a new check, or a
    `voicecoach forget`, is noticed without a restart (`changed`, then `load`)."""

    def __init__(self) -> None:
        self._seen = _stamp()

    def changed(self) -> bool:
        now = _stamp()
        changed, self._seen = now != self._seen, now
        return changed

    @property
    def there(self) -> bool:
        """Whether the file was there when last looked at (a profile that did not load is then damaged)."""
        return self._seen is not None


def _stamp() -> tuple[int, int, int] | None:
    """Written anew (`save` replaces the file whole), changed or removed: a new stamp (None: no file)."""
    try:
        st = path().stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def load() -> Profile | None:
    """The couple's profile, or None (never calibrated, or a damaged file: then the defaults)."""
    try:
        data = json.loads(read_text(path()))
        profile = Profile(float(data["accept"]), float(data["check"]),
                          None if data.get("voice_db") is None else float(data["voice_db"]),
                          int(data["heard"]), int(data["asked"]),
                          None if data.get("own") is None else OwnAnswers.from_json(data["own"]),
                          None if data.get("wake") is None else OwnAnswers.from_json(data["wake"]))
    except TextFileMissing:
        return None
    except (TextFileProblem, ValueError, KeyError, TypeError):
        log.warning("the voice calibration in %s could not be read; using the defaults "
                    "(run `voicecoach check` to calibrate again)", path())
        return None
    if not (math.isfinite(profile.accept) and math.isfinite(profile.check)):
        return None
    return profile
