"""The {placeholders} a text may use: one table for the code that fills them in and for the checks at load."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from voicecoach.errors import DataFileError

# Filled in every text: the partners, the words that work (from the vocabulary), the closing words, and
# {bewaard}: what was kept of this session with their consent (empty when nothing was, as with --no-journal).
BASE = ("spreker", "luisteraar", "een", "twee", "ja", "nee", "klopt", "klopt_niet", "klaar", "verder", "verander", "stop",
        "afsluiting", "bewaard")
_LIST = ("waarde", "waarden", "keuze", "voorbeeld", "nummer")
# What a step's texts may use beyond BASE, by its kind.
BY_KIND: dict[str, tuple[str, ...]] = {"values": _LIST, "shared": (*_LIST, "allebei", "voorstel"), "count": ("nummer",)}
# The shared texts (_common.toml) that are filled in with more than BASE.
COMMON: dict[str, tuple[str, ...]] = {
    "help": ("woorden",), "timeout": ("minuten",), "turn_warning": ("seconden",), "menu": ("woorden",),
    "menu_suggest": ("oefening", "woorden"), "menu_help": ("voorbeeld", "herhaal"),
    "menu_help_suggest": ("voorbeeld", "oefening"), "menu_failed": ("voorbeeld",),
    "between": ("weetje",), "value_again": ("voorbeeld",), "value_unknown": ("voorbeeld",), "value_kept": _LIST,
    "value_change_help": (*_LIST, "houden"),
    "value_silence": ("voorbeeld",), "value_twice": _LIST, "value_help": ("voorbeeld", "woorden"),
    "list_again": ("waarde",), "which_again": _LIST, "which_help": (*_LIST, "houden"),
    "journal_sessions": ("aantal",), "journal_values": ("waarden",),
    "journal_gratitude": ("aantal",), "resume_question": ("titel",),
    "follow_up_when": ("wanneer",), "follow_up_also": ("wanneer",), "follow_up_weekday": ("dag",),
    "follow_up_date": ("datum",), "follow_up_ask": ("beetje",), "follow_up_silence": ("beetje",),
    "follow_up_unclear": ("beetje",), "follow_up_help": ("beetje", "herhaal"), "follow_up_why": ("beetje", "herhaal"),
    "turns.speaking_time": ("tijd_een", "tijd_twee"), "turns.minutes": ("aantal",), "turns.minutes_and_half": ("aantal",),
}
# The step texts' defaults (_common.toml [defaults]) and the kind of step each is said in.
DEFAULTS_KIND = {
    "reflect": "mirror", "check": "mirror", "more": "mirror", "add": "mirror", "correct": "mirror",
    "agree": "agreement", "consent": "agreement", "consent_unrecorded": "agreement", "again": "agreement",
    "empty": "agreement",
    "ask": "values", "check_values": "values",
    "check_shared": "shared", "which": "values", "change": "values", "absent_values": "values",
    "absent_shared": "shared", "both": "shared", "none": "shared",
    "item": "count", "counted": "count",
}


# What comes before a value that opens a sentence: nothing yet, or the end of a sentence and a space.
_OPENS = re.compile(r"(?:\A|[.?!]\s)\s*\Z")


def fill(text: str, values: Mapping[str, Any], *, sentence: bool = True) -> str:
    """`text` with its placeholders filled in from `values`, as `str.format_map`; a value that opens a sentence
    (at the start of the text, or after ". ", "? " or "! ") starts with a capital: "Partner één, jij begint."
    and "Rust. En je derde?", printed and spoken, whatever the names, words or values filled in.
    A part of a sentence (`sentence=False`: "{aantal} minuten", said inside another) does not open one."""
    formatter = string.Formatter()
    done = ""
    for literal, name, spec, conversion in formatter.parse(text):
        done += literal
        if name is None:
            continue
        value = formatter.convert_field(formatter.get_field(name, (), values)[0], conversion)
        filled = formatter.format_field(value, formatter.vformat(spec, (), values) if spec else "")
        if filled and (sentence or done.strip()) and _OPENS.search(done):
            filled = filled[0].upper() + filled[1:]
        done += filled
    return done


def used(text: str) -> list[str]:
    """The placeholders in `text`; ValueError for a brace without its partner."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def check(text: str, allowed: tuple[str, ...], source: object, place: str) -> None:
    """A typo such as {sprekr} is an error naming the file and the place, not a text said with braces."""
    try:
        names = used(text)
    except ValueError:
        raise DataFileError(source, place, "a { or } without its partner; write {{ or }} for a brace itself") from None
    for name in names:
        if name not in BASE + allowed:
            raise DataFileError(source, place, f"{{{name}}} is not filled in here; use one of "
                                               + ", ".join(f"{{{n}}}" for n in BASE + allowed))
