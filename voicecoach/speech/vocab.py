"""Per-language vocabulary: the phrases a couple may say, mapped to intents."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from voicecoach.errors import DataFileError, ModelError
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
LANGUAGE_NAMES = {"nl": "Dutch"}  # of the built-in vocabularies, for messages
# A built-in vocabulary is made for the model `setup` installs: when the model lacks its words, the model is the fix.
WHICH_MODEL = "`voicecoach setup` installs one; --model or VOICECOACH_MODEL, if set, goes first"
BUILTIN_FIX = f"Use the speech model voicecoach is made for ({WHICH_MODEL})."


def examples(items: Sequence[str], shown: int = 5) -> str:
    """A few of `items` for a message, and how many more: hundreds of words would bury its sentence."""
    if len(items) <= shown + 1:
        return ", ".join(items)
    return f"{', '.join(items[:shown])} … and {len(items) - shown} more"


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
    # Per list: an everyday word said for an item ("verbinding") -> the item it stands for ("verbondenheid").
    synonyms: dict[str, dict[str, str]] = field(default_factory=dict)

    def phrase_map(self, intents: Iterable[str]) -> dict[str, str]:
        """phrase -> intent for the intents valid at this moment.

        The engine also asks for list items (e.g. the values): "item:<words>"
        is the item said on its own, "ask:<words>" too but heard by voice it is
        asked back first ("Ik hoorde: zelfvertrouwen. Is dat goed?"), and
        "<intent>:<words>" the intent's phrases followed by it ("verander rust").
        Later names win a shared phrase.
        """
        out: dict[str, str] = {}
        for name in intents:
            head, sep, item = name.partition(":")
            if not sep:
                phrases = self.intents.get(name, ())
            elif head in ("item", "ask"):
                phrases = (item,)
            else:
                phrases = tuple(f"{p} {item}" for p in self.intents.get(head, ()))
            out.update(dict.fromkeys(phrases, name))
        return out

    def words(self) -> set[str]:
        phrases = [p for ps in self.intents.values() for p in ps] + list(self.fillers)
        return {w for p in phrases for w in p.split()} | self.list_words()

    def list_words(self) -> set[str]:
        phrases = [p for ps in self.lists.values() for p in ps] + [p for s in self.synonyms.values() for p in s]
        return {w for p in phrases for w in p.split()}

    def sayable(self, name: str) -> tuple[str, ...]:
        """Everything that names an item of list `name`: the items, then their synonyms."""
        return (*self.lists.get(name, ()), *self.lists.get(f"{name}_more", ()), *self.synonyms.get(name, {}))

    def asked_back(self, name: str) -> set[str]:
        """The phrases of list `name` that, heard by voice, are asked back before they count: the items of
        `<name>_more` and the synonyms (the long tail a big grammar adds; see scripts/bench_values.py)."""
        return {*self.lists.get(f"{name}_more", ()), *self.synonyms.get(name, {})}

    def item_of(self, name: str, phrase: str) -> str:
        """The list item a phrase stands for: itself, or the item its synonym means."""
        return self.synonyms.get(name, {}).get(phrase, phrase)

    def first(self, intent: str) -> str:
        """The phrase to name when telling people what to say."""
        return self.intents[intent][0]

    def check_model(self, has_word: Callable[[str], bool], strict: bool, model_path: object = None) -> Vocabulary:
        """Refuse words the model cannot hear: Vosk would silently drop them.

        A model that lacks most of the words said is of another language: refused, saying so. Otherwise
        a vocabulary the user gave (`strict`) is refused whole, naming the word. The
        built-in one drops alternative phrases the model lacks (models differ),
        as long as every intent keeps at least one phrase. List items (the
        values) and their synonyms the model lacks are always left out, and
        named in the log (on the screen at start: never spoken).
        """
        missing = sorted(w for w in self.words() if not has_word(w))
        if not missing:
            return self
        phrases = [p for ps in self.intents.values() for p in ps] + list(self.fillers)
        said = {w for p in phrases for w in p.split()}
        spoken = sorted(set(missing) & said)  # list items are only left out
        if len(spoken) * 2 > len(said):
            raise self._other_language(len(said) - len(spoken), len(said), strict, model_path)
        if strict and spoken:
            raise DataFileError(
                self.source, "", f"the speech model does not know the word(s) {examples([repr(w) for w in spoken])}"
            )
        gone = set(missing)

        def keep(phrases: Iterable[str]) -> tuple[str, ...]:
            return tuple(p for p in phrases if not gone & set(p.split()))

        lists = {name: keep(ps) for name, ps in self.lists.items()}
        left_out = sorted({p for name, ps in self.lists.items() for p in ps if p not in lists[name]}
                          | {p for s in self.synonyms.values() for p in s if gone & set(p.split())})
        if left_out:  # for whoever set it up (printed at start), never spoken
            log.warning("the speech model lacks the words of %d list item(s); they cannot be said: %s",
                        len(left_out), examples(left_out))
        synonyms = {name: {p: item for p, item in s.items() if not gone & set(p.split())}
                    for name, s in self.synonyms.items()}
        if not spoken:
            return replace(self, lists=lists, synonyms=synonyms)

        intents = {name: keep(ps) for name, ps in self.intents.items()}
        empty = [name for name, ps in intents.items() if not ps]
        if empty:  # only the built-in one gets here: a file of their own was refused above
            lacking = sorted({w for p in self.intents[empty[0]] for w in p.split()} & gone)
            raise DataFileError(self.source, f"intent {empty[0]!r}",
                                f"the speech model knows none of its words ({examples(lacking)})", BUILTIN_FIX)
        log.warning("vocabulary %s: the model lacks %d word(s) of its phrases; those phrases are left out: %s",
                    self.source, len(spoken), examples(spoken))
        return replace(self, intents=intents, fillers=keep(self.fillers), lists=lists, synonyms=synonyms)

    def _other_language(self, known: int, total: int, strict: bool, model_path: object) -> ModelError:
        """The model and the vocabulary speak different languages (a Korean model, the Dutch vocabulary)."""
        model = f"The speech model at {model_path}" if model_path else "The speech model"
        language = LANGUAGE_NAMES.get(self.language, repr(self.language))
        whose = f", the language of {self.source}" if strict else ""
        words = "its" if strict else "the built-in vocabulary's"
        message = (f"{model} does not seem to speak {language}{whose}: it knows "
                   f"{f'only {known}' if known else 'none'} of {words} {total} words.")
        if strict:
            return ModelError(message, "Pass --model a speech model of that language, or write the vocabulary in "
                                       "the model's language.")
        return ModelError(message, f"Use a {language} model ({WHICH_MODEL}), or give --vocab a vocabulary in the "
                                   "model's language.")


def builtin_path(language: str) -> Path:
    return Path(str(resources.files("voicecoach") / "lang" / f"{language}.toml"))


def load_vocabulary(path: Path | None = None, language: str = "nl") -> Vocabulary:
    """Load and check a vocabulary file; every problem names the file and place."""
    path = path or builtin_path(language)
    data = read_toml(path)
    if "include" in data:
        data = _with_included(data, path)
    return parse_vocabulary(data, str(path))


def _with_included(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """`include = "nl-values.toml"`: its [lists] and [synonyms], found next to the vocabulary file or else
    among the built-in ones; the vocabulary's own tables of the same name win."""
    name = data["include"]
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise DataFileError(str(path), "include", "expected the name of a file next to this one, e.g. 'nl-values.toml'")
    included = path.parent / name
    if not included.exists():
        included = builtin_path(language="nl").parent / name
        if not included.exists():
            raise DataFileError(str(path), "include", f"there is no file {name!r} next to it")
    extra = read_toml(included)
    out = dict(data)
    own_lists = data.get("lists", {}) if isinstance(data.get("lists"), dict) else {}
    for table in ("lists", "synonyms"):
        theirs, mine = extra.get(table, {}), data.get(table, {})
        if not isinstance(theirs, dict):
            raise DataFileError(str(included), f"[{table}]", "expected a table")
        if table == "synonyms":  # a list of its own drops the included words for that list
            theirs = {name: words for name, words in theirs.items() if name not in own_lists}
        else:  # ... and its included long tail ("values_more" beside your own "values")
            theirs = {name: words for name, words in theirs.items()
                      if not (name.endswith("_more") and name.removesuffix("_more") in own_lists)}
        if isinstance(mine, dict):
            out[table] = {**theirs, **mine}
    return out


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
              "texts", "include", "synonyms")


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
    synonyms = _synonyms(data.get("synonyms", {}), lists, source)
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
        synonyms=synonyms,
    )


def _synonyms(raw: object, lists: dict[str, tuple[str, ...]], source: str) -> dict[str, dict[str, str]]:
    """[synonyms.<list>]: word = "item". Each names an item of that list, and is not an item itself."""
    if not isinstance(raw, dict):
        raise DataFileError(source, "[synonyms]", "expected tables such as [synonyms.values]")
    out: dict[str, dict[str, str]] = {}
    for name, table in raw.items():
        if name not in lists or not isinstance(table, dict):
            raise DataFileError(source, f"synonyms.{name}", f"expected a table of words for the list {name!r}")
        items = (*lists[name], *lists.get(f"{name}_more", ()))
        mapped: dict[str, str] = {}
        for word, item in table.items():
            place = f"synonyms.{name}.{word}"
            phrase, target = normalize(str(word)), normalize(item) if isinstance(item, str) else ""
            if not phrase or target not in items:
                raise DataFileError(source, place, f"expected a word and an item of lists.{name}")
            if phrase in items:
                raise DataFileError(source, place, f"{phrase!r} is an item of lists.{name} itself")
            mapped[phrase] = target
        out[name] = mapped
    return out
