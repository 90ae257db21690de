"""The words of the kitchen-table device: the wake phrase, "niet luisteren", the answers to the reminder,
and what it says; from a language data file, and checked against the speech model like any phrase."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from voicecoach.device import spoken_time
from voicecoach.device.spoken_time import SpokenTimes
from voicecoach.errors import DataFileError
from voicecoach.speech.vocab import Vocabulary, _phrases
from voicecoach.tomlfile import read_toml

log = logging.getLogger(__name__)

INTENTS = ("wake", "quiet", "not_today", "reminder")
SPEECH = ("greeting", "quiet_ask", "quiet", "still_listening", "listening_again", "reminder_no", "reminder_ask", "reminder_unclear")
SPEECH_ADDED = ("quiet_ask", "still_listening")
"""Sentences added after device files were first written: one written before them gets the Dutch ones."""
REMINDER_PREFIX = "item:"  # a reminder command is heard as an item of its own (see Vocabulary.phrase_map)


def _lang_file(language: str, kind: str) -> Path:
    return Path(str(resources.files("voicecoach") / "lang" / f"{language}-{kind}.toml"))


def companion(vocab: Vocabulary, kind: str) -> Path:
    """The `kind` ("device", "reminder") file that goes with a vocabulary: the one beside its file
    (mine.toml -> mine-device.toml), else the built-in one of its language, else the Dutch one."""
    source = Path(vocab.source)
    beside = source.with_name(f"{source.stem}-{kind}.toml")
    if source.suffix == ".toml" and beside.exists():
        return beside
    built_in = _lang_file(vocab.language, kind)
    return built_in if built_in.exists() else _lang_file("nl", kind)


@dataclass(frozen=True)
class DeviceWords:
    """What the device listens for and says; `vocab` has the intents wake, quiet, not_today and reminder."""

    vocab: Vocabulary
    speech: dict[str, str]
    times: SpokenTimes
    reminder_answers: tuple[str, ...]
    """What may answer "Hoe laat?": the times and the whole commands the model can hear ("acht uur",
    "herinnering om acht uur", "uit"); empty: the reminder is set in config.toml."""

    @property
    def wake_phrase(self) -> str:
        return self.vocab.first("wake")

    def waiting_intents(self) -> list[str]:
        """What is listened for while waiting: the wake phrase, "niet luisteren", and "herinnering" when the
        reminder can be set by voice."""
        # Not "herinnering uit" itself: on talk it was heard 2 times in 20 minutes (scripts/bench_wake.py);
        # after "herinnering", "Hoe laat?" takes "uit" or "herinnering uit" too.
        return ["wake", "quiet", "reminder"] if self.reminder_answers else ["wake", "quiet"]

    def answer_intents(self) -> list[str]:
        """What is listened for after "Hoe laat?"."""
        return [REMINDER_PREFIX + c for c in self.reminder_answers]


def load_device_words(vocab: Vocabulary, has_word: Callable[[str], bool] | None = None) -> DeviceWords:
    """The device's words added to `vocab` (its own intents of those names win), checked against the model.

    A phrase of the device file the model lacks is left out (models differ), as long as each intent
    keeps one; a reminder command the model lacks is left out too, and the reminder is then set in
    config.toml. A vocabulary the user gave (--vocab) must have its own wake phrase heard whole.
    """
    path = companion(vocab, "device")
    data = read_toml(path)
    raw = data.get("intents")
    if not isinstance(raw, dict):
        raise DataFileError(path, "[intents]", "expected a table with wake, quiet and not_today")
    known = has_word or (lambda w: True)
    intents = dict(vocab.intents)
    for name in INTENTS:
        if name in vocab.intents:
            continue  # the vocabulary's own words for it
        if name not in raw:
            raise DataFileError(path, f"intents.{name}", "this intent is missing")
        heard = tuple(p for p in _phrases(raw[name], str(path), f"intents.{name}") if all(map(known, p.split())))
        if not heard and name == "reminder":  # optional: the reminder is then set in config.toml
            continue
        if not heard:
            raise DataFileError(path, f"intents.{name}", "the speech model knows none of its phrases")
        intents[name] = heard
    taken = {p: n for n, ps in vocab.intents.items() for p in ps}
    for name in INTENTS:
        for phrase in intents.get(name, ()):
            if taken.get(phrase, name) != name:
                raise DataFileError(path, f"intents.{name}", f"{phrase!r} is also a phrase of {taken[phrase]!r}")
    missing = sorted({w for n in INTENTS for p in intents.get(n, ()) for w in p.split() if not known(w)})
    if missing:
        raise DataFileError(vocab.source, "", f"the speech model does not know the word(s) {', '.join(missing)}")
    speech = data.get("speech")
    if isinstance(speech, dict) and any(k not in speech for k in SPEECH_ADDED):
        dutch = read_toml(_lang_file("nl", "device"))["speech"]
        speech = {**{k: dutch[k] for k in SPEECH_ADDED}, **speech}
    if not isinstance(speech, dict) or any(not isinstance(speech.get(k), str) or not speech[k].strip() for k in SPEECH):
        raise DataFileError(path, "[speech]", f"expected a sentence for each of {', '.join(SPEECH)}")
    times = spoken_time.load(companion(vocab, "reminder"))
    answers = tuple(p for p in [*times.time_phrases(), *times.off_words, *times.command_phrases()]
                    if all(map(known, p.split())))
    if "reminder" not in intents:
        answers = ()
    if not answers:
        log.info("The speech model lacks the reminder's words (%s); it is set in config.toml only.", times.source)
    return DeviceWords(replace(vocab, intents=intents), dict(speech), times, answers)
