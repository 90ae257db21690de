"""Spoken-text lint: every Dutch sentence a couple hears, in every data file, is one espeak-ng can say
and a Dutch couple understands: no abbreviations in capitals, no English, no command names, no stray braces.
Also the pronunciation list, applied before synthesis."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voicecoach.engine.exercise import TEXT_FIELDS, exercises_dir
from voicecoach.speech.pronunciation import Pronunciation, load_pronunciation
from voicecoach.tomlfile import read_toml

LANG = exercises_dir().parent / "lang"
# English words a Dutch text has no business with (Dutch loanwords such as "sorry", "time-out" or "oké" are fine).
ENGLISH = {
    "the", "and", "you", "your", "yes", "please", "okay", "ok", "with", "what", "this", "that", "is it",
    "journal", "export", "resume", "run", "listen", "check", "forget", "setup", "text", "names", "answers",
    "therapy", "behaviour", "behavior", "acceptance", "commitment", "emotionally", "focused", "solution",
    "freedom", "techniques", "integrative", "couple", "couples", "anterior", "cingulate",
    "mirror", "agreement", "values", "step", "steps", "exercise", "menu", "stop it", "fridge", "wake",
}
# What only a screen shows: the program and its options.
COMMAND = re.compile(r"`|\bvoicecoach\b|(?<!\w)--?[a-z]|\.toml\b|\.html\b", re.IGNORECASE)
CAPITALS = re.compile(r"\b[A-Z]{2,}\b|\b[A-Z]+[a-z]*[A-Z]\w*\b")  # IBCT, ACC, but also "McD", "iPad" shapes
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _texts(value: object, place: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield place, value
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _texts(item, f"{place}[{n}]")


def spoken_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every text voicecoach says: exercises, shared texts, the language files' sentences."""
    for path in sorted(exercises_dir().glob("*.toml")):
        data: dict[str, Any] = read_toml(path)
        if path.name == "_common.toml":
            for key, value in data.items():
                if key in ("defaults", "recap"):
                    for name, text in value.items():
                        yield from _texts(text, f"{path.name} defaults.{name}")
                elif key != "timing":
                    yield from _texts(value, f"{path.name} {key}")
            continue
        for key in ("title", "spoken", "why"):
            yield from _texts(data.get(key), f"{path.name} {key}")
        for step in data.get("steps", []):
            for key in TEXT_FIELDS:
                yield from _texts(step.get(key), f"{path.name} {step.get('id')}.{key}")
    for path in sorted(LANG.glob("*.toml")):
        data = read_toml(path)
        for table in ("texts", "speech"):  # the sentences; the rest is grammar (phrases a couple says)
            for key, value in data.get(table, {}).items():
                yield from _texts(value, f"{path.name} {table}.{key}")


SPOKEN = list(spoken_texts())


def problems(text: str) -> list[str]:
    """What is wrong with one spoken text (placeholders are filled in at run time: their names don't count)."""
    found: list[str] = []
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return ["a { or } without its partner"]
    said = text
    for name in names:
        said = said.replace("{" + name + "}", " ")
    if "{" in said or "}" in said:
        found.append("a brace that is not a placeholder")
    found += [f"capitals {m.group(0)!r}" for m in CAPITALS.finditer(said)]
    found += [f"a command {m.group(0)!r}" for m in COMMAND.finditer(said)]
    words = [w.lower() for w in WORD.findall(said)]
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    found += [f"English {w!r}" for w in [*words, *pairs] if w in ENGLISH]
    return found


def test_there_are_spoken_texts_from_every_file() -> None:
    files = {where.split()[0] for where, _ in SPOKEN}
    assert {"_common.toml", "herstelgesprek.toml", "waardenkaart.toml", "dankbaarheid.toml", "nl.toml",
            "luisteroefeningen.toml", "toekomstbeeld.toml", "dagelijks-gesprek.toml"} <= files
    assert len(SPOKEN) > 150


@pytest.mark.parametrize("where,text", SPOKEN, ids=[where for where, _ in SPOKEN])
def test_every_spoken_text_is_plain_dutch(where: str, text: str) -> None:
    assert problems(text) == [], f"{where}: {text!r}"


@pytest.mark.parametrize("text,problem", [
    ("Dat komt uit IBCT en EFT.", "capitals 'IBCT'"),
    ("De ACC slaat alarm.", "capitals 'ACC'"),
    ("Met voicecoach journal hoor je hem terug.", "a command 'voicecoach'"),
    ("Start met `voicecoach run`.", "a command '`'"),
    ("Zeg --names en dan jullie namen.", "a command '--n'"),
    ("Please zeg ja.", "English 'please'"),
    ("Acceptance and commitment therapy helpt.", "English 'acceptance'"),
    ("Zeg {ja of {nee}.", "a { or } without its partner"),
    ("Zeg ja} of nee.", "a { or } without its partner"),
])
def test_the_lint_catches_what_a_couple_should_not_hear(text: str, problem: str) -> None:
    assert problem in problems(text)


def test_the_lint_lets_plain_dutch_through() -> None:
    assert problems("Sorry, {spreker}. Neem een time-out, oké? Zeg {ja} of {nee}.") == []


def test_the_pronunciation_list_respells_whole_words_only() -> None:
    nl = load_pronunciation("nl")
    assert nl.apply("We nemen een time-out van twintig minuten.") == "We nemen een taim aut van twintig minuten."
    assert nl.apply("Zeg Time-Out.") == "Zeg taim aut."
    assert Pronunciation({"rust": "ruust"}).apply("rust, rustig en onrust") == "ruust, rustig en onrust"
    assert load_pronunciation("xx").apply("time-out") == "time-out"  # a language without a list


def test_the_pronunciation_list_is_applied_before_synthesis(tmp_path: Path) -> None:
    """What espeak-ng renders for "time-out" is what it renders for "taim aut" (the Dutch way), not the
    English-Dutch mix it makes of the written word.

    One synthesizer renders both: on a busy machine a second one may fall back to the espeak-ng program,
    whose samples differ from the pyttsx3 worker's by a little (the flaky full-suite failure)."""
    from voicecoach.speech.synth import Pyttsx3Synth

    synth = Pyttsx3Synth(cache_dir=tmp_path)
    try:
        said = synth.render("Neem een time-out.").samples
        respelled = synth.render("Neem een taim aut.").samples
    finally:
        synth.close()
    assert len(said) == len(respelled) and (said == respelled).all()
