"""Values: each partner names values one by one, hears them back and changes any by voice; then shared ones."""

from __future__ import annotations

from difflib import get_close_matches

from transitions.core import EventData

from voicecoach.engine.exercise import Step
from voicecoach.engine.machine import PICK
from voicecoach.engine.stage import Stage
from voicecoach.engine.steps.base import StepRun
from voicecoach.engine.texts import join, ordinal
from voicecoach.speech.vocab import normalize

EXAMPLES = 3  # values named as examples when someone is stuck


def propose(one: list[str], two: list[str], count: int) -> list[str]:
    """Shared values: first those both chose, then one from each partner in turn (their highest named first)."""
    chosen = [v for v in one if v in two][:count]
    rest = [[v for v in one if v not in chosen], [v for v in two if v not in chosen]]
    turn = 0
    while len(chosen) < count and any(rest):
        mine = rest[turn % 2]
        while mine and mine[0] in chosen:
            mine.pop(0)
        if mine:
            chosen.append(mine.pop(0))
        turn += 1
    return chosen


class Values(StepRun):
    """Phases name (one value per question), check (read back), which (to change), change (its new value).

    A `shared` step proposes the shared values first (phase propose) instead of naming them.
    """

    def __init__(self, step: Step, stage: Stage) -> None:
        super().__init__(step, stage)
        self.target: str | None = None  # the value being changed
        self.picked: str | None = None  # the list item just heard

    def enter(self, phase: str | None) -> None:
        super().enter(phase)
        if phase == "name":  # a values step starts (or starts again after a resume) with an empty list
            self.stage.memory.lists[self.key()] = []

    def key(self, step: Step | None = None) -> str:
        step = step or self.step
        return "shared" if step.kind == "shared" else str(step.speaker)

    def items(self) -> list[str]:
        return self.stage.memory.lists.setdefault(self.key(), [])

    def list_name(self) -> str:
        return str(self.step.extra.get("list", "values"))

    def catalogue(self) -> tuple[str, ...]:
        return tuple(self.stage.vocab.lists.get(self.list_name(), ()))

    def wanted(self) -> int:
        return int(self.step.extra.get("count", 5))

    def examples(self, near: str = "", skip: int = 0) -> str:
        """A few values to name: those closest in spelling to `near` (a word typed), then the most common
        ones (from the `skip`-th on, so a reprompt can offer others)."""
        vocab, name, taken = self.stage.vocab, self.list_name(), set(self.items())
        close = get_close_matches(normalize(near), vocab.sayable(name), n=EXAMPLES * 2, cutoff=0.6) if near else []
        common = [v for v in self.catalogue() if v not in taken]
        common = common[skip:] + common[:skip]
        picked = [v for v in dict.fromkeys([vocab.item_of(name, w) for w in close] + common) if v not in taken]
        return join(picked[:EXAMPLES], alternatives=True)

    def fill(self, text: str, **extra: str) -> str:
        items = self.items()
        values = {"waarden": join(items), "keuze": join(items, alternatives=True), "voorbeeld": self.examples(),
                  "waarde": self.target or (items[-1] if items else ""), **extra}
        return super().fill(text, **values)

    def both_phases(self) -> tuple[str | None, ...]:
        return ("check",) if self.step.kind == "shared" else ()  # the shared values: each says yes by name

    def prompt(self) -> str:
        step, phase, items, texts = self.step, self.phase, self.items(), self.stage.texts
        if phase == "name":
            if not items:
                return self.fill(step.text)
            return self.fill(texts.step_text(step, "ask", len(items) - 1), waarde=items[-1],
                             nummer=ordinal(len(items) + 1))
        if phase == "check":
            return self.fill(texts.step_text(step, "check", default=f"check_{step.kind}"))
        if phase == "propose":
            return ""
        return self.fill(texts.step_text(step, phase or ""))

    def perform(self) -> str | None:
        phase, items = self.phase, self.items()
        if phase == "propose":
            self.propose()
            return "next"
        if phase in ("name", "change"):
            way_out = ["deny", "keep"] if phase == "change" else []  # "nee", "laat maar": keep the value after all
            silences = self.question.silences if self.question is not None else 0
            vocab, name = self.stage.vocab, self.list_name()
            asked_back = vocab.asked_back(name)  # the long tail: heard by voice, asked back before it counts
            heard = self.ask([*way_out, *(f"{'ask' if v in asked_back else 'item'}:{v}" for v in vocab.sayable(name))],
                             self.value_again)
            if heard == "keep" or (phase == "change" and heard is None and self.question is not None
                                   and self.question.silences > silences):
                return "deny"  # kept; after silence the reprompt said so
            if heard is None or not heard.startswith(("item:", "ask:")):
                return heard
            return self.take(vocab.item_of(name, heard.partition(":")[2]))
        # A value on the list is named as it was read back, or by its everyday word ("verander kinderen").
        vocab, name = self.stage.vocab, self.list_name()
        named = [*items, *(w for w, v in vocab.synonyms.get(name, {}).items() if v in items)]
        # "verander avontuur" when avontuur is not on it: heard, so it can be said why not (why_not). Only the
        # values named in this session (the partner's own, the other's): with every value the Dutch list can
        # name, the Korean stand-in heard 53 of 72 ja / nee / verander answers at the check instead of 68
        # (scripts/bench_check_grammar.py).
        named_here = {v for values in self.stage.memory.lists.values() for v in values}
        absent = [f"change:{w}" for w in vocab.sayable(name)
                  if (v := vocab.item_of(name, w)) in named_here and v not in items]
        if phase == "check":
            answers = ["confirm", "deny", "change", *absent, *(f"change:{v}" for v in named),
                       *(f"item:{v}" for v in named)]
            return self.picked_from(self.ask(answers, self.check_again))
        # "Welke waarde?": the value ("kinderen", "verander kinderen"), or "nee" / "laat maar": all stays as it was.
        answers = ["deny", "keep", *absent, *(f"change:{v}" for v in named), *(f"item:{v}" for v in named)]
        return self.picked_from(self.ask(answers, self.which_again))

    def why_not(self, intent: str) -> bool:
        """ "verander avontuur" when avontuur is not on the list (the proposal): said so, with one that is."""
        head, _, said = intent.partition(":")
        items = self.items()
        if head != "change" or self.phase not in ("check", "which") or not items \
                or self.stage.vocab.item_of(self.list_name(), said) in items:
            return False
        text = self.stage.texts.step_text(self.step, "absent", default=f"absent_{self.step.kind}")
        self.stage.say(self.fill(text, waarde=said, voorbeeld=items[0]), remember=False)
        self.stage.emit("value_absent", step=self.step.id)
        return True

    def take(self, value: str) -> str | None:
        """A value heard while naming or changing: keep it, or say why not."""
        items = self.items()
        if value in items and value != self.target:
            self.stage.say(self.fill(self.stage.texts.common["value_twice"], waarde=value), remember=False)
            return None
        if self.phase == "change":
            self.picked = value
            return PICK
        items.append(value)
        self.stage.emit("value", step=self.step.id, n=len(items))
        if len(items) >= self.wanted():
            self.stage.emit("values_named", step=self.step.id, partner=self.stage.names.of(self.step.speaker),
                            values=list(items))
            return "next"
        self.question = None  # the next value gets its own question
        self.whys = 0
        return None

    def picked_from(self, heard: str | None) -> str | None:
        if heard == "change":
            return "deny"  # "verander" alone: ask which one
        if heard == "keep":
            return "deny"  # "laat maar" to "welke waarde?": none is changed
        if heard is not None and ":" in heard:
            self.picked = self.stage.vocab.item_of(self.list_name(), heard.partition(":")[2])
            return PICK
        return heard

    def value_again(self, key: str, n: int) -> str:
        """After silence or a word not understood: a few values close to it. Said aloud, a miss may be a word
        voicecoach does not know or one it did not hear well; a typed one is a word it does not know."""
        texts = self.stage.texts
        if key == "silence":
            if self.phase == "change":
                return self.fill(texts.common["value_kept"])
            return texts.nth("value_silence", n, voorbeeld=self.examples())
        last = self.question.last if self.question is not None else None
        typed = last.said if last is not None else None
        if typed:
            return texts.nth("value_unknown", n, voorbeeld=self.examples(near=typed))
        return texts.nth("value_again", n, voorbeeld=self.examples(skip=n * EXAMPLES))

    def check_again(self, key: str, n: int) -> str:
        items = self.items()
        return self.stage.texts.nth("silence" if key == "silence" else "list_again", n,
                                    waarde=items[0] if items else "")

    def which_again(self, key: str, n: int) -> str:
        return self.fill(self.stage.texts.common["which_again"])

    def help(self) -> str:
        phase, texts, vocab = self.phase, self.stage.texts, self.stage.vocab
        if phase == "change":  # the way out first: keeping the value needs no new word
            keep = vocab.first("keep") if "keep" in vocab.intents else vocab.first("deny")
            return self.fill(texts.common["value_change_help"], voorbeeld=self.examples(), houden=keep)
        if phase == "name":
            commands = join([vocab.first(c) for c in ("repeat", "why", "pause", "stop") if c in vocab.intents],
                            alternatives=True)
            return texts.get("value_help", voorbeeld=self.examples(), woorden=commands)
        if phase == "which":  # the way out too: nothing needs to change
            keep = vocab.first("keep") if "keep" in vocab.intents else vocab.first("deny")
            return self.fill(texts.common["which_help"], houden=keep)
        items = self.items()
        return texts.nth("list_again", 1, waarde=items[0] if items else "")

    def propose(self) -> None:
        lists, texts, step = self.stage.memory.lists, self.stage.texts, self.step
        one, two = lists.get("1", []), lists.get("2", [])
        both = [v for v in one if v in two]
        shared = lists["shared"] = propose(one, two, self.wanted())
        self.stage.emit("shared_proposed", step=step.id, both=both, proposal=list(shared))
        opening = texts.step_text(step, "both" if both else "none")
        text = self.fill(opening, allebei=join(both)) + " " + self.fill(step.text, voorstel=join(shared))
        if text.strip():  # the proposal itself is the question that follows (check_shared): action first
            self.stage.say(text.strip())

    # -- the machine's actions ------------------------------------------------------------------

    def aim(self, event: EventData) -> None:
        self.target = self.picked

    def keep_value(self, event: EventData) -> None:
        self.stage.emit("value_kept", step=self.step.id, value=self.target)
        self.target = self.picked = None

    def replace_value(self, event: EventData) -> None:
        items = self.items()
        old, new = self.target, self.picked
        if old in items and new is not None:
            items[items.index(old)] = new
        self.stage.emit("value_changed", step=self.step.id, old=old, new=new)
        self.target = self.picked = None

    def keep_values(self, event: EventData) -> None:
        stage, step = self.stage, self.step
        items = list(self.items())
        partner = "samen" if step.kind == "shared" else stage.names.of(step.speaker)
        stage.emit("values_confirmed", step=step.id, partner=partner, values=items)
        if step.kind != "shared":
            stage.record.values(partner, items)
            return
        stage.record.shared(items, None)
        # After a resume the partners' lists were confirmed in an earlier session: keep the map whole.
        for own in (s for s in stage.exercise.steps if s.kind == "values"):
            kept = stage.memory.lists.setdefault(self.key(own), [])
            if kept:
                stage.record.values(stage.names.of(own.speaker), list(kept))
