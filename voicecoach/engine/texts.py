"""The shared Dutch texts (exercises/_common.toml), filled in for this couple."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from voicecoach.engine.exercise import MAX_PROMPT_CHARS, exercises_dir
from voicecoach.errors import DataFileError
from voicecoach.tomlfile import read_toml
from voicecoach.speech.vocab import Vocabulary

REQUIRED = ("safety", "silence", "unclear", "stuck", "help", "why_none", "pause", "resume", "timeout",
            "timeout_over", "stop", "turn_start", "turn_warning", "turn_end", "turn_nudge", "turn_resume", "move_on",
            "closing", "facts", "value_again", "list_again", "which_again")
ORDINALS = ("eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende", "tiende")
TOGETHER = 0  # the speaker number of a turn they take together
MAX_NAME = 40  # characters


def ordinal(n: int) -> str:
    """The Dutch ordinal of the n-th item, counting from 1."""
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else f"{n}e"


def join(items: list[str] | tuple[str, ...], last: str = "en") -> str:
    """"a, b en c": how a list is said."""
    items = list(items)
    if len(items) < 2:
        return items[0] if items else ""
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


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


@dataclass(frozen=True)
class Names:
    one: str = "partner één"
    two: str = "partner twee"

    @staticmethod
    def parse(text: str | None) -> Names:
        if not text:
            return Names()
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts):
            from voicecoach.errors import UserError

            raise UserError(f"--names needs two names with a comma between them, not {text!r}.",
                            'Write e.g. --names "Sanne,Joris".')
        for name in parts:
            # Said in nearly every prompt: a pasted paragraph or a control character would be said every time.
            if len(name) > MAX_NAME or any(unicodedata.category(c).startswith("C") for c in name):
                from voicecoach.errors import UserError

                raise UserError(f"--names needs two first names of at most {MAX_NAME} letters, on one line; "
                                f"{name[:20]!r}… is not one.", 'Write e.g. --names "Sanne,Joris".')
        return Names(parts[0], parts[1])

    def of(self, speaker: int) -> str:
        if speaker == TOGETHER:
            return "jullie"
        return self.one if speaker == 1 else self.two


def load_common() -> dict[str, Any]:
    path = exercises_dir() / "_common.toml"
    data = read_toml(path)
    for key in REQUIRED:
        if key not in data:
            raise DataFileError(path, key, "this text is missing")
    return data


class Texts:
    def __init__(self, vocab: Vocabulary, names: Names, common: dict[str, Any] | None = None) -> None:
        self.common = common or load_common()
        self.names = names
        self.vocab = vocab

    def fill(self, text: str, speaker: int = 1, **extra: Any) -> str:
        v = self.vocab
        values = {
            "spreker": self.names.of(speaker), "luisteraar": self.names.of(3 - speaker),
            "een": self.names.one, "twee": self.names.two,
            "ja": v.first("confirm"), "nee": v.first("deny"),
            "klaar": v.first("done") if "done" in v.intents else "klaar",
            "verder": v.first("resume") if "resume" in v.intents else "verder",
            "verander": v.first("change") if "change" in v.intents else "verander",
            "stop": v.first("stop") if "stop" in v.intents else "stop",
            "afsluiting": self.common.get("closing", ""),
            **extra,
        }
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text  # a stray brace in user-edited text is spoken as written

    def get(self, key: str, speaker: int = 1, **extra: Any) -> str:
        # A turn they take together may have its own wording ("turn_nudge_samen").
        if speaker == TOGETHER and f"{key}_samen" in self.common:
            key = f"{key}_samen"
        return self.fill(str(self.common[key]), speaker, **extra)

    def fact(self, n: int) -> str:
        """The n-th "wist je dat" moment, going round."""
        facts = self.common["facts"]
        return self.fill(str(facts[n % len(facts)]))

    def nth(self, key: str, n: int, **extra: Any) -> str:
        options = self.common[key]
        return self.fill(options[min(n, len(options) - 1)], **extra)
