"""The shared Dutch texts (exercises/_common.toml), filled in for this couple."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicecoach.engine import placeholders
from voicecoach.engine.exercise import KINDS, MAX_PROMPT_CHARS, Step, common_path
from voicecoach.errors import DataFileError, UserError
from voicecoach.speech.vocab import Vocabulary
from voicecoach.tomlfile import read_toml

log = logging.getLogger(__name__)

REQUIRED = ("safety", "silence", "unclear", "stuck", "stuck_retry", "stop_kept", "stop_ask", "stop_not", "turn_nudge_start",
            "help", "why_none", "pause", "resume", "timeout",
            "timeout_over", "timeout_back", "stop", "turn_start", "turn_warning", "turn_end", "turn_nudge", "turn_resume", "move_on",
            "closing", "facts", "value_again", "value_unknown", "value_kept", "turn_klaar", "list_again", "which_again",
            "crashed", "partner_one", "partner_two",
            "together", "ordinals", "and", "or", "defaults", "recap", "mic_missing", "mic_lost", "mic_back", "storage_full",
            "journal_empty", "journal_sessions", "journal_values", "journal_sentence", "journal_agreements",
            "journal_agreement", "journal_gratitude", "journal_end")
TOGETHER = 0  # the speaker number of a turn they take together
MAX_NAME = 40  # characters
NAME_MARKS = frozenset(" -'’.")
# Tables of texts that belong to one part (turn awareness: [turns]); read as "turns.remark" and the like.
TEXT_TABLES = ("turns",)


@functools.cache
def load_common() -> dict[str, Any]:
    """_common.toml, every text's placeholders checked: a typo names the file and the text."""
    path = common_path()
    data = read_toml(path)
    for key in REQUIRED:
        if key not in data:
            raise DataFileError(path, key, "this text is missing")
    if not isinstance(data["defaults"], dict) or set(data["defaults"]) != set(placeholders.DEFAULTS_KIND):
        raise DataFileError(path, "[defaults]", "expected a text for each of " + ", ".join(placeholders.DEFAULTS_KIND))
    for table in TEXT_TABLES:
        texts = data.pop(table, {})
        if not isinstance(texts, dict):
            raise DataFileError(path, table, f"expected a table: [{table}]")
        data.update({f"{table}.{key}": value for key, value in texts.items()})
    for key, value in data.items():
        if key == "timing":
            continue  # checked by Timing.defaults()
        if key == "recap":
            for kind in KINDS:
                if not isinstance(value, dict) or not isinstance(value.get(kind), str):
                    raise DataFileError(path, f"recap.{kind}", "expected a text for each kind of step")
                placeholders.check(value[kind], (), path, f"recap.{kind}")
            continue
        if key == "defaults":
            for name, text in value.items():
                kind = placeholders.DEFAULTS_KIND[name]
                placeholders.check(str(text), placeholders.BY_KIND.get(kind, ()), path, f"defaults.{name}")
            continue
        for n, text in enumerate(value if isinstance(value, list) else [value]):
            if not isinstance(text, str):
                raise DataFileError(path, key, "expected text, or a list of texts")
            placeholders.check(text, placeholders.COMMON.get(key, ()), path, key if not n else f"{key}[{n}]")
    return data


def ordinal(n: int) -> str:
    """The ordinal of the n-th item, counting from 1 ("eerste")."""
    words = load_common()["ordinals"]
    return str(words[n - 1]) if 1 <= n <= len(words) else f"{n}e"


def join(items: list[str] | tuple[str, ...], alternatives: bool = False) -> str:
    """"a, b en c" (or, as `alternatives`, "a, b of c"): how a list is said."""
    items = list(items)
    if len(items) < 2:
        return items[0] if items else ""
    word = load_common()["or" if alternatives else "and"]
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def spoken_parts(text: str, limit: int = MAX_PROMPT_CHARS) -> list[str]:
    """Their own long text (a typed agreement) as prompts short enough to speak: split after a sentence,
    else between words; nothing is left out."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        head = rest[:limit]
        cut = max((m.end() for m in re.finditer(r"[.!?;:]\s", head)), default=0) or head.rfind(" ") + 1 or limit
        parts.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*parts, rest] if rest else parts


def _common_word(key: str) -> str:
    return str(load_common()[key])


@dataclass(frozen=True)
class Names:
    """Their first names; without them, "partner één" and "partner twee" (from _common.toml)."""

    one: str = field(default_factory=lambda: _common_word("partner_one"))
    two: str = field(default_factory=lambda: _common_word("partner_two"))

    @staticmethod
    def parse(text: str | None) -> Names:
        if not text:
            return Names()
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UserError(f"--names needs two names with a comma between them, not {text!r}.",
                            'Write e.g. --names "Sanne,Joris".')
        for name in parts:
            # Said in nearly every prompt: a pasted paragraph or a control character would be said every time.
            # Letters only (any script), with the marks, spaces, hyphens and apostrophes names have: braces,
            # digits or symbols are a slip, and would be read out as such.
            if len(name) > MAX_NAME or not all(unicodedata.category(c)[0] in "LM" or c in NAME_MARKS for c in name):
                raise UserError(f"--names needs two first names of at most {MAX_NAME} letters, on one line; "
                                f"{name[:20]!r}… is not one.", 'Write e.g. --names "Sanne,Joris".')
        # The same name twice makes "Sanne, klopt wat Sanne zei?": nobody knows who is meant.
        one, two = (unicodedata.normalize("NFC", name).casefold() for name in parts)
        if one == two:
            raise UserError(f"--names needs two different names, not {parts[0]!r} twice.",
                            'Write e.g. --names "Sanne,Joris".')
        return Names(parts[0], parts[1])

    @staticmethod
    def last_time(last: tuple[str, str], notice: Callable[[str], None] | None = None) -> Names:
        """The names of the last session, checked as --names is: a journal from before that check, or one another
        program changed, may hold one name twice. Then they are partner één and twee, as on a first visit."""
        try:
            return Names.parse(",".join(last))
        except UserError:
            default = Names()
            if notice is not None:
                notice(f"voicecoach: the names kept from your last session are not two different names, so this "
                       f"time you are {default.one} and {default.two}. Give --names, e.g. --names \"Sanne,Joris\", "
                       "to use yours.")
            return default

    def of(self, speaker: int) -> str:
        if speaker == TOGETHER:
            return _common_word("together")
        return self.one if speaker == 1 else self.two


class _Missing(dict[str, Any]):
    """A placeholder nobody fills in here is left out (and logged), never said with its braces."""

    def __missing__(self, key: str) -> str:
        log.error("a text asks for {%s}, which is not filled in here", key)
        return ""


def fill_in(text: str, **values: Any) -> str:
    """A shared text with only `values` (no couple at hand: `voicecoach journal`); others are left out."""
    return placeholders.fill(text, _Missing(values))


class Texts:
    def __init__(self, vocab: Vocabulary, names: Names, common: dict[str, Any] | None = None) -> None:
        self.common = common or load_common()
        self.names = names
        self.vocab = vocab

    def fill(self, text: str, speaker: int = 1, **extra: Any) -> str:
        """`text` with its placeholders (engine/placeholders.py) filled in for `speaker`."""
        v = self.vocab

        def word(intent: str, fallback: str) -> str:
            return v.first(intent) if intent in v.intents else fallback

        values = _Missing({
            "spreker": self.names.of(speaker), "luisteraar": self.names.of(3 - speaker),
            "een": self.names.one, "twee": self.names.two,
            "ja": v.first("confirm"), "nee": v.first("deny"),
            "klopt": word("right", v.first("confirm")), "klopt_niet": word("wrong", v.first("deny")),
            "klaar": word("done", "klaar"), "verder": word("resume", "verder"),
            "verander": word("change", "verander"), "stop": word("stop", "stop"),
            "afsluiting": self.common.get("closing", ""),
            "bewaard": "",  # a step's texts fill it in (StepRun.fill): only there is it known what was kept
            **extra,
        })
        try:
            filled = placeholders.fill(text, values)
            return filled.replace("  ", " ") if "{bewaard}" in text else filled  # an empty {bewaard} leaves no gap
        except (IndexError, ValueError):  # checked at load: only a text made at run time can get here
            log.error("a text could not be filled in: %r", text[:40])
            return text.replace("{", "").replace("}", "")

    def get(self, key: str, speaker: int = 1, **extra: Any) -> str:
        # A turn they take together may have its own wording ("turn_nudge_samen").
        if speaker == TOGETHER and f"{key}_samen" in self.common:
            key = f"{key}_samen"
        return self.fill(str(self.common[key]), speaker, **extra)

    def recap(self, step: Step) -> str:
        """Where an unfinished exercise goes on, said before its step: the step's own `recap`, else its kind's
        (a turn they take together has its own)."""
        recap = self.common["recap"]
        own = step.field_text("recap")
        if own is not None:
            return self.fill(own, step.speaker)
        if step.together and "turn_samen" in recap:
            return self.fill(str(recap["turn_samen"]), TOGETHER)
        return self.fill(str(recap[step.kind]), step.speaker)

    def fact(self, n: int) -> str:
        """The n-th "wist je dat" moment, going round."""
        facts = self.common["facts"]
        return self.fill(str(facts[n % len(facts)]))

    def nth(self, key: str, n: int, speaker: int = 1, **extra: Any) -> str:
        """The n-th of a list of texts (its last when there are fewer): reprompts that help more each time."""
        options = self.common[key]
        return self.fill(options[min(n, len(options) - 1)], speaker, **extra)

    def step_text(self, step: Step, name: str, n: int = 0, default: str | None = None) -> str:
        """A step's own text field, else the shared default ([defaults] `default` or `name`), not yet filled in."""
        own = step.field_text(name, n)
        return own if own is not None else str(self.common["defaults"][default or name])
