"""Loading exercise files: Dutch text as TOML, checked before anything is spoken."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from voicecoach.engine import placeholders
from voicecoach.errors import DataFileError
from voicecoach.tomlfile import read_toml

KINDS = ("say", "confirm", "turn", "mirror", "choice", "agreement", "values", "shared", "count")
RESERVED_IDS = ("end", "stopped")  # the state machine's own final states
# Fields of a step that hold text spoken to the couple.
TEXT_FIELDS = ("text", "why", "reflect", "check", "more", "add", "correct", "moveon", "agree", "consent",
               "consent_unrecorded", "again", "empty", "ask", "which", "change", "absent", "both", "none", "item", "counted", "recap")
# Whole-number fields, with the kinds that use them and their allowed range.
NUMBER_FIELDS = {"count": (("values", "shared", "count"), 1, 10), "wait_seconds": (("say",), 1, 3600)}
# What a step may keep in the journal (`keep = ...`), by kind: an agreement keeps an agreement unless told.
KEEPS = {"agreement": ("agreement", "sentence", "short_goal", "long_goal"), "count": ("gratitude",)}
# Kinds whose turn both partners may take together (`together = true`).
TOGETHER_KINDS = ("turn",)
MAX_PROMPT_CHARS = 1000  # the longest built-in text is about 300
# The longest a waiting time may be: a turn or a question of an hour (as a say step's wait_seconds), a time-out or
# pause of a day. More is a slip, not a wish: a turn of 1e308 seconds would never end.
MAX_SECONDS = 3600.0
MAX_MINUTES = 24 * 60.0
# The most rounds of a mirroring check or an agreement, or tries at one question (the built-in ones use 2 and 3):
# 100,000,000 tries would ask the same question practically for ever.
MAX_COUNT = 10


@dataclass(frozen=True)
class Timing:
    """Seconds, unless the name says otherwise. The values are data: `_common.toml` [timing] for
    every exercise (`defaults()`), then the exercise file's [timing], then the couple's settings."""

    turn_seconds: float
    mirror_seconds: float
    short_turn_seconds: float
    question_seconds: float  # a question waits this long for its answer
    menu_seconds: float  # the spoken menu waits this long
    warn_before: float
    nudge_after: float  # a turn this long silent gets a gentle question
    timeout_minutes: float
    pause_minutes: float  # a pause nobody ends stops the session (progress is kept for resume)
    max_rounds: int  # of a mirroring check, or of proposing an agreement again
    max_tries: int  # silences and unclear answers to one question before it gives up
    ask_more: bool

    @staticmethod
    def defaults() -> Timing:
        return _default_timing()

    def with_overrides(self, data: dict[str, Any], source: object, place: str) -> Timing:
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise DataFileError(source, f"{place}.{key}", "unknown setting")
            want = type(getattr(self, key))
            if want is bool:
                ok, expected = isinstance(value, bool), "true or false"
            elif want is int:  # a count: 2.5 rounds, or inf, are not counts
                ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_COUNT
                expected = f"a whole number from 1 to {MAX_COUNT}"
            else:
                unit = "minutes" if key.endswith("_minutes") else "seconds"
                ok, expected = _is_duration(value, unit), _duration_expected(unit)
            if not ok:
                raise DataFileError(source, f"{place}.{key}", f"expected {expected}")
            changes[key] = want(value)
        return replace(self, **changes)


def _is_duration(value: object, unit: str) -> bool:
    high = MAX_MINUTES if unit == "minutes" else MAX_SECONDS
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= high


def _duration_expected(unit: str) -> str:
    high = MAX_MINUTES if unit == "minutes" else MAX_SECONDS
    return f"a number of {unit} above 0 and at most {high:,.0f}"


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    text: str
    why: str = ""
    speaker: int = 1
    seconds: float | None = None
    next: str | None = None
    on_deny: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def field_text(self, name: str, n: int = 0) -> str | None:
        """A text field of this step (None: not in its file); a list holds one text per item (the n-th, or its last)."""
        value = self.extra.get(name)
        if isinstance(value, list):
            return str(value[min(n, len(value) - 1)])
        return None if value is None else str(value)

    @property
    def together(self) -> bool:
        return bool(self.extra.get("together", False))


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    summary: str
    why: str
    steps: tuple[Step, ...]
    timing: Timing
    source: str
    spoken: str = ""  # how it is named inside a sentence ("het herstelgesprek"); else the title

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


def exercises_dir() -> Path:
    return Path(str(resources.files("voicecoach") / "exercises"))


def common_path() -> Path:
    """The texts and timing every exercise shares."""
    return exercises_dir() / "_common.toml"


@functools.cache
def _default_timing() -> Timing:
    path = common_path()
    data = read_toml(path).get("timing")
    if not isinstance(data, dict):
        raise DataFileError(path, "[timing]", "expected a table of every timing setting")
    missing = [f.name for f in fields(Timing) if f.name not in data]
    if missing:
        raise DataFileError(path, "[timing]", f"these settings are missing: {', '.join(missing)}")
    # A placeholder of each field's type, then every value checked (and 8 made 8.0) as any override is.
    placeholder: dict[str, Any] = {f.name: {"float": 1.0, "int": 1, "bool": False}[str(f.type)] for f in fields(Timing)}
    typed = Timing(**placeholder)
    return typed.with_overrides(data, path, "timing")


def available() -> list[str]:
    return sorted(p.stem for p in exercises_dir().glob("*.toml") if not p.stem.startswith("_"))


def load_exercise(name_or_path: str | Path, timing_overrides: dict[str, Any] | None = None,
                  overrides_from: object = "settings") -> Exercise:
    path = Path(name_or_path)
    if not path.suffix:
        path = exercises_dir() / f"{name_or_path}.toml"
        if not path.exists():
            raise DataFileError(
                name_or_path, "", f"there is no such exercise; choose one of: {', '.join(available())}",
                "See `voicecoach list`.",
            )
    try:
        exercise = parse_exercise(read_toml(path), str(path))
    except DataFileError as exc:
        if not path.is_relative_to(exercises_dir()):  # their own exercise: nothing built-in replaces it
            raise DataFileError(exc.path, exc.place, exc.problem, "Fix that file and try again.") from None
        raise
    if timing_overrides:
        exercise = replace(exercise, timing=exercise.timing.with_overrides(timing_overrides, overrides_from, "timing"))
    return exercise


def _text(raw: dict[str, Any], key: str, source: str, place: str, required: bool = False) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise DataFileError(source, f"{place}.{key}", "expected text")
    if required and not value.strip():
        raise DataFileError(source, f"{place}.{key}", "the text is missing")
    _not_too_long(value, source, f"{place}.{key}")
    return value.strip()


def _not_too_long(value: str, source: str, place: str) -> None:
    """A prompt is spoken in one go: one far longer than any step needs would stall the synthesizer."""
    if len(value) > MAX_PROMPT_CHARS:
        raise DataFileError(source, place, f"the text is {len(value):,} characters long; keep a prompt under "
                                           f"{MAX_PROMPT_CHARS:,} (about a minute of speech) and split a longer one "
                                           "over several say steps")


def _check_cycles(steps: list[Step], source: str) -> None:
    """Steps that only speak must not lead back to themselves: such a loop never listens, so "stop" cannot be said."""
    index = {s.id: i for i, s in enumerate(steps)}
    safe: set[str] = set()  # say steps known to reach a step that listens, or the end
    for start in steps:
        path: list[str] = []
        step: Step | None = start
        while step is not None and step.kind == "say" and step.id not in safe:
            if step.id in path:
                loop = path[path.index(step.id):] + [step.id]
                raise DataFileError(source, f"step {start.id!r}", "these steps only speak and lead back to each other, "
                                    f"so the exercise would never listen: {' -> '.join(loop)}; let one of them go "
                                    "on to a step that waits for an answer, or to end")
            path.append(step.id)
            if step.next == "end":
                step = None
            elif step.next:
                step = steps[index[step.next]]
            else:
                i = index[step.id] + 1
                step = steps[i] if i < len(steps) else None
        safe.update(path)


def _check_extra(raw: dict[str, Any], kind: str, extra: dict[str, Any], source: str, place: str) -> None:
    """The fields some kinds have: texts (a list gives one per item), counts, switches."""
    for key in TEXT_FIELDS[2:]:
        if key not in extra:
            continue
        value = extra[key]
        if isinstance(value, list):
            if not value or not all(isinstance(v, str) and v.strip() for v in value):
                raise DataFileError(source, f"{place}.{key}", "expected text, or a list of texts")
            for n, v in enumerate(value):
                _not_too_long(v, source, f"{place}.{key}[{n}]")
        else:
            _text(raw, key, source, place)
    for key, (kinds, low, high) in NUMBER_FIELDS.items():
        if key in extra:
            value = extra[key]
            if kind not in kinds:
                raise DataFileError(source, f"{place}.{key}", f"only a step of kind {' or '.join(kinds)} has a {key}")
            if type(value) is not int or not low <= value <= high:
                raise DataFileError(source, f"{place}.{key}", f"expected a whole number from {low} to {high}")
    for key in ("ask_more", "mirror", "together", "ask_both"):
        if key in extra and not isinstance(extra[key], bool):
            raise DataFileError(source, f"{place}.{key}", "expected true or false")
    if extra.get("ask_both") and kind != "confirm":
        raise DataFileError(source, f"{place}.ask_both", "only a confirm step asks both partners (agreements and shared "
                                                     "values always do)")
    if extra.get("together") and kind not in TOGETHER_KINDS:
        raise DataFileError(source, f"{place}.together", "only a turn can be taken together")
    if "keep" in extra and extra["keep"] not in KEEPS.get(kind, ()):
        raise DataFileError(source, f"{place}.keep", 'an agreement keeps an "agreement", a "sentence", a "short_goal" '
                                                     'or a "long_goal", a count its "gratitude"; other steps keep nothing')
    if "list" in extra and (kind not in ("values", "shared") or not isinstance(extra["list"], str)):
        raise DataFileError(source, f"{place}.list", "only values and shared steps name a vocabulary list")


def _check_placeholders(step: Step, source: str, place: str) -> None:
    """Every {placeholder} of the step's texts is one the code fills in for a step of its kind."""
    allowed = placeholders.BY_KIND.get(step.kind, ())
    placeholders.check(step.text, allowed, source, f"{place}.text")
    placeholders.check(step.why, (), source, f"{place}.why")
    for key in TEXT_FIELDS[2:]:
        value = step.extra.get(key)
        for n, text in enumerate(value if isinstance(value, list) else [value] if value is not None else []):
            where = f"{place}.{key}" + (f"[{n}]" if isinstance(value, list) else "")
            placeholders.check(str(text), allowed, source, where)


def _parse_step(raw: object, i: int, seen: set[str], source: str) -> Step:
    """One [[steps]] table, checked; its id is added to `seen`."""
    place = f"steps[{i}]"
    if not isinstance(raw, dict):
        raise DataFileError(source, place, "expected a table")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not step_id.isidentifier():
        raise DataFileError(source, f"{place}.id", "every step needs an id made of letters, digits and _")
    if step_id in RESERVED_IDS or "__" in step_id:
        # "__" separates a step from its phase in state names; "end" and "stopped" are taken.
        raise DataFileError(source, f"{place}.id", f"{step_id!r} cannot be used: it may not be end or stopped, "
                                                   "nor contain two _ in a row")
    place = f"step {step_id!r}"
    if step_id in seen:
        raise DataFileError(source, place, "this id is used twice")
    seen.add(step_id)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise DataFileError(source, f"{place}.kind", f"unknown step kind {kind!r}; use one of {', '.join(KINDS)}")
    speaker = raw.get("speaker", 1)
    if type(speaker) is not int or speaker not in (1, 2):  # not true, not 1.0
        raise DataFileError(source, f"{place}.speaker", "expected 1 or 2")
    seconds = raw.get("seconds")
    if seconds is not None and not _is_duration(seconds, "seconds"):
        raise DataFileError(source, f"{place}.seconds", f"expected {_duration_expected('seconds')}")
    options = raw.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise DataFileError(source, f"{place}.options", "expected a table of intent = step id")
    if kind == "choice" and not options:
        raise DataFileError(source, f"{place}.options", "a choice needs options")
    if "stop" in options:  # stop ends kindly everywhere, and a resume goes on where they were
        raise DataFileError(source, f"{place}.options.stop", "stop always ends the session; leave it out of the options")
    for key in ("next", "on_deny", "resume"):
        if key in raw and not isinstance(raw[key], str):
            raise DataFileError(source, f"{place}.{key}", "expected the id of a step, or end")
    extra = {k: v for k, v in raw.items() if k not in ("id", "kind", "text", "why", "speaker", "seconds", "next", "on_deny", "options")}
    _check_extra(raw, kind, extra, source, place)
    step = Step(
        id=step_id, kind=kind, text=_text(raw, "text", source, place, required=kind != "shared"),  # a proposal may be all
        why=_text(raw, "why", source, place), speaker=speaker,
        seconds=float(seconds) if seconds is not None else None,
        next=raw.get("next"), on_deny=raw.get("on_deny"), options=dict(options), extra=extra,
    )
    _check_placeholders(step, source, place)
    return step


def parse_exercise(data: dict[str, Any], source: str) -> Exercise:
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise DataFileError(source, "[[steps]]", "the exercise has no steps")
    timing = Timing.defaults()
    if "timing" in data:
        if not isinstance(data["timing"], dict):
            raise DataFileError(source, "[timing]", "expected a table")
        timing = timing.with_overrides(data["timing"], source, "timing")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, raw in enumerate(steps_raw):
        steps.append(_parse_step(raw, i, seen, source))
    for step in steps:
        for target in [step.next, step.on_deny, step.extra.get("resume"), *step.options.values()]:
            if target is not None and target not in seen and target != "end":
                raise DataFileError(source, f"step {step.id!r}", f"it points to a step {target!r} that does not exist")
        if step.extra.get("resume") == "end":
            raise DataFileError(source, f"step {step.id!r}.resume", "a resumed session goes on at a step, not at the end")
    _check_cycles(steps, source)
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str) or not name.strip():
        raise DataFileError(source, "name", "expected the exercise's name as text")
    placeholders.check(_text(data, "why", source, "why"), (), source, "why")
    return Exercise(
        name=str(name), title=_text(data, "title", source, "title") or str(name),
        summary=_text(data, "summary", source, "summary"), why=_text(data, "why", source, "why"),
        steps=tuple(steps), timing=timing, source=source, spoken=_text(data, "spoken", source, "spoken"),
    )
