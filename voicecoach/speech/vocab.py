"""Per-language vocabulary: the phrases a couple may say, mapped to intents."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from voicecoach.errors import DataFileError
from voicecoach.tomlfile import read_toml

log = logging.getLogger(__name__)

# Intents the engine understands; a vocabulary may add its own (e.g. exercise choices).
# "quiet": "geen opmerkingen", no more remarks about interrupting (turn awareness).
COMMANDS = ("repeat", "pause", "resume", "stop", "why", "help", "timeout", "safety", "quiet")
ANSWERS = ("confirm", "deny")
# Measured on the tuning voices of the evaluation corpus (scripts/hearing.py --split tuning).
# A phrase decides when voicecoach is this sure it was said (log-odds of decide.SURENESS: 1.5 is about
# 82%); from check to accept voicecoach asks back; below check it is unclear.
DEFAULT_ACCEPT_SCORE = 1.5
DEFAULT_CHECK_SCORE = 0.5


def normalize(text: str) -> str:
    """Lower case, punctuation dropped (hyphens and apostrophes kept), single spaces."""
    text = re.sub(r"[^\w\s'-]", " ", text.lower())
    return " ".join(text.split())


@dataclass(frozen=True)
class Vocabulary:
    language: str
    intents: dict[str, tuple[str, ...]]
    fillers: tuple[str, ...] = ()
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    min_confidence: float = 0.6
    max_answer_seconds: float = 3.0
    source: str = "<built-in>"
    accept_score: float = 0.0  # see decide.Thresholds: log-odds that the phrase was said
    check_score: float = 0.0
    texts: dict[str, str] = field(default_factory=dict)  # sentences the listening side says (e.g. "check")

    def phrase_map(self, intents: Iterable[str]) -> dict[str, str]:
        """phrase -> intent for the intents valid at this moment.

        The engine also asks for list items (e.g. the values): "item:<words>"
        is the item said on its own, "<intent>:<words>" the intent's phrases
        followed by it ("verander rust"). Later names win a shared phrase.
        """
        out: dict[str, str] = {}
        for name in intents:
            head, sep, item = name.partition(":")
            if not sep:
                phrases = self.intents.get(name, ())
            elif head == "item":
                phrases = (item,)
            else:
                phrases = tuple(f"{p} {item}" for p in self.intents.get(head, ()))
            out.update(dict.fromkeys(phrases, name))
        return out

    def words(self) -> set[str]:
        phrases = [p for ps in self.intents.values() for p in ps] + list(self.fillers)
        phrases += [p for ps in self.lists.values() for p in ps]
        return {w for p in phrases for w in p.split()}

    def first(self, intent: str) -> str:
        """The phrase to name when telling people what to say."""
        return self.intents[intent][0]

    def check_model(self, has_word: Callable[[str], bool], strict: bool) -> Vocabulary:
        """Refuse words the model cannot hear: Vosk would silently drop them.

        A vocabulary the user gave is refused whole, naming the word. The
        built-in one drops alternative phrases the model lacks (models differ),
        as long as every intent keeps at least one phrase.
        """
        missing = sorted(w for w in self.words() if not has_word(w))
        if not missing:
            return self
        if strict:
            raise DataFileError(
                self.source, "", f"the speech model does not know the word(s) {', '.join(repr(w) for w in missing)}"
            )
        gone = set(missing)

        def keep(phrases: Iterable[str]) -> tuple[str, ...]:
            return tuple(p for p in phrases if not gone & set(p.split()))

        intents = {name: keep(ps) for name, ps in self.intents.items()}
        empty = [name for name, ps in intents.items() if not ps]
        if empty:
            raise DataFileError(
                self.source, f"intent {empty[0]!r}", f"the speech model knows none of its words ({', '.join(missing)})"
            )
        log.warning("vocabulary %s: the model lacks %d word(s); their phrases are left out", self.source, len(missing))
        lists = {name: keep(ps) for name, ps in self.lists.items()}
        return replace(self, intents=intents, fillers=keep(self.fillers), lists=lists)


def builtin_path(language: str) -> Path:
    return Path(str(resources.files("voicecoach") / "lang" / f"{language}.toml"))


def load_vocabulary(path: Path | None = None, language: str = "nl") -> Vocabulary:
    """Load and check a vocabulary file; every problem names the file and place."""
    path = path or builtin_path(language)
    return parse_vocabulary(read_toml(path), str(path))


def _phrases(value: object, source: str, place: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise DataFileError(source, place, "expected a non-empty list of phrases")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DataFileError(source, f"{place}[{i}]", "a phrase must be text")
        phrase = normalize(item)
        if not phrase:
            raise DataFileError(source, f"{place}[{i}]", "the phrase is empty")
        out.append(phrase)
    return tuple(dict.fromkeys(out))


def _number(data: dict[str, Any], key: str, default: float, source: str, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DataFileError(source, key, f"expected a number from {low} to {high}")
    return float(value)


_TOP_LEVEL = ("fillers", "lists", "language", "min_confidence", "max_answer_seconds", "accept_score", "check_score",
              "texts")


def parse_vocabulary(data: dict[str, Any], source: str) -> Vocabulary:
    intents_raw = data.get("intents")
    if not isinstance(intents_raw, dict) or not intents_raw:
        raise DataFileError(source, "[intents]", "the table of intents is missing or empty")
    intents: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for name, value in intents_raw.items():
        if name in _TOP_LEVEL:  # TOML puts keys written below [intents] into that table
            raise DataFileError(source, f"intents.{name}", f"'{name}' must be written above the [intents] line")
        phrases = _phrases(value, source, f"intents.{name}")
        for phrase in phrases:
            if phrase in owner:
                raise DataFileError(
                    source, f"intents.{name}", f"the phrase {phrase!r} is also used for intent {owner[phrase]!r}"
                )
            owner[phrase] = name
        intents[name] = phrases
    for required in ANSWERS:
        if required not in intents:
            raise DataFileError(source, "[intents]", f"the intent {required!r} is missing")
    fillers = _phrases(data["fillers"], source, "fillers") if "fillers" in data else ()
    clash = sorted(set(fillers) & set(owner))
    if clash:
        raise DataFileError(source, "fillers", f"{clash[0]!r} is both a filler and a phrase of an intent")
    lists_raw = data.get("lists", {})
    if not isinstance(lists_raw, dict):
        raise DataFileError(source, "[lists]", "expected a table of lists")
    lists = {name: _phrases(v, source, f"lists.{name}") for name, v in lists_raw.items()}
    texts_raw = data.get("texts", {})
    if not isinstance(texts_raw, dict) or not all(isinstance(v, str) and v.strip() for v in texts_raw.values()):
        raise DataFileError(source, "[texts]", "expected a table of non-empty sentences")
    for name, sentence in texts_raw.items():
        try:
            sentence.format(phrase="", heard=0, asked=0)
        except (KeyError, IndexError, ValueError):
            raise DataFileError(source, f"texts.{name}", "only {phrase}, {heard} or {asked} may stand in braces") from None
    language = data.get("language", "nl")
    if not isinstance(language, str) or not language:
        raise DataFileError(source, "language", "expected a language code such as 'nl'")
    return Vocabulary(
        language=language,
        intents=intents,
        fillers=fillers,
        lists=lists,
        min_confidence=_number(data, "min_confidence", 0.6, source, 0.0, 1.0),
        max_answer_seconds=_number(data, "max_answer_seconds", 3.0, source, 0.5, 30.0),
        source=source,
        accept_score=_number(data, "accept_score", DEFAULT_ACCEPT_SCORE, source, -50.0, 50.0),
        check_score=_number(data, "check_score", DEFAULT_CHECK_SCORE, source, -50.0, 50.0),
        texts=dict(texts_raw),
    )
