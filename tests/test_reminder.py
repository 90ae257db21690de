"""The daily reminder on a simulated wall clock: once a day, caught up at most once, never at night."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from voicecoach.device import reminder, spoken_time
from voicecoach.device.reminder import Due, Night, ReminderSchedule, ReminderSettings
from voicecoach.device.spoken_time import OFF
from voicecoach.device.wallclock import SimWallClock
from voicecoach.errors import DataFileError, UserError

D = dt.datetime
T = dt.time
EVENING = ReminderSettings(time=T(20, 0))


@pytest.fixture(autouse=True)
def amsterdam(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is the Netherlands' (with summer time), whatever zone the test machine is in."""
    monkeypatch.setenv("TZ", "Europe/Amsterdam")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Day:
    """A schedule, its wall clock, and every reminder it gave while polled like the serve loop does."""

    def __init__(self, start: D, settings: ReminderSettings = EVENING, state: Path | None = None) -> None:
        self.clock = SimWallClock(start)
        self.state = state or Path(os.environ["VOICECOACH_HOME"]) / "reminder.json"
        self.schedule = ReminderSchedule(settings, clock=self.clock, state_file=self.state)
        self.given: list[tuple[D, Due]] = []

    @property
    def now(self) -> D:
        return D.fromtimestamp(self.clock.time())

    def run_until(self, end: D, in_session: Callable[[D], bool] = lambda now: False) -> list[tuple[D, Due]]:
        """Poll every POLL_SECONDS of real time until `end`; returns the reminders given meanwhile."""
        before = len(self.given)
        while self.clock.time() < end.timestamp():
            due = self.schedule.check(in_session(self.now))
            if due is not None:
                self.given.append((self.now, due))
            self.clock.jump(reminder.POLL_SECONDS)
        return self.given[before:]

    def restart(self) -> None:
        self.schedule = ReminderSchedule(self.schedule.settings, clock=self.clock, state_file=self.state)


def times(given: list[tuple[D, Due]]) -> list[str]:
    return [f"{when:%Y-%m-%d %H:%M}{' late' if due.late else ''}" for when, due in given]


def test_a_normal_day_reminds_once_at_its_time():
    day = Day(D(2025, 6, 10, 12, 0))
    given = day.run_until(D(2025, 6, 13, 12, 0))
    assert times(given) == ["2025-06-10 20:00", "2025-06-11 20:00", "2025-06-12 20:00"]
    due = given[0][1]
    assert due.sentence(spoken_time.builtin()).startswith("Het is acht uur. Tijd voor jullie tien minuten samen?")
    assert stat.S_IMODE(day.state.stat().st_mode) == 0o600


def test_asleep_across_its_time_catches_up_once_on_waking():
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 19, 50))
    day.clock.set(D(2025, 6, 10, 21, 10))  # the lid was closed for 80 minutes
    given = day.run_until(D(2025, 6, 11, 12, 0))
    assert times(given) == ["2025-06-10 21:10 late"]
    assert given[0][1].sentence(spoken_time.builtin()).startswith("Het is tien over negen.")


def test_asleep_into_the_night_is_not_caught_up_at_night_nor_next_morning():
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 19, 50))
    day.clock.set(D(2025, 6, 10, 22, 30))
    assert day.run_until(D(2025, 6, 11, 19, 59)) == []  # the next morning neither
    assert times(day.run_until(D(2025, 6, 11, 20, 1))) == ["2025-06-11 20:00"]


def test_catch_up_ends_when_the_night_begins_even_inside_the_catch_up_time():
    day = Day(D(2025, 6, 10, 21, 0), ReminderSettings(time=T(21, 30), catch_up=dt.timedelta(hours=3)))
    day.run_until(D(2025, 6, 10, 21, 20))
    day.clock.set(D(2025, 6, 10, 22, 5))
    assert day.run_until(D(2025, 6, 11, 12, 0)) == []


def test_catch_up_time_is_a_setting():
    day = Day(D(2025, 6, 10, 19, 0), ReminderSettings(time=T(20, 0), catch_up=dt.timedelta(minutes=60)))
    day.run_until(D(2025, 6, 10, 19, 55))
    day.clock.set(D(2025, 6, 10, 21, 5))
    assert day.run_until(D(2025, 6, 11, 12, 0)) == []


def test_clock_jumping_forward_days_catches_up_at_most_once():
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 20, 5))
    day.clock.set(D(2025, 6, 13, 21, 0))  # three days later, in the catch-up window of the last one
    assert times(day.run_until(D(2025, 6, 14, 20, 1))) == ["2025-06-13 21:00 late", "2025-06-14 20:00"]


def test_clock_jumping_forward_over_the_time_catches_up_once():
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 19, 30))
    day.clock.jump(90 * 60)  # NTP corrects a clock that was slow
    assert times(day.run_until(D(2025, 6, 11, 12, 0))) == ["2025-06-10 21:00 late"]


def test_clock_jumping_back_after_the_reminder_does_not_repeat_it():
    day = Day(D(2025, 6, 10, 19, 0))
    assert len(day.run_until(D(2025, 6, 10, 20, 30))) == 1
    day.clock.set(D(2025, 6, 10, 19, 30))
    assert day.run_until(D(2025, 6, 11, 12, 0)) == []
    day.clock.set(D(2025, 6, 10, 19, 0))  # back over midnight too
    day.clock.set(D(2025, 6, 9, 23, 0))
    assert day.run_until(D(2025, 6, 11, 12, 0)) == []
    assert times(day.run_until(D(2025, 6, 11, 20, 1))) == ["2025-06-11 20:00"]


def test_clock_jumping_back_years_does_not_silence_the_reminder():
    """A Raspberry Pi without a clock battery can boot in the past; the reminder must not wait for that day."""
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 20, 30))
    day.clock.set(D(2023, 1, 1, 19, 0))
    assert times(day.run_until(D(2023, 1, 1, 20, 1))) == ["2023-01-01 20:00"]


def test_summer_time_starts_and_ends_at_twenty_hundred_local_every_day():
    day = Day(D(2025, 3, 29, 12, 0))  # summer time starts 30 March 02:00 -> 03:00
    given = day.run_until(D(2025, 4, 1, 12, 0))
    assert times(given) == ["2025-03-29 20:00", "2025-03-30 20:00", "2025-03-31 20:00"]
    stamps = [when.timestamp() for when, _ in given]
    assert stamps[1] - stamps[0] == 23 * 3600  # that day had 23 hours, still 20:00 on the clock

    day = Day(D(2025, 10, 25, 12, 0))  # and ends 26 October 03:00 -> 02:00
    given = day.run_until(D(2025, 10, 28, 12, 0))
    assert times(given) == ["2025-10-25 20:00", "2025-10-26 20:00", "2025-10-27 20:00"]
    stamps = [when.timestamp() for when, _ in given]
    assert stamps[1] - stamps[0] == 25 * 3600


def test_a_time_in_the_summer_time_gap_or_the_repeated_hour_comes_once():
    settings = ReminderSettings(time=T(2, 30), night=None)
    day = Day(D(2025, 3, 29, 12, 0), settings)
    given = day.run_until(D(2025, 3, 31, 12, 0))  # 02:30 does not exist on 30 March
    assert [when.date() for when, _ in given] == [dt.date(2025, 3, 30), dt.date(2025, 3, 31)]
    assert all(not due.late for _, due in given)
    # It comes an hour after the clock skipped 02:00-03:00 (02:30 in winter time), and says the hour it is.
    assert [when.time() for when, _ in given] == [T(3, 30), T(2, 30)]
    assert [due.said_time for _, due in given] == [T(3, 30), T(2, 30)]
    day = Day(D(2025, 10, 25, 12, 0), settings, state=day.state.with_name("other.json"))
    given = day.run_until(D(2025, 10, 27, 12, 0))  # 02:30 happens twice on 26 October
    assert [when.date() for when, _ in given] == [dt.date(2025, 10, 26), dt.date(2025, 10, 27)]


def test_restart_after_the_reminder_does_not_repeat_it():
    day = Day(D(2025, 6, 10, 19, 0))
    assert len(day.run_until(D(2025, 6, 10, 20, 1))) == 1
    day.restart()
    assert day.run_until(D(2025, 6, 11, 12, 0)) == []


def test_restart_while_asleep_across_the_time_still_catches_up():
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 19, 50))
    day.clock.set(D(2025, 6, 10, 20, 40))  # powered off, then started again
    day.restart()
    assert times(day.run_until(D(2025, 6, 10, 21, 0))) == ["2025-06-10 20:40 late"]


def test_first_start_after_its_time_does_not_remind_of_the_past():
    day = Day(D(2025, 6, 10, 20, 30))
    assert times(day.run_until(D(2025, 6, 11, 20, 1))) == ["2025-06-11 20:00"]


def test_never_during_a_session_and_not_deferred_after_it():
    day = Day(D(2025, 6, 10, 19, 0))
    def talking(now: D) -> bool:
        return D(2025, 6, 10, 19, 45) <= now < D(2025, 6, 10, 20, 20)

    assert day.run_until(D(2025, 6, 11, 12, 0), talking) == []
    assert day.state.read_text().count("skipped: session") == 1
    assert times(day.run_until(D(2025, 6, 11, 20, 1))) == ["2025-06-11 20:00"]


def test_a_time_chosen_inside_the_night_comes_on_time_but_is_never_caught_up():
    late = ReminderSettings(time=T(23, 0))
    day = Day(D(2025, 6, 10, 22, 0), late)
    assert times(day.run_until(D(2025, 6, 11, 12, 0))) == ["2025-06-10 23:00"]
    day.run_until(D(2025, 6, 11, 22, 50))
    day.clock.set(D(2025, 6, 11, 23, 20))
    assert day.run_until(D(2025, 6, 12, 12, 0)) == []


def test_off_means_never():
    day = Day(D(2025, 6, 10, 12, 0), ReminderSettings(time=None))
    assert day.run_until(D(2025, 6, 12, 12, 0)) == []
    assert day.schedule.next_time() is None


def test_next_time():
    day = Day(D(2025, 6, 10, 12, 0))
    assert day.schedule.next_time() == D(2025, 6, 10, 20, 0)
    day.run_until(D(2025, 6, 10, 20, 1))
    assert day.schedule.next_time() == D(2025, 6, 11, 20, 0)


CONFIG = """\
# Our settings; the names are ours.
names = "Sanne,Joris"  # first her, then him

[timing]
turn_seconds = 90 # we like long turns

[reminder]
# when we talk
time = "19:00"
night = "23:00-07:00"
"""


def test_changing_the_time_by_voice_rewrites_config_keeping_the_rest(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    config.chmod(0o644)
    day = Day(D(2025, 6, 10, 20, 30), reminder.load_settings(config))
    assert day.schedule.settings.time == T(19, 0) and day.schedule.settings.night == Night(T(23, 0), T(7, 0))

    words = spoken_time.builtin()
    choice = words.parse_command("herinnering om acht uur")
    assert choice == T(20, 0)
    day.schedule.change(choice, config)
    text = config.read_text(encoding="utf-8")
    assert text == CONFIG.replace('time = "19:00"', 'time = "20:00"')
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert reminder.load_settings(config).time == T(20, 0)
    # Set at 20:30 for 20:00: not a catch-up now, but tomorrow at eight.
    assert times(day.run_until(D(2025, 6, 11, 20, 1))) == ["2025-06-11 20:00"]

    day.schedule.change(words.parse_command("herinnering uit"), config)
    assert 'time = "off"' in config.read_text(encoding="utf-8")
    assert reminder.load_settings(config).time is None
    assert day.run_until(D(2025, 6, 12, 21, 0)) == []
    # On again after its time: nothing for the past.
    day.schedule.change(T(20, 0), config)
    assert times(day.run_until(D(2025, 6, 13, 20, 1))) == ["2025-06-13 20:00"]


def test_choosing_a_time_without_a_config_file_creates_it(tmp_path):
    config = tmp_path / "new" / "config.toml"
    settings = reminder.save_choice(T(20, 30), config)
    assert settings.time == T(20, 30)
    assert config.read_text(encoding="utf-8").strip() == '[reminder]\ntime = "20:30"'
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700


def test_a_config_kept_elsewhere_stays_a_link(tmp_path):
    real = tmp_path / "dotfiles" / "voicecoach.toml"
    real.parent.mkdir()
    real.write_text(CONFIG, encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    reminder.save_choice(OFF, link)
    assert link.is_symlink() and 'time = "off"' in real.read_text(encoding="utf-8")


def test_a_broken_config_is_never_overwritten(tmp_path):
    config = tmp_path / "config.toml"
    broken = CONFIG + "[oops\n"
    config.write_text(broken, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        reminder.save_choice(T(20, 0), config)
    assert str(config) in str(err.value)
    assert config.read_text(encoding="utf-8") == broken
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary file left behind


def test_a_config_that_cannot_be_written_is_one_sentence(tmp_path):
    not_a_folder = tmp_path / "config"
    not_a_folder.write_text("a file where the config folder should be")
    with pytest.raises(UserError) as err:
        reminder.save_choice(T(20, 0), not_a_folder / "config.toml")
    assert "could not be written" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("section, place", [
    ('[reminder]\ntime = "25:00"', "reminder.time"),
    ('[reminder]\ntime = "acht uur"', "reminder.time"),
    ("[reminder]\ntime = 20", "reminder.time"),
    ('[reminder]\ntijd = "20:00"', "reminder.tijd"),
    ('[reminder]\nnight = "22:00"', "reminder.night"),
    ('[reminder]\nnight = "22:00-late"', "reminder.night"),
    ("[reminder]\ncatch_up_minutes = -5", "reminder.catch_up_minutes"),
    ("reminder = 5", "reminder"),
])
def test_a_broken_reminder_setting_names_file_and_place(tmp_path, section, place):
    config = tmp_path / "config.toml"
    config.write_text(section + "\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        reminder.load_settings(config)
    assert f"{config}, {place}:" in str(err.value)


@pytest.mark.parametrize("value, meant", [
    ('"20:00"', T(20, 0)), ('"7:05"', T(7, 5)), ("20:15:00", T(20, 15)), ('"off"', None), ("false", None),
    ('"uit"', None),
])
def test_reminder_time_values(tmp_path, value, meant):
    config = tmp_path / "config.toml"
    config.write_text(f"[reminder]\ntime = {value}\nnight = \"off\"\ncatch_up_minutes = 30\n", encoding="utf-8")
    settings = reminder.load_settings(config)
    assert settings == ReminderSettings(time=meant, night=None, catch_up=dt.timedelta(minutes=30))


def test_no_config_file_means_no_reminder(tmp_path):
    assert reminder.load_settings(tmp_path / "none.toml") == ReminderSettings()
    assert ReminderSettings().time is None


def test_a_damaged_record_starts_afresh_without_reminding_of_the_past(caplog):
    day = Day(D(2025, 6, 10, 19, 0))
    day.run_until(D(2025, 6, 10, 19, 30))
    day.state.write_text("{not json", encoding="utf-8")
    day.clock.set(D(2025, 6, 10, 20, 30))
    day.restart()
    assert day.run_until(D(2025, 6, 11, 12, 0)) == []
    assert "unreadable" in caplog.text
    assert times(day.run_until(D(2025, 6, 11, 20, 1))) == ["2025-06-11 20:00"]


def test_a_wall_clock_linked_to_the_simulated_clock_moves_with_it_and_can_jump():
    from voicecoach.clock import SimClock

    clock = SimClock(100.0)
    wall = SimWallClock(D(2025, 6, 10, 19, 59), clock)
    schedule = ReminderSchedule(EVENING, clock=wall, state_file=Path(os.environ["VOICECOACH_HOME"]) / "r.json")
    assert schedule.check() is None
    clock.sleep(60)  # a simulated minute of a session
    assert D.fromtimestamp(wall.time()) == D(2025, 6, 10, 20, 0)
    assert schedule.check() is not None
    wall.jump(-3600)
    assert D.fromtimestamp(wall.time()) == D(2025, 6, 10, 19, 0) and clock.now() == 160.0
