"""Dutch times as people say them: "half negen" is 20:30, and back again."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from voicecoach.device import spoken_time
from voicecoach.device.spoken_time import OFF
from voicecoach.errors import DataFileError

T = dt.time


@pytest.fixture(scope="module")
def words() -> spoken_time.SpokenTimes:
    return spoken_time.builtin()


@pytest.mark.parametrize("said, meant", [
    ("acht uur", T(20, 0)),  # the evening sense: the ten minutes are an evening habit
    ("half negen", T(20, 30)),
    ("kwart over zeven", T(19, 15)),
    ("negen uur", T(21, 0)),
    ("kwart voor acht", T(19, 45)),
    ("tien voor half negen", T(20, 20)),
    ("vijf over half acht", T(19, 35)),
    ("tien over acht", T(20, 10)),
    ("vijf voor twaalf", T(23, 55)),
    ("twaalf uur", T(12, 0)),
    ("half een", T(12, 30)),
    ("acht uur 's ochtends", T(8, 0)),
    ("half acht 's morgens", T(7, 30)),
    ("zeven uur 's avonds", T(19, 0)),
    ("twintig uur", T(20, 0)),
    ("negentien uur dertig", T(19, 30)),
    ("drieëntwintig uur", T(23, 0)),
    ("  Half   Negen ", T(20, 30)),
    ("acht uur s avonds", T(20, 0)),  # a recognizer may drop the apostrophe
    ("uit", OFF),
])
def test_spoken_times(words, said, meant):
    assert words.parse(said) == meant


@pytest.mark.parametrize("said", ["", "acht", "half", "kwart over", "dertien", "acht uur dertig", "half negen uur",
                                  "klopt", "negen uur 's nachts", "vijfentwintig uur"])
def test_what_is_not_a_time_is_none(words, said):
    assert words.parse(said) is None


@pytest.mark.parametrize("said, meant", [
    ("herinnering om acht uur", T(20, 0)),
    ("herinnering om half negen", T(20, 30)),
    ("herinnering kwart over zeven", T(19, 15)),
    ("herinnering uit", OFF),
    ("geen herinnering", OFF),
])
def test_commands(words, said, meant):
    assert words.parse_command(said) == meant
    assert said in words.command_phrases()


def test_a_time_alone_is_not_a_command(words):
    assert words.parse_command("acht uur") is None
    assert words.parse_command("herinnering") is None


def test_every_five_minutes_is_said_and_understood_back(words):
    for minutes in range(0, 24 * 60, 5):
        t = T(minutes // 60, minutes % 60)
        said = words.say(t)
        heard = words.parse(said)
        # Said without a part of the day, so it is heard in the evening sense.
        assert heard == T((minutes // 60) % 12 + 12, minutes % 60), (t, said)
        if t.hour < 12:
            assert words.parse(f"{said} 's ochtends") == t


def test_say_rounds_to_five_minutes(words):
    assert words.say(T(20, 0)) == "acht uur"
    assert words.say(T(20, 28)) == "half negen"
    assert words.say(T(21, 7)) == "vijf over negen"
    assert words.say(T(23, 58)) == "twaalf uur"
    assert words.sentence("reminder", T(20, 0)).startswith("Het is acht uur. Tijd voor jullie tien minuten samen?")


def test_every_command_word_is_listed_for_the_model_check(words):
    assert {"herinnering", "om", "half", "negen", "uit", "'s", "avonds"} <= words.words()


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = spoken_time.builtin_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mine.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, place", [
    ('"acht" = 8', '"acht" = 13', "hours.acht"),
    ('"half {uur}" = -30', '"half" = -30', "forms.half"),
    ('"vijf voor {uur}" = -5', '"vijf minuten voor {uur}" = -6', "forms"),  # 11:55 no longer said
    ("\"'s avonds\" = \"pm\"", "\"'s avonds\" = \"pm\"\n\"\" = \"am\"", "parts."),  # "acht uur" twice
    ("\"'s avonds\" = \"pm\"", "\"'s avonds\" = \"evening\"", "parts.'s avonds"),
    ('set = ["herinnering om {tijd}"', 'set = ["herinnering om"', "commands.set"),
    ('reminder = "Het is', 'reminder = 3 #', "speech.reminder"),
    ('"twintig" = 20', '"twintig" = 20\n"acht" = 8', "hours24.acht"),  # "acht uur" would be 08:00 and 20:00
])
def test_a_broken_language_file_names_file_and_place(tmp_path, old, new, place):
    with pytest.raises(DataFileError) as err:
        spoken_time.load(_variant(tmp_path, old, new))
    assert str(tmp_path / "mine.toml") in str(err.value) and place in str(err.value)


def test_a_language_file_that_is_not_toml(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[hours\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="not valid TOML"):
        spoken_time.load(path)


@pytest.mark.skipif(not (os.environ.get("VOICECOACH_MODEL") and
                         (Path(os.environ["VOICECOACH_MODEL"]) / "am" / "final.mdl").exists()),
                    reason="the Dutch model is not here: set VOICECOACH_MODEL to vosk-model-small-nl-0.22 to run")
def test_every_reminder_word_is_known_to_the_dutch_model(words):
    import vosk

    model = vosk.Model(os.environ["VOICECOACH_MODEL"])

    def known(word: str) -> bool:
        return int(model.vosk_model_find_word(word)) >= 0

    if not known("klopt"):
        pytest.skip("VOICECOACH_MODEL is not a Dutch model (it does not know 'klopt')")
    assert sorted(w for w in words.words() if not known(w)) == []
