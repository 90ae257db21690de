"""The one question loop: ask, listen, help a little more after silence or an unclear answer, give up after a few tries.

Every question voicecoach asks goes through `Question`: a step's question in an exercise
(one round per call, so commands reach the state machine in between), and the questions
around the exercises (`yes_no`, `both_yes`, the menu), which wait for their answer here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from voicecoach.engine.exercise import Timing
from voicecoach.engine.texts import Texts
from voicecoach.speech.decide import Heard

# ("silence" or "unclear", how many of that kind before this one) -> what to say again.
Reprompt = Callable[[str, int], str]


class Voice(Protocol):
    """What a question needs: to ask (the question, said again on "herhaal"), to tell, and to listen."""

    def ask(self, text: str) -> None: ...

    def tell(self, text: str) -> None: ...

    def listen(self, intents: Sequence[str], seconds: float) -> Heard: ...


@dataclass
class Reply:
    """One round's result: the intent heard (an answer or another phrase listened for), or a miss."""

    intent: str | None = None
    gave_up: bool = False  # the tries are used up: nothing more is asked


@dataclass
class Question:
    """A question until it is answered: silences and unclear answers are counted apart, each
    with its own reprompt (`again`), and after `tries` misses in all it gives up."""

    prompt: Callable[[], str]
    listen_for: Sequence[str]
    seconds: float
    tries: int
    again: Reprompt
    prompted: bool = False
    silences: int = 0
    unclears: int = 0
    last: Heard | None = None  # the latest miss, for a reprompt that says more about it (a typed word)

    def round(self, voice: Voice) -> Reply:
        """Ask (the first time, or again after `restart`), listen once, and say why not on a miss."""
        if not self.prompted:
            voice.ask(self.prompt())
            self.prompted = True
        heard = voice.listen(list(self.listen_for), self.seconds)
        self.last = heard
        if heard.kind == "intent":
            return Reply(heard.intent)
        if heard.kind == "silence":
            self.silences += 1
            key, n = "silence", self.silences
        else:
            self.unclears += 1
            key, n = "unclear", self.unclears
        if self.silences + self.unclears >= self.tries:
            self.restart()
            return Reply(gave_up=True)
        voice.tell(self.again(key, n - 1))
        return Reply()

    def restart(self) -> None:
        """From the beginning: the question is said again, with all its tries."""
        self.prompted = False
        self.silences = self.unclears = 0


@dataclass(frozen=True)
class Answers:
    """The intents that mean yes and no: "ja", "ja hoor", "nee dat was het" (lang/nl.toml)."""

    yes: str = "confirm"
    no: str = "deny"


# The mirroring check ("klopt dat?") also hears "klopt" and "klopt niet": they mean yes and no there.
CHECK_ANSWERS = ("right", "wrong", "confirm", "deny")
SAFETY = "safety"  # "veiligheid": the safety note again
MEANS = {"right": "confirm", "wrong": "deny"}


@dataclass
class Asking:
    """Questions outside an exercise, each waiting for its answer: the texts, and how long and how often to wait."""

    voice: Voice
    texts: Texts
    timing: Timing
    answers: Answers = field(default_factory=Answers)

    def yes_no(self, prompt: str, *, partner: int = 1, on_other: Callable[[str], None] | None = None,
               others: Sequence[str] = ()) -> bool | None:
        """True for yes, False for no, None when no answer came after the tries.

        `others` (such as "repeat") are heard too and handed to `on_other`, then the question is said again.
        """
        yes, no = self.answers.yes, self.answers.no
        answer = self.one_of(prompt, [yes, no], partner=partner, on_other=on_other, others=others)
        return None if answer is None else answer == yes

    def one_of(self, prompt: str, answers: Sequence[str], *, partner: int = 1,
               on_other: Callable[[str], None] | None = None, others: Sequence[str] = (),
               again: Reprompt | None = None) -> str | None:
        """The intent of `answers` they said ("ja", "een beetje", "nee"), None when no answer came after the tries.

        `others` are handed to `on_other`, then the question is said again; `again`: its own reprompts.
        """
        safety = [SAFETY] if SAFETY in self.texts.vocab.intents and SAFETY not in answers else []
        question = Question(lambda: prompt, [*answers, *others, *safety], self.timing.question_seconds,
                            self.timing.max_tries, again or (lambda key, n: self.texts.nth(key, n, partner)))
        while True:
            reply = question.round(self.voice)
            if reply.gave_up:
                return None
            if reply.intent == SAFETY:  # whom to call is heard at every question; then the question again
                self.voice.tell(self.texts.get("safety"))
                question.prompted = False
                continue
            if reply.intent in answers:
                return reply.intent
            if reply.intent is not None and on_other is not None:
                on_other(reply.intent)
                question.prompted = False

    def both_yes(self, key: str, **fill: str) -> bool:
        """The text `key` asked of each partner by name; yes only when both said yes (the second is not
        asked after a no)."""
        for partner in (1, 2):
            if self.yes_no(self.texts.get(key, partner, **fill), partner=partner) is not True:
                return False
        return True
