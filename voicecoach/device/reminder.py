"""The daily reminder: due at its time once a day, caught up at most once, never at night or in a session.

Times of day are wall-clock times (`WallClock`, epoch seconds that may jump) read in the
system's local zone, so a reminder at 20:00 stays at 20:00 across a change to or from summer time.
What was last reminded of is kept in the data folder, so a restart never reminds twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicecoach import paths
from voicecoach.device.config_file import config_path, read_config, write_setting
from voicecoach.device.spoken_time import OFF, Choice, SpokenTimes
from voicecoach.device.wallclock import SystemWallClock, WallClock, local
from voicecoach.errors import DataFileError
from voicecoach.tomlfile import TextFileMissing, TextFileProblem, read_text

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0
"""How often the caller should ask `ReminderSchedule.check`: a reminder comes at most this late."""
ON_TIME = dt.timedelta(minutes=5)
"""A reminder heard this soon after its time is on time ("Het is acht uur"); later, it is a catch-up."""
_FAR_BACK = dt.timedelta(days=1)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_KEYS = ("time", "night", "catch_up_minutes")


@dataclass(frozen=True)
class Night:
    """The hours in which a missed reminder is not caught up (start may be after end: over midnight)."""

    start: dt.time = dt.time(22, 0)
    end: dt.time = dt.time(8, 0)

    def contains(self, t: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def next_start(self, after: dt.datetime) -> dt.datetime:
        """The first start of the night at or after the local wall time `after`."""
        start = dt.datetime.combine(after.date(), self.start)
        return start if start >= after else start + dt.timedelta(days=1)


@dataclass(frozen=True)
class ReminderSettings:
    """`[reminder]` in config.toml. Off unless the couple asks for it (by voice, or in that file)."""

    time: dt.time | None = None
    night: Night | None = Night()
    catch_up: dt.timedelta = dt.timedelta(hours=2)
    """How late a missed reminder may still come (and never past the start of the night)."""

    @classmethod
    def from_config(cls, config: dict[str, Any], path: Path) -> ReminderSettings:
        section = config.get("reminder", {})
        if not isinstance(section, dict):
            raise DataFileError(path, "reminder", "expected a table: [reminder] with time = \"20:00\"")
        for key in section:
            if key not in _KEYS:
                raise DataFileError(path, f"reminder.{key}", f"unknown setting; use one of {', '.join(_KEYS)}")
        settings = cls()
        if "time" in section:
            settings = dataclasses.replace(settings, time=_time_or_off(section["time"], path, "reminder.time"))
        if "night" in section:
            settings = dataclasses.replace(settings, night=_night(section["night"], path))
        if "catch_up_minutes" in section:
            minutes = section["catch_up_minutes"]
            if type(minutes) is not int or not 0 <= minutes <= 12 * 60:
                raise DataFileError(path, "reminder.catch_up_minutes", "expected a whole number of minutes, 0 to 720")
            settings = dataclasses.replace(settings, catch_up=dt.timedelta(minutes=minutes))
        return settings


def _time_or_off(value: Any, path: Path, place: str) -> dt.time | None:
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "uit", "")):
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise DataFileError(path, place, f"expected a time such as \"20:00\", or \"off\" (not {value!r})")
    return dt.time(int(match[1]), int(match[2]))


def _night(value: Any, path: Path) -> Night | None:
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "")):
        return None
    parts = value.split("-") if isinstance(value, str) else []
    if len(parts) != 2:
        raise DataFileError(path, "reminder.night", f"expected hours such as \"22:00-08:00\", or \"off\" (not {value!r})")
    start, end = (_time_or_off(p, path, "reminder.night") for p in parts)
    if start is None or end is None:
        raise DataFileError(path, "reminder.night", "expected hours such as \"22:00-08:00\"")
    return Night(start, end) if start != end else None


def load_settings(path: Path | None = None) -> ReminderSettings:
    path = path or config_path()
    return ReminderSettings.from_config(read_config(path), path)


def save_choice(choice: Choice, path: Path | None = None) -> ReminderSettings:
    """Write a new reminder time (or "off") into config.toml, keeping the rest of the file."""
    path = path or config_path()
    write_setting("reminder", "time", "off" if choice == OFF else f"{choice:%H:%M}", path)
    return load_settings(path)


@dataclass(frozen=True)
class ReminderState:
    """What the reminder has done, kept in the data folder across restarts."""

    time: str | None = None
    """The time of day the state counts for; another time starts afresh."""
    armed_at: float = 0.0
    """Reminders due before this moment (epoch seconds) are not given: a new time never fires for the past."""
    done_for: str | None = None
    """The date (ISO) of the last reminder given, skipped or missed."""
    done_at: float | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Due:
    """A reminder to give now."""

    scheduled: dt.datetime
    """Its local time today (naive)."""
    now: dt.datetime
    late: bool

    @property
    def said_time(self) -> dt.time:
        """The time to say: the set time when on time, the time on the clock now when caught up."""
        # Compared on the wall clock, so a reminder set inside the hour skipped by summer time says the real hour.
        return (self.now if self.late or abs(self.now - self.scheduled) > ON_TIME else self.scheduled).time()

    def sentence(self, words: SpokenTimes) -> str:
        return words.sentence("reminder", self.said_time)


def decide(settings: ReminderSettings, state: ReminderState, now: float, in_session: bool,
           ) -> tuple[Due | None, ReminderState]:
    """Whether a reminder is due at epoch second `now`, and the state to keep afterwards.

    Only the most recent scheduled time counts, so after any sleep or jump forward it is
    caught up at most once, and only until `catch_up` has passed or the night begins. In a
    session it is skipped, not deferred: the couple is already talking, and a reminder right
    after they finish would be nagging.
    """
    if settings.time is None:  # forgotten, so that turning it on again never fires for the past
        return None, state if state.time is None else ReminderState(armed_at=now)
    wanted = f"{settings.time:%H:%M}"
    if state.time != wanted:
        log.info("Daily reminder set for %s", wanted)
        return None, ReminderState(time=wanted, armed_at=now)
    if state.armed_at > now + _FAR_BACK.total_seconds() or (state.done_at or 0) > now + _FAR_BACK.total_seconds():
        log.warning("The clock went back more than a day (to %s); reminders count from now on.", local(now))
        return None, ReminderState(time=wanted, armed_at=now)

    now_local = local(now)
    scheduled = dt.datetime.combine(now_local.date(), settings.time)
    if scheduled.timestamp() > now:
        scheduled -= dt.timedelta(days=1)
    if scheduled.timestamp() < state.armed_at:
        return None, state
    if state.done_for is not None and scheduled.date().isoformat() <= state.done_for:
        return None, state

    night = settings.night
    deadline = scheduled + max(settings.catch_up, ON_TIME)
    if night is not None:
        if night.contains(settings.time):  # chosen inside the night: on time or not at all
            deadline = scheduled + ON_TIME
        else:
            deadline = min(deadline, night.next_start(scheduled))
    late = now - scheduled.timestamp() > ON_TIME.total_seconds()
    if now >= deadline.timestamp():
        log.info("The %s reminder of %s was missed (nothing ran until %s); it is not caught up this late.",
                 wanted, scheduled.date(), now_local.strftime("%Y-%m-%d %H:%M"))
        return None, _done(state, scheduled, now, "missed")
    if in_session:
        log.info("The %s reminder is skipped: a session is running.", wanted)
        return None, _done(state, scheduled, now, "skipped: session")
    log.info("Daily reminder (%s)%s", wanted, f", caught up at {now_local:%H:%M}" if late else "")
    return Due(scheduled, now_local, late), _done(state, scheduled, now, "late" if late else "on time")


def _done(state: ReminderState, scheduled: dt.datetime, now: float, outcome: str) -> ReminderState:
    return dataclasses.replace(state, done_for=scheduled.date().isoformat(), done_at=now, outcome=outcome)


def state_path() -> Path:
    return paths.data_dir() / "reminder.json"


def read_state(path: Path) -> ReminderState | None:
    try:
        data = json.loads(read_text(path))
        return ReminderState(**data)
    except TextFileMissing:
        return None
    except (TextFileProblem, ValueError, TypeError) as exc:
        # Only voicecoach writes this file, atomically; if it is damaged anyway, starting afresh
        # can at worst skip today's reminder, never give it twice.
        log.warning("The reminder's record %s is unreadable (%s); reminders count from now on.", path, exc)
        return None


class ReminderSchedule:
    """Ask `check()` every `POLL_SECONDS`; it answers with a `Due` once a day, and remembers that."""

    def __init__(self, settings: ReminderSettings, *, clock: WallClock | None = None,
                 state_file: Path | None = None) -> None:
        self.settings = settings
        self._clock = clock or SystemWallClock()
        self._path = state_file or state_path()
        self._state = read_state(self._path) or ReminderState(armed_at=self._clock.time())

    def check(self, in_session: bool = False) -> Due | None:
        due, state = decide(self.settings, self._state, self._clock.time(), in_session)
        if state != self._state:
            self._save(state)  # before the reminder is spoken: a crash while speaking never repeats it
        return due

    def change(self, choice: Choice, config: Path | None = None) -> ReminderSettings:
        """Set a new time (or off) by voice: written to config.toml, counted from now on."""
        self.settings = save_choice(choice, config)
        wanted = None if self.settings.time is None else f"{self.settings.time:%H:%M}"
        self._save(ReminderState(time=wanted, armed_at=self._clock.time()))
        return self.settings

    def next_time(self) -> dt.datetime | None:
        """The next scheduled reminder in local time (for "next reminder at ..." lines), or None when off."""
        if self.settings.time is None:
            return None
        now = local(self._clock.time())
        today = dt.datetime.combine(now.date(), self.settings.time)
        if self._state.done_for == today.date().isoformat() or today <= now:
            return today + dt.timedelta(days=1)
        return today

    def _save(self, state: ReminderState) -> None:
        self._state = state
        paths.private_dir(self._path.parent)
        try:
            paths.write_atomically(self._path, json.dumps(dataclasses.asdict(state)))
        except OSError as exc:  # the reminder still works while running; only a restart would forget it
            log.warning("The reminder's record could not be saved to %s (%s).", self._path, exc)
